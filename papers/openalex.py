"""The OpenAlex client: citations per year (``counts_by_year``) for batches of DOIs.

Like ``papers.semantic_scholar`` it knows HTTP and nothing of the ORM: it takes DOI
strings and returns plain dataclasses; ``papers.services.yearly_citations`` maps
them onto papers. One list call asks for up to ``BATCH_LIMIT`` DOIs OR-ed in one
filter (``/works?filter=doi:a|b|c``); results come back in no particular order and
unknown DOIs are simply missing (shared/reference/semantic-scholar-api.md, F17 and
§6.1), so they are matched back by normalised DOI. Calls are paced, and 429/5xx
retried with backoff, like the Semantic Scholar client's.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from papers import identifiers
from papers.semantic_scholar import CallStats, RateLimiter

__all__ = [
    "BATCH_LIMIT",
    "OpenAlexClient",
    "OpenAlexError",
    "Work",
    "arxiv_doi",
    "doi_batches",
]

DEFAULT_BASE_URL = "https://api.openalex.org"
# "50 entities" OR-ed in a filter in 2022 (ropensci/openalexR#18), 100 in today's
# docs; 50 stays inside both and keeps the URL short.
BATCH_LIMIT = 50
# OpenAlex rejects URLs much over ~4,094 characters (J535D165/pyalex#85): keep the
# filter well below, whatever the DOIs' lengths.
MAX_FILTER_CHARS = 3000
SELECT = "id,doi,cited_by_count,counts_by_year"
RETRY_STATUSES = (429, 500, 502, 503, 504)
CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 30.0


@dataclass(frozen=True, slots=True)
class Work:
    """One OpenAlex work: its id, its DOI (bare, lower case) and, per year, the
    citations it got that year (OpenAlex keeps the last ten years and leaves out
    years with none)."""

    openalex_id: str
    doi: str
    cited_by_count: int | None
    counts_by_year: tuple[tuple[int, int], ...]


class OpenAlexError(Exception):
    def __init__(self, message: str, *, status: int | None = None):
        super().__init__(message)
        self.status = status


def arxiv_doi(arxiv_id: str) -> str:
    """arXiv's own DataCite DOI for a paper, e.g. 10.48550/arxiv.1706.03762."""
    bare = identifiers.normalise_arxiv_id(arxiv_id) if arxiv_id else ""
    return f"10.48550/arxiv.{bare}".lower() if bare else ""


def _filter_safe(doi: str) -> bool:
    # "," separates filters and "|" alternatives: such a DOI cannot be OR-ed.
    return bool(doi) and "," not in doi and "|" not in doi


def doi_batches(dois: Sequence[str]) -> Iterator[list[str]]:
    """The DOIs (bare, lower case, deduplicated) in batches of at most
    ``BATCH_LIMIT`` whose filter stays under ``MAX_FILTER_CHARS``."""
    batch: list[str] = []
    length = 0
    for doi in dict.fromkeys(d.strip().lower() for d in dois):
        if not _filter_safe(doi):
            continue
        full = len(batch) >= BATCH_LIMIT or length + len(doi) + 1 > MAX_FILTER_CHARS
        if batch and full:
            yield batch
            batch, length = [], 0
        batch.append(doi)
        length += len(doi) + 1
    if batch:
        yield batch


class OpenAlexClient:
    def __init__(
        self,
        *,
        base_url: str = DEFAULT_BASE_URL,
        mailto: str = "",
        api_key: str = "",
        max_rps: float | None = 1.0,
        max_retries: int = 4,
        backoff_factor: float = 2.0,
        connect_timeout: float = CONNECT_TIMEOUT,
        read_timeout: float = READ_TIMEOUT,
    ):
        self.base_url = base_url.rstrip("/")
        self.params = {"mailto": mailto} if mailto else {}
        if api_key:
            self.params["api_key"] = api_key
        self.timeout = (connect_timeout, read_timeout)
        self.rate_limiter = RateLimiter(max_rps)
        self.stats = CallStats()
        retry = Retry(
            total=max_retries,
            status=max_retries,
            other=0,
            redirect=0,
            allowed_methods=frozenset({"GET"}),
            status_forcelist=RETRY_STATUSES,
            backoff_factor=backoff_factor,
            backoff_max=60.0,
            respect_retry_after_header=True,
            raise_on_status=False,
        )
        adapter = HTTPAdapter(max_retries=retry)
        self.session = requests.Session()
        self.session.mount("https://", adapter)
        self.session.mount("http://", adapter)
        self.session.headers["Accept"] = "application/json"

    def __repr__(self) -> str:
        return f"<OpenAlexClient {self.base_url}>"  # never the key

    def close(self) -> None:
        self.session.close()

    def __enter__(self) -> OpenAlexClient:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def fetch_batch(self, dois: Sequence[str]) -> dict[str, Work]:
        """One list call for up to ``BATCH_LIMIT`` bare DOIs: the works found, by
        lower-case DOI. Raises :class:`OpenAlexError` when the call gave no usable
        answer (the caller keeps what it has)."""
        dois = [d.strip().lower() for d in dois]
        if not 1 <= len(dois) <= BATCH_LIMIT:
            raise ValueError(f"a batch holds 1 to {BATCH_LIMIT} DOIs, got {len(dois)}")
        if not all(_filter_safe(d) for d in dois):
            raise ValueError("a DOI with ',' or '|' cannot go in an OR filter")
        self.rate_limiter.wait()
        self.stats.requests += 1
        params = {
            **self.params,
            "filter": "doi:" + "|".join(dois),
            "select": SELECT,
            "per-page": 100,
        }
        try:
            response = self.session.get(
                f"{self.base_url}/works", params=params, timeout=self.timeout
            )
        except requests.RequestException as exc:
            raise OpenAlexError(f"no answer: {str(exc)[:300]}") from exc
        retries = len(response.raw.retries.history) if response.raw.retries else 0
        self.stats.requests += retries
        self.stats.retries += retries
        if response.status_code != 200:
            raise OpenAlexError(
                f"HTTP {response.status_code}: {_message(response)}",
                status=response.status_code,
            )
        try:
            body = json.loads(response.content)
        except ValueError as exc:
            raise OpenAlexError("HTTP 200 with a body that is not JSON") from exc
        results = body.get("results") if isinstance(body, dict) else None
        if not isinstance(results, list):
            raise OpenAlexError("HTTP 200 without a results list", status=200)
        works = {}
        asked = set(dois)
        for item in results:
            work = _parse_work(item)
            if work is not None and work.doi in asked:
                works[work.doi] = work
        return works


def _message(response: requests.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:200].strip()
    if isinstance(body, dict):
        return str(body.get("message") or body.get("error") or body)[:300]
    return str(body)[:200]


def _parse_work(item: object) -> Work | None:
    if not isinstance(item, dict):
        return None
    doi = identifiers.doi_from_text(item.get("doi") or "")
    if not doi:
        return None
    counts = []
    for entry in item.get("counts_by_year") or []:
        if not isinstance(entry, dict):
            continue
        year, count = entry.get("year"), entry.get("cited_by_count")
        if _is_count(year) and 1900 <= year <= 2100 and _is_count(count):
            counts.append((year, count))
    cited = item.get("cited_by_count")
    openalex_id = item.get("id") if isinstance(item.get("id"), str) else ""
    return Work(
        openalex_id=openalex_id.rsplit("/", 1)[-1][:40],
        doi=doi.lower(),
        cited_by_count=cited if _is_count(cited) else None,
        counts_by_year=tuple(sorted(dict(counts).items())),
    )


def _is_count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0
