"""Issue 13's stored details: how a curator's value is recognised in the admin."""

import re

import pytest
from django.db import IntegrityError
from django.urls import reverse

from papers.models import Paper, PaperLink
from tests.factories import PaperFactory, PlacementFactory
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


# The paper page ---------------------------------------------------------------------


def _page(client, paper, lang="zh-hans"):
    from tests.test_views import LANGUAGES

    response = client.get(paper.get_absolute_url(), **LANGUAGES[lang])
    assert response.status_code == 200
    return response.content.decode()


def _text(html):
    from tests.test_views import text_of

    return text_of(html).replace(" ,", ",")


@pytest.fixture
def detailed():
    import datetime as dt

    return PaperFactory(
        name="Transformer",
        title="Attention Is All You Need",
        year=2017,
        arxiv_id="1706.03762",
        s2_paper_id="204e3073870fae3d05bcbc2f6a8e263d9b72e776",
        citation_count=150000,
        influential_citation_count=18000,
        authors=[
            {"name": n, "authorId": None}
            for n in (
                "Ashish Vaswani",
                "Noam Shazeer",
                "Niki Parmar",
                "Jakob Uszkoreit",
                "Llion Jones",
                "Aidan N. Gomez",
                "Lukasz Kaiser",
                "Illia Polosukhin",
            )
        ],  # fmt: skip
        venue="Neural Information Processing Systems",
        publication_date=dt.date(2017, 6, 12),
        tldr="A new simple network architecture, the Transformer.",
        abstract="The dominant sequence transduction models.\n\nWe propose <b>it</b>.",
        open_access_pdf_url="https://arxiv.org/pdf/1706.03762",
        yearly_citations=[
            {"year": 2018, "count": 1500},
            {"year": 2020, "count": 9000},
            {"year": 2021, "count": 15000},
        ],
    )


@pytest.mark.parametrize("lang", ["zh-hans", "en"])
def test_paper_page_shows_the_details(client, detailed, lang):
    html = _page(client, detailed, lang)
    text = _text(html)
    byline = _text(re.search(r'<p class="paper-authors">.*?</p>', html, re.S).group(0))
    assert byline.startswith("Ashish Vaswani, Noam Shazeer, Niki Parmar")
    assert "Jakob Uszkoreit" not in byline  # the cite box lists them all
    assert ("等 8 人" if lang == "zh-hans" else "et al.") in byline
    assert "Neural Information Processing Systems" in text and "2017-06-12" in text
    assert "18,000" in text  # influential, next to the count
    # TLDR and abstract are folded, the abstract's paragraphs kept, its HTML escaped.
    assert re.search(r"<details class=\"tldr\">\s*<summary>", html)
    assert re.search(r"<details class=\"abstract\">\s*<summary>", html)
    assert "<p>We propose &lt;b&gt;it&lt;/b&gt;.</p>" in html
    for href in (
        "https://arxiv.org/pdf/1706.03762",
        "https://huggingface.co/papers/1706.03762",
        "https://www.alphaxiv.org/abs/1706.03762",
        "https://www.semanticscholar.org/paper/204e3073870fae3d05bcbc2f6a8e263d9b72e776",
    ):
        assert f'href="{href}"' in html
    # Nothing in the list links to it: no empty "in this list" section.
    assert "in-list-heading" not in html


def test_few_authors_are_all_shown():
    from papers.templatetags.papers_tags import author_line

    four = [{"name": n} for n in "ABCD"]
    assert author_line(four) == {"shown": list("ABCD"), "total": 4, "more": False}
    assert author_line(four + [{"name": "E"}])["shown"] == list("ABC")
    assert author_line(None)["total"] == 0


def test_paper_page_draws_openalex_years_apart_from_the_nightly_line(client, detailed):
    html = _page(client, detailed)
    svg = re.search(r"<svg [^>]*yearly-chart-title.*?</svg>", html, re.S).group(0)
    assert "<title" in svg and "<desc" in svg
    bars = re.findall(r'<rect class="chart-bar"[^>]* height="([\d.]+)"', svg)
    assert len(bars) == 4  # 2018-2021, the year OpenAlex left out drawn as 0
    heights = [float(h) for h in bars]
    assert heights[1] == 0 and heights[3] == max(heights)
    assert "chart-line" not in svg  # never mixed with the Semantic Scholar line
    tables = re.findall(r'<table class="visually-hidden">.*?</table>', html, re.S)
    yearly = next(t for t in tables if "2019" in t)
    assert re.findall(r"<td>(\d+)</td><td>([\d,]+)</td>", yearly) == [
        ("2018", "1,500"), ("2019", "0"), ("2020", "9,000"), ("2021", "15,000"),
    ]  # fmt: skip
    text = _text(html)
    assert "OpenAlex" in text and "Semantic Scholar" in text


def test_in_list_sections_link_papers_in_year_order(client, detailed):
    pairs = (("ResNet", 2016), ("Seq2seq", 2014), ("GPT-3", 2020), ("BERT", 2018))
    made = [PaperFactory(name=name, year=year) for name, year in pairs]
    older, newer = made[:2], made[2:]
    for paper in older:
        PaperLink.objects.create(citing=detailed, cited=paper)
    for paper in newer:
        PaperLink.objects.create(citing=paper, cited=detailed)
    html = _page(client, detailed)
    section = re.search(r'<section class="in-list".*?</section>', html, re.S).group(0)
    builds_on, built_upon_by = section.split("built-upon-by-heading", 1)
    assert re.findall(r">([^<]+)</a>", builds_on) == ["Seq2seq", "ResNet"]
    assert re.findall(r">([^<]+)</a>", built_upon_by) == ["BERT", "GPT-3"]
    assert f'href="{older[0].get_absolute_url()}"' in builds_on


@pytest.mark.parametrize("size", [90, 2000])
def test_paper_page_queries_do_not_grow_with_the_list(
    client, detailed, size, django_assert_num_queries
):
    PlacementFactory(paper=detailed)
    others = Paper.objects.bulk_create(
        PaperFactory.build(s2_paper_id="", arxiv_id="", slug=f"p-{n}", name=f"P{n}")
        for n in range(size)
    )
    PaperLink.objects.bulk_create(
        [PaperLink(citing=detailed, cited=p) for p in others[: size // 2]]
        + [PaperLink(citing=p, cited=detailed) for p in others[size // 2 :]]
    )
    from tests.test_views import MAX_QUERIES

    with django_assert_num_queries(MAX_QUERIES["paper"]):
        html = _page(client, detailed)
    assert html.count('class="in-list-links"') == 2
    assert html.count('><a href="/papers/p-') == size


def test_selectors_for_the_graph(detailed):
    from papers import selectors

    a = PaperFactory(year=2014)
    b = PaperFactory(year=2020)
    PaperLink.objects.create(citing=detailed, cited=a)
    PaperLink.objects.create(citing=b, cited=detailed)
    assert list(selectors.paper_builds_on(paper=detailed)) == [a]
    assert list(selectors.paper_built_upon_by(paper=detailed)) == [b]
