"""OpenAlex citations per year: the client (F17's shape) and the weekly service,
against the fake server of tests/fake_openalex.py on 127.0.0.1."""

import pytest

from papers.models import Paper
from papers.openalex import (
    BATCH_LIMIT,
    OpenAlexClient,
    OpenAlexError,
    arxiv_doi,
    doi_batches,
)
from papers.services.yearly_citations import yearly_citations_refresh
from tests.factories import PaperFactory
from tests.fake_openalex import FakeOpenAlex
from tests.fake_server import Reply

TRANSFORMER_DOI = "10.48550/arxiv.1706.03762"


@pytest.fixture
def openalex():
    with FakeOpenAlex() as fake:
        yield fake


@pytest.fixture
def client(openalex):
    with OpenAlexClient(
        base_url=openalex.base_url,
        mailto="ops@example.org",
        max_rps=0,
        backoff_factor=0,
    ) as client:
        yield client


def test_arxiv_doi():
    assert arxiv_doi("1706.03762v7") == TRANSFORMER_DOI
    assert arxiv_doi("cs/0112017") == "10.48550/arxiv.cs/0112017"
    assert arxiv_doi("") == ""


def test_batches_stay_within_the_or_limit_and_the_url_length():
    dois = [f"10.1000/{n}" for n in range(120)] + ["10.1000/0", "10.1/a,b"]
    batches = list(doi_batches(dois))
    assert [len(b) for b in batches] == [BATCH_LIMIT, BATCH_LIMIT, 20]
    long = [f"10.1000/{'x' * 190}{n}" for n in range(40)]
    assert all(sum(len(d) + 1 for d in b) <= 3000 for b in doi_batches(long))


def test_one_call_asks_for_every_doi_with_mailto(openalex, client):
    openalex.works = {
        TRANSFORMER_DOI: [(2023, 20000), (2024, 30000)],
        "10.1093/mind/lix.236.433": [(2024, 900)],
    }
    works = client.fetch_batch(
        [TRANSFORMER_DOI, "10.1093/MIND/LIX.236.433", "10.1/unknown"]
    )
    assert set(works) == {TRANSFORMER_DOI, "10.1093/mind/lix.236.433"}
    assert works[TRANSFORMER_DOI].counts_by_year == ((2023, 20000), (2024, 30000))
    assert works[TRANSFORMER_DOI].openalex_id.startswith("W")
    [query] = openalex.calls
    assert query["mailto"] == ["ops@example.org"]
    assert query["filter"][0].startswith("doi:10.48550/arxiv.1706.03762|")
    assert query["select"] == ["id,doi,cited_by_count,counts_by_year"]


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (400, {"error": "Invalid query parameters error.", "message": "bad filter"}),
        (403, {"error": "Forbidden"}),
        (200, {"meta": {}}),
        (200, b"<html>"),
    ],
)
def test_errors_are_reported_not_swallowed(openalex, client, status, body):
    openalex.script.append(Reply(status, body))
    with pytest.raises(OpenAlexError):
        client.fetch_batch([TRANSFORMER_DOI])


def test_429_is_retried(openalex, client):
    openalex.works = {TRANSFORMER_DOI: [(2024, 1)]}
    openalex.script.append(Reply(429, {"error": "Too many"}, {"Retry-After": "0"}))
    assert TRANSFORMER_DOI in client.fetch_batch([TRANSFORMER_DOI])
    assert (client.stats.requests, client.stats.retries) == (2, 1)


# The service --------------------------------------------------------------------------


pytestmark_db = pytest.mark.django_db


@pytestmark_db
@pytest.mark.usefixtures("var_in_tmp")
def test_counts_by_year_are_stored_by_arxiv_doi_and_doi(openalex, client):
    by_arxiv = PaperFactory(arxiv_id="1706.03762", doi="")
    by_doi = PaperFactory(arxiv_id="", doi="10.1093/mind/lix.236.433")
    both = PaperFactory(arxiv_id="1512.03385", doi="10.1109/cvpr.2016.90")
    unknown = PaperFactory(arxiv_id="2101.99999", doi="")
    openalex.works = {
        TRANSFORMER_DOI: [(2023, 20000), (2024, 30000)],
        "10.1093/mind/lix.236.433": [(2024, 900)],
        "10.1109/cvpr.2016.90": [(2024, 50000)],
        "10.48550/arxiv.1512.03385": [(2024, 10)],  # the preprint: loses
    }

    run = yearly_citations_refresh(client=client)

    assert (run.updated, run.not_found, run.failed, run.http_calls) == (3, 1, 0, 1)
    by_arxiv.refresh_from_db()
    assert by_arxiv.yearly_citations == [
        {"year": 2023, "count": 20000},
        {"year": 2024, "count": 30000},
    ]
    assert by_arxiv.yearly_citations_fetched_at is not None
    assert Paper.objects.get(pk=both.pk).yearly_citations == [
        {"year": 2024, "count": 50000}
    ]
    assert Paper.objects.get(pk=unknown.pk).yearly_citations == []
    assert Paper.objects.get(pk=by_doi.pk).yearly_citations == [
        {"year": 2024, "count": 900}
    ]


@pytestmark_db
@pytest.mark.usefixtures("var_in_tmp")
def test_a_failed_or_empty_answer_keeps_the_stored_years(openalex, client):
    stored = [{"year": 2024, "count": 7}]
    failed = PaperFactory(arxiv_id="1706.03762", doi="", yearly_citations=stored)
    openalex.script.extend([Reply(503, {"error": "down"})] * 5)  # every retry too

    run = yearly_citations_refresh(client=client)

    failed.refresh_from_db()
    assert run.failed == 1 and failed.yearly_citations == stored
    assert failed.yearly_citations_fetched_at is None

    openalex.works = {TRANSFORMER_DOI: []}  # a work with no citations listed
    openalex.script.clear()
    run = yearly_citations_refresh(client=client)
    failed.refresh_from_db()
    assert run.unchanged == 1 and failed.yearly_citations == stored


@pytestmark_db
@pytest.mark.usefixtures("var_in_tmp")
def test_many_papers_take_few_calls(openalex, client):
    openalex.everything = True
    PaperFactory.create_batch(120, doi="")  # factory arXiv ids
    run = yearly_citations_refresh(client=client)
    assert run.updated == 120
    assert run.http_calls == 3  # 120 arXiv DOIs in batches of 50
