"""Issue 13's stored details: how a curator's value is recognised in the admin."""

import pytest
from django.db import IntegrityError
from django.urls import reverse

from papers.models import Paper, PaperLink
from tests.factories import PaperFactory
from tests.test_admin import paper_form

pytestmark = pytest.mark.django_db


def edit_form(paper, **overrides):
    data = paper_form(
        name=paper.name,
        title=paper.title,
        url=paper.url,
        year=str(paper.year),
        summary=paper.summary,
        slug=paper.slug,
        s2_paper_id=paper.s2_paper_id,
        arxiv_id=paper.arxiv_id,
        doi=paper.doi,
        authors="\r\n".join(a["name"] for a in paper.authors),
        venue=paper.venue,
        venue_type=paper.venue_type,
        journal_volume=paper.journal_volume,
        journal_pages=paper.journal_pages,
        publication_date=str(paper.publication_date or ""),
        abstract=paper.abstract,
        tldr=paper.tldr,
        open_access_pdf_url=paper.open_access_pdf_url,
    )
    data["curated_fields"] = list(paper.curated_fields)
    data.update(overrides)
    return data


@pytest.fixture
def paper():
    return PaperFactory(
        authors=[
            {"name": "Ashish Vaswani", "authorId": "40348417"},
            {"name": "Noam Shazeer", "authorId": "1846258"},
        ],
        abstract="From Semantic Scholar.",
        venue="NeurIPS",
    )


def change(admin_client, paper, **overrides):
    url = reverse("admin:papers_paper_change", args=[paper.pk])
    response = admin_client.post(url, edit_form(paper, **overrides))
    assert response.status_code == 302, response.text
    paper.refresh_from_db()
    return paper


def test_saving_unchanged_claims_nothing(admin_client, paper):
    """Browsers send CRLF in the authors box: that is not an edit."""
    assert change(admin_client, paper).curated_fields == []
    assert paper.authors[0] == {"name": "Ashish Vaswani", "authorId": "40348417"}


def test_edited_detail_becomes_the_curators(admin_client, paper):
    change(admin_client, paper, abstract="A curator's abstract.")
    assert paper.abstract == "A curator's abstract."
    assert paper.curated_fields == ["abstract"]


def test_edited_authors_keep_known_ids(admin_client, paper):
    change(admin_client, paper, authors="Ashish Vaswani\r\nNiki Parmar\r\n")
    assert paper.authors == [
        {"name": "Ashish Vaswani", "authorId": "40348417"},
        {"name": "Niki Parmar", "authorId": None},
    ]
    assert paper.curated_fields == ["authors"]


def test_unticking_hands_a_field_back(admin_client, paper):
    paper.curated_fields = ["venue", "abstract"]
    paper.save()
    change(admin_client, paper, curated_fields=["abstract"])
    assert paper.curated_fields == ["abstract"]


def test_a_link_is_stored_once_and_never_to_itself():
    a, b = PaperFactory(), PaperFactory()
    PaperLink.objects.create(citing=a, cited=b)
    cited = Paper.objects.get(pk=a.pk).links_out.values_list("cited", flat=True)
    assert list(cited) == [b.pk]
    with pytest.raises(IntegrityError):
        PaperLink.objects.create(citing=a, cited=b)


def test_a_paper_cannot_cite_itself():
    a = PaperFactory()
    with pytest.raises(IntegrityError):
        PaperLink.objects.create(citing=a, cited=a)
