"""The citation files at /papers/<slug>/cite.*, /categories/<slug>/cite.* and
/cite.*: content types, file names, keys unique over the list, the page cache and
constant query counts."""

from __future__ import annotations

import json

import bibtexparser
import pytest
import rispy
from django.test import Client

from papers import cite
from papers.models import Category
from tests.bench.bench_pages import grow_catalogue
from tests.factories import CategoryFactory, PaperFactory, PlacementFactory

pytestmark = pytest.mark.django_db

CONTENT_TYPES = {
    "bib": "application/x-bibtex; charset=utf-8",
    "ris": "application/x-research-info-systems; charset=utf-8",
    "json": "application/vnd.citationstyles.csl+json; charset=utf-8",
    "txt": "text/plain; charset=utf-8",
}


@pytest.fixture
def listed(db):
    category = CategoryFactory(slug="nlp")
    first = PlacementFactory(
        category=category,
        position=1,
        paper__title="Attention Is All You Need",
        paper__year=2017,
        paper__slug="transformer",
        paper__arxiv_id="1706.03762",
    ).paper
    second = PlacementFactory(
        category=category,
        position=2,
        paper__title="Attention, again & more",
        paper__year=2017,
        paper__slug="attention-again",
    ).paper
    return category, first, second


@pytest.mark.parametrize("fmt", CONTENT_TYPES)
def test_paper_file_has_type_and_filename(client, listed, fmt):
    response = client.get(f"/papers/transformer/cite.{fmt}")
    assert response.status_code == 200
    assert response["Content-Type"] == CONTENT_TYPES[fmt]
    disposition = "attachment" if fmt in ("bib", "ris") else "inline"
    key = "anon2017attention"  # no authors stored in this fixture
    assert response["Content-Disposition"] == f'{disposition}; filename="{key}.{fmt}"'


def test_unknown_paper_category_and_format_are_404(client, listed):
    assert client.get("/papers/nope/cite.bib").status_code == 404
    assert client.get("/categories/nope/cite.ris").status_code == 404
    assert client.get("/papers/transformer/cite.docx").status_code == 404
    assert client.post("/cite.bib").status_code == 405


def test_keys_are_unique_across_the_list_and_the_same_everywhere(client, listed):
    category, first, second = listed
    whole = bibtexparser.parse_string(client.get("/cite.bib").content.decode())
    assert not whole.failed_blocks
    assert [e.key for e in whole.entries] == ["anon2017attention", "anon2017attentionb"]
    # The later paper keeps its suffix on its own page too.
    alone = client.get("/papers/attention-again/cite.bib").content.decode()
    assert alone.startswith("@misc{anon2017attentionb,")
    assert r"title = {Attention, again \& more}" in alone
    by_category = client.get(f"/categories/{category.slug}/cite.bib")
    disposition = by_category["Content-Disposition"]
    assert disposition.endswith('filename="paper-reading-nlp.bib"')
    entries = bibtexparser.parse_string(by_category.content.decode()).entries
    assert [e.key for e in entries] == [
        "anon2017attention",
        "anon2017attentionb",
    ]


def test_whole_list_in_every_format_parses_back(client, listed):
    records = rispy.loads(client.get("/cite.ris").content.decode())
    assert [r["title"] for r in records] == [
        "Attention Is All You Need",
        "Attention, again & more",
    ]
    items = json.loads(client.get("/cite.json").content)
    assert [i["id"] for i in items] == ["anon2017attention", "anon2017attentionb"]
    lines = client.get("/cite.txt").content.decode().splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("Attention Is All You Need[EB/OL]. (2017). https://")
    assert lines[1].startswith("Attention, again & more[EB/OL]. (2017). https://")


def test_unlisted_paper_is_not_in_the_whole_list(client, listed):
    PaperFactory(title="Not listed", slug="loose")
    assert b"Not listed" not in client.get("/cite.txt").content
    assert client.get("/papers/loose/cite.txt").status_code == 200


def test_file_is_cached_and_a_save_refreshes_it(client, listed, settings):
    settings.PAGE_CACHE_SECONDS = 300
    _, first, _ = listed
    assert b"Attention Is All" in client.get("/papers/transformer/cite.txt").content
    first.title = "A New Title"
    first.save()
    assert b"A New Title" in client.get("/papers/transformer/cite.txt").content


def test_paper_file_query_count(django_assert_num_queries, listed):
    with django_assert_num_queries(2):
        cite.paper_citation(slug="transformer")


@pytest.mark.parametrize("size", [90, 2000])
def test_whole_list_queries_do_not_grow(django_assert_max_num_queries, size, settings):
    settings.PAGE_CACHE_SECONDS = 0
    grow_catalogue(size, snapshots_per_paper=0)
    client = Client()
    slug = Category.objects.first().slug
    for path in ("/cite.bib", f"/categories/{slug}/cite.ris"):
        # Two reads (all papers, the placements) plus the category.
        with django_assert_max_num_queries(3):
            response = client.get(path)
        assert response.status_code == 200
