"""Atom feeds (new papers, new videos, per category) and /sitemap.xml."""

import datetime as dt
import re
import xml.etree.ElementTree as ET

import pytest
from django.utils import timezone

from papers.models import Category, Paper, VideoNote
from papers.services import readme_import
from tests.bench.bench_pages import LARGE, grow_catalogue
from tests.factories import (
    CategoryFactory,
    PaperFactory,
    PlacementFactory,
    VideoNoteFactory,
)
from tests.helpers import read_full_readme

pytestmark = pytest.mark.django_db

ATOM = "{http://www.w3.org/2005/Atom}"
SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"


def atom(client, url, **headers):
    response = client.get(url, **headers)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/atom+xml; charset=utf-8"
    return ET.fromstring(response.content)


def entries(feed):
    return [
        {
            "title": entry.findtext(f"{ATOM}title"),
            "link": entry.find(f"{ATOM}link").get("href"),
            "published": entry.findtext(f"{ATOM}published"),
            "summary": entry.findtext(f"{ATOM}summary") or "",
        }
        for entry in feed.findall(f"{ATOM}entry")
    ]


def _created(paper, days_ago):
    Paper.objects.filter(pk=paper.pk).update(
        created_at=timezone.now() - dt.timedelta(days=days_ago)
    )


def test_papers_feed_lists_newest_first(client):
    old = PaperFactory(name="Old", year=2012, summary="旧的")
    new = PaperFactory(name="New", year=2024, title="A new paper", summary="新的")
    _created(old, 10)
    _created(new, 1)
    feed = atom(client, "/feeds/papers/")
    assert feed.findtext(f"{ATOM}title") == "深度学习论文精读：新加入的论文"
    items = entries(feed)
    assert [item["title"] for item in items] == ["New (2024)", "Old (2012)"]
    assert items[0]["link"] == f"http://testserver{new.get_absolute_url()}"
    assert items[0]["summary"] == "A new paper — 新的"
    assert items[0]["published"] > items[1]["published"]


def test_papers_feed_keeps_the_newest_fifty(client):
    Paper.objects.bulk_create(PaperFactory.build() for _ in range(60))
    assert len(entries(atom(client, "/feeds/papers/"))) == 50


def test_feed_titles_follow_the_language(client):
    feed = atom(client, "/feeds/videos/", HTTP_ACCEPT_LANGUAGE="en")
    assert feed.findtext(f"{ATOM}title") == "Deep Learning Paper Reading: new videos"


def test_videos_feed_has_plain_titles_and_publication_dates(client):
    VideoNoteFactory(title="Older", published_on=dt.date(2021, 10, 27))
    VideoNoteFactory(
        title="[GPT](https://a.example/gpt.pdf), [GPT-2](https://a.example/2.pdf) 精读",
        published_on=dt.date(2022, 3, 3),
        notes="**重点** <script>x()</script>",
    )
    items = entries(atom(client, "/feeds/videos/"))
    assert [item["title"] for item in items] == ["GPT, GPT-2 精读", "Older"]
    assert items[0]["published"].startswith("2022-03-03T00:00:00+08:00")
    assert '<a href="https://a.example/gpt.pdf"' in items[0]["summary"]
    assert "<strong>重点</strong>" in items[0]["summary"]
    assert "<script>" not in items[0]["summary"]
    video = VideoNote.objects.get(title__startswith="[GPT]")
    assert items[0]["link"] == f"http://testserver/videos/{video.slug}/"


def test_category_feed_lists_only_its_papers(client):
    vision = CategoryFactory(slug="vision", name="计算机视觉", name_en="Vision")
    PlacementFactory(category=vision, paper__name="ResNet")
    PlacementFactory(paper__name="BERT")
    feed = atom(client, "/feeds/categories/vision/")
    assert feed.findtext(f"{ATOM}title") == "深度学习论文精读：计算机视觉"
    assert [item["title"] for item in entries(feed)] == ["ResNet (2021)"]
    feed = atom(client, "/feeds/categories/vision/", HTTP_ACCEPT_LANGUAGE="en")
    assert feed.findtext(f"{ATOM}title") == "Deep Learning Paper Reading: Vision"
    assert client.get("/feeds/categories/no-such/").status_code == 404


def test_pages_advertise_their_feeds(client):
    category = CategoryFactory(slug="vision")
    html = client.get(category.get_absolute_url()).content.decode()
    for feed in ("/feeds/papers/", "/feeds/videos/", "/feeds/categories/vision/"):
        link = rf'<link rel="alternate" type="application/atom\+xml" [^>]*href="{feed}"'
        assert re.search(link, html), feed


def test_sitemap_lists_pages_categories_and_papers(client):
    readme_import(text=read_full_readme())
    response = client.get("/sitemap.xml")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/xml")
    urls = {
        url.findtext(f"{SITEMAP}loc")
        for url in ET.fromstring(response.content).findall(f"{SITEMAP}url")
    }
    expected = {
        "http://testserver/",
        "http://testserver/videos/",
        "http://testserver/paths/",
    }
    expected |= {
        f"http://testserver{c.get_absolute_url()}" for c in Category.objects.all()
    }
    expected |= {
        f"http://testserver{p.get_absolute_url()}" for p in Paper.objects.all()
    }
    assert urls == expected and len(urls) == 3 + 12 + 90


@pytest.mark.parametrize("size", [90, LARGE])
def test_feeds_and_sitemap_run_a_constant_number_of_queries(
    client, size, django_assert_max_num_queries
):
    readme_import(text=read_full_readme())
    grow_catalogue(size)
    category = Category.objects.order_by("position").first()
    limits = {
        "/feeds/papers/": 1,
        "/feeds/videos/": 1,
        category.get_absolute_url().replace("/categories/", "/feeds/categories/"): 2,
        # a count and a list each for categories, papers and paths
        "/sitemap.xml": 6,
    }
    for url, limit in limits.items():
        with django_assert_max_num_queries(limit):
            response = client.get(url)
        assert response.status_code == 200, url


HOSTILE_README = """\
### 计算机视觉 - CNN\x01

A description\x07 with a bell.

| 已录制 | 年份 | 名字 | 简介 | 引用 |
| --- | --- | --- | --- | --- |
| ✅ | 2012 | [Alex\x01Net](https://example.org/alexnet) | 深度\x0b学习\u202e反转 | |
| | 2014 | [VGG](https://example.org/vgg) | %s | |

## 录制完成的论文

| 日期 | 标题 | 封面 | 时长 | 视频 |
| --- | --- | --- | --- | --- |
| 3/3/22 | GPT\x02\\*精读 \\[上\\] | <img src="javascript:alert(1)" /> | 1:00:00 | |
""" % ("长" * 20_000)


def test_control_characters_from_the_readme_leave_the_feeds_valid(client):
    report = readme_import(text=HOSTILE_README)

    assert "line 1: control or bidi characters removed" in report.warnings
    assert "line 7: control or bidi characters removed" in report.warnings
    assert "line 8: summary cut to 1000 characters (it had 20000)" in report.warnings
    paper = Paper.objects.get(name="AlexNet")
    assert paper.summary == "深度学习反转"
    assert len(Paper.objects.get(name="VGG").summary) == 1000
    category = Category.objects.get()
    assert category.name == "计算机视觉 - CNN"
    for url in (
        "/feeds/papers/",
        "/feeds/videos/",
        category.get_absolute_url().replace("/categories/", "/feeds/categories/"),
    ):
        feed = atom(client, url)  # parses as XML
        assert entries(feed), url
    video = entries(atom(client, "/feeds/videos/"))[0]
    assert video["title"] == "GPT*精读 [上]"  # no markdown escapes left


def test_feeds_are_valid_whatever_is_stored(client):
    category = CategoryFactory(slug="cnn", name="CNN\x01", description="关于\x02")
    PlacementFactory(
        category=category,
        paper__name="Bad\x01Name\x1f",  # PostgreSQL refuses \x00
        paper__title="T\x0c",
        paper__summary="S\x08\u202e",
        paper__year=2020,
    )
    VideoNoteFactory(title="V\x01 [A\\]](https://a.example/)", notes="N\x1b")

    assert [e["title"] for e in entries(atom(client, "/feeds/papers/"))] == [
        "BadName (2020)"
    ]
    assert entries(atom(client, "/feeds/papers/"))[0]["summary"] == "T — S"
    assert entries(atom(client, "/feeds/videos/"))[0]["title"] == "V A]"
    feed = atom(client, "/feeds/categories/cnn/")
    assert feed.findtext(f"{ATOM}title") == "深度学习论文精读：CNN"
    assert feed.findtext(f"{ATOM}subtitle") == "关于"
