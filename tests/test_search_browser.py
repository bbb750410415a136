"""Issue 15 in a real browser: Chinese live search, and a moment's link."""

import re

import pytest
from django.apps import apps

from papers.search.aliases import load_starter_aliases
from tests.browser import browser_fixture, browsing_fixture, page_fixture  # noqa: F401
from tests.factories import PaperFactory, VideoNoteFactory

try:
    from playwright.sync_api import expect
except ImportError:  # the browser fixture skips, or fails under CI, and says why
    expect = None

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def papers():
    load_starter_aliases()
    transformer = PaperFactory(
        name="Transformer",
        title="Attention Is All You Need",
        summary="第四大类架构",
        slug="transformer",
    )
    for name, summary in [
        ("MoCo", "对比学习"),
        ("SimCLR", "视觉对比学习"),
        ("ResNet", "残差连接"),
    ]:
        PaperFactory(name=name, summary=summary, slug=name.lower())
    video = VideoNoteFactory(title="Transformer论文逐段精读", notes="讲位置编码")
    video.papers.add(transformer)
    return video


def test_chinese_results_follow_the_typing(papers, browsing, page):
    page.goto("/search/")
    page.evaluate("window.__marker = 'still here'")
    box = page.get_by_role("searchbox")
    box.press_sequentially("对比学习", delay=30)
    expect(page).to_have_url(
        re.compile(r"/search/\?q=%E5%AF%B9%E6%AF%94%E5%AD%A6%E4%B9%A0$")
    )
    table = page.get_by_role("table")
    expect(table.get_by_role("link", name="MoCo", exact=True)).to_be_visible()
    expect(table.get_by_role("link", name="SimCLR", exact=True)).to_be_visible()
    expect(table.get_by_role("link", name="ResNet", exact=True)).to_have_count(0)
    assert page.evaluate("window.__marker") == "still here", "the page was reloaded"
    box.fill("注意力")  # an alias: attention
    expect(table.get_by_role("link", name="Transformer", exact=True)).to_be_visible()
    assert browsing.problems(page) == []


def test_a_moment_opens_the_video_at_its_second(papers, browsing, page):
    try:
        Chapter = apps.get_model("papers", "Chapter")
    except LookupError:
        pytest.skip("the Chapter model (issue 12, videoback) is not on main yet")
    Chapter.objects.create(
        video=papers, start=2712, title="位置编码", section="3.5", paper=None
    )
    page.goto("/search/?q=位置编码")
    link = page.locator('ul[aria-labelledby="results-moments"] a').first
    expect(link).to_have_attribute("href", re.compile(r"\?t=2712"))
    link.click()
    expect(page).to_have_url(re.compile(r"\?t=2712"))
    assert browsing.problems(page) == []
