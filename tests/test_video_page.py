"""The video page (issue 12) and the paper page's videos: fields, ?t=, chapters,
click-to-load (no iframe in the HTML), JSON-LD, Open Graph, constant queries."""

from __future__ import annotations

import datetime as dt
import json
import re
from html import unescape

import pytest
from django.urls import reverse

from papers.models import VideoNote
from papers.services import readme_import
from papers.views.videos import read_start
from tests.factories import (
    ChapterFactory,
    PaperFactory,
    VideoNoteFactory,
    ViewSnapshotFactory,
)
from tests.helpers import read_full_readme

pytestmark = pytest.mark.django_db

ZH = {"HTTP_ACCEPT_LANGUAGE": "zh-hans"}


def get(client, url):
    response = client.get(url, **ZH)
    return response, response.content.decode()


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html))).strip()


@pytest.fixture
def transformer_video():
    transformer = PaperFactory(name="Transformer", slug="transformer")
    bert = PaperFactory(name="BERT", slug="bert")
    video = VideoNoteFactory(
        title="Transformer 逐段精读 </script><b>",
        slug="transformer",
        published_on=dt.date(2021, 11, 18),
        duration=dt.timedelta(hours=1, minutes=27, seconds=5),
        bilibili_url="https://www.bilibili.com/video/BV1pu411o7BE/",
        bvid="BV1pu411o7BE",
        youtube_url="https://youtu.be/nzqlFIcCSWQ",
        youtube_id="nzqlFIcCSWQ",
        zhihu_url="https://zhuanlan.zhihu.com/p/123",
        notes="**重点** <script>alert(1)</script>",
        bilibili_views=1_234_567,
        youtube_views=89_012,
        cover_small="covers/thumbs/transformer-480.webp",
        cover_small_width=480,
        cover_small_height=270,
        cover_large="covers/thumbs/transformer-960.webp",
        cover_large_width=960,
        cover_large_height=540,
    )
    video.papers.add(transformer)
    ChapterFactory(video=video, start=0, title="开场")
    ChapterFactory(
        video=video, start=3723, title="多头注意力", section="§3.2 Multi-Head Attention"
    )
    ChapterFactory(video=video, start=4000, title="顺便讲 BERT", paper=bert)
    return video


def test_video_page_shows_the_video(client, transformer_video):
    response, html = get(client, "/videos/transformer/")
    assert response.status_code == 200
    text = text_of(html)
    assert "Transformer 逐段精读" in re.search(r"<h1[^>]*>(.*?)</h1>", html, re.S)[1]
    assert '<time datetime="2021-11-18">2021-11-18</time>' in html
    assert '<time datetime="PT1H27M5S">1:27:05</time>' in html
    assert '<a href="/papers/transformer/">Transformer</a>' in html
    assert 'href="https://zhuanlan.zhihu.com/p/123"' in html
    # View counts per platform.
    assert "1,234,567" in text and "89,012" in text
    # Notes are sanitised markdown.
    assert "<strong>重点</strong>" in html
    assert "<script>alert(1)" not in html
    # The title's markup is text, not tags.
    assert "</script><b>" not in html


def test_chapters_link_to_their_moment_with_section_and_paper(
    client, transformer_video
):
    _, html = get(client, "/videos/transformer/")
    chapters = re.findall(
        r'<li class="chapter" data-chapter="[^"]+">(.*?)</li>', html, re.S
    )
    assert len(chapters) == 3
    assert 'href="?t=0"' in chapters[0] and ">0:00</time> 开场" in chapters[0]
    assert 'href="?t=3723"' in chapters[1]
    assert ">1:02:03</time> 多头注意力" in chapters[1]
    assert "§3.2 Multi-Head Attention" in chapters[1]
    assert 'href="/papers/bert/"' in chapters[2]


def test_click_to_load_player_has_no_iframe_and_the_self_hosted_cover(
    client, transformer_video
):
    _, html = get(client, "/videos/transformer/")
    assert "<iframe" not in html
    assert "player.bilibili.com/player.html" not in html.split("</head>")[1]
    area = re.search(r'<div class="player-area"[^>]*>', html)[0]
    assert 'data-bvid="BV1pu411o7BE"' in area
    assert 'data-youtube-id="nzqlFIcCSWQ"' in area
    assert 'data-start="0"' in area
    cover = re.search(r'<img class="player-cover"[^>]*>', html)[0]
    assert 'src="/media/covers/thumbs/transformer-960.webp"' in cover
    assert 'width="960"' in cover and 'height="540"' in cover
    assert re.search(r'<button type="button" class="player-play"', html)
    tabs = re.findall(r'<button[^>]*data-platform="(\w+)"', html)
    assert tabs == ["bilibili", "youtube"]
    assert re.search(r'<script src="/static/js/player\.js[^"]*" defer>', html)
    # No inline script other than the JSON-LD data block.
    scripts = re.findall(r"<script(?: [^>]*)?>", html)
    assert all("src=" in s or 'type="application/ld+json"' in s for s in scripts)


def test_one_platform_shows_no_tabs(client):
    VideoNoteFactory(slug="only-bilibili")
    _, html = get(client, "/videos/only-bilibili/")
    assert "data-platform=" not in html
    assert "player-play" in html


def test_t_opens_the_page_ready_at_that_moment(client, transformer_video):
    _, html = get(client, "/videos/transformer/?t=3723")
    assert 'data-start="3723"' in html
    assert "从 1:02:03 开始播放" in text_of(html)


@pytest.mark.parametrize("raw", ["", "abc", "-5", "0", "１２", "1e3", "9999999"])
def test_bad_t_is_the_plain_page(client, transformer_video, raw):
    response, html = get(client, f"/videos/transformer/?t={raw}")
    assert response.status_code == 200
    assert 'data-start="0"' in html
    assert read_start(raw) == ""


def test_unknown_video_is_404(client):
    response, _ = get(client, "/videos/no-such-video/")
    assert response.status_code == 404


def test_json_ld_is_a_video_object_with_a_clip_per_chapter(client, transformer_video):
    _, html = get(client, "/videos/transformer/")
    blocks = re.findall(
        r'<script type="application/ld\+json">(.*?)</script>', html, re.S
    )
    assert len(blocks) == 1
    data = json.loads(blocks[0])
    assert data["@type"] == "VideoObject"
    assert data["name"] == "Transformer 逐段精读 </script><b>"
    assert data["uploadDate"] == "2021-11-18"
    assert data["duration"] == "PT1H27M5S"
    assert data["thumbnailUrl"] == [
        "http://testserver/media/covers/thumbs/transformer-960.webp"
    ]
    clips = data["hasPart"]
    assert [clip["@type"] for clip in clips] == ["Clip"] * 3
    assert [clip["startOffset"] for clip in clips] == [0, 3723, 4000]
    assert [clip.get("endOffset") for clip in clips] == [3723, 4000, 5225]
    assert clips[1]["name"] == "多头注意力"
    assert clips[1]["url"] == "http://testserver/videos/transformer/?t=3723"


def test_open_graph_uses_the_cover(client, transformer_video):
    _, html = get(client, "/videos/transformer/")
    head = html.split("</head>")[0]
    assert '<meta property="og:type" content="video.other">' in head
    assert (
        '<meta property="og:image" '
        'content="http://testserver/media/covers/thumbs/transformer-960.webp">'
    ) in head
    assert '<meta property="og:url" content="http://testserver/videos/transformer/">'
    assert re.search(r'<meta property="og:title" content="Transformer 逐段精读', head)


def test_english_page(client, transformer_video):
    response = client.get("/videos/transformer/?t=3723", HTTP_ACCEPT_LANGUAGE="en")
    text = text_of(response.content.decode())
    assert "Play from 1:02:03" in text
    assert "Chapters" in text


def test_paper_page_has_cards_one_click_to_load_player_and_its_moments(
    client, transformer_video
):
    _, html = get(client, "/papers/transformer/")
    assert "<iframe" not in html
    assert len(re.findall(r'<div class="player-area"', html)) == 1
    assert 'href="/videos/transformer/"' in html
    # BERT's page links straight to the chapter that names it.
    _, bert = get(client, "/papers/bert/")
    assert 'href="/videos/transformer/?t=4000"' in bert
    assert "1:06:40" in bert


def video_page_queries(django_assert_num_queries, client, slug):
    with django_assert_num_queries(VIDEO_PAGE_QUERIES):
        response = client.get(reverse("papers:video", args=[slug]), **ZH)
    assert response.status_code == 200


# video, its papers, its chapters (with their papers), its snapshots, last refresh
VIDEO_PAGE_QUERIES = 5


def test_video_page_queries_stay_constant_at_59_and_1000_videos(
    client, django_assert_num_queries, settings
):
    settings.PAGE_CACHE_SECONDS = 0
    readme_import(text=read_full_readme())
    assert VideoNote.objects.count() == 59
    video = VideoNote.objects.filter(papers__isnull=False).first()
    for start in range(0, 600, 60):
        ChapterFactory(video=video, start=start, paper=video.papers.first())
    ViewSnapshotFactory.create_batch(5, video=video)
    video_page_queries(django_assert_num_queries, client, video.slug)

    VideoNote.objects.bulk_create(
        VideoNoteFactory.build(bilibili_url="", bvid="") for _ in range(1000 - 59)
    )
    assert VideoNote.objects.count() == 1000
    video_page_queries(django_assert_num_queries, client, video.slug)


def test_gallery_cards_have_lazy_self_hosted_covers_and_view_counts(
    client, transformer_video
):
    _, html = get(client, "/videos/")
    card = re.search(
        rf'<article class="video" id="video-{transformer_video.pk}".*?</article>',
        html,
        re.S,
    )[0]
    cover = re.search(r'<img class="video-cover"[^>]*>', card)[0]
    assert 'src="/media/covers/thumbs/transformer-480.webp"' in cover
    assert 'width="480"' in cover and 'height="270"' in cover
    assert 'loading="lazy"' in cover
    assert "1,323,579 次播放" in text_of(card)  # both platforms together
    assert f'href="{transformer_video.get_absolute_url()}"' in card


# the videos, their papers, last refresh
GALLERY_QUERIES = 3


def test_gallery_queries_stay_constant_at_59_and_1000_videos(
    client, django_assert_num_queries, settings
):
    settings.PAGE_CACHE_SECONDS = 0
    readme_import(text=read_full_readme())
    assert VideoNote.objects.count() == 59
    with django_assert_num_queries(GALLERY_QUERIES):
        assert client.get("/videos/", **ZH).status_code == 200
    VideoNote.objects.bulk_create(
        VideoNoteFactory.build(bilibili_url="", bvid="") for _ in range(1000 - 59)
    )
    with django_assert_num_queries(GALLERY_QUERIES):
        response = client.get("/videos/", **ZH)
    assert response.content.decode().count('<article class="video"') == 1000
