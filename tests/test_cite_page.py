"""The citation parts of a paper page: the 引用 box, Highwire Press tags, Open Graph,
Twitter card and JSON-LD; and the files of papers stored like the real ones, checked
against the golden files."""

from __future__ import annotations

import json
import re
from html import unescape

import pytest

from tests.factories import PaperFactory, PlacementFactory
from tests.test_citation_formats import GOLDEN, WORKS

pytestmark = pytest.mark.django_db


def _stored(name: str):
    work = WORKS[name]
    return PlacementFactory(
        paper__slug=name,
        paper__title=work.title,
        paper__authors=[{"name": a, "authorId": None} for a in work.authors],
        paper__year=work.year,
        paper__publication_date=work.date,
        paper__venue=work.venue,
        paper__venue_type=work.venue_type,
        paper__arxiv_id=work.arxiv_id,
        paper__doi=work.doi,
        paper__url=work.url,
        paper__abstract=work.abstract,
    ).paper


@pytest.mark.parametrize("name", WORKS)
@pytest.mark.parametrize("fmt", ["bib", "ris", "json", "txt"])
def test_stored_paper_files_match_golden(client, name, fmt):
    _stored(name)
    response = client.get(f"/papers/{name}/cite.{fmt}")
    expected = (GOLDEN / f"{name}.{fmt}").read_text(encoding="utf-8")
    assert response.content.decode("utf-8") == expected


def _meta(html: str, name: str) -> list[str]:
    pattern = rf'<meta (?:name|property)="{re.escape(name)}" content="([^"]*)">'
    return [unescape(v) for v in re.findall(pattern, html)]


def test_paper_page_has_scholar_tags(client):
    paper = _stored("transformer")
    html = client.get(paper.get_absolute_url()).content.decode()
    assert _meta(html, "citation_title") == ["Attention Is All You Need"]
    assert _meta(html, "citation_author") == list(WORKS["transformer"].authors)
    assert _meta(html, "citation_publication_date") == ["2017/06/12"]
    assert _meta(html, "citation_conference_title") == [
        "Advances in Neural Information Processing Systems"
    ]
    assert _meta(html, "citation_journal_title") == []
    assert _meta(html, "citation_arxiv_id") == ["1706.03762"]
    assert _meta(html, "citation_pdf_url") == ["https://arxiv.org/pdf/1706.03762"]
    assert _meta(html, "citation_abstract_html_url") == [
        "http://testserver/papers/transformer/"
    ]
    assert _meta(html, "og:type") == ["article"]
    assert _meta(html, "og:url") == ["http://testserver/papers/transformer/"]
    assert _meta(html, "twitter:card") == ["summary"]


def test_paper_page_json_ld_is_escaped_data(client):
    paper = PaperFactory(
        slug="tricky",
        title="</script><script>alert(1)</script> & more",
        authors=[{"name": "李沐"}],
        year=2014,
    )
    html = client.get(paper.get_absolute_url()).content.decode()
    (block,) = re.findall(
        r'<script type="application/ld\+json">(.*?)</script>', html, flags=re.S
    )
    assert "<" not in block and ">" not in block and "&" not in block
    data = json.loads(block)
    assert data["@type"] == "ScholarlyArticle"
    assert data["name"] == "</script><script>alert(1)</script> & more"
    assert data["author"] == [{"@type": "Person", "name": "李沐"}]
    # Every other script is an external file: the CSP allows no inline script.
    assert re.findall(r"<script(?![^>]*\bsrc=)(?![^>]*ld\+json)[^>]*>", html) == []


def test_cite_box_shows_texts_copy_buttons_and_downloads(client):
    paper = _stored("parameter-server")
    html = client.get(paper.get_absolute_url()).content.decode()
    gbt = (GOLDEN / "parameter-server.txt").read_text(encoding="utf-8").strip()
    assert f'<pre id="cite-gbt" lang="en">{gbt}</pre>' in html
    assert "@inproceedings{li2014scaling," in html
    assert "{李沐} and Andersen, David G." in html
    # Hidden until static/js/copy.js runs.
    assert html.count('data-copy-target="cite-') == 2
    assert 'src="/static/js/copy.js"' in html or "js/copy." in html
    for fmt in ("bib", "ris", "json", "txt"):
        assert f'href="/papers/parameter-server/cite.{fmt}"' in html


def test_cite_box_in_english(client):
    paper = _stored("gpt3")
    html = client.get(paper.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="en").content
    assert b'<h2 id="cite-heading">Cite</h2>' in html
