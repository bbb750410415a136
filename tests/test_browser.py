"""The site in a real browser: Debian's chromium driven by Playwright, headless.

Each test does what a reader or a curator does and checks what they see, with the
site's real Content-Security-Policy in force, so htmx is proven to work under it.
The accessibility scan runs axe-core (bundled by axe-playwright-python) on the main
pages in both languages and in the dark colour scheme.
"""

import importlib.util
import re
from datetime import timedelta
from io import StringIO
from unittest import mock

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from papers.models import Category, Paper, ReadingRequest, RequestVote, VideoNote
from papers.services import readme_import
from tests.browser import browser_fixture, browsing_fixture, page_fixture  # noqa: F401
from tests.factories import ChapterFactory, CitationSnapshotFactory
from tests.factories_requests import ReadingRequestFactory, RequestVoteFactory
from tests.helpers import read_full_readme, require

try:
    from playwright.sync_api import expect
except ImportError:  # the browser fixture skips, or fails under CI, and says why
    expect = None

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Set on `window` before an htmx interaction and read after it: a full page load
# would have thrown it away.
MARKER = "set-before-the-swap"


@pytest.fixture
def catalogue(transactional_db):
    """The real reading list: 12 categories, 90 papers, 59 videos."""
    readme_import(text=read_full_readme())


def set_marker(page):
    page.evaluate(f"window.__marker = {MARKER!r}")


def assert_not_reloaded(page):
    assert page.evaluate("window.__marker") == MARKER, "the page was reloaded"


def first_row_year(page):
    """The year cell of the first paper in the first table."""
    first_row = page.get_by_role("table").first.get_by_role("row").nth(1)
    return first_row.get_by_role("cell").nth(1)


# --- Browsing ----------------------------------------------------------------------


def test_reader_browses_home_category_and_paper(catalogue, browsing, page):
    page.goto("/")

    expect(page).to_have_title(re.compile("论文精读"))
    headings = page.get_by_role("heading", level=2)
    names = list(Category.objects.values_list("name", flat=True))
    assert len(names) == 12
    expect(headings).to_have_text(names)
    expect(
        page.get_by_role("link", name="Transformer", exact=True).first
    ).to_be_visible()

    page.get_by_role("heading", name="计算机视觉 - CNN").get_by_role("link").click()

    expect(page).to_have_url(re.compile(r"/categories/computer-vision-cnn/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("计算机视觉 - CNN")
    cnn = Category.objects.get(slug="computer-vision-cnn")
    expect(page.get_by_role("table").get_by_role("row")).to_have_count(
        1 + cnn.placements.count()
    )

    page.get_by_role("link", name="AlexNet", exact=True).click()

    expect(page).to_have_url(re.compile(r"/papers/alexnet/$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("AlexNet")
    # AlexNet has two videos: a card for each, and one click-to-load player area.
    alexnet = Paper.objects.get(slug="alexnet")
    for video in alexnet.videos.all():
        expect(
            page.get_by_role("link", name=video.plain_title, exact=True)
        ).to_have_attribute("href", video.get_absolute_url())
    expect(page.locator(".player-area")).to_have_count(1)
    expect(page.locator("iframe")).to_have_count(0)
    expect(page.get_by_role("button", name=re.compile("^播放："))).to_be_visible()
    assert browsing.problems(page) == []


def test_search_results_follow_the_typing_without_a_reload(catalogue, browsing, page):
    page.goto("/search/")
    set_marker(page)

    box = page.get_by_role("searchbox", name="名字、标题、简介或 arXiv ID")
    box.press_sequentially("BERT", delay=30)

    expect(page).to_have_url(re.compile(r"/search/\?q=BERT$"))
    results = page.get_by_role("table")
    expect(results.get_by_role("link", name="BERT", exact=True)).to_be_visible()
    expect(results.get_by_role("link", name="AlexNet", exact=True)).to_have_count(0)
    expect(page.get_by_text(re.compile(r"找到 \d+ 篇论文"))).to_be_visible()
    assert_not_reloaded(page)
    assert browsing.problems(page) == []


def test_sorting_reorders_the_rows_in_place(catalogue, browsing, page):
    years = list(
        Paper.objects.filter(categories__slug="computer-vision-cnn").values_list(
            "year", flat=True
        )
    )
    page.goto("/categories/computer-vision-cnn/")
    curated_first = first_row_year(page).inner_text()
    assert curated_first != str(max(years)), "pick a category not sorted newest first"
    set_marker(page)
    sort = page.get_by_role("navigation", name="排序")

    sort.get_by_role("link", name="最新").click()

    expect(page).to_have_url(
        re.compile(r"/categories/computer-vision-cnn/\?sort=-year$")
    )
    expect(first_row_year(page)).to_have_text(str(max(years)))
    expect(sort.get_by_role("link", name="最新")).to_have_attribute(
        "aria-current", "true"
    )

    sort.get_by_role("link", name="最早").click()

    expect(page).to_have_url(re.compile(r"\?sort=year$"))
    expect(first_row_year(page)).to_have_text(str(min(years)))
    expect(page.get_by_role("table").get_by_role("row")).to_have_count(1 + len(years))
    assert_not_reloaded(page)
    assert browsing.problems(page) == []


def test_switching_to_english_shows_english_text_and_names(catalogue, browsing, page):
    page.goto("/")
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")

    page.get_by_role("form", name="语言").get_by_role("button", name="English").click()

    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Deep Learning Paper Reading"
    )
    names_en = list(Category.objects.values_list("name_en", flat=True))
    expect(page.get_by_role("heading", level=2)).to_have_text(names_en)
    expect(page.get_by_role("navigation", name="Sort")).to_be_visible()

    # The choice sticks (a cookie), over the browser's Chinese Accept-Language.
    page.get_by_role("link", name="Videos", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Videos")
    assert browsing.problems(page) == []


# --- 请求精读 ------------------------------------------------------------------------


def test_request_form_submits_with_htmx_and_confirms(transactional_db, browsing, page):
    page.goto("/requests/")
    set_marker(page)

    page.get_by_label("论文链接").fill("https://arxiv.org/abs/2001.08361")
    page.get_by_label("论文标题").fill("Scaling Laws for Neural Language Models")
    page.get_by_label("推荐理由").fill("How loss falls with model and data size.")
    page.get_by_role("button", name="提交请求").click()

    expect(page.get_by_role("status")).to_contain_text("谢谢！你的请求已经提交。")
    waiting = page.get_by_role("region", name=re.compile("^等待中的请求"))
    expect(waiting).to_contain_text("Scaling Laws for Neural Language Models")
    expect(waiting.get_by_role("heading", level=2)).to_have_text("等待中的请求 1")
    expect(page).to_have_url(re.compile(r"/requests/$"))
    assert_not_reloaded(page)
    assert browsing.problems(page) == []
    request = ReadingRequest.objects.get()
    assert request.key == "arxiv:2001.08361"
    assert request.status == ReadingRequest.Status.PENDING


def test_voting_updates_the_count_in_place(transactional_db, browsing, page):
    item = ReadingRequestFactory(title="Chinchilla")
    page.goto("/requests/")
    entry = page.get_by_role("listitem").filter(
        has=page.get_by_role("heading", name="Chinchilla")
    )
    expect(entry).to_contain_text("0 票")
    set_marker(page)

    # The button's name goes on with the request's title, for screen readers.
    entry.get_by_role("button", name="+1 投一票").click()

    expect(entry).to_contain_text("1 票")
    expect(entry.get_by_role("status")).to_have_text("谢谢，已记下你的一票。")
    expect(entry.get_by_role("button")).to_have_count(0)
    assert_not_reloaded(page)
    assert RequestVote.objects.filter(reading_request=item).count() == 1

    # The session remembers the vote.
    page.reload()
    expect(entry).to_contain_text("1 票")
    expect(entry).to_contain_text("已投票")
    assert browsing.problems(page) == []


def test_curator_logs_in_and_accepts_a_request(transactional_db, browsing, page):
    User.objects.create_superuser("curator", "curator@example.org", "a-long-password")
    item = ReadingRequestFactory(
        title="Scaling Laws for Neural Language Models",
        url="https://arxiv.org/abs/2001.08361",
        key="arxiv:2001.08361",
    )

    page.goto("/" + settings.ADMIN_URL)
    page.get_by_label("用户名").fill("curator")
    page.get_by_label("密码").fill("a-long-password")
    page.get_by_role("button", name="登录").click()
    expect(page).to_have_url(re.compile("/" + re.escape(settings.ADMIN_URL) + "$"))

    page.goto(reverse("admin:papers_readingrequest_changelist"))
    page.get_by_role("checkbox", name=re.compile("Scaling Laws")).check()
    page.get_by_label("动作").select_option("accept")
    # The paper's metadata lookup is a Celery task: not this test's business.
    with mock.patch("papers.tasks.refresh_citations.apply_async"):
        page.get_by_role("button", name="执行").click()
        expect(page.get_by_text(re.compile("^已接受 1 个请求"))).to_be_visible()

    item.refresh_from_db()
    assert item.status == ReadingRequest.Status.ACCEPTED
    assert item.paper.name == "Scaling Laws for Neural Language Models"

    page.goto("/requests/")
    answered = page.get_by_role("region", name="已接受和已完成")
    expect(answered).to_contain_text("Scaling Laws for Neural Language Models")
    expect(answered).to_contain_text("已接受")
    expect(answered.get_by_role("link", name=re.compile("论文："))).to_have_attribute(
        "href", item.paper.get_absolute_url()
    )
    assert browsing.problems(page) == []


# --- Under the Content-Security-Policy ------------------------------------------


def test_csp_blocks_inline_script_and_the_violation_is_caught(
    transactional_db, browsing, page
):
    """The site's CSP is really enforced in these tests, and breaking it is seen:
    so the other tests' clean pages mean something."""
    page.goto("/search/")

    page.evaluate(
        """() => {
          const script = document.createElement("script");
          script.textContent = "window.__inline = true";
          document.body.append(script);
        }"""
    )

    for _ in range(40):  # the report arrives asynchronously
        if browsing.problems(page):
            break
        page.wait_for_timeout(50)
    assert page.evaluate("window.__inline") is None
    problems = browsing.problems(page)
    assert any("CSP violation: script-src" in problem for problem in problems)


# --- Accessibility -----------------------------------------------------------------

# https://github.com/dequelabs/axe-core/blob/develop/doc/API.md#results-object
FAILING_IMPACTS = {"serious", "critical"}


def alexnet_video() -> VideoNote:
    return Paper.objects.get(slug="alexnet").videos.order_by("-published_on").first()


@pytest.fixture
def everything_on_show(catalogue):
    """Data that puts every part of the main pages on screen: a citation chart,
    counts, and requests in each state."""
    alexnet = Paper.objects.get(slug="alexnet")
    now = timezone.now()
    for days, count in ((60, 120_000), (30, 125_000), (0, 130_000)):
        CitationSnapshotFactory(
            paper=alexnet, count=count, fetched_at=now - timedelta(days=days)
        )
    Paper.objects.filter(pk=alexnet.pk).update(
        citation_count=130_000, citations_updated_at=now
    )
    RequestVoteFactory(reading_request=ReadingRequestFactory(title="Chinchilla"))
    ReadingRequestFactory(
        title="GPT-3 again",
        status=ReadingRequest.Status.ACCEPTED,
        paper=Paper.objects.get(slug="gpt-3"),
    )
    ReadingRequestFactory(
        title="Off topic",
        status=ReadingRequest.Status.DECLINED,
        public_reason="不是深度学习论文。",
    )
    # The starter learning paths, so /paths/ and a paper page show their parts.
    call_command("load_paths", stdout=StringIO())
    # A video page with chapters (one naming a paper), counts and both platforms.
    video = alexnet_video()
    VideoNote.objects.filter(pk=video.pk).update(
        bilibili_views=123_456, youtube_views=7_890, youtube_id="nzqlFIcCSWQ"
    )
    ChapterFactory(video=video, start=0, title="开场")
    ChapterFactory(
        video=video, start=754, title="网络结构", section="§3", paper=alexnet
    )


def axe_findings(page) -> list[dict]:
    """axe-core's violations on the page as it is. axe-playwright-python injects
    axe-core with page.evaluate, which the page's CSP does not apply to."""
    require(
        importlib.util.find_spec("axe_playwright_python") is not None,
        "needs axe-playwright-python: pip install -r requirements-dev.txt",
    )
    from axe_playwright_python.sync_playwright import Axe

    return Axe().run(page).response["violations"]


def describe(url: str, violation: dict) -> str:
    nodes = "\n".join(
        f"      {' '.join(node['target'])}: {node['html'][:160]}"
        for node in violation["nodes"]
    )
    return (
        f"{url}: {violation['id']} ({violation['impact']}) {violation['help']}\n{nodes}"
    )


@pytest.mark.parametrize(
    ("locale", "color_scheme"),
    [("zh-CN", "light"), ("en-US", "light"), ("zh-CN", "dark")],
)
def test_main_pages_have_no_serious_accessibility_findings(
    locale, color_scheme, everything_on_show, browsing
):
    """Both languages, and the dark colours (site.css follows the system's)."""
    page = browsing.new_page(locale=locale, color_scheme=color_scheme)
    urls = [
        "/",
        "/categories/computer-vision-cnn/",
        "/papers/alexnet/",
        "/videos/",
        "/search/?q=gan",
        "/search/?q=精读",  # grouped results: videos with <mark>ed words
        "/search/?q=qqzzxqq",  # nothing found: "did you mean" and 请求精读
        "/requests/",
        "/paths/",
        "/paths/transformer-family/",
        "/papers/bert/",  # step 3 of a path: the "what to read next" section
        "/progress/",
        # AlexNet's newest video, with chapters and counts.
        f"{alexnet_video().get_absolute_url()}?t=754",
    ]
    findings = []
    for url in urls:
        response = page.goto(url)
        assert response.status == 200, url
        # The page's own errors, before axe runs in it.
        assert browsing.problems(page) == [], url
        findings += [
            describe(url, violation)
            for violation in axe_findings(page)
            if violation["impact"] in FAILING_IMPACTS
        ]
    assert not findings, "axe-core found:\n" + "\n".join(findings)
