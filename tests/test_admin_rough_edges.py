"""The admin a new curator meets: papers go to the end of a category, run titles in
local time, a Chinese admin with no English headers, and a banner while the citation
refresh is failing."""

import datetime as dt
import re
from html.parser import HTMLParser

import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.urls import reverse
from django.utils import timezone, translation

from papers.models import Paper, Placement, RefreshRun, VideoNote
from tests.factories import (
    CategoryFactory,
    PaperFactory,
    PlacementFactory,
    VideoNoteFactory,
)
from tests.test_admin import paper_form

pytestmark = pytest.mark.django_db


@pytest.fixture
def curator(admin_client):
    admin_client.cookies["django_language"] = "zh-hans"
    return admin_client


# --- a new paper goes to the end of its category --------------------------------------


def test_a_paper_added_to_a_category_goes_to_its_end(curator):
    category = CategoryFactory(name="系统")
    for position in (0, 1, 7):
        PlacementFactory(category=category, position=position)

    response = curator.post(
        reverse("admin:papers_paper_add"),
        paper_form(
            **{
                "placements-TOTAL_FORMS": "1",
                "placements-0-category": str(category.pk),
                "placements-0-position": "",
            }
        ),
    )

    assert response.status_code == 302, response.text
    placement = Placement.objects.get(paper__name="Transformer")
    assert placement.position == 8
    assert list(category.placements.all())[-1] == placement


def test_a_given_position_is_kept(curator):
    category = CategoryFactory(name="系统")
    PlacementFactory(category=category, position=5)

    curator.post(
        reverse("admin:papers_paper_add"),
        paper_form(
            **{
                "placements-TOTAL_FORMS": "1",
                "placements-0-category": str(category.pk),
                "placements-0-position": "0",
            }
        ),
    )

    assert Placement.objects.get(paper__name="Transformer").position == 0


def test_papers_added_from_the_category_page_go_to_its_end_in_order(curator):
    category = CategoryFactory(name="系统", slug="systems")
    PlacementFactory(category=category, position=3)
    first, second = PaperFactory(name="甲"), PaperFactory(name="乙")

    response = curator.post(
        reverse("admin:papers_category_change", args=[category.pk]),
        {
            "name": category.name,
            "name_en": "",
            "slug": category.slug,
            "position": "0",
            "description": "",
            "placements-TOTAL_FORMS": "3",
            "placements-INITIAL_FORMS": "1",
            "placements-0-id": str(category.placements.get().pk),
            "placements-0-category": str(category.pk),
            "placements-0-paper": str(category.placements.get().paper_id),
            "placements-0-position": "3",
            "placements-1-category": str(category.pk),
            "placements-1-paper": str(first.pk),
            "placements-1-position": "",
            "placements-2-category": str(category.pk),
            "placements-2-paper": str(second.pk),
            "placements-2-position": "",
        },
    )

    assert response.status_code == 302, response.text
    names = [p.paper.name for p in category.placements.order_by("position", "id")]
    assert names[-2:] == ["甲", "乙"]
    assert Placement.objects.get(paper=first).position == 4


# --- a refresh run's title is in local time -------------------------------------------


def test_refresh_run_title_uses_local_time(settings):
    settings.TIME_ZONE = "Asia/Shanghai"
    run = RefreshRun(
        started_at=dt.datetime(2026, 3, 1, 19, 5, tzinfo=dt.UTC),
        status=RefreshRun.Status.SUCCEEDED,
    )

    with translation.override("zh-hans"):
        assert str(run) == "2026-03-02 03:05 成功"


def test_refresh_run_page_title_matches_its_fields(curator):
    run = RefreshRun.objects.create(
        started_at=dt.datetime(2026, 3, 1, 19, 5, tzinfo=dt.UTC),
        status=RefreshRun.Status.FAILED,
    )

    response = curator.get(reverse("admin:papers_refreshrun_change", args=[run.pk]))

    assert "2026-03-02 03:05" in response.text
    assert "2026-03-01 19:05" not in response.text


# --- no English left in the Chinese admin ---------------------------------------------

# Names that are the same in Chinese text: products, ids and formats.
PROPER_NOUNS = {
    "arXiv ID", "DOI", "Semantic Scholar ID", "HTTP", "URL", "ID", "bilibili",
    "YouTube", "README", "Markdown", "Semantic Scholar", "IP", "HTTP Accept",
    "TLDR", "PDF", "OpenAlex",
}  # fmt: skip
KNOWN_ENGLISH = [
    "VIDEONOTE", "Videonote", "videonote", "Access attempts", "Access logs",
    "Access failures", "Axes", "AXES", "User Agent", "IP Address", "Attempt Time",
    "Failed Logins", "Form Data", "Meta Data", "Logout Time", "object (",
]  # fmt: skip


class _Headers(HTMLParser):
    """Text of the elements that name things: titles, captions, column and
    field labels, the app list and breadcrumbs."""

    NAMING = {"h1", "h2", "h3", "caption", "th", "label", "legend", "title"}

    def __init__(self):
        super().__init__()
        self.stack, self.texts = [], []

    def handle_starttag(self, tag, attrs):
        classes = dict(attrs).get("class") or ""
        # <body> carries app-<label> too: only the app list's blocks count.
        naming = tag in self.NAMING or (
            tag != "body" and ("breadcrumbs" in classes or "app-" in classes)
        )
        self.stack.append((tag, naming))

    def handle_endtag(self, tag):
        while self.stack:
            if self.stack.pop()[0] == tag:
                break

    def handle_data(self, data):
        if any(naming for _, naming in self.stack) and data.strip():
            self.texts.append(data.strip())


def latin_only_headers(html: str) -> list[str]:
    parser = _Headers()
    parser.feed(html)
    found = []
    for text in parser.texts:
        for part in re.split(r"[›|:：·\n]", text):
            part = part.strip()
            if re.fullmatch(r"[A-Za-z][A-Za-z _-]*", part) and part not in (
                PROPER_NOUNS
            ):
                found.append(part)
    return found


def visible_text(html: str) -> str:
    html = re.sub(r"(?s)<(script|style)\b.*?</\1>", " ", html)
    return re.sub(r"<[^>]+>", " ", html)


def admin_pages():
    # Data values are not Latin-only words, so any such text found is a header.
    category = CategoryFactory(name="系统", slug="sys-1")
    paper = PaperFactory(name="参数服务器")
    PlacementFactory(category=category, paper=paper)
    video = VideoNoteFactory()
    video.papers.add(paper)
    run = RefreshRun.objects.create(
        status=RefreshRun.Status.FAILED, last_error="超时", finished_at=timezone.now()
    )
    attempt = AccessAttempt.objects.create(
        username="someone@example.com",
        ip_address="127.0.0.1",
        user_agent="Mozilla/5.0",
        failures_since_start=1,
    )
    log = AccessLog.objects.create(
        username="someone@example.com", ip_address="127.0.0.1", user_agent="Mozilla/5.0"
    )
    failure = AccessFailureLog.objects.create(
        username="someone@example.com", ip_address="127.0.0.1", user_agent="Mozilla/5.0"
    )
    return [
        reverse("admin:index"),
        reverse("admin:app_list", args=["papers"]),
        reverse("admin:app_list", args=["axes"]),
        reverse("admin:papers_paper_changelist"),
        reverse("admin:papers_paper_add"),
        reverse("admin:papers_paper_change", args=[paper.pk]),
        reverse("admin:papers_category_changelist"),
        reverse("admin:papers_category_change", args=[category.pk]),
        reverse("admin:papers_videonote_changelist"),
        reverse("admin:papers_videonote_change", args=[video.pk]),
        reverse("admin:papers_refreshrun_changelist"),
        reverse("admin:papers_refreshrun_change", args=[run.pk]),
        reverse("admin:axes_accessattempt_changelist"),
        reverse("admin:axes_accessattempt_change", args=[attempt.pk]),
        reverse("admin:axes_accesslog_changelist"),
        reverse("admin:axes_accesslog_change", args=[log.pk]),
        reverse("admin:axes_accessfailurelog_changelist"),
        reverse("admin:axes_accessfailurelog_change", args=[failure.pk]),
    ]


def test_every_admin_header_is_chinese(curator):
    untranslated = {}
    for url in admin_pages():
        response = curator.get(url)
        assert response.status_code == 200, url
        html = response.text
        text = visible_text(html)
        found = latin_only_headers(html) + [s for s in KNOWN_ENGLISH if s in text]
        if found:
            untranslated[url] = sorted(set(found))

    assert untranslated == {}


def test_the_header_check_catches_english():
    html = (
        "<h2>Axes</h2><table><caption>Access attempts</caption>"
        "<th>VIDEONOTE</th><th>DOI</th><th>论文</th></table>"
    )
    assert latin_only_headers(html) == ["Axes", "Access attempts", "VIDEONOTE"]


def test_the_video_inline_rows_are_named_in_chinese(curator):
    paper = PaperFactory(name="GPT")
    video = VideoNoteFactory(title="GPT 精读")
    video.papers.add(paper)

    html = curator.get(reverse("admin:papers_paper_change", args=[paper.pk])).text

    assert "讲到这篇论文的精读视频" in html
    assert "VideoNote_papers object" not in html
    assert VideoNote.papers.through.objects.count() == 1


# --- a failing citation refresh shows on the paper list -------------------------------


def test_paper_list_warns_while_the_last_refresh_failed(curator):
    RefreshRun.objects.create(
        started_at=timezone.now() - dt.timedelta(days=1),
        finished_at=timezone.now() - dt.timedelta(days=1),
        status=RefreshRun.Status.SUCCEEDED,
    )
    RefreshRun.objects.create(
        finished_at=timezone.now(),
        status=RefreshRun.Status.FAILED,
        last_error="ConnectionError: api.semanticscholar.org unreachable",
    )

    html = curator.get(reverse("admin:papers_paper_changelist")).text

    assert "上一次引用数刷新" in html
    assert "ConnectionError: api.semanticscholar.org unreachable" in html


@pytest.mark.parametrize("status", ["succeeded", "partial"])
def test_no_warning_once_a_refresh_finishes(curator, status):
    RefreshRun.objects.create(
        started_at=timezone.now() - dt.timedelta(days=1),
        finished_at=timezone.now() - dt.timedelta(days=1),
        status=RefreshRun.Status.FAILED,
        last_error="boom",
    )
    RefreshRun.objects.create(finished_at=timezone.now(), status=status)

    html = curator.get(reverse("admin:papers_paper_changelist")).text

    assert "上一次引用数刷新" not in html
    assert Paper.objects.count() == 0


def test_a_running_refresh_keeps_the_warning_of_the_failed_one(curator):
    RefreshRun.objects.create(
        started_at=timezone.now() - dt.timedelta(hours=1),
        finished_at=timezone.now() - dt.timedelta(hours=1),
        status=RefreshRun.Status.FAILED,
        last_error="boom",
    )
    RefreshRun.objects.create(status=RefreshRun.Status.RUNNING)

    html = curator.get(reverse("admin:papers_paper_changelist")).text

    assert "上一次引用数刷新" in html and "boom" in html
