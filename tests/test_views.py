"""The public pages, as a reader sees them: in Chinese and English, as full pages and
as the htmx fragments that sorting, filtering and live search swap in."""

import datetime as dt
import gettext
import json
import re
from collections import Counter
from html import unescape
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.db import connection
from django.template.loader import render_to_string
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import path, reverse
from django.utils import timezone

from papers.models import Category, Paper, Placement, RefreshRun, VideoNote
from papers.search import index as search_index
from papers.services import readme_import
from tests.bench.bench_pages import LARGE, grow_catalogue
from tests.factories import (
    CategoryFactory,
    CitationSnapshotFactory,
    PaperFactory,
    PlacementFactory,
    VideoNoteFactory,
)
from tests.helpers import read_full_readme

pytestmark = pytest.mark.django_db

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}
ZH = {"HTTP_ACCEPT_LANGUAGE": "zh-hans"}
HTMX = {"HTTP_HX_REQUEST": "true"}
LANGUAGES = {"zh-hans": ZH, "en": EN}


@pytest.fixture
def readme_list():
    """The real list: 12 categories, 90 papers, 59 videos."""
    readme_import(text=read_full_readme())


def page(client, url, *, htmx=False, lang="zh-hans", **extra):
    headers = {**LANGUAGES[lang], **(HTMX if htmx else {}), **extra}
    response = client.get(url, **headers)
    return response, response.content.decode()


def text_of(html: str) -> str:
    """The visible-ish text: tags removed, entities decoded, spaces collapsed."""
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html))).strip()


def row_names(html: str) -> list[str]:
    """Paper names of a paper table, in order."""
    return [
        unescape(name)
        for name in re.findall(
            r'<td class="col-name"><a href="/papers/[^"]+/">([^<]*)</a>', html
        )
    ]


# HTML structure -------------------------------------------------------------------

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta"}
VOID |= {"source", "track", "wbr"}


class Structure(HTMLParser):
    """Enough of an HTML checker for our own templates: balanced tags, unique ids,
    landmarks, labelled controls and the language of the page."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack, self.errors = [], []
        self.tags, self.ids = Counter(), Counter()
        self.label_for, self.controls, self.navs = set(), [], []
        self.iframes, self.images, self.html_lang = [], [], None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags[tag] += 1
        if "id" in attrs:
            self.ids[attrs["id"]] += 1
        if tag == "html":
            self.html_lang = attrs.get("lang")
        elif tag == "nav":
            self.navs.append(attrs)
        elif tag == "label" and attrs.get("for"):
            self.label_for.add(attrs["for"])
        elif tag in {"input", "select", "textarea"}:
            if attrs.get("type") not in {"hidden", "submit"}:
                self.controls.append(attrs)
        elif tag == "iframe":
            self.iframes.append(attrs)
        elif tag == "img":
            self.images.append(attrs)
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in VOID:
            self.stack.pop()

    def handle_endtag(self, tag):
        if tag in VOID:
            return
        if self.stack and self.stack[-1] == tag:
            self.stack.pop()
        else:
            self.errors.append(f"</{tag}> at line {self.getpos()[0]}: {self.stack}")


def assert_well_formed_page(html: str, *, lang: str, chrome: bool = True):
    checker = Structure()
    checker.feed(html)
    checker.close()
    assert html.lstrip().lower().startswith("<!doctype html>")
    assert not checker.errors, checker.errors[:3]
    assert not checker.stack, f"unclosed: {checker.stack}"
    assert checker.html_lang == lang
    assert checker.tags["title"] == 1
    assert checker.tags["h1"] == 1
    assert checker.tags["main"] == 1
    assert checker.tags["header"] >= 1 and checker.tags["footer"] >= 1
    assert all(nav.get("aria-label") for nav in checker.navs)
    if chrome:  # the site header: main navigation and the language switcher
        assert checker.navs and 'class="language-form"' in html
    duplicated = [i for i, n in checker.ids.items() if n > 1]
    assert not duplicated, duplicated
    for control in checker.controls:
        labelled = control.get("id") in checker.label_for or control.get("aria-label")
        assert labelled, control
    assert all(frame.get("title") for frame in checker.iframes)
    assert all("alt" in image for image in checker.images)


def assert_fragment(html: str, fragment_id: str):
    assert "<html" not in html and "<header" not in html and "<footer" not in html
    assert html.strip().startswith(f'<div id="{fragment_id}"')


# Home -----------------------------------------------------------------------------


def test_home_lists_every_category_in_curator_order(client, readme_list):
    response, html = page(client, "/")
    assert response.status_code == 200
    headings = re.findall(r'<h2 id="heading-[^"]+"><a href="([^"]+)">', html)
    expected = [c.get_absolute_url() for c in Category.objects.order_by("position")]
    assert headings == expected and len(headings) == 12
    # Every listed paper is on the page, each once per category it is in.
    assert len(row_names(html)) == Placement.objects.count() == 90


def test_home_shows_live_totals_computed_from_the_data(client, readme_list):
    _, html = page(client, "/")
    totals = re.search(r'<dl class="totals".*?</dl>', html, re.S).group(0)
    assert re.findall(r"<dd>(?:<a [^>]+>)?(\d+)", totals) == ["90", "59", "59"]
    PlacementFactory(paper=PaperFactory(is_recorded=True))
    _, html = page(client, "/")
    totals = re.search(r'<dl class="totals".*?</dl>', html, re.S).group(0)
    assert re.findall(r"<dd>(?:<a [^>]+>)?(\d+)", totals) == ["91", "60", "59"]


def test_home_table_row_has_mark_year_links_summary_and_count(client):
    placement = PlacementFactory(
        paper__name="Transformer",
        paper__year=2017,
        paper__url="https://arxiv.org/abs/1706.03762",
        paper__summary="继MLP、CNN、RNN后的第四大类架构",
        paper__is_recorded=True,
        paper__citation_count=123456,
        paper__citations_updated_at=timezone.now() - dt.timedelta(days=3),
    )
    _, html = page(client, "/")
    row = re.search(r"<tr[^>]*><td class=\"col-recorded\">.*?</tr>", html, re.S)[0]
    assert "✅" in row and ">2017<" in row
    assert f'href="{placement.paper.get_absolute_url()}">Transformer</a>' in row
    assert 'href="https://arxiv.org/abs/1706.03762"' in row
    assert "继MLP、CNN、RNN后的第四大类架构" in row
    assert '<data value="123456"' in row and ">123,456</data>" in row
    assert re.search(r"3\s*[日天]前更新", text_of(row))
    _, html = page(client, "/", lang="en")
    assert "updated 3 days ago" in text_of(html)


def test_count_never_fetched_shows_a_dash(client):
    # Another paper has a count: this one only lacks its own.
    PlacementFactory(paper__citation_count=None)
    PlacementFactory(paper__citation_count=5)
    _, html = page(client, "/")
    assert re.search(
        r'<td class="col-citations"><span class="cell-label">引用</span>'
        r'<span class="no-count" title="暂无引用数" aria-label="暂无引用数">–</span>',
        html,
    )
    assert "尚未获取" not in html


@pytest.mark.parametrize("lang", ["zh-hans", "en"])
def test_home_full_page_and_fragment(client, readme_list, lang):
    response, html = page(client, "/", lang=lang)
    assert response.status_code == 200
    assert_well_formed_page(html, lang=lang)
    assert ("论文列表" if lang == "zh-hans" else "Papers") in html
    assert (
        "计算机视觉 - CNN" if lang == "zh-hans" else "Computer Vision - CNN"
    ) in html
    response, fragment = page(client, "/?sort=year", htmx=True, lang=lang)
    assert response.status_code == 200
    assert_fragment(fragment, "paper-list")
    assert len(row_names(fragment)) == 90
    assert "HX-Request" in response["Vary"]


def test_pages_answer_get_and_head_but_not_post(client, transformer):
    for url in ("/", "/videos/", "/search/", transformer.get_absolute_url()):
        assert client.head(url).status_code == 200, url
        assert client.post(url).status_code == 405, url


def test_history_restore_gets_the_whole_page(client, readme_list):
    _, html = page(client, "/", htmx=True, HTTP_HX_HISTORY_RESTORE_REQUEST="true")
    assert "<html" in html


# Sorting and filtering --------------------------------------------------------------


@pytest.fixture
def sortable():
    """One category whose curator order differs from every other order."""
    category = CategoryFactory(slug="nlp", name="自然语言处理", name_en="NLP")
    rows = [
        ("BERT", 2018, 90000, False),
        ("attention", 2014, None, True),
        ("GPT-3", 2020, 30000, True),
        ("Cold", None, 10, False),
    ]
    for position, (name, year, count, recorded) in enumerate(rows):
        PlacementFactory(
            category=category,
            position=position,
            paper__name=name,
            paper__year=year,
            paper__citation_count=count,
            paper__is_recorded=recorded,
        )
    return category


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", ["BERT", "attention", "GPT-3", "Cold"]),
        ("?sort=curated", ["BERT", "attention", "GPT-3", "Cold"]),
        ("?sort=year", ["attention", "BERT", "GPT-3", "Cold"]),
        ("?sort=-year", ["GPT-3", "BERT", "attention", "Cold"]),
        ("?sort=citations", ["BERT", "GPT-3", "Cold", "attention"]),
        ("?sort=name", ["attention", "BERT", "Cold", "GPT-3"]),
        ("?recorded=yes", ["attention", "GPT-3"]),
        ("?recorded=no", ["BERT", "Cold"]),
        ("?recorded=no&sort=name", ["BERT", "Cold"]),
        ("?sort=citations&recorded=yes", ["GPT-3", "attention"]),
        # Hand-edited URLs fall back to the defaults.
        ("?sort=evil", ["BERT", "attention", "GPT-3", "Cold"]),
        ("?sort=year;DROP TABLE papers_paper", ["BERT", "attention", "GPT-3", "Cold"]),
        ("?recorded=maybe", ["BERT", "attention", "GPT-3", "Cold"]),
        ("?page=-1&sort=", ["BERT", "attention", "GPT-3", "Cold"]),
    ],
)
@pytest.mark.parametrize("where", ["home", "category"])
def test_sort_and_filter(client, sortable, where, query, expected):
    base = "/" if where == "home" else sortable.get_absolute_url()
    for htmx in (False, True):
        response, html = page(client, base + query, htmx=htmx)
        assert response.status_code == 200
        assert row_names(html) == expected


def test_sort_and_filter_links_are_plain_links_upgraded_by_htmx(client, sortable):
    url = sortable.get_absolute_url()
    _, html = page(client, url + "?recorded=yes")
    controls = re.search(r'<div class="list-controls">.*?</div>', html, re.S).group(0)
    links = re.findall(r'<a href="([^"]+)" hx-get="([^"]+)"', controls)
    assert links and all(href == hx_get for href, hx_get in links)
    hrefs = [unescape(href) for href, _ in links]
    # Each sort keeps the filter; the default sort is left out of the URL.
    assert f"{url}?recorded=yes" in hrefs
    assert f"{url}?sort=citations&recorded=yes" in hrefs
    assert f"{url}?sort=name&recorded=yes" in hrefs
    # Each filter keeps the sort; "all" is the bare URL.
    assert url in hrefs and f"{url}?recorded=no" in hrefs
    current = re.findall(r'aria-current="true">([^<]+)<', controls)
    assert current == ["推荐顺序", "已录制"]
    # The list swaps itself and the address bar follows.
    assert re.search(
        r'<div id="paper-list"[^>]*hx-target="this"[^>]*hx-push-url="true"', html
    )


def test_filter_hides_categories_left_empty_on_home(client, sortable):
    CategoryFactory(name="空分类", name_en="Empty")
    PlacementFactory(category__name="只有未录制", paper__is_recorded=False)
    _, html = page(client, "/?recorded=yes")
    assert "自然语言处理" in html
    assert "只有未录制" not in text_of(
        re.search(r'<div id="paper-list".*', html, re.S).group(0)
    )


# Category ---------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["zh-hans", "en"])
def test_category_page(client, sortable, lang):
    sortable.description = "用 Transformer 做语言模型的论文。"
    sortable.save()
    response, html = page(client, sortable.get_absolute_url(), lang=lang)
    assert response.status_code == 200
    assert_well_formed_page(html, lang=lang)
    heading = re.search(r"<h1>(.*?)</h1>", html).group(1)
    assert heading == ("自然语言处理" if lang == "zh-hans" else "NLP")
    assert "用 Transformer 做语言模型的论文。" in html
    feed = reverse("papers:category_feed", args=[sortable.slug])
    assert f'type="application/atom+xml" title="{heading}" href="{feed}"' in html
    response, fragment = page(
        client, sortable.get_absolute_url() + "?sort=name", htmx=True, lang=lang
    )
    assert_fragment(fragment, "paper-list")
    assert row_names(fragment) == ["attention", "BERT", "Cold", "GPT-3"]


def test_category_without_english_name_shows_chinese_in_english(client):
    category = CategoryFactory(name="语音", name_en="")
    _, html = page(client, category.get_absolute_url(), lang="en")
    assert "<h1>语音</h1>" in html


# Paper ------------------------------------------------------------------------------


@pytest.fixture
def transformer():
    paper = PaperFactory(
        name="Transformer",
        title="Attention Is All You Need",
        year=2017,
        url="https://arxiv.org/abs/1706.03762",
        arxiv_id="1706.03762",
        s2_paper_id="204e3073870fae3d05bcbc2f6a8e263d9b72e776",
        summary="继MLP、CNN、RNN后的第四大类架构",
        is_recorded=True,
        citation_count=125000,
        citations_updated_at=timezone.now() - dt.timedelta(days=2),
    )
    PlacementFactory(
        paper=paper, category__name="自然语言处理", category__name_en="NLP"
    )
    video = VideoNoteFactory(
        title="[Transformer](https://arxiv.org/abs/1706.03762) 逐段精读",
        published_on=dt.date(2021, 10, 27),
        duration=dt.timedelta(hours=1, minutes=27, seconds=5),
        bilibili_url="https://www.bilibili.com/video/BV1pu411o7BE/",
        youtube_url="https://youtu.be/nzqlFIcCSWQ",
        notes="**重点**：注意力\n\n<script>alert(1)</script>\n\n[原文](javascript:alert(1))",
    )
    video.papers.add(paper)
    return paper


@pytest.mark.parametrize("lang", ["zh-hans", "en"])
def test_paper_page(client, transformer, lang):
    response, html = page(client, transformer.get_absolute_url(), lang=lang)
    assert response.status_code == 200
    assert_well_formed_page(html, lang=lang)
    text = text_of(html)
    assert "Transformer" in re.search(r"<h1[^>]*>(.*?)</h1>", html, re.S).group(1)
    assert "Attention Is All You Need" in text and "2017" in text
    assert "继MLP、CNN、RNN后的第四大类架构" in text
    assert 'href="https://arxiv.org/abs/1706.03762"' in html
    assert (
        'href="https://www.semanticscholar.org/paper/'
        '204e3073870fae3d05bcbc2f6a8e263d9b72e776"' in html
    )
    assert ("自然语言处理" if lang == "zh-hans" else "NLP") in text
    assert "125,000" in text
    updated = r"2\s*[日天]前更新" if lang == "zh-hans" else "updated 2 days ago"
    assert re.search(updated, text)


def test_paper_page_has_one_click_to_load_player_and_no_iframe(client, transformer):
    _, html = page(client, transformer.get_absolute_url())
    # Nothing is asked of bilibili or YouTube until the reader presses play.
    assert "<iframe" not in html
    areas = re.findall(r'<div class="player-area"[^>]*>', html)
    assert len(areas) == 1
    assert 'data-bvid="BV1pu411o7BE"' in areas[0]
    assert 'data-youtube-id="nzqlFIcCSWQ"' in areas[0]
    assert re.search(r'<button type="button" class="player-play"', html)
    assert re.search(r'<script src="/static/js/player\.js[^"]*" defer>', html)


def test_paper_page_video_title_and_notes_are_sanitised_markdown(client, transformer):
    _, html = page(client, transformer.get_absolute_url())
    title = re.search(r'<h3 class="video-title".*?</h3>', html, re.S).group(0)
    # The title leads to the video's own page.
    assert f'href="{transformer.videos.get().get_absolute_url()}"' in title
    assert "<strong>重点</strong>" in html
    assert "<script>alert(1)" not in html
    assert 'href="javascript:' not in html


def test_paper_page_draws_citation_history(client, transformer):
    start = timezone.now() - dt.timedelta(days=90)
    for days, count in [(0, 90000), (30, 100500), (60, 112000), (90, 125000)]:
        CitationSnapshotFactory(
            paper=transformer, count=count, fetched_at=start + dt.timedelta(days=days)
        )
    _, html = page(client, transformer.get_absolute_url())
    svg = re.search(r"<svg .*?</svg>", html, re.S).group(0)
    assert 'role="img"' in svg and "<title" in svg and "<desc" in svg
    points = re.search(r'<polyline class="chart-line" points="([^"]+)"', svg).group(1)
    coords = [tuple(map(float, p.split(","))) for p in points.split()]
    assert len(coords) == 4
    xs, ys = zip(*coords, strict=True)
    assert list(xs) == sorted(xs) and list(ys) == sorted(ys, reverse=True)
    # The text alternative holds every point.
    table = re.search(r'<table class="visually-hidden">.*?</table>', html, re.S)
    cells = re.findall(r"<td>([^<]+)</td><td>([^<]+)</td>", table.group(0))
    assert [count for _, count in cells] == ["90,000", "100,500", "112,000", "125,000"]
    _, html = page(client, transformer.get_absolute_url(), lang="en")
    assert "Citations went from 90,000" in html


def test_paper_page_with_one_snapshot_says_so_without_a_chart(client, transformer):
    CitationSnapshotFactory(paper=transformer, count=7)
    _, html = page(client, transformer.get_absolute_url())
    assert "<svg" not in html and "目前只有一次记录" in html
    other = PaperFactory()
    _, html = page(client, other.get_absolute_url())
    assert "<svg" not in html and "还没有引用数记录" in html
    # It says why: nothing has been fetched yet, as opposed to a single point.
    assert "还没有从 Semantic Scholar 获取过这篇论文的引用数" in html
    assert "这篇论文还没有精读视频" in html and "还没有获取" in html


def test_chart_thins_long_histories_and_keeps_the_last_point(client, transformer):
    start = timezone.now() - dt.timedelta(days=400)
    for day in range(400):
        CitationSnapshotFactory(
            paper=transformer, count=1000 + day, fetched_at=start + dt.timedelta(day)
        )
    _, html = page(client, transformer.get_absolute_url())
    points = re.search(r'class="chart-line" points="([^"]+)"', html).group(1).split()
    assert len(points) == 60
    table = re.search(r'<table class="visually-hidden">.*?</table>', html, re.S)
    assert len(re.findall(r"<tr[ >]", table.group(0))) == 61  # header + 60 rows
    assert "1,399" in table.group(0)


# Videos -----------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["zh-hans", "en"])
def test_videos_page_lists_newest_first(client, readme_list, lang):
    response, html = page(client, "/videos/", lang=lang)
    assert response.status_code == 200
    assert_well_formed_page(html, lang=lang)
    dates = re.findall(r'<time datetime="(\d{4}-\d\d-\d\d)">', html)
    assert len(dates) == VideoNote.objects.count() == 59
    # Grouped by year, newest first.
    years = re.findall(r'<h2 id="year-(\d{4})">', html)
    assert years == sorted(set(years), reverse=True) and years[0] == "2024"
    # A series is one group, its parts in part order; outside it, newest first.
    series = re.findall(r'<section class="video-series".*?</section>', html, re.S)
    assert len(series) == 1 and "Llama 3.1" in series[0]
    parts = VideoNote.objects.filter(series__contains="Llama 3.1")
    in_part_order = [
        f"video-{pk}" for pk in parts.order_by("part").values_list("pk", flat=True)
    ]
    assert re.findall(r'id="(video-\d+)"', series[0]) == in_part_order
    single = re.findall(
        r'<time datetime="(\d{4}-\d\d-\d\d)">', html.replace(series[0], "")
    )
    assert single == sorted(single, reverse=True)
    assert len(single) == 59 - len(in_part_order) == 54


def test_videos_page_shows_title_duration_platforms_and_papers(client, transformer):
    VideoNoteFactory(title="大模型时代下做科研的四个思路", cover_path="imgs/x.jpg")
    _, html = page(client, "/videos/")
    article = re.search(r'<article class="video".*?</article>', html, re.S).group(0)
    assert "大模型时代下做科研的四个思路" in article
    assert "<img" not in html  # cover_path is upstream's: never hot-linked
    transformer_video = transformer.videos.get()
    article = re.search(
        rf'<article class="video" id="video-{transformer_video.pk}".*?</article>',
        html,
        re.S,
    ).group(0)
    # The title leads to the video's page, not to the paper's PDF.
    title = re.search(r'<h3 class="video-title".*?</h3>', article, re.S).group(0)
    assert (
        f'<a href="{transformer_video.get_absolute_url()}">Transformer 逐段精读</a>'
        in title
    )
    assert "arxiv.org" not in title
    assert '<time datetime="PT1H27M5S">1:27:05</time>' in article
    assert 'href="https://www.bilibili.com/video/BV1pu411o7BE/"' in article
    assert 'href="https://youtu.be/nzqlFIcCSWQ"' in article
    assert f'<a href="{transformer.get_absolute_url()}">Transformer</a>' in article
    assert "<iframe" not in html


def test_videos_page_shows_an_uploaded_cover(client):
    from django.core.files.uploadedfile import SimpleUploadedFile

    video = VideoNoteFactory()
    video.cover = SimpleUploadedFile("c.jpg", b"\xff\xd8\xff", "image/jpeg")
    video.save()
    _, html = page(client, "/videos/")
    assert re.search(
        r'<img class="video-cover" src="/media/covers/c[^"]*\.jpg" alt=""', html
    )


# Search -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "found"),
    [
        ("transformer", {"Transformer", "ViT"}),  # name, and title (any case)
        ("第四大类", {"Transformer"}),  # summary
        ("1706.03762", {"Transformer"}),  # arXiv id
        ("image is worth", {"ViT"}),  # title
        ("nothing like this", set()),
    ],
)
def test_search_matches_name_title_summary_and_arxiv_id(
    client, transformer, query, found
):
    PaperFactory(
        name="ViT",
        title="An Image is Worth 16x16 Words: Transformers for Image Recognition",
        arxiv_id="2010.11929",
        summary="",
    )
    for htmx in (False, True):
        response, html = page(client, f"/search/?q={query}", htmx=htmx)
        assert response.status_code == 200
        assert set(row_names(html)) == found
        if htmx:
            assert_fragment(html, "search-results")


def test_search_ranks_name_matches_first(client):
    PaperFactory(name="Zeta", title="BERT distilled", citation_count=5)
    PaperFactory(name="BERT", title="Pre-training", citation_count=1)
    PaperFactory(name="RoBERTa", title="A robustly optimised BERT", citation_count=9)
    _, html = page(client, "/search/?q=bert")
    assert row_names(html) == ["BERT", "RoBERTa", "Zeta"]
    _, html = page(client, "/search/?q=bert&sort=citations")
    assert row_names(html) == ["RoBERTa", "Zeta", "BERT"]
    _, html = page(client, "/search/?q=bert&recorded=yes")
    assert row_names(html) == [] and "找到 0 篇论文" in html


@pytest.mark.parametrize("lang", ["zh-hans", "en"])
def test_search_page(client, readme_list, lang):
    response, html = page(client, "/search/?q=GAN", lang=lang)
    assert response.status_code == 200
    assert_well_formed_page(html, lang=lang)
    field = re.search(r'<input type="search" id="q"[^>]*>', html, re.S).group(0)
    assert 'value="GAN"' in field and 'name="q"' in field
    assert 'hx-get="/search/"' in field and 'hx-push-url="true"' in field
    assert 'hx-trigger="input changed delay:300ms, search"' in field
    assert re.search(r'<form id="search-form"[^>]*action="/search/" method="get"', html)
    assert "GAN" in row_names(html)
    response, fragment = page(client, "/search/?q=GAN", htmx=True, lang=lang)
    assert_fragment(fragment, "search-results")
    assert "GAN" in row_names(fragment)
    assert ("找到" if lang == "zh-hans" else "Found") in fragment


def test_empty_search_shows_a_hint(client, readme_list):
    for url in ("/search/", "/search/?q=", "/search/?q=%20%20"):
        for htmx in (False, True):
            response, html = page(client, url, htmx=htmx)
            assert response.status_code == 200
            assert "例如 Transformer" in html and row_names(html) == []


def test_search_survives_odd_queries(client, transformer):
    for query in ("%00", "trans%00former", "%25", "_", "'; DROP TABLE x; --", "☃"):
        response, html = page(client, f"/search/?q={query}")
        assert response.status_code == 200, query
    _, html = page(client, "/search/?q=trans%00former")
    assert row_names(html) == ["Transformer"]
    _, html = page(client, "/search/?q=%25")  # a literal %, not a wildcard
    assert row_names(html) == []


def test_search_caps_query_length_and_result_count(client):
    response, html = page(client, "/search/?q=" + "a" * 10_000)
    assert response.status_code == 200
    field = re.search(r'<input type="search" id="q"[^>]*>', html, re.S).group(0)
    assert 'value="' + "a" * 200 + '"' in field
    assert "a" * 201 not in re.search(r"<main.*</main>", html, re.S).group(0)
    Paper.objects.bulk_create(
        PaperFactory.build(name=f"Net {i}", summary="") for i in range(130)
    )
    search_index.rebuild()  # bulk_create sends no signal: bulk writers index themselves
    _, html = page(client, "/search/?q=net")
    assert len(row_names(html)) == 100
    assert "显示前 100 篇" in html


def test_search_keeps_sort_and_filter_for_the_next_query(client, transformer):
    _, html = page(client, "/search/?q=trans&sort=year&recorded=yes", htmx=True)
    assert '<input type="hidden" name="sort" value="year" form="search-form">' in html
    assert (
        '<input type="hidden" name="recorded" value="yes" form="search-form">' in html
    )
    assert 'href="/search/?q=trans&amp;sort=name&amp;recorded=yes"' in html


# Errors, language, README -----------------------------------------------------------


@pytest.mark.parametrize("lang", ["zh-hans", "en"])
@pytest.mark.parametrize(
    "url", ["/papers/no-such-paper/", "/categories/no-such/", "/nowhere/"]
)
def test_not_found_looks_like_the_site(client, url, lang):
    response, html = page(client, url, lang=lang)
    assert response.status_code == 404
    assert_well_formed_page(html, lang=lang)
    assert ("页面不存在" if lang == "zh-hans" else "Page not found") in html
    assert 'class="site-header"' in html and "Semantic Scholar" in html


def test_htmx_request_for_a_missing_category_is_404(client):
    response, _ = page(client, "/categories/no-such/?sort=year", htmx=True)
    assert response.status_code == 404


def _boom(request):
    raise RuntimeError("boom")


urlpatterns = [path("boom/", _boom)]


def test_server_error_page_needs_no_database(client, settings):
    with CaptureQueriesContext(connection) as queries:
        html = render_to_string("500.html")
    assert len(queries) == 0
    assert "服务器出错了" in html and "Semantic Scholar" in html
    settings.ROOT_URLCONF = __name__
    client.raise_request_exception = False
    response = client.get("/boom/", **EN)
    assert response.status_code == 500
    html = response.content.decode()
    assert "Server error" in html and '<html lang="en">' in html
    assert_well_formed_page(html, lang="en", chrome=False)


def test_language_switcher_sets_english_and_back(client, sortable):
    _, html = page(client, "/")
    form = re.search(r'<form class="language-form".*?</form>', html, re.S).group(0)
    assert 'action="/i18n/setlang/" method="post"' in form
    assert 'aria-label="语言"' in form
    # One small toggle button: the other language, named in that language.
    buttons = re.findall(r"<button [^>]*>.*?</button>", form)
    assert buttons == [
        '<button type="submit" name="language" value="en" lang="en">'
        '<span class="language-name">English</span>'
        '<span class="language-code" aria-hidden="true">EN</span></button>'
    ]
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/?sort=name"})
    assert response.status_code == 302 and response["Location"] == "/?sort=name"
    html = client.get("/?sort=name").content.decode()
    assert '<html lang="en">' in html and "<h2 " in html and ">NLP</a></h2>" in html
    assert (
        'value="zh-hans" lang="zh-hans"><span class="language-name">简体中文</span>'
        in html
    )
    client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/"})
    html = client.get("/").content.decode()
    assert '<html lang="zh-hans">' in html and ">自然语言处理</a></h2>" in html


def test_public_pages_carry_no_csrf_token_so_they_can_be_cached(client, transformer):
    """Nothing on a public page posts with htmx, and the language switcher's view is
    CSRF-exempt: no token in the page, no csrftoken cookie (papers/cache.py)."""
    for url in ("/", "/videos/", "/search/?q=t", transformer.get_absolute_url()):
        response = client.get(url)
        html = response.content.decode()
        assert "csrfmiddlewaretoken" not in html and "X-CSRFToken" not in html, url
        assert not response.cookies, url
    csrf_client = Client(enforce_csrf_checks=True)
    response = csrf_client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert response.status_code == 302
    assert response.cookies["django_language"].value == "en"


def test_english_cookie_translates_every_page_chrome(client, transformer):
    client.cookies["django_language"] = "en"
    for url in ("/", "/videos/", "/search/?q=x", transformer.get_absolute_url()):
        html = client.get(url).content.decode()
        chrome = re.search(r"<header class=\"site-header\">.*?</header>", html, re.S)
        footer = re.search(r"<footer.*?</footer>", html, re.S).group(0)
        assert not re.search(
            r"[\u4e00-\u9fff]", chrome.group(0).replace("简体中文", "")
        )
        assert "Papers" in chrome.group(0) and "Citation counts from" in footer
        assert not re.search(r"[\u4e00-\u9fff]", footer)


def test_readme_serves_the_export_as_markdown(client, readme_list):
    response = client.get("/readme.md")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/markdown; charset=utf-8"
    text = response.content.decode()
    assert text.startswith("# ") and "[Transformer](" in text
    assert "总论文数 90" in text


def test_footer_credits_sources_and_shows_last_refresh(client):
    _, html = page(client, "/")
    footer = re.search(r"<footer.*?</footer>", html, re.S).group(0)
    assert 'href="https://www.semanticscholar.org/"' in footer
    assert 'href="https://github.com/mli/paper-reading"' in footer
    assert "最近更新于" not in footer
    RefreshRun.objects.create(
        status=RefreshRun.Status.FAILED, finished_at=timezone.now()
    )
    RefreshRun.objects.create(
        status=RefreshRun.Status.PARTIAL,
        finished_at=dt.datetime(2025, 3, 1, 4, 5, tzinfo=dt.UTC),
    )
    _, html = page(client, "/")
    # 04:05 UTC is 12:05 in Asia/Shanghai.
    assert "引用数最近更新于 2025-03-01 12:05。" in text_of(html)


def test_pages_load_nothing_from_third_parties(client, transformer):
    """The page is complete on the first response: no badge, font or script from
    elsewhere. Only the paper page's lazy players point off-site."""
    VideoNoteFactory(cover_path="imgs/gpt4.jpg")
    for url in ("/", "/videos/", "/search/?q=t", transformer.get_absolute_url()):
        html = client.get(url).content.decode()
        sources = re.findall(
            r'<(?:img|script|link|source)\b[^>]*(?:src|href)="([^"]+)"', html
        )
        assert sources and all(s.startswith("/") for s in sources), sources
        assert "shields.io" not in html and "githubusercontent" not in html


# Query counts ------------------------------------------------------------------------

# The most SQL queries each page may run, at 90 papers and at 2,000 alike.
MAX_QUERIES = {
    "home": 6,  # categories, placements+papers, 3 totals, last refresh
    "home sorted, filtered": 6,
    "home fragment": 2,  # the fragment has no totals and no footer
    "category": 3,  # category, placements+papers, last refresh
    "category fragment": 2,
    # paper, categories, neighbours, videos, snapshots, builds-on and built-upon-by
    # lists (shown once, under "what to read next"), paths, links, the chapters that
    # name the paper, last refresh, and the papers of its year before it (whose
    # citation keys must not repeat)
    "paper": 11,
    "videos": 3,  # videos, their papers, last refresh
    # aliases (memoised per content version), names, the full text, papers, their
    # categories (or, when nothing matched, the "did you mean" names), last refresh
    "search": 6,
    "search fragment": 5,
}


@pytest.mark.parametrize("size", [90, LARGE])
def test_list_pages_run_a_constant_number_of_queries(
    client, readme_list, size, django_assert_max_num_queries
):
    grow_catalogue(size)
    assert Paper.objects.count() == size
    category = Category.objects.order_by("position").first()
    paper = Paper.objects.filter(videos__isnull=False).first()
    urls = {
        "home": ("/", {}),
        "home sorted, filtered": ("/?sort=citations&recorded=no", {}),
        "home fragment": ("/?sort=year", HTMX),
        "category": (category.get_absolute_url(), {}),
        "category fragment": (category.get_absolute_url() + "?sort=-year", HTMX),
        "paper": (paper.get_absolute_url(), {}),
        "videos": ("/videos/", {}),
        "search": ("/search/?q=paper", {}),
        "search fragment": ("/search/?q=paper", HTMX),
    }
    for name, (url, headers) in urls.items():
        with django_assert_max_num_queries(MAX_QUERIES[name]):
            response = client.get(url, **headers)
        assert response.status_code == 200, name
    # The large list really is on the page.
    if size == LARGE:
        assert len(row_names(client.get("/").content.decode())) >= LARGE


# Translations -----------------------------------------------------------------------

LOCALE = (
    Path(__file__).resolve().parents[1] / "papers" / "locale" / "en" / "LC_MESSAGES"
)
PUBLIC_SOURCES = re.compile(
    r"templates/(?:base|404|500)\.html|templates/(?:includes|papers)/"
    r"|papers/(?:views/public|feeds|sitemaps|selectors)\.py|papers/templatetags/"
)


def _po_entries(text: str):
    """The entries of a .po file as dicts: references, msgctxt, msgid, msgid_plural,
    msgstr (the singular form for plurals)."""
    for block in text.split("\n\n"):
        entry, key = {"references": "", "msgctxt": None, "msgid_plural": None}, None
        for line in block.splitlines():
            if line.startswith("#:"):
                entry["references"] += line
                continue
            match = re.match(r'^(msgctxt|msgid|msgid_plural|msgstr(?:\[0\])?) "', line)
            if match:
                key = match.group(1).replace("[0]", "")
                entry[key] = ""
                line = line[len(match.group(1)) + 1 :]
            if key and line.startswith('"'):
                entry[key] += json.loads(line)
        if entry.get("msgid"):
            yield entry


def _compiled(catalogue, entry) -> str:
    if entry["msgid_plural"]:
        return catalogue.ngettext(entry["msgid"], entry["msgid_plural"], 1)
    if entry["msgctxt"]:
        return catalogue.pgettext(entry["msgctxt"], entry["msgid"])
    return catalogue.gettext(entry["msgid"])


def test_every_public_string_has_a_compiled_english_translation():
    entries = [
        entry
        for entry in _po_entries((LOCALE / "django.po").read_text(encoding="utf-8"))
        if PUBLIC_SOURCES.search(entry["references"])
    ]
    assert len(entries) > 60
    assert not [entry["msgid"] for entry in entries if not entry.get("msgstr")]
    with (LOCALE / "django.mo").open("rb") as compiled:
        catalogue = gettext.GNUTranslations(compiled)
    stale = [e["msgid"] for e in entries if _compiled(catalogue, e) != e["msgstr"]]
    assert not stale, "django.mo is older than django.po: run compilemessages"


def test_pages_name_a_self_hosted_icon(client):
    """Browsers ask for /favicon.ico (a 404) unless the page names an icon."""
    response = client.get("/")
    assert '<link rel="icon" href="/static/img/favicon.svg"' in response.text
    assert client.get("/static/img/favicon.svg").status_code == 200


# Before any count is fetched ----------------------------------------------------------


@pytest.fixture
def uncounted():
    """A category in curator order Zeta, Alpha, Mu: no paper has a count yet."""
    category = CategoryFactory(slug="cv", name="计算机视觉")
    for position, name in enumerate(["Zeta", "Alpha", "Mu"]):
        PlacementFactory(
            category=category,
            position=position,
            paper__name=name,
            paper__citation_count=None,
        )
    return category


@pytest.mark.parametrize("where", ["home", "category"])
def test_citation_sort_without_counts_says_so_and_keeps_curator_order(
    client, uncounted, where
):
    base = "/" if where == "home" else uncounted.get_absolute_url()
    for htmx in (False, True):
        _, html = page(client, base + "?sort=citations", htmx=htmx)
        # Not silently alphabetical: the curator's order, and the page says so.
        assert row_names(html) == ["Zeta", "Alpha", "Mu"]
        text = text_of(html)
        assert "引用最多 (尚未获取)" in text
        assert "引用数 (尚未获取)" in text
        assert "引用数尚未获取" in text and "按“推荐顺序”排列" in text
        cells = re.findall(r'<span class="no-count"[^>]*>([^<]*)</span>', html)
        assert cells == ["尚未获取"] * 3
    _, html = page(client, base + "?sort=citations", lang="en")
    assert "Not fetched yet" in text_of(html)


def test_once_a_count_arrives_it_sorts_first_and_the_rest_keep_curator_order(
    client, uncounted
):
    _, html = page(client, "/")
    assert "尚未获取" in html  # the default sort says it too
    Paper.objects.filter(name="Mu").update(citation_count=3)
    _, html = page(client, "/?sort=citations")
    assert row_names(html) == ["Mu", "Zeta", "Alpha"]  # NULLS LAST
    assert "尚未获取" not in html and "引用数尚未获取" not in html


def test_search_sorted_by_citations_without_counts_names_its_order(client, uncounted):
    _, html = page(client, "/search/?q=a&sort=citations")
    assert row_names(html) == ["Alpha", "Mu", "Zeta"]
    assert "按“名字”排列" in text_of(html)


# Phone and desktop layout hooks ------------------------------------------------------


def test_every_paper_table_shares_one_set_of_column_widths(client, sortable):
    CategoryFactory()  # an empty table too
    PlacementFactory(paper__citation_count=1)
    _, html = page(client, "/")
    colgroups = re.findall(r"<colgroup>.*?</colgroup>", html, re.S)
    assert len(colgroups) == 3 and len(set(colgroups)) == 1
    assert re.findall(r'<col class="([^"]+)">', colgroups[0]) == [
        "col-recorded",
        "col-year",
        "col-name",
        "col-summary",
        "col-citations",
    ]
    css = (Path(settings_static_dir()) / "css" / "site.css").read_text()
    assert "table-layout: fixed" in css


def settings_static_dir():
    from django.conf import settings

    return settings.STATICFILES_DIRS[0]


@pytest.mark.parametrize(("lang", "label"), [("zh-hans", "引用"), ("en", "Citations")])
def test_citation_cells_carry_their_label_for_the_card_layout(
    client, sortable, lang, label
):
    _, html = page(client, "/", lang=lang)
    cells = re.findall(r'<td class="col-citations">(.*?)</td>', html, re.S)
    assert len(cells) == 4
    assert all(
        cell.startswith(f'<span class="cell-label">{label}</span>') for cell in cells
    )


# Paper page -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "https://arxiv.org/abs/1706.03762",
        "https://arxiv.org/pdf/1706.03762.pdf",
        "http://www.arxiv.org/abs/1706.03762v5",
    ],
)
def test_paper_page_shows_one_link_when_original_is_the_arxiv_page(client, url):
    paper = PaperFactory(url=url, arxiv_id="1706.03762")
    _, html = page(client, paper.get_absolute_url())
    links = re.search(r'<ul class="links">.*?</ul>', html, re.S).group(0)
    assert links.count("1706.03762") == 2  # one href, one label
    assert text_of(links).startswith("论文原文 (arXiv 1706.03762)")


def test_paper_page_shows_both_links_when_they_differ(client):
    paper = PaperFactory(
        url="https://papers.nips.cc/paper/7181-attention", arxiv_id="1706.03762"
    )
    _, html = page(client, paper.get_absolute_url())
    links = re.search(r'<ul class="links">.*?</ul>', html, re.S).group(0)
    assert 'href="https://papers.nips.cc/paper/7181-attention"' in links
    assert 'href="https://arxiv.org/abs/1706.03762"' in links
    assert "论文原文" in links and "arXiv 1706.03762" in links


def pager(html):
    nav = re.search(r'<nav class="paper-pager".*?</nav>', html, re.S)
    if nav is None:
        return []
    return [
        (rel, unescape(name).strip())
        for rel, name in re.findall(
            r'rel="(prev|next)"><span class="pager-label">[^<]*</span>([^<]*)</a>',
            nav.group(0),
        )
    ]


def test_paper_page_links_previous_and_next_in_each_category(
    client, django_assert_num_queries
):
    cnn = CategoryFactory(name="CNN", position=0)
    gan = CategoryFactory(name="GAN", position=1)
    papers = {name: PaperFactory(name=name) for name in ["A", "B", "C", "D"]}
    for position, name in enumerate(["A", "B", "C"]):
        PlacementFactory(category=cnn, paper=papers[name], position=position)
    PlacementFactory(category=gan, paper=papers["D"], position=0)
    PlacementFactory(category=gan, paper=papers["B"], position=1)

    _, html = page(client, papers["B"].get_absolute_url())
    assert pager(html) == [("prev", "A"), ("next", "C"), ("prev", "D")]
    nav = re.search(r'<nav class="paper-pager".*?</nav>', html, re.S).group(0)
    assert nav.index(">CNN<") < nav.index(">GAN<")
    assert f'href="{papers["C"].get_absolute_url()}" rel="next"' in nav
    assert pager(page(client, papers["A"].get_absolute_url())[1]) == [("next", "B")]
    assert pager(page(client, papers["C"].get_absolute_url())[1]) == [("prev", "B")]
    lonely = PaperFactory()
    assert pager(page(client, lonely.get_absolute_url())[1]) == []

    # The same number of queries however many categories the paper is in.
    for n in range(5):
        PlacementFactory(paper=papers["B"], category=CategoryFactory(), position=n)
    from django.core.cache import cache

    cache.clear()
    with django_assert_num_queries(MAX_QUERIES["paper"]):
        response = client.get(papers["B"].get_absolute_url())
    assert len(pager(response.content.decode())) == 3


def test_unrecorded_paper_offers_to_request_a_reading_of_itself(client, transformer):
    paper = PaperFactory(
        name="ViT",
        title="An Image is Worth 16x16 Words",
        url="https://arxiv.org/abs/2010.11929",
        is_recorded=False,
    )
    _, html = page(client, paper.get_absolute_url())
    link = re.search(r'<p class="request-reading">\s*<a href="([^"]+)">', html)
    href = unescape(link.group(1))
    assert href == (
        "/requests/?url=https%3A%2F%2Farxiv.org%2Fabs%2F2010.11929"
        "&title=An+Image+is+Worth+16x16+Words#request-form"
    )
    assert client.get(href.split("#")[0]).status_code == 200
    _, html = page(client, transformer.get_absolute_url())  # recorded already
    assert 'class="request-reading"' not in html


def test_dropped_footnote_leaves_balanced_brackets(client):
    readme_import(
        text=(
            "## 视频\n\n"
            "| 日期 | 标题 | 封面 | 时长 | 视频（播放数） |\n"
            "| --- | --- | --- | --- | --- |\n"
            "| 10/27/21 | [Transformer](https://arxiv.org/abs/1706.03762) 逐段精读"
            "<br> （视频中提到的文献 [^transformer]) | | 1:27:05 | "
            "[B站](https://www.bilibili.com/video/BV1pu411o7BE/) |\n\n"
            "[^transformer]: 1 [综述](https://arxiv.org/abs/2108.07258)\n\n"
            "## 自然语言处理\n\n"
            "| 已录制 | 年份 | 名字 | 简介 | 引用 |\n"
            "| --- | --- | --- | --- | --- |\n"
            "| ✅ | 2017 | [Transformer](https://arxiv.org/abs/1706.03762) | 架构 | |\n"
        )
    )
    video = VideoNote.objects.get()
    assert "（视频中提到的文献）" in video.plain_title
    _, html = page(client, "/videos/")
    assert "（视频中提到的文献）" in html and "（视频中提到的文献)" not in html
    feed = client.get("/feeds/videos/").content.decode()
    assert "（视频中提到的文献)" not in feed


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("（视频中提到的文献)", "（视频中提到的文献）"),
        ("(ASCII）", "(ASCII)"),
        (
            "[a](https://x.org/a_(b)) （注 (内)）",
            "[a](https://x.org/a_(b)) （注 (内)）",
        ),
        ("（外 (内)）", "（外 (内)）"),
        ("stray) and （open", "stray) and （open"),
    ],
)
def test_balance_brackets(text, expected):
    from papers.markup import balance_brackets

    assert balance_brackets(text) == expected


# Favicon and sitemap ----------------------------------------------------------------


def test_favicon_ico_answers_on_every_page_including_the_admin(client, admin_client):
    for c in (client, admin_client):
        response = c.get("/favicon.ico")
        assert response.status_code == 302
        assert response["Location"] == "/static/img/favicon.svg"
        assert "max-age=86400" in response["Cache-Control"]
        icon = c.get(response["Location"])
        assert icon.status_code == 200 and "svg" in icon["Content-Type"]
    # The admin names no icon, so its pages make browsers ask for this one.
    admin_html = admin_client.get("/admin/").content.decode()
    assert 'rel="icon"' not in admin_html or "favicon" in admin_html
    assert client.head("/favicon.ico").status_code == 302
    assert client.post("/favicon.ico").status_code == 405


def test_sitemap_names_a_same_origin_stylesheet_that_makes_it_readable(client):
    PaperFactory(slug="resnet")
    response = client.get("/sitemap.xml")
    body = response.content.decode()
    assert body.startswith('<?xml version="1.0" encoding="UTF-8"?>')
    stylesheet = re.search(r'<\?xml-stylesheet type="text/css" href="([^"]+)"\?>', body)
    assert stylesheet and stylesheet.group(1) == "/static/css/sitemap.css"
    assert "<loc>http://testserver/papers/resnet/</loc>" in body
    css = client.get(stylesheet.group(1))
    assert css.status_code == 200 and css["Content-Type"].startswith("text/css")
    text = b"".join(css.streaming_content).decode()
    assert re.search(r"(?m)^url \{\n  display: block;", text)
    assert re.search(r"(?m)^loc \{\n  display: block;", text)
