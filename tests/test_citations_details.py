"""The refresh's details and in-list links (issue 13): what it writes, what it keeps,
which calls it makes."""

import datetime as dt

import pytest

from papers.models import Paper, PaperLink, ReferenceList, RefreshRun
from papers.services.citations import citations_refresh, paper_links_rebuild
from tests.factories import PaperFactory
from tests.fake_s2 import FakeSemanticScholar, Reply
from tests.helpers import quick_s2_client, s2_answered_by
from tests.test_semantic_scholar_details import FULL, NULLS, TRANSFORMER

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("var_in_tmp")]

BASE = "https://api.semanticscholar.org/graph/v1"
F7_BODY = {"message": "Too Many Requests. Please wait and try again.", "code": "429"}


@pytest.fixture
def fake():
    return FakeSemanticScholar()


@pytest.fixture
def s2(fake):
    with s2_answered_by(fake, references=True) as mock:
        yield mock


@pytest.fixture
def client():
    with quick_s2_client(max_retries=1) as client:
        yield client


def transformer(**kwargs):
    return PaperFactory(s2_paper_id=TRANSFORMER, arxiv_id="1706.03762", **kwargs)


def test_details_are_stored_with_their_dates(s2, fake, client):
    paper = transformer(doi="")
    fake.details = {TRANSFORMER: FULL}

    citations_refresh(client=client)

    paper.refresh_from_db()
    assert paper.authors[:2] == [
        {"name": "Ashish Vaswani", "authorId": "40348417"},
        {"name": "Noam M. Shazeer", "authorId": "1846258"},
    ]
    assert paper.venue == "Neural Information Processing Systems"
    assert paper.venue_type == "conference"
    assert paper.publication_date == dt.date(2017, 6, 12)
    assert paper.tldr.startswith("A new simple network architecture")
    assert paper.abstract.startswith("The dominant sequence")
    assert paper.open_access_pdf_url == "https://arxiv.org/pdf/1706.03762"
    assert paper.reference_count == 41
    assert paper.fields_of_study == ["Computer Science"]
    assert paper.journal_pages == "5998-6008"
    assert paper.details_fetched_at is not None
    assert set(paper.details_fetched_on) >= {"authors", "abstract", "tldr", "venue"}
    assert paper.details_fetched_on["abstract"] == paper.details_fetched_at.isoformat()


def test_a_partial_answer_never_blanks_a_stored_value(s2, fake, client):
    paper = transformer(
        abstract="Stored abstract.",
        tldr="Stored TLDR.",
        venue="NeurIPS",
        authors=[{"name": "Ashish Vaswani", "authorId": "40348417"}],
        reference_count=41,
    )
    fake.details = {TRANSFORMER: dict(NULLS, paperId=TRANSFORMER, referenceCount=None)}

    run = citations_refresh(client=client)

    paper.refresh_from_db()
    assert run.status == RefreshRun.Status.SUCCEEDED
    assert (paper.abstract, paper.tldr, paper.venue) == (
        "Stored abstract.",
        "Stored TLDR.",
        "NeurIPS",
    )
    assert paper.authors == [{"name": "Ashish Vaswani", "authorId": "40348417"}]
    assert paper.reference_count == 41
    # Only what the answer did give was written: the DOI the paper lacked.
    assert paper.doi == "10.1257/rct.1355"
    assert list(paper.details_fetched_on) == ["doi"]


def test_a_failed_batch_keeps_every_detail(s2, fake, client):
    paper = transformer(abstract="Stored abstract.", details_fetched_at=None)
    fake.details = {TRANSFORMER: FULL}
    fake.script.extend([Reply(429, F7_BODY), Reply(429, F7_BODY)])

    run = citations_refresh(client=client)

    paper.refresh_from_db()
    assert run.status == RefreshRun.Status.FAILED
    assert paper.abstract == "Stored abstract." and paper.details_fetched_at is None


def test_a_curators_value_is_never_replaced(s2, fake, client):
    paper = transformer(
        abstract="",
        venue="NIPS 2017",
        authors=[{"name": "A. Vaswani et al.", "authorId": None}],
        curated_fields=["venue", "authors", "abstract"],
    )
    fake.details = {TRANSFORMER: FULL}

    citations_refresh(client=client)

    paper.refresh_from_db()
    assert paper.venue == "NIPS 2017"
    assert paper.authors == [{"name": "A. Vaswani et al.", "authorId": None}]
    assert paper.abstract == ""  # even a blank the curator chose
    assert paper.tldr.startswith("A new simple")  # not curated: filled


# The graph inside the list ----------------------------------------------------------


def s2_id(n):
    return f"{n:040x}"


def test_only_links_between_papers_of_the_list_are_stored(s2, fake, client):
    a, b, c = (PaperFactory(s2_paper_id=s2_id(n)) for n in (1, 2, 3))
    outside = s2_id(99)
    fake.references = {
        a.s2_paper_id: [b.s2_paper_id, outside, c.s2_paper_id],
        b.s2_paper_id: [outside],
        c.s2_paper_id: [b.s2_paper_id, c.s2_paper_id],  # S2 noise: itself
    }

    run = citations_refresh(client=client)

    pairs = set(PaperLink.objects.values_list("citing", "cited"))
    assert pairs == {(a.pk, b.pk), (a.pk, c.pk), (c.pk, b.pk)}
    assert run.http_calls == 1 + 3  # one batch, one reference page per paper
    assert ReferenceList.objects.get(paper=b).s2_ids == [outside]


def test_reference_lists_are_fetched_again_only_when_their_count_moves(
    s2, fake, client
):
    a, b = (PaperFactory(s2_paper_id=s2_id(n)) for n in (1, 2))
    fake.references = {a.s2_paper_id: [b.s2_paper_id], b.s2_paper_id: [s2_id(50)]}
    citations_refresh(client=client)
    fake.reference_calls.clear()

    citations_refresh(client=client)
    assert fake.reference_calls == []  # nothing changed: no reference call

    fake.references[b.s2_paper_id] = [s2_id(50), a.s2_paper_id]  # count 1 -> 2
    citations_refresh(client=client)
    assert fake.reference_calls == [(b.s2_paper_id, 0)]
    assert set(PaperLink.objects.values_list("citing", "cited")) == {
        (a.pk, b.pk),
        (b.pk, a.pk),
    }


def test_a_paper_joining_the_list_gets_its_links_without_a_call(s2, fake, client):
    a = PaperFactory(s2_paper_id=s2_id(1))
    fake.references = {a.s2_paper_id: [s2_id(2)]}
    citations_refresh(client=client)
    assert not PaperLink.objects.exists()

    b = PaperFactory(s2_paper_id=s2_id(2))  # a curator adds the cited paper
    assert paper_links_rebuild() == (1, 0)
    assert list(PaperLink.objects.values_list("citing", "cited")) == [(a.pk, b.pk)]

    b.delete()
    assert not PaperLink.objects.exists()


def test_a_failed_reference_call_keeps_the_old_list(s2, fake, client):
    a, b = (PaperFactory(s2_paper_id=s2_id(n)) for n in (1, 2))
    fake.references = {a.s2_paper_id: [b.s2_paper_id]}
    citations_refresh(client=client)
    fake.references[a.s2_paper_id] = [s2_id(60), s2_id(61)]  # count moves
    batch = Reply(*fake.answer([a.s2_paper_id, b.s2_paper_id]))
    fake.script.extend([batch, Reply(429, F7_BODY), Reply(429, F7_BODY)])

    run = citations_refresh(client=client)

    assert ReferenceList.objects.get(paper=a).s2_ids == [b.s2_paper_id]
    assert list(PaperLink.objects.values_list("citing", "cited")) == [(a.pk, b.pk)]
    assert "references of paper" in run.last_error


def test_reference_calls_stay_within_the_budget(s2, fake, client, settings):
    settings.SEMANTIC_SCHOLAR_REFERENCE_CALLS_PER_RUN = 2
    papers = [PaperFactory(s2_paper_id=s2_id(n)) for n in range(1, 6)]
    fake.references = {p.s2_paper_id: [s2_id(70)] for p in papers}

    citations_refresh(client=client)
    assert len(fake.reference_calls) == 2
    citations_refresh(client=client)  # the next night goes on where it stopped
    assert len(fake.reference_calls) == 4
    assert ReferenceList.objects.count() == 4
    assert Paper.objects.count() == 5
