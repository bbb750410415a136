"""The citation refresh service (and its command): what it writes, what it keeps."""

import datetime as dt
import logging

import pytest
import requests
import responses
from celery.exceptions import SoftTimeLimitExceeded
from django.core.management import CommandError, call_command
from django.db import DatabaseError
from django.utils import timezone

from papers import selectors
from papers.locks import refresh_lock
from papers.models import CitationSnapshot, Paper, RefreshRun
from papers.semantic_scholar import CallStats
from papers.services import citations
from papers.services.citations import (
    RefreshAlreadyRunning,
    citations_refresh,
    semantic_scholar_client,
)
from tests.factories import CitationSnapshotFactory, PaperFactory
from tests.fake_s2 import FakeSemanticScholar, Reply, default_paper_id
from tests.helpers import quick_s2_client, s2_answered_by

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("var_in_tmp")]

BASE = "https://api.semanticscholar.org/graph/v1"
BATCH_URL = f"{BASE}/paper/batch"
LONG_AGO = dt.datetime(2024, 1, 1, 3, 0, tzinfo=dt.UTC)
F7_BODY = {"message": "Too Many Requests. Please wait and try again.", "code": "429"}
F6_BODY = {"message": "Forbidden"}
F11_BODY = {"error": "No valid paper ids given"}


@pytest.fixture
def fake():
    return FakeSemanticScholar()


@pytest.fixture
def s2(fake):
    """HTTP to Semantic Scholar answered by the fake, through ``responses``."""
    with s2_answered_by(fake) as mock:
        yield mock


@pytest.fixture
def client():
    with quick_s2_client(max_retries=2) as client:
        yield client


@pytest.fixture
def small_batches(monkeypatch):
    monkeypatch.setattr(citations, "BATCH_SIZE", 2)


def paper_with_count(count, **kwargs):
    paper = PaperFactory(citation_count=count, citations_updated_at=LONG_AGO, **kwargs)
    if count is not None:
        CitationSnapshotFactory(paper=paper, count=count, fetched_at=LONG_AGO)
    return paper


def assert_kept(paper, count):
    paper.refresh_from_db()
    assert paper.citation_count == count
    assert paper.citations_updated_at == LONG_AGO


# What it writes ---------------------------------------------------------------------


def test_refresh_writes_counts_dates_and_snapshots(s2, fake, client):
    by_s2 = PaperFactory(citation_count=None)
    by_arxiv = PaperFactory(s2_paper_id="", arxiv_id="1706.03762", citation_count=None)
    by_doi = PaperFactory(
        s2_paper_id="", arxiv_id="", doi="10.1093/mind/lix.236.433", citation_count=None
    )
    fake.counts = {
        by_s2.s2_paper_id: 11,
        "ARXIV:1706.03762": 120_000,
        "DOI:10.1093/mind/lix.236.433": 10059,
    }

    run = citations_refresh(client=client)

    for paper, count in ((by_s2, 11), (by_arxiv, 120_000), (by_doi, 10059)):
        paper.refresh_from_db()
        assert paper.citation_count == count
        assert paper.citations_updated_at is not None
        assert list(paper.citation_snapshots.values_list("count", flat=True)) == [count]
    # Papers found through arXiv or DOI learn their S2 id.
    assert by_arxiv.s2_paper_id == default_paper_id("ARXIV:1706.03762")
    assert by_doi.s2_paper_id == default_paper_id("DOI:10.1093/mind/lix.236.433")
    assert fake.calls == [
        [by_s2.s2_paper_id, "ARXIV:1706.03762", "DOI:10.1093/mind/lix.236.433"]
    ]
    run.refresh_from_db()
    assert run.status == RefreshRun.Status.SUCCEEDED
    assert run.trigger == RefreshRun.Trigger.SCHEDULE
    assert (run.papers_asked, run.updated, run.unchanged, run.not_found) == (3, 3, 0, 0)
    assert (run.failed, run.http_calls, run.retries) == (0, 1, 0)
    assert run.finished_at >= run.started_at
    assert run.last_error == ""


@pytest.mark.parametrize(
    ("new_count", "history", "updated", "unchanged"),
    [
        pytest.param(150, [100, 150], 1, 0, id="a changed count appends to history"),
        pytest.param(100, [100], 0, 1, id="the same count only moves the date"),
    ],
)
def test_refresh_writes_the_count_date_and_history(
    s2, fake, client, new_count, history, updated, unchanged
):
    paper = paper_with_count(100)
    fake.counts = {paper.s2_paper_id: new_count}

    run = citations_refresh(client=client)

    paper.refresh_from_db()
    assert paper.citation_count == new_count
    assert paper.citations_updated_at > LONG_AGO
    snapshots = paper.citation_snapshots.order_by("fetched_at")
    assert [s.count for s in snapshots] == history
    assert (run.updated, run.unchanged) == (updated, unchanged)


def test_first_refresh_snapshots_an_unchanged_count(s2, fake, client):
    paper = PaperFactory(citation_count=100)  # typed in, never fetched
    fake.counts = {paper.s2_paper_id: 100}

    citations_refresh(client=client)

    assert list(paper.citation_snapshots.values_list("count", flat=True)) == [100]


def test_a_real_zero_is_written(s2, fake, client):
    paper = PaperFactory(citation_count=None)
    fake.counts = {paper.s2_paper_id: 0}

    citations_refresh(client=client)

    paper.refresh_from_db()
    assert paper.citation_count == 0


def test_each_written_batch_invalidates_the_page_cache(
    s2, client, small_batches, monkeypatch
):
    bumps = []
    monkeypatch.setattr(citations, "bump_content_version", lambda: bumps.append(1))
    for n in range(3):
        paper_with_count(n)

    citations_refresh(client=client)

    assert len(bumps) == 2  # UPDATE and bulk_create send no post_save signals


def test_merged_paper_takes_the_new_id(s2, fake, client):
    paper = paper_with_count(5, s2_paper_id="e87b03add4f6fc193054023b173624bd98566f64")
    fake.merged = {paper.s2_paper_id: "93d2312a1cade9041d78b28e519266b606b5b366"}
    fake.counts = {paper.s2_paper_id: 5}

    run = citations_refresh(client=client)

    paper.refresh_from_db()
    assert paper.s2_paper_id == "93d2312a1cade9041d78b28e519266b606b5b366"
    assert run.updated == 1  # the id changed although the count did not


def test_merged_id_held_by_another_paper_keeps_the_old_id(s2, fake, client):
    survivor = PaperFactory(s2_paper_id="93d2312a1cade9041d78b28e519266b606b5b366")
    merged = paper_with_count(5, s2_paper_id="e87b03add4f6fc193054023b173624bd98566f64")
    fake.merged = {merged.s2_paper_id: survivor.s2_paper_id}
    fake.counts = {merged.s2_paper_id: 7}

    run = citations_refresh(paper_ids=[merged.pk], client=client)

    merged.refresh_from_db()
    assert merged.s2_paper_id == "e87b03add4f6fc193054023b173624bd98566f64"
    assert merged.citation_count == 7
    assert f"paper #{survivor.pk} already has" in run.last_error
    assert run.status == RefreshRun.Status.SUCCEEDED  # the count was refreshed


def test_two_papers_resolving_to_one_id_give_it_to_the_first(s2, fake, client):
    first = PaperFactory(s2_paper_id="", arxiv_id="1706.03762")
    second = PaperFactory(s2_paper_id="", arxiv_id="", doi="10.48550/arxiv.1706.03762")
    same = "204e3073870fae3d05bcbc2f6a8e263d9b72e776"
    fake.merged = {"ARXIV:1706.03762": same, "DOI:10.48550/arxiv.1706.03762": same}

    run = citations_refresh(client=client)

    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.s2_paper_id, second.s2_paper_id) == (same, "")
    assert second.citation_count is not None
    assert f"paper #{first.pk} already has" in run.last_error


def test_selection_only_missing_and_limit(s2, fake, client):
    counted = PaperFactory(citation_count=3)
    missing = [PaperFactory(citation_count=None) for _ in range(3)]
    PaperFactory(s2_paper_id="", arxiv_id="", doi="")  # nothing to ask with

    assert citations_refresh(client=client).papers_asked == 4
    assert citations_refresh(paper_ids=[counted.pk], client=client).papers_asked == 1
    Paper.objects.filter(pk__in=[p.pk for p in missing]).update(citation_count=None)
    run = citations_refresh(only_missing=True, limit=2, client=client)

    assert run.papers_asked == 2
    assert fake.calls[-1] == [missing[0].s2_paper_id, missing[1].s2_paper_id]


def test_selected_ids_are_read_in_batches(s2, fake, client, small_batches):
    papers = [PaperFactory() for _ in range(5)]

    run = citations_refresh(paper_ids=[p.pk for p in reversed(papers)], client=client)

    assert [len(ids) for ids in fake.calls] == [2, 2, 1]
    assert run.papers_asked == 5 and run.updated == 5


def test_progress_is_reported_per_batch(s2, client, small_batches):
    for _ in range(3):
        PaperFactory()
    seen = []

    citations_refresh(
        client=client, progress=lambda done, total: seen.append((done, total))
    )

    assert seen == [(0, 3), (2, 3), (3, 3)]


@pytest.mark.parametrize("size", [4, 40])
def test_queries_do_not_grow_with_the_batch(
    s2, fake, client, django_assert_num_queries, size
):
    papers = [paper_with_count(1) for _ in range(size)]
    fake.counts = {p.s2_paper_id: 1 for p in papers[::2]}  # half unchanged
    fake.merged = {papers[1].s2_paper_id: "93d2312a1cade9041d78b28e519266b606b5b366"}
    # Abandoned runs, new run, count, select, savepoint, S2-id check, reference
    # lists check, history check, update counts, update S2 ids, insert snapshots,
    # release, progress save; rebuilding the in-list links (savepoint, papers,
    # reference lists, links, release); final save. (A paper whose details changed
    # adds one UPDATE: after the first night, a handful.)
    with django_assert_num_queries(19):
        run = citations_refresh(client=client)
    assert (run.updated, run.unchanged) == (size // 2, size // 2)


# What it keeps ----------------------------------------------------------------------


def test_not_found_keeps_the_count_and_date(s2, fake, client):
    paper = paper_with_count(42)
    other = paper_with_count(1)
    fake.unknown = {paper.s2_paper_id}

    run = citations_refresh(client=client)

    assert_kept(paper, 42)
    assert (run.not_found, run.updated, run.failed) == (1, 1, 0)
    assert run.status == RefreshRun.Status.SUCCEEDED  # not found is an answer
    other.refresh_from_db()
    assert other.citations_updated_at > LONG_AGO


def test_whole_batch_unknown_keeps_the_counts(s2, fake, client):
    papers = [paper_with_count(42), paper_with_count(None)]
    fake.unknown = {p.s2_paper_id for p in papers}

    run = citations_refresh(client=client)

    assert_kept(papers[0], 42)
    papers[1].refresh_from_db()
    assert papers[1].citation_count is None
    assert run.not_found == 2 and run.status == RefreshRun.Status.SUCCEEDED


FAILURES = {
    "429 exhausted": [Reply(429, F7_BODY)] * 3,
    "500 exhausted": [Reply(500, {"message": "Internal server error"})] * 3,
    "502 exhausted": [Reply(502, {"message": "Bad gateway"})] * 3,
    "503 exhausted": [Reply(503, b"")] * 3,
    "504 exhausted": [Reply(504, {"message": "Endpoint request timed out"})] * 3,
    "truncated JSON": [Reply(200, b'[{"paperId": "2d5673caa9e6af3a7b82a43f19ee92')],
    "not a list": [Reply(200, {"data": []})],
    "wrong length": [Reply(200, [])],
    "400 other": [Reply(400, {"error": "Unrecognized or unsupported fields"})],
    "404": [Reply(404, {"error": "Not found"})],
    "403 bad key": [Reply(403, F6_BODY)],
}


@pytest.mark.parametrize("replies", FAILURES.values(), ids=FAILURES.keys())
def test_failed_call_keeps_counts_and_dates(s2, fake, client, replies):
    papers = [paper_with_count(42), paper_with_count(None)]
    fake.script.extend(replies)

    run = citations_refresh(client=client)

    assert_kept(papers[0], 42)
    papers[1].refresh_from_db()
    assert (
        papers[1].citation_count is None and papers[1].citations_updated_at == LONG_AGO
    )
    assert CitationSnapshot.objects.count() == 1
    assert (run.papers_asked, run.failed, run.updated) == (2, 2, 0)
    assert run.status == RefreshRun.Status.FAILED
    assert run.last_error
    assert run.http_calls == len(replies)


@pytest.mark.parametrize(
    "error",
    [
        requests.exceptions.ReadTimeout("read timed out"),
        requests.exceptions.ConnectTimeout("connect timed out"),
        requests.exceptions.ConnectionError("connection reset by peer"),
    ],
    ids=["read timeout", "connect timeout", "connection error"],
)
def test_network_errors_keep_counts_and_dates(client, error):
    paper = paper_with_count(42)
    with responses.RequestsMock() as mock:
        mock.post(BATCH_URL, body=error)

        run = citations_refresh(client=client)

    assert_kept(paper, 42)
    assert run.failed == 1 and run.status == RefreshRun.Status.FAILED
    assert str(error) in run.last_error


def test_failed_batch_is_recorded_and_the_next_one_runs(
    s2, fake, client, small_batches
):
    first = [paper_with_count(42), paper_with_count(43)]
    second = [paper_with_count(1), paper_with_count(2)]
    fake.script.extend([Reply(503, {"message": "Service Unavailable"})] * 3)

    run = citations_refresh(client=client)

    assert_kept(first[0], 42)
    assert_kept(first[1], 43)
    for paper in second:
        paper.refresh_from_db()
        assert paper.citations_updated_at > LONG_AGO
    assert run.status == RefreshRun.Status.PARTIAL
    assert (run.papers_asked, run.failed, run.updated) == (4, 2, 2)
    assert (run.http_calls, run.retries) == (4, 2)
    assert f"papers #{first[0].pk}–#{first[1].pk}: HTTP 503 after 3 tries" in (
        run.last_error
    )


def test_malformed_entry_keeps_only_that_paper(s2, fake, client):
    bad = paper_with_count(42)
    good = paper_with_count(1)
    fake.script.append(
        Reply(200, [{"paperId": bad.s2_paper_id, "citationCount": None},
                    {"paperId": good.s2_paper_id, "citationCount": 9}])
    )  # fmt: skip

    run = citations_refresh(client=client)

    assert_kept(bad, 42)
    good.refresh_from_db()
    assert good.citation_count == 9
    assert (run.failed, run.updated, run.status) == (1, 1, RefreshRun.Status.PARTIAL)
    assert f"paper #{bad.pk}: malformed answer" in run.last_error


def test_influential_count_is_stored_and_never_blanked(s2, fake, client):
    paper = paper_with_count(1)
    fake.counts = {paper.s2_paper_id: 400}

    citations_refresh(client=client)
    paper.refresh_from_db()
    assert paper.influential_citation_count == 20  # the fake's count // 20

    fake.script.append(
        Reply(200, [{"paperId": paper.s2_paper_id, "citationCount": 401}])
    )
    citations_refresh(client=client)
    paper.refresh_from_db()
    assert (paper.citation_count, paper.influential_citation_count) == (401, 20)


def test_implausible_count_is_not_written(s2, fake, client):
    paper = paper_with_count(42)
    fake.counts = {paper.s2_paper_id: 2**31}

    run = citations_refresh(client=client)

    assert_kept(paper, 42)
    assert run.failed == 1


def test_bad_key_stops_the_run(s2, fake, client, small_batches):
    papers = [paper_with_count(n) for n in range(1, 6)]
    fake.script.append(Reply(403, F6_BODY))

    run = citations_refresh(client=client)

    assert len(fake.calls) == 1
    for paper in papers:
        assert_kept(paper, paper.citation_count)
    assert run.status == RefreshRun.Status.FAILED
    assert (run.papers_asked, run.failed) == (2, 2)
    assert "API key was refused" in run.last_error


def test_run_gives_up_after_consecutive_failed_batches(s2, fake, client, monkeypatch):
    monkeypatch.setattr(citations, "BATCH_SIZE", 1)
    for n in range(8):
        paper_with_count(n)
    fake.script.extend([Reply(503, b"")] * 100)

    run = citations_refresh(client=client)

    assert run.papers_asked == citations.MAX_CONSECUTIVE_FAILURES
    assert run.status == RefreshRun.Status.FAILED
    assert "failed batches in a row" in run.last_error


def test_database_error_in_a_batch_keeps_the_others(
    s2, client, small_batches, monkeypatch
):
    papers = [paper_with_count(n) for n in (10, 11, 12, 13)]
    real_bulk_create = CitationSnapshot.objects.bulk_create
    calls = []

    def flaky_bulk_create(objs, *args, **kwargs):
        calls.append(len(objs))
        if len(calls) == 1:
            raise DatabaseError("disk full")
        return real_bulk_create(objs, *args, **kwargs)

    monkeypatch.setattr(CitationSnapshot.objects, "bulk_create", flaky_bulk_create)

    run = citations_refresh(client=client)

    assert_kept(papers[0], 10)  # rolled back with its batch
    papers[2].refresh_from_db()
    assert papers[2].citations_updated_at > LONG_AGO
    assert (run.failed, run.updated, run.status) == (2, 2, RefreshRun.Status.PARTIAL)
    assert "database error: disk full" in run.last_error


class InterruptingClient:
    """Answers one batch, then the soft time limit strikes."""

    def __init__(self, inner):
        self.inner = inner
        self.stats = CallStats()

    def fetch_batch(self, ids):
        if self.stats.requests:
            raise SoftTimeLimitExceeded()
        self.stats.requests += 1
        return self.inner.fetch_batch(ids)


def test_interrupted_run_is_closed_with_the_reason(s2, client, small_batches):
    papers = [paper_with_count(n) for n in (10, 11, 12)]

    with pytest.raises(SoftTimeLimitExceeded):
        citations_refresh(client=InterruptingClient(client))

    run = RefreshRun.objects.get()
    assert run.status == RefreshRun.Status.PARTIAL
    assert run.finished_at is not None
    assert "SoftTimeLimitExceeded" in run.last_error
    assert (run.papers_asked, run.updated, run.failed) == (3, 2, 1)
    papers[0].refresh_from_db()
    assert papers[0].citations_updated_at > LONG_AGO  # the first batch is kept
    assert_kept(papers[2], 12)


# The lock and the record ------------------------------------------------------------


def test_second_run_exits_at_once_and_records_nothing(client):
    PaperFactory()
    with refresh_lock() as acquired:
        assert acquired
        with pytest.raises(RefreshAlreadyRunning, match="another citation refresh"):
            citations_refresh(client=client)
    assert not RefreshRun.objects.exists()


def test_abandoned_runs_are_marked_failed(s2, client):
    crashed = RefreshRun.objects.create(
        started_at=timezone.now() - dt.timedelta(hours=5),
        last_error="batch 3: HTTP 503",
    )

    citations_refresh(client=client)

    crashed.refresh_from_db()
    assert crashed.status == RefreshRun.Status.FAILED
    assert crashed.finished_at is not None
    assert crashed.last_error.startswith("batch 3: HTTP 503\nabandoned")


def test_footer_shows_the_last_run_that_refreshed(s2, fake, client):
    paper_with_count(1)
    good = citations_refresh(client=client)
    fake.script.append(Reply(403, F6_BODY))
    citations_refresh(client=client)  # failed: not shown

    assert selectors.last_refresh() == good


@pytest.mark.parametrize(
    ("replies", "level", "status"),
    [
        ([], logging.INFO, "succeeded"),
        ([Reply(503, b"")] * 3, logging.WARNING, "partial"),
        ([Reply(403, F6_BODY)], logging.ERROR, "failed"),
    ],
)
def test_each_run_logs_one_summary_line(
    s2, fake, client, small_batches, caplog, replies, level, status
):
    for n in range(4):
        paper_with_count(n)
    fake.script.extend(replies)

    with caplog.at_level(logging.INFO, logger="papers.services.citations"):
        run = citations_refresh(client=client)

    (line,) = [r for r in caplog.records if getattr(r, "event", "") == "refresh_run"]
    assert line.levelno == level
    assert (line.status, line.run_id, line.papers_asked) == (
        status,
        run.pk,
        run.papers_asked,
    )
    assert line.http_calls == run.http_calls


def test_client_is_built_from_settings(settings):
    settings.SEMANTIC_SCHOLAR_API_URL = "http://127.0.0.1:1/graph/v1/"
    settings.SEMANTIC_SCHOLAR_API_KEY = "k3y"
    settings.SEMANTIC_SCHOLAR_MAX_RPS = 2

    client = semantic_scholar_client()

    assert client.base_url == "http://127.0.0.1:1/graph/v1"
    assert client.session.headers["x-api-key"] == "k3y"
    assert client.rate_limiter.interval == 0.5


# The command ------------------------------------------------------------------------


@pytest.fixture
def command_client(monkeypatch):
    """The command's client, without pacing or waits between retries."""
    monkeypatch.setattr(
        citations,
        "semantic_scholar_client",
        lambda: quick_s2_client(max_retries=1),
    )


def test_command_refreshes_and_prints_the_summary(s2, fake, command_client, capsys):
    PaperFactory(citation_count=3)
    missing = PaperFactory(citation_count=None)
    PaperFactory(citation_count=None)

    call_command("refresh_citations", "--only-missing", "--limit", "1")

    out = capsys.readouterr()
    assert "1 asked, 1 updated, 0 unchanged, 0 not found, 0 failed" in out.out
    assert "1 HTTP calls" in out.out
    assert fake.calls == [[missing.s2_paper_id]]
    run = RefreshRun.objects.get()
    assert run.trigger == RefreshRun.Trigger.COMMAND
    assert "refresh citations" in out.err  # the progress bar


def test_command_fails_loudly_when_the_run_fails(s2, fake, command_client, capsys):
    PaperFactory()
    fake.script.append(Reply(403, F6_BODY))

    with pytest.raises(CommandError, match="the refresh failed"):
        call_command("refresh_citations")
    assert "API key was refused" in capsys.readouterr().out


def test_command_says_when_another_run_holds_the_lock(command_client):
    with refresh_lock(), pytest.raises(CommandError, match="another citation refresh"):
        call_command("refresh_citations")


def test_command_rejects_a_bad_limit():
    with pytest.raises(CommandError, match="--limit"):
        call_command("refresh_citations", "--limit", "0")


def test_refresh_fills_a_blank_title_and_year_but_never_replaces_them(fake, s2, client):
    blank = PaperFactory(title="", year=None, s2_paper_id="", arxiv_id="2406.00001")
    named = PaperFactory(title="Curator's title", year=2017)
    fake.script.append(
        Reply(
            200,
            [
                {
                    "paperId": "a" * 40,
                    "citationCount": 3,
                    "externalIds": {"ArXiv": "2406.00001"},
                    "title": "A Paper From a Request",
                    "year": 2024,
                },
                {
                    "paperId": named.s2_paper_id,
                    "citationCount": 5,
                    "title": "S2's other title",
                    "year": 2016,
                },
            ],
        )
    )
    citations_refresh(paper_ids=[blank.pk, named.pk], client=client)
    blank.refresh_from_db()
    named.refresh_from_db()
    assert (blank.title, blank.year, blank.s2_paper_id) == (
        "A Paper From a Request",
        2024,
        "a" * 40,
    )
    assert (named.title, named.year) == ("Curator's title", 2017)
