"""Reading progress kept in the browser (issue 14): marks, progress bars, and the
/progress/ page's export, import and clear, in a real browser under the CSP."""

import json

import pytest

from tests.browser import browser_fixture, browsing_fixture, page_fixture  # noqa: F401
from tests.factories import (
    CategoryFactory,
    PaperFactory,
    PlacementFactory,
    VideoNoteFactory,
)

try:
    from playwright.sync_api import expect
except ImportError:  # the browser fixture skips, or fails under CI, and says why
    expect = None

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

KEY = "paper-reading-progress"


@pytest.fixture
def shelf(transactional_db):
    """Two categories (three papers and two), one paper in both, and a video."""
    vision = CategoryFactory(name="视觉", slug="vision")
    language = CategoryFactory(name="语言", slug="language")
    papers = {}
    for n, slug in enumerate(["alexnet", "resnet", "vit"]):
        papers[slug] = PaperFactory(name=slug.upper(), slug=slug)
        PlacementFactory(category=vision, paper=papers[slug], position=n)
    papers["bert"] = PaperFactory(name="BERT", slug="bert")
    PlacementFactory(category=language, paper=papers["bert"], position=0)
    PlacementFactory(category=language, paper=papers["vit"], position=1)
    video = VideoNoteFactory(title="ViT 逐段精读")
    video.papers.add(papers["vit"])
    return papers


def row(page, name):
    return page.get_by_role("row").filter(
        has=page.get_by_role("link", name=name, exact=True)
    )


def stored(page) -> dict:
    return json.loads(page.evaluate(f"localStorage.getItem({KEY!r})") or "{}")


def test_marks_survive_a_reload_on_home_and_paper_page(shelf, browsing, page):
    page.goto("/")
    resnet = row(page, "RESNET")
    want = resnet.get_by_role("button", name="想读")
    expect(want).to_have_attribute("aria-pressed", "false")
    want.focus()
    page.keyboard.press("Enter")  # reachable and usable by keyboard
    expect(want).to_have_attribute("aria-pressed", "true")
    row(page, "ALEXNET").get_by_role("button", name="读过").click()

    page.reload()
    expect(row(page, "RESNET").get_by_role("button", name="想读")).to_have_attribute(
        "aria-pressed", "true"
    )
    expect(row(page, "RESNET").get_by_role("button", name="读过")).to_have_attribute(
        "aria-pressed", "false"
    )
    expect(row(page, "ALEXNET").get_by_role("button", name="读过")).to_have_attribute(
        "aria-pressed", "true"
    )

    page.goto("/papers/alexnet/")
    marks = page.locator(".paper-marks")
    expect(marks.get_by_role("button", name="读过")).to_have_attribute(
        "aria-pressed", "true"
    )
    # Marking "want" replaces "read": a paper has one state.
    marks.get_by_role("button", name="想读").click()
    page.reload()
    want = page.locator(".paper-marks").get_by_role("button", name="想读")
    expect(want).to_have_attribute("aria-pressed", "true")
    assert stored(page)["papers"]["alexnet"]["state"] == "want"
    assert browsing.problems(page) == []


def test_progress_bars_update_in_place(shelf, browsing, page):
    page.goto("/")
    overall = page.locator(".progress-overall")
    vision = page.locator("section#vision .progress-bar")
    language = page.locator("section#language .progress-bar")
    expect(overall).to_contain_text("0 / 4 读过")
    expect(vision).to_contain_text("0 / 3 读过")

    # ViT is in both categories: one click counts in both and once overall.
    row(page, "VIT").first.get_by_role("button", name="读过").click()
    expect(overall).to_contain_text("1 / 4 读过")
    expect(vision).to_contain_text("1 / 3 读过")
    expect(language).to_contain_text("1 / 2 读过")
    other_row = row(page, "VIT").nth(1).get_by_role("button", name="读过")
    expect(other_row).to_have_attribute("aria-pressed", "true")
    assert vision.locator("progress").evaluate("p => [p.value, p.max]") == [1, 3]

    row(page, "BERT").get_by_role("button", name="读过").click()
    expect(language).to_contain_text("2 / 2 读过")
    expect(overall).to_contain_text("2 / 4 读过")
    # "Want to read" is not "read".
    row(page, "ALEXNET").get_by_role("button", name="想读").click()
    expect(vision).to_contain_text("1 / 3 读过")

    page.goto("/categories/vision/")
    expect(page.locator("[data-progress-scope]")).to_contain_text("1 / 3 读过")
    assert browsing.problems(page) == []


def test_video_marks_on_the_videos_page(shelf, browsing, page):
    page.goto("/videos/")
    watched = page.get_by_role("button", name="看过")
    expect(watched).to_have_count(1)
    watched.click()
    page.reload()
    expect(page.get_by_role("button", name="看过")).to_have_attribute(
        "aria-pressed", "true"
    )
    assert list(stored(page)["videos"].values())[0]["state"] == "watched"


def test_no_request_and_no_cookie_when_marking(shelf, browsing, page):
    page.goto("/")
    page.wait_for_load_state("networkidle")
    requests = []
    page.on("request", lambda request: requests.append(request.url))
    row(page, "RESNET").get_by_role("button", name="想读").click()
    row(page, "RESNET").get_by_role("button", name="读过").click()
    row(page, "BERT").get_by_role("button", name="读过").click()
    row(page, "BERT").get_by_role("button", name="读过").click()  # and unmark
    expect(row(page, "BERT").get_by_role("button", name="读过")).to_have_attribute(
        "aria-pressed", "false"
    )
    page.wait_for_timeout(200)  # a request sent on a timer would show by now
    assert requests == []
    assert page.context.cookies() == []
    assert set(stored(page)["papers"]) == {"resnet"}


def test_export_clear_import_restores_the_marks(shelf, browsing, page, tmp_path):
    page.goto("/")
    row(page, "RESNET").get_by_role("button", name="想读").click()
    row(page, "BERT").get_by_role("button", name="读过").click()
    page.goto("/videos/")
    page.get_by_role("button", name="看过").click()

    page.goto("/progress/")
    expect(page.locator("#progress-want")).to_contain_text("RESNET")
    expect(page.locator("#progress-read")).to_contain_text("BERT")
    expect(page.locator("#progress-watched")).to_contain_text("ViT 逐段精读")
    bert = page.locator("#progress-read").get_by_role("link", name="BERT")
    expect(bert).to_have_attribute("href", "/papers/bert/")

    with page.expect_download() as download_info:
        page.get_by_role("button", name="导出为 JSON 文件").click()
    exported = tmp_path / "progress.json"
    download_info.value.save_as(exported)
    data = json.loads(exported.read_text())
    assert data["version"] == 1
    assert data["papers"]["resnet"]["state"] == "want"
    assert data["papers"]["bert"]["state"] == "read"

    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="清除全部标记").click()
    expect(page.get_by_role("status")).to_have_text("已清除全部标记。")
    expect(page.locator("#progress-read")).not_to_contain_text("BERT")
    assert stored(page)["papers"] == {}

    page.get_by_label("导入 JSON 文件（与现有标记合并）").set_input_files(exported)
    expect(page.get_by_role("status")).to_contain_text("3")
    expect(page.locator("#progress-read")).to_contain_text("BERT")
    assert stored(page) == data

    page.goto("/")
    expect(row(page, "BERT").get_by_role("button", name="读过")).to_have_attribute(
        "aria-pressed", "true"
    )
    assert browsing.problems(page) == []


def test_import_merges_keeps_later_marks_and_unknown_ones(
    shelf, browsing, page, tmp_path
):
    page.goto("/progress/")
    page.evaluate(
        f"""localStorage.setItem({KEY!r}, JSON.stringify({{version: 1,
        papers: {{resnet: {{state: "read", at: "2026-01-02T00:00:00Z"}},
                  vit: {{state: "want", at: "2026-01-01T00:00:00Z"}}}},
        videos: {{}}, chapters: {{}}}}))"""
    )
    incoming = {
        "version": 1,
        "papers": {
            "resnet": {"state": "want", "at": "2026-01-01T00:00:00Z"},  # older
            "vit": {"state": "read", "at": "2026-01-01T00:00:00Z"},  # same time
            "gone-paper": {"state": "read", "at": "2026-01-03T00:00:00Z"},
        },
        "videos": {},
        "chapters": {
            "some-video@90": {"state": "watched", "at": "2026-01-03T00:00:00Z"}
        },
    }
    path = tmp_path / "other.json"
    path.write_text(json.dumps(incoming))
    page.reload()
    page.get_by_label("导入 JSON 文件（与现有标记合并）").set_input_files(path)
    expect(page.get_by_role("status")).to_contain_text("导入完成")
    papers = stored(page)["papers"]
    assert papers["resnet"]["state"] == "read"  # the later mark won
    assert papers["vit"]["state"] == "read"  # read beats want at equal times
    assert papers["gone-paper"]["state"] == "read"  # kept though not on the list
    assert "some-video@90" in stored(page)["chapters"]
    expect(page.locator("#progress-read")).to_contain_text("gone-paper")
    expect(page.locator("#progress-read")).to_contain_text("已不在列表中")


@pytest.mark.parametrize(
    "content",
    [
        "not json at all",
        '{"version": 2, "papers": {}}',
        '{"version": 1, "papers": {"resnet": {"state": "finished", "at": "2026"}}}',
        '{"version": 1, "papers": {"resnet": {"state": "read", "at": "yesterday"}}}',
        '{"version": 1, "papers": []}',
        "[]",
    ],
)
def test_malformed_import_is_refused_and_changes_nothing(
    content, shelf, browsing, page, tmp_path
):
    page.goto("/")
    row(page, "BERT").get_by_role("button", name="读过").click()
    page.goto("/progress/")
    before = page.evaluate(f"localStorage.getItem({KEY!r})")
    path = tmp_path / "bad.json"
    path.write_text(content)
    page.get_by_label("导入 JSON 文件（与现有标记合并）").set_input_files(path)
    expect(page.get_by_role("alert")).to_have_text(
        "这个文件不是本站导出的进度文件，什么也没有改。"
    )
    assert page.evaluate(f"localStorage.getItem({KEY!r})") == before
    expect(page.locator("#progress-read")).to_contain_text("BERT")


def test_english_labels_come_from_the_translation(shelf, browsing):
    page = browsing.new_page(locale="en-US")
    page.goto("/")
    read = row(page, "BERT").get_by_role("button", name="Read", exact=True)
    expect(read).to_be_visible()
    expect(page.locator(".progress-overall")).to_contain_text("0 / 4 read")


def test_without_javascript_pages_work_and_show_no_controls(
    shelf, browser, live_server
):
    context = browser.new_context(
        base_url=live_server.url, locale="zh-CN", java_script_enabled=False
    )
    try:
        page = context.new_page()
        urls = ["/", "/categories/vision/", "/papers/vit/", "/videos/", "/progress/"]
        for url in urls:
            response = page.goto(url)
            assert response.status == 200, url
            expect(page.get_by_role("button", name="想读")).to_have_count(0)
            expect(page.get_by_role("button", name="看过")).to_have_count(0)
            expect(page.locator("progress")).to_have_count(0)
        page.goto("/")
        expect(page.get_by_role("link", name="RESNET", exact=True)).to_be_visible()
        page.goto("/progress/")
        expect(page.get_by_text("标记和进度需要 JavaScript。")).to_be_visible()
        expect(page.get_by_role("button", name="导出为 JSON 文件")).to_be_hidden()
    finally:
        context.close()
