"""The click-to-load player in a real browser (issue 12): nothing leaves the site
before the click, play and chapter links build the right embed, tabs are
remembered. Every request the page makes is recorded."""

from __future__ import annotations

import datetime as dt
import re
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.browser import browser_fixture, browsing_fixture, page_fixture  # noqa: F401
from tests.factories import ChapterFactory, PaperFactory, VideoNoteFactory

try:
    from playwright.sync_api import expect
except ImportError:  # the browser fixture skips (or fails under CI) with a reason
    expect = None

pytestmark = pytest.mark.django_db(transaction=True)

LOOPBACK = re.compile(r"^(https?://(localhost|127\.0\.0\.1)[:/]|data:|about:)")


@pytest.fixture
def video():
    paper = PaperFactory(name="Transformer", slug="transformer")
    found = VideoNoteFactory(
        title="Transformer 逐段精读",
        slug="transformer",
        published_on=dt.date(2021, 11, 18),
        duration=dt.timedelta(hours=1, minutes=27, seconds=5),
        bilibili_url="https://www.bilibili.com/video/BV1pu411o7BE/",
        bvid="BV1pu411o7BE",
        youtube_url="https://youtu.be/nzqlFIcCSWQ",
        youtube_id="nzqlFIcCSWQ",
    )
    found.papers.add(paper)
    ChapterFactory(video=found, start=0, title="开场")
    ChapterFactory(video=found, start=3723, title="多头注意力")
    return found


def record(page) -> list[str]:
    """Every URL the page asks for, from now on (frames included)."""
    seen: list[str] = []
    page.on("request", lambda request: seen.append(request.url))
    return seen


def third_party(urls) -> list[str]:
    return [url for url in urls if not LOOPBACK.match(url)]


def iframe_query(page) -> tuple[str, dict]:
    src = page.locator("iframe").get_attribute("src")
    parts = urlsplit(src)
    return f"{parts.scheme}://{parts.netloc}{parts.path}", parse_qs(parts.query)


def test_nothing_leaves_the_site_before_play_then_play_builds_the_embed(
    video, browsing, page
):
    requests = record(page)
    page.goto("/videos/transformer/")
    page.wait_for_load_state("networkidle")
    assert requests, "the recorder saw the page load"
    assert third_party(requests) == []
    expect(page.locator("iframe")).to_have_count(0)

    play = page.get_by_role("button", name=re.compile("^播放："))
    play.focus()
    page.keyboard.press("Enter")  # reachable and usable by keyboard

    expect(page.locator("iframe")).to_have_count(1)
    where, query = iframe_query(page)
    assert where == "https://player.bilibili.com/player.html"
    assert query["bvid"] == ["BV1pu411o7BE"] and query["t"] == ["0"]
    assert query["autoplay"] == ["1"] and query["p"] == ["1"]
    assert any(url.startswith("https://player.bilibili.com/") for url in requests)
    assert not any("youtube" in url for url in requests)
    assert browsing.problems(page) == []


def test_a_chapter_restarts_the_player_at_its_moment(video, browsing, page):
    page.goto("/videos/transformer/")
    requests = record(page)
    page.get_by_role("link", name=re.compile("1:02:03 多头注意力")).click()

    expect(page.locator("iframe")).to_have_count(1)
    _, query = iframe_query(page)
    assert query["t"] == ["3723"]
    expect(page).to_have_url(re.compile(r"/videos/transformer/\?t=3723$"))
    # No page load: the chapter link only restarted the player.
    assert not any(url.endswith("?t=3723") for url in requests)

    page.get_by_role("link", name=re.compile("0:00 开场")).click()
    expect(page.locator("iframe")).to_have_attribute("src", re.compile(r"[?&]t=0&"))
    assert browsing.problems(page) == []


def test_t_opens_the_page_ready_at_that_moment(video, browsing, page):
    requests = record(page)
    page.goto("/videos/transformer/?t=3723")
    page.wait_for_load_state("networkidle")
    assert third_party(requests) == []
    page.get_by_role("button", name=re.compile("^从 1:02:03 开始播放")).click()
    _, query = iframe_query(page)
    assert query["t"] == ["3723"]


def test_tabs_switch_the_platform_and_the_choice_is_remembered(video, browsing, page):
    requests = record(page)
    page.goto("/videos/transformer/")
    youtube = page.get_by_role("button", name="YouTube", exact=True)
    bilibili = page.get_by_role("button", name="bilibili", exact=True)
    expect(bilibili).to_have_attribute("aria-pressed", "true")
    youtube.click()
    expect(youtube).to_have_attribute("aria-pressed", "true")
    expect(bilibili).to_have_attribute("aria-pressed", "false")
    # Choosing a tab loads nothing.
    expect(page.locator("iframe")).to_have_count(0)
    assert third_party(requests) == []

    page.reload()
    youtube = page.get_by_role("button", name="YouTube", exact=True)
    expect(youtube).to_have_attribute("aria-pressed", "true")
    page.get_by_role("link", name=re.compile("1:02:03 多头注意力")).click()
    where, query = iframe_query(page)
    assert where == "https://www.youtube-nocookie.com/embed/nzqlFIcCSWQ"
    assert query["start"] == ["3723"] and query["autoplay"] == ["1"]

    # Switching back while playing reloads the other platform at the same moment.
    page.get_by_role("button", name="bilibili", exact=True).click()
    where, query = iframe_query(page)
    assert where == "https://player.bilibili.com/player.html"
    assert query["t"] == ["3723"]
    assert browsing.problems(page) == []


def test_paper_page_player_loads_only_on_click(video, browsing, page):
    requests = record(page)
    page.goto("/papers/transformer/")
    page.wait_for_load_state("networkidle")
    assert third_party(requests) == []
    expect(page.locator(".player-area")).to_have_count(1)
    page.get_by_role("button", name=re.compile("^播放：")).click()
    expect(page.locator("iframe")).to_have_count(1)
    assert browsing.problems(page) == []


def test_gallery_on_a_phone_fits_the_screen_and_groups_the_series(browsing, page):
    for part in (2, 1, 3):
        VideoNoteFactory(
            title=f"Llama 3.1论文精读 · {part}",
            series="Llama 3.1论文精读",
            part=part,
            published_on=dt.date(2024, 8, part),
        )
    VideoNoteFactory(title="更早的视频", published_on=dt.date(2023, 3, 1))
    page.set_viewport_size({"width": 375, "height": 740})
    requests = record(page)
    page.goto("/videos/")
    page.wait_for_load_state("networkidle")
    assert third_party(requests) == []
    expect(page.get_by_role("heading", level=2)).to_have_text(["2024", "2023"])
    series = page.locator(".video-series")
    expect(series.get_by_role("heading", level=3)).to_have_text("Llama 3.1论文精读")
    expect(series.get_by_role("heading", level=4)).to_have_text(
        [f"Llama 3.1论文精读 · {part}" for part in (1, 2, 3)]
    )
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, "the gallery scrolls sideways on a phone"
    assert browsing.problems(page) == []


def test_the_video_and_each_chapter_can_be_marked_and_the_marks_stay(
    video, browsing, page
):
    page.goto("/videos/transformer/")
    page.wait_for_load_state("networkidle")  # the icon and styles are in
    requests = record(page)
    watched = page.locator(".video-marks").get_by_role("button", name="看过")
    watched.click()
    chapter = page.locator('[data-chapter="transformer@3723"]')
    chapter.get_by_role("button", name="看完这一段").click()
    expect(watched).to_have_attribute("aria-pressed", "true")
    assert requests == []  # marks stay in the browser: nothing is sent
    page.reload()
    expect(
        page.locator(".video-marks").get_by_role("button", name="看过")
    ).to_have_attribute("aria-pressed", "true")
    expect(
        page.locator('[data-chapter="transformer@3723"]').get_by_role("button")
    ).to_have_attribute("aria-pressed", "true")
    expect(
        page.locator('[data-chapter="transformer@0"]').get_by_role("button")
    ).to_have_attribute("aria-pressed", "false")
