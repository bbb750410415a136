"""The client's paper details and reference lists (issue 13), against payloads
shaped like the recorded ones in ``shared/reference/semantic-scholar-api.md`` (F9's
authors, F16's fieldsOfStudy, F5's 400, F7's 429) and the fake server."""

import datetime as dt

import pytest
import responses
from responses import matchers

from papers.semantic_scholar import (
    BATCH_FIELDS,
    Author,
    Details,
    MalformedResponse,
    RequestRejected,
    ResponseTooLarge,
    SemanticScholarClient,
    Unavailable,
)
from tests.fake_s2 import FakeSemanticScholar, Reply
from tests.helpers import quick_s2_client

BASE = "https://api.semanticscholar.org/graph/v1"
BATCH_URL = f"{BASE}/paper/batch"
TRANSFORMER = "204e3073870fae3d05bcbc2f6a8e263d9b72e776"
F7_BODY = {"message": "Too Many Requests. Please wait and try again.", "code": "429"}

# The Transformer with every detail field, in the schema's key order.
FULL = {
    "paperId": TRANSFORMER,
    "externalIds": {"DBLP": "journals/corr/VaswaniSPUJGKP17", "ArXiv": "1706.03762", "CorpusId": 13756489},  # noqa: E501
    "publicationVenue": {"id": "d9720b90-d60b-48bc-9df8-87a30b9a60dd", "name": "Neural Information Processing Systems", "type": "conference", "alternate_names": ["NeurIPS", "NIPS"], "url": "http://neurips.cc/"},  # noqa: E501
    "title": "Attention is All you Need",
    "abstract": "The dominant sequence transduction models are based on complex recurrent or convolutional neural networks.\n\nWe propose a new simple network architecture, the Transformer.",  # noqa: E501
    "venue": "Neural Information Processing Systems",
    "year": 2017,
    "referenceCount": 41,
    "citationCount": 150000,
    "influentialCitationCount": 18000,
    "openAccessPdf": {"url": "https://arxiv.org/pdf/1706.03762", "status": "GREEN"},
    "fieldsOfStudy": ["Computer Science"],
    "tldr": {"model": "tldr@v2.0.0", "text": "A new simple network architecture, the Transformer, based solely on attention mechanisms."},  # noqa: E501
    "publicationTypes": ["JournalArticle", "Conference"],
    "publicationDate": "2017-06-12",
    "journal": {"name": "", "volume": "", "pages": "5998-6008"},
    "authors": [{"authorId": "40348417", "name": "Ashish Vaswani"}, {"authorId": "1846258", "name": "Noam M. Shazeer"}, {"authorId": None, "name": "Illia Polosukhin"}],  # noqa: E501
}  # fmt: skip
# Null values as S2 sends them for a paper it knows little about
# (danielnsilva/semanticscholar PaperWithNullValues.json: null venue, authors...).
NULLS = {
    "paperId": "0f40b1f08821e22e859c6050916cec3667778613",
    "externalIds": {"DOI": "10.1257/rct.1355", "CorpusId": 255313304},
    "publicationVenue": None,
    "title": "Improving Third-Party Audits and Regulatory Compliance in India",
    "abstract": None,
    "venue": "",
    "year": 2023,
    "referenceCount": 0,
    "citationCount": 0,
    "influentialCitationCount": 0,
    "openAccessPdf": None,
    "fieldsOfStudy": None,
    "tldr": None,
    "publicationTypes": None,
    "publicationDate": None,
    "journal": None,
    "authors": None,
}


@pytest.fixture
def client():
    with quick_s2_client(max_retries=2) as client:
        yield client


@responses.activate
def test_batch_asks_for_the_detail_fields_and_parses_them(client):
    responses.post(
        BATCH_URL,
        json=[FULL],
        match=[matchers.query_param_matcher({"fields": BATCH_FIELDS})],
    )
    [answer] = client.fetch_batch([TRANSFORMER])
    for field in ("authors", "publicationVenue", "abstract", "tldr", "openAccessPdf"):
        assert field in BATCH_FIELDS.split(",")
    assert "references" not in BATCH_FIELDS and "citations" not in BATCH_FIELDS
    details = answer.citations.details
    assert details.authors == (
        Author("Ashish Vaswani", "40348417"),
        Author("Noam M. Shazeer", "1846258"),
        Author("Illia Polosukhin", None),
    )
    assert details.venue == "Neural Information Processing Systems"
    assert details.venue_type == "conference"
    assert details.publication_date == dt.date(2017, 6, 12)
    assert details.abstract.startswith("The dominant") and "\n\nWe propose" in (
        details.abstract
    )
    assert details.tldr.startswith("A new simple network architecture")
    assert details.open_access_pdf_url == "https://arxiv.org/pdf/1706.03762"
    assert details.reference_count == 41
    assert details.fields_of_study == ("Computer Science",)
    assert details.publication_types == ("JournalArticle", "Conference")
    assert details.journal_pages == "5998-6008"
    assert answer.citations.influential_citation_count == 18000


@responses.activate
def test_nulls_and_missing_fields_mean_not_given(client):
    """A null TLDR, abstract, venue or author list is "not given", not an error."""
    missing = {k: v for k, v in FULL.items() if k in ("paperId", "citationCount")}
    responses.post(BATCH_URL, json=[NULLS, missing])
    nulls, bare = client.fetch_batch(["DOI:10.1257/rct.1355", TRANSFORMER])
    assert nulls.citations.details == Details(reference_count=0)
    assert bare.citations.details == Details()
    assert bare.citations.citation_count == 150000


@responses.activate
def test_ill_typed_details_are_dropped_not_fatal(client):
    odd = dict(
        FULL,
        authors=[{"name": ""}, "x", {"name": "  Geoffrey  Hinton "}],
        tldr={"text": None},
        publicationDate="June 2017",
        openAccessPdf={"url": "javascript:alert(1)"},
        referenceCount=-3,
        fieldsOfStudy="Computer Science",
    )
    responses.post(BATCH_URL, json=[odd])
    [answer] = client.fetch_batch([TRANSFORMER])
    details = answer.citations.details
    assert details.authors == (Author("Geoffrey Hinton", None),)
    assert details.tldr == details.open_access_pdf_url == ""
    assert details.publication_date is details.reference_count is None
    assert details.fields_of_study == ()


@responses.activate
def test_a_batch_over_10_mb_is_asked_again_in_halves(client):
    too_large = {"error": "Response would exceed maximum size...."}
    responses.post(BATCH_URL, status=400, json=too_large)
    responses.post(BATCH_URL, json=[FULL])
    responses.post(BATCH_URL, json=[NULLS])
    answers = client.fetch_batch([TRANSFORMER, "DOI:10.1257/rct.1355"])
    assert [a.citations.paper_id for a in answers] == [TRANSFORMER, NULLS["paperId"]]
    assert len(responses.calls) == 3


@responses.activate
def test_a_single_paper_over_10_mb_is_an_error(client):
    too_large = {"error": "Response would exceed maximum size"}
    responses.post(BATCH_URL, status=400, json=too_large)
    with pytest.raises(ResponseTooLarge):
        client.fetch_batch([TRANSFORMER])


# References --------------------------------------------------------------------------


def ids(n, start=0):
    return [f"{i:040x}" for i in range(start, start + n)]


def test_references_are_paged_and_paced_against_the_fake_server():
    refs = ids(2300)
    with FakeSemanticScholar(references={TRANSFORMER: refs}) as fake:
        client = SemanticScholarClient(base_url=fake.base_url, max_rps=0)
        assert client.fetch_references(TRANSFORMER) == refs
    offsets = [offset for paper_id, offset in fake.reference_calls]
    assert offsets == [0, 1000, 2000]
    assert client.stats.requests == 3


@responses.activate
def test_unresolved_and_repeated_references_are_left_out(client):
    url = f"{BASE}/paper/{TRANSFORMER}/references"
    body = {
        "offset": 0,
        "data": [
            {"citedPaper": {"paperId": "A" * 40}},
            {"citedPaper": {"paperId": None, "title": "An old book"}},
            {"citedPaper": {"paperId": "a" * 40}},
            "junk",
        ],
    }
    responses.get(url, json=body)
    assert client.fetch_references(TRANSFORMER) == ["a" * 40]


@responses.activate
@pytest.mark.parametrize(
    ("status", "body", "error"),
    [
        (404, {"error": f"Paper with id {TRANSFORMER} not found"}, RequestRejected),
        # F5
        (400, {"error": "Unrecognized or unsupported fields: [x]"}, RequestRejected),
        (429, F7_BODY, Unavailable),
        (200, {"data": "nope"}, MalformedResponse),
    ],
)
def test_reference_errors_say_which_kind(client, status, body, error):
    responses.get(f"{BASE}/paper/{TRANSFORMER}/references", status=status, json=body)
    with pytest.raises(error):
        client.fetch_references(TRANSFORMER)


def test_429_then_an_answer_is_retried():
    with FakeSemanticScholar(references={TRANSFORMER: ids(3)}) as fake:
        fake.script.append(Reply(429, F7_BODY))
        client = SemanticScholarClient(
            base_url=fake.base_url, max_rps=0, backoff_factor=0, backoff_jitter=0
        )
        assert client.fetch_references(TRANSFORMER) == ids(3)
    assert (client.stats.requests, client.stats.retries) == (2, 1)


def test_only_s2_ids_have_reference_lists(client):
    with pytest.raises(ValueError, match="not a Semantic Scholar paper id"):
        client.fetch_references("ARXIV:1706.03762")
