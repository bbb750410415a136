"""The rough edges of issue 9 in a real browser: Back after a live search under the
CSP, the favicon, the sitemap, the phone layout (390×844) and the desktop tables."""

import re

import pytest

from papers.models import Paper
from tests.browser import browser_fixture, browsing_fixture, page_fixture  # noqa: F401
from tests.factories import CategoryFactory, PaperFactory, PlacementFactory

try:
    from playwright.sync_api import expect
except ImportError:  # the browser fixture skips, or fails under CI, and says why
    expect = None

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}
SUMMARY = "提出了一种新的网络结构，在多个基准上取得了当时最好的结果"


@pytest.fixture
def two_categories(transactional_db):
    """Two categories of four papers with summaries of different lengths and no
    citation counts yet: the page as it is before the first refresh."""
    categories = []
    for c in range(2):
        category = CategoryFactory(name=f"计算机视觉 {c}", slug=f"cv-{c}")
        for n in range(4):
            paper = PaperFactory(
                name=f"Paper {c}-{n}" + (" with a much longer name" if n == 2 else ""),
                summary=SUMMARY * (n + 1) if c == 0 else "短",
                citation_count=None,
            )
            PlacementFactory(category=category, paper=paper, position=n)
        categories.append(category)
    return categories


def box(locator):
    return locator.bounding_box()


# --- History restore under the CSP -------------------------------------------------


def go_back_to_a_fresh_page(page):
    """Back, then wait until the page has been loaded again: htmx keeps no DOM
    snapshots (base.html), so each Back to an htmx-pushed entry reloads it."""
    page.evaluate("window.__before_back = true")
    page.go_back()
    page.wait_for_function(
        "() => !window.__before_back && document.readyState === 'complete'"
    )


def test_back_after_live_search_raises_no_csp_violation(two_categories, browsing, page):
    page.goto("/")
    page.get_by_role("link", name="最新").first.click()  # an htmx swap that pushes
    expect(page).to_have_url(re.compile(r"/\?sort=-year$"))
    page.goto("/search/")
    search_box = page.get_by_role("searchbox")
    search_box.fill("Paper")
    expect(page).to_have_url(re.compile(r"/search/\?q=Paper$"))
    search_box.fill("Paper 1")
    expect(page).to_have_url(re.compile(r"/search/\?q=Paper%201$"))
    expect(page.get_by_role("link", name="Paper 1-0", exact=True)).to_be_visible()

    go_back_to_a_fresh_page(page)
    expect(page).to_have_url(re.compile(r"/search/\?q=Paper$"))
    expect(page.get_by_role("searchbox")).to_have_value("Paper")
    expect(page.get_by_role("link", name="Paper 0-0", exact=True)).to_be_visible()
    go_back_to_a_fresh_page(page)
    expect(page).to_have_url(re.compile(r"/search/$"))
    expect(page.get_by_role("searchbox")).to_have_value("")
    page.go_back()  # a page loaded in full: the browser's own Back
    expect(page).to_have_url(re.compile(r"/\?sort=-year$"))
    expect(page.get_by_role("link", name="最新").first).to_have_attribute(
        "aria-current", "true"
    )
    go_back_to_a_fresh_page(page)
    expect(page).to_have_url(re.compile(r"/$"))
    expect(page.get_by_role("link", name="推荐顺序").first).to_have_attribute(
        "aria-current", "true"
    )
    assert browsing.problems(page) == []


# --- Favicon and sitemap -------------------------------------------------------------


def test_favicon_ico_answers_on_the_site_and_in_the_admin(
    transactional_db, browsing, page
):
    for url in ("/", "/admin/login/"):
        page.goto(url)
        response = page.request.get("/favicon.ico")  # follows the redirect
        assert response.ok, url
        assert response.headers["content-type"].startswith("image/svg+xml")
    assert browsing.problems(page) == []


def test_sitemap_opens_as_a_readable_list_of_links(two_categories, browsing, page):
    page.goto("/sitemap.xml")
    # The stylesheet applies (no XML tree view): each address on its own line,
    # under a heading, with nothing blocked by the CSP.
    locs = page.locator("loc")
    expect(locs).to_have_count(13)  # pages (3) + categories (2) + papers (8)
    paper = Paper.objects.order_by("id").first()
    expect(locs.nth(5)).to_have_text(f"{browsing.base_url}{paper.get_absolute_url()}")
    styles = page.evaluate(
        """() => {
          const loc = document.querySelector("loc");
          return {
            display: getComputedStyle(loc).display,
            heading: getComputedStyle(document.documentElement, "::before").content,
            priority: getComputedStyle(document.querySelector("changefreq")).display,
          };
        }"""
    )
    assert styles == {
        "display": "block",
        "heading": '"站点地图 · Sitemap"',
        "priority": "none",
    }
    first, second = locs.nth(0).bounding_box(), locs.nth(1).bounding_box()
    assert second["y"] >= first["y"] + first["height"]  # one per line
    assert browsing.problems(page) == []


# --- Phone ---------------------------------------------------------------------------


@pytest.mark.parametrize("locale", ["zh-CN", "en-US"])
def test_phone_header_is_one_row(two_categories, browsing, locale):
    page = browsing.new_page(locale=locale)
    page.set_viewport_size(PHONE)
    for url in ("/", "/search/", "/videos/"):
        page.goto(url)
        header = page.locator(".site-header__inner")
        parts = [
            page.locator(".brand"),
            page.get_by_role("navigation").first,
            page.locator(".language-form"),
        ]
        boxes = [box(part) for part in parts]
        tallest = max(b["height"] for b in boxes)
        inner = box(header)
        # One row: every part starts within a few pixels of the others, and the
        # header is no taller than its tallest part plus its padding.
        assert max(b["y"] for b in boxes) - min(b["y"] for b in boxes) < 12, boxes
        assert inner["height"] <= tallest + 24, (inner, boxes)
        assert inner["x"] + inner["width"] <= PHONE["width"]
        # Nothing spills out of the screen sideways.
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        # Every link shows whole: none hides past the edge of the navigation.
        nav = boxes[1]
        for link in page.locator(".site-nav a").all():
            if link.is_visible():
                b = box(link)
                assert b["x"] + b["width"] <= nav["x"] + nav["width"] + 0.5, (
                    link.inner_text()
                )
    assert browsing.problems(page) == []


def test_phone_language_toggle_works_without_javascript(
    two_categories, browser, live_server
):
    context = browser.new_context(
        base_url=live_server.url,
        java_script_enabled=False,
        viewport=PHONE,
        locale="zh-CN",
    )
    try:
        page = context.new_page()
        page.goto("/")
        page.get_by_role("button", name="English").click()
        expect(page.locator("html")).to_have_attribute("lang", "en")
        page.get_by_role("button", name="简体中文").click()
        expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    finally:
        context.close()


def test_phone_first_paper_row_is_on_the_first_screen_with_labelled_citations(
    two_categories, browsing, page
):
    page.set_viewport_size(PHONE)
    page.goto("/")
    first_row = page.locator("table.papers tbody tr").first
    expect(first_row).to_contain_text("Paper 0-0")
    row = box(first_row)
    assert row["y"] >= 0 and row["y"] + row["height"] <= PHONE["height"], row
    # The card names its count: the table header is hidden on a phone.
    label = first_row.locator(".cell-label")
    expect(label).to_be_visible()
    expect(label).to_have_text("引用")
    expect(first_row.locator(".col-citations")).to_contain_text("尚未获取")
    assert browsing.problems(page) == []


def test_desktop_hides_the_card_label(two_categories, browsing, page):
    page.set_viewport_size(DESKTOP)
    page.goto("/")
    expect(page.locator(".cell-label").first).to_be_hidden()


# --- Desktop tables ------------------------------------------------------------------


def test_desktop_tables_of_every_category_share_column_widths(
    two_categories, browsing, page
):
    # Counts on one table only, so the two differ in content as much as can be.
    Paper.objects.filter(name__startswith="Paper 1-").update(citation_count=1234567)
    page.set_viewport_size(DESKTOP)
    page.goto("/")
    tables = page.locator("table.papers")
    expect(tables).to_have_count(2)
    first = tables.nth(0).locator("thead th")
    second = tables.nth(1).locator("thead th")
    expect(first).to_have_count(5)
    for n in range(5):
        a, b = box(first.nth(n)), box(second.nth(n))
        assert abs(a["x"] - b["x"]) < 1 and abs(a["width"] - b["width"]) < 1, (n, a, b)
    assert browsing.problems(page) == []
