"""Citations per year from OpenAlex (issue 13): the weekly job.

Each paper is looked up by its DOI and by arXiv's DOI (10.48550/arxiv.<id>), in
paced batches of OR-ed DOIs; the published DOI's work wins when both are found.
``counts_by_year`` is stored on the paper as ``yearly_citations`` with its date;
it is OpenAlex's and is never mixed with the Semantic Scholar totals. A failed
batch, a paper OpenAlex does not know or an empty ``counts_by_year`` keeps what
is stored. It runs under the citation refresh's lock, so the site never has two
refreshes calling out at once.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from papers.cache import bump_content_version
from papers.locks import refresh_lock
from papers.models import Paper
from papers.openalex import OpenAlexClient, OpenAlexError, arxiv_doi, doi_batches

__all__ = [
    "YearlyCitationsRun",
    "openalex_client",
    "yearly_citations_refresh",
]

logger = logging.getLogger(__name__)

CHUNK = 500  # papers read at a time (keyset pagination)
MAX_CONSECUTIVE_FAILURES = 5


class RefreshAlreadyRunning(Exception):
    """Another refresh holds the lock; this one did nothing."""


@dataclass
class YearlyCitationsRun:
    papers_asked: int = 0
    updated: int = 0
    unchanged: int = 0
    not_found: int = 0
    failed: int = 0
    http_calls: int = 0
    errors: list[str] | None = None

    def summary(self) -> str:
        return (
            f"{self.papers_asked} asked, {self.updated} updated, {self.unchanged} "
            f"unchanged, {self.not_found} not found, {self.failed} failed; "
            f"{self.http_calls} HTTP calls"
        )


def openalex_client() -> OpenAlexClient:
    """The client configured from settings (see ``.env.example``)."""
    return OpenAlexClient(
        base_url=settings.OPENALEX_API_URL,
        mailto=settings.OPENALEX_MAILTO,
        api_key=settings.OPENALEX_API_KEY,
        max_rps=settings.OPENALEX_MAX_RPS,
    )


def _lookups(paper: Paper) -> list[str]:
    """The DOIs to ask for a paper, the published one first."""
    return [d for d in (paper.doi.lower(), arxiv_doi(paper.arxiv_id)) if d]


def yearly_citations_refresh(
    *, client: OpenAlexClient | None = None
) -> YearlyCitationsRun:
    """Refresh every paper's citations per year from OpenAlex. Raises
    :class:`RefreshAlreadyRunning` when another refresh holds the lock."""
    with refresh_lock() as acquired:
        if not acquired:
            raise RefreshAlreadyRunning("another refresh is running")
        own_client = client is None
        client = client or openalex_client()
        run = YearlyCitationsRun(errors=[])
        calls_before = client.stats.requests
        try:
            _refresh(client, run)
        finally:
            run.http_calls = client.stats.requests - calls_before
            if own_client:
                client.close()
        level = logging.WARNING if run.failed else logging.INFO
        logger.log(
            level,
            "yearly citations refresh: %s",
            run.summary(),
            extra={"event": "yearly_citations_run", "failed": run.failed},
        )
        return run


def _refresh(client: OpenAlexClient, run: YearlyCitationsRun) -> None:
    papers = (
        Paper.objects.exclude(doi="", arxiv_id="")
        .only("pk", "doi", "arxiv_id", "yearly_citations", "openalex_id")
        .order_by("pk")
    )
    last_pk, failures_in_a_row, changed_any = 0, 0, False
    while chunk := list(papers.filter(pk__gt=last_pk)[:CHUNK]):
        last_pk = chunk[-1].pk
        run.papers_asked += len(chunk)
        works = {}
        failed_dois: set[str] = set()
        for batch in doi_batches([d for p in chunk for d in _lookups(p)]):
            if failures_in_a_row >= MAX_CONSECUTIVE_FAILURES:
                failed_dois.update(batch)
                continue
            try:
                works.update(client.fetch_batch(batch))
                failures_in_a_row = 0
            except OpenAlexError as exc:
                failures_in_a_row += 1
                failed_dois.update(batch)
                run.errors.append(f"OpenAlex batch of {len(batch)} DOIs: {exc}")
                logger.warning("yearly citations: %s", exc)
        changed_any |= _apply(chunk, works, failed_dois, run)


@transaction.atomic
def _apply(chunk, works, failed_dois, run) -> bool:
    now = timezone.now()
    changed = False
    for paper in chunk:
        lookups = _lookups(paper)
        work = next((works[d] for d in lookups if d in works), None)
        if work is None:
            if any(d in failed_dois for d in lookups):
                run.failed += 1
            else:
                run.not_found += 1
            continue
        counts = [{"year": y, "count": c} for y, c in work.counts_by_year]
        values = {"yearly_citations_fetched_at": now, "openalex_id": work.openalex_id}
        if counts and counts != paper.yearly_citations:
            values["yearly_citations"] = counts
            run.updated += 1
            changed = True
        else:
            run.unchanged += 1  # an empty answer keeps the stored years
        Paper.objects.filter(pk=paper.pk).update(**values)
    if changed:
        bump_content_version()
    return changed
