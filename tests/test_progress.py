"""Reading progress, server side (issue 14): the /progress/ page and its catalogue,
the hooks the pages render for static/js/progress.js, and the script's size.

The marks themselves live in the browser: tests/test_browser_progress.py."""

import gzip
import json
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.core.cache import cache

from papers import cache as page_cache
from tests.factories import (
    CategoryFactory,
    PaperFactory,
    PlacementFactory,
    VideoNoteFactory,
)

pytestmark = pytest.mark.django_db

SCRIPT = Path(settings.BASE_DIR) / "static" / "js" / "progress.js"
SCRIPT_BUDGET = 6 * 1024  # bytes, gzipped (issue 14)


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()
    page_cache.local_pages.clear()
    yield
    cache.clear()


@pytest.fixture
def shelf():
    vision = CategoryFactory(name="视觉", slug="vision")
    language = CategoryFactory(name="语言", slug="language")
    for n, slug in enumerate(["alexnet", "resnet", "vit"]):
        paper = PaperFactory(name=slug.upper(), slug=slug)
        PlacementFactory(category=vision, paper=paper, position=n)
    PlacementFactory(
        category=language, paper=PaperFactory(name="BERT", slug="bert"), position=0
    )
    PaperFactory(name="Unplaced", slug="unplaced")
    return VideoNoteFactory(title="[ViT](https://arxiv.org/abs/2010.11929) 逐段精读")


def catalogue_of(response) -> dict:
    match = re.search(
        r'<script id="catalogue" type="application/json">(.*?)</script>',
        response.text,
        re.S,
    )
    assert match, "no catalogue data block"
    return json.loads(match.group(1))


def test_progress_page_embeds_every_paper_and_video(client, shelf):
    response = client.get("/progress/")

    assert response.status_code == 200
    catalogue = catalogue_of(response)
    assert catalogue["papers"]["bert"] == ["BERT", "/papers/bert/"]
    assert set(catalogue["papers"]) == {"alexnet", "resnet", "vit", "bert", "unplaced"}
    key = str(getattr(shelf, "slug", "") or shelf.pk)
    assert catalogue["videos"][key] == ["ViT 逐段精读", shelf.get_absolute_url()]
    assert "localStorage" in response.text
    assert "不设 cookie" in response.text
    # The list is the script's: the server sends it hidden and no inline script.
    assert re.search(r'<div id="progress-page" hidden>', response.text)
    assert not re.search(r"<script(?![^>]*(src=|application/json))", response.text)


def test_progress_page_catalogue_escapes_names(client):
    PaperFactory(name="</script><b>x", slug="tricky")
    catalogue = catalogue_of(client.get("/progress/"))
    assert catalogue["papers"]["tricky"][0] == "</script><b>x"


def test_progress_page_is_cached_and_the_same_for_everyone(
    client, shelf, django_assert_num_queries
):
    first = client.get("/progress/")
    assert "Set-Cookie" not in first and not first.cookies
    with django_assert_num_queries(0):
        second = client.get("/progress/")
    assert second.content == first.content


def test_progress_page_in_english(client, shelf):
    response = client.get("/progress/", headers={"accept-language": "en"})
    assert "My reading progress" in response.text
    assert 'data-want="Want to read"' in response.text


def test_pages_render_the_hooks_with_totals(client, shelf):
    home = client.get("/").text
    for slug in ["alexnet", "resnet", "vit", "bert"]:
        assert f'<tr data-paper="{slug}">' in home
    assert 'data-progress-of="paper-list" data-total="4"' in home
    assert re.search(r'id="vision"[^>]*data-progress-scope data-total="3"', home)
    assert re.search(r'id="language"[^>]*data-progress-scope data-total="1"', home)

    # The denominator is the category's papers, whatever the filter shows.
    filtered = client.get("/categories/vision/?recorded=yes").text
    assert 'data-progress-of="paper-list" data-total="3"' in filtered

    paper = client.get("/papers/vit/").text
    assert 'data-paper="vit"' in paper

    videos = client.get("/videos/").text
    assert f'data-video="{getattr(shelf, "slug", "") or shelf.pk}"' in videos

    search = client.get("/search/?q=bert").text
    assert '<tr data-paper="bert">' in search


def test_every_page_loads_the_script_with_translated_labels(client, shelf):
    text = client.get("/").text
    assert re.search(r'<script src="[^"]*js/progress(\.[0-9a-f]+)?\.js" defer', text)
    assert 'data-want="想读" data-read="读过" data-watched="看过"' in text
    assert 'href="/progress/"' in text


def test_htmx_fragment_keeps_the_hooks(client, shelf):
    fragment = client.get("/?recorded=no", headers={"HX-Request": "true"}).text
    assert "<html" not in fragment
    assert '<tr data-paper="bert">' in fragment


def test_script_is_under_six_kib_gzipped():
    size = len(gzip.compress(SCRIPT.read_bytes(), compresslevel=9))
    assert 0 < size < SCRIPT_BUDGET, f"progress.js is {size} bytes gzipped"
