"""The video admin (issue 12): chapters inline with times typed as 1:02:03, a changed
bilibili chapter marked as the curator's, counts, cover and run history shown."""

import pytest
from django.urls import reverse
from django.utils import timezone

from papers.admin.videos import TimecodeField
from papers.models import Chapter, RefreshRun
from tests.factories import ChapterFactory, VideoNoteFactory

pytestmark = pytest.mark.django_db


def change_url(video):
    return reverse("admin:papers_videonote_change", args=[video.pk])


def video_form(video, chapters=(), new=()):
    data = {
        "title": video.title,
        "published_on": video.published_on.isoformat(),
        "duration": "0:45:12",
        "cover_path": "",
        "bilibili_url": video.bilibili_url,
        "youtube_url": "",
        "zhihu_url": "",
        "paper_url": "",
        "notes": "",
        "slug": video.slug,
        "series": "",
        "part": "",
        "chapters-TOTAL_FORMS": str(len(chapters) + len(new)),
        "chapters-INITIAL_FORMS": str(len(chapters)),
        "chapters-MIN_NUM_FORMS": "0",
        "chapters-MAX_NUM_FORMS": "1000",
    }
    for i, row in enumerate([*chapters, *new]):
        for name, value in row.items():
            data[f"chapters-{i}-{name}"] = value
        data[f"chapters-{i}-video"] = str(video.pk)
    return data


def test_curator_adds_a_chapter_typed_as_hours_minutes_seconds(admin_client):
    video = VideoNoteFactory()
    response = admin_client.post(
        change_url(video),
        video_form(
            video,
            new=[
                {
                    "start": "1:02:03",
                    "end": "1:10:00",
                    "title": "多头注意力",
                    "section": "§3.2 Multi-Head Attention",
                },
            ],
        ),  # fmt: skip
    )
    assert response.status_code == 302, response.context["errors"]
    chapter = video.chapters.get()
    assert (chapter.start, chapter.end, chapter.source) == (3723, 4200, "curator")
    assert chapter.section == "§3.2 Multi-Head Attention"
    assert chapter.kept_by_refresh


def test_a_bad_time_is_a_clear_error_not_a_500(admin_client):
    video = VideoNoteFactory()
    response = admin_client.post(
        change_url(video),
        video_form(video, new=[{"start": "1:75:00", "title": "x"}]),
    )
    assert response.status_code == 200
    assert "1:02:03" in response.text  # the hint says how to write it
    assert not Chapter.objects.exists()


def test_editing_a_bilibili_chapter_marks_it_edited(admin_client):
    video = VideoNoteFactory()
    kept = ChapterFactory(video=video, start=0, title="开场")
    changed = ChapterFactory(video=video, start=95, title="摘要")
    rows = [
        {"id": str(kept.pk), "start": "0:00", "title": "开场"},
        {"id": str(changed.pk), "start": "1:35", "title": "摘要与导言"},
    ]
    response = admin_client.post(change_url(video), video_form(video, chapters=rows))
    assert response.status_code == 302
    kept.refresh_from_db()
    changed.refresh_from_db()
    assert not kept.edited
    assert changed.edited and changed.title == "摘要与导言"
    assert changed.source == "bilibili"


def test_change_page_shows_counts_cover_chapters_and_run_history(admin_client):
    video = VideoNoteFactory(
        bilibili_views=812345,
        cover_small="covers/thumbs/v-480.webp",
        cover_small_width=480,
        cover_small_height=270,
    )
    ChapterFactory(video=video, start=3723, title="多头注意力")
    run = RefreshRun.objects.create(
        kind=RefreshRun.Kind.VIDEOS,
        status=RefreshRun.Status.PARTIAL,
        finished_at=timezone.now(),
        last_error="video #1 on bilibili: BV1: api_error: 62004",
    )
    RefreshRun.objects.create(kind=RefreshRun.Kind.CITATIONS, last_error="S2 down")
    response = admin_client.get(change_url(video))
    assert response.status_code == 200
    text = response.text
    assert "812,345" in text
    assert 'src="/media/covers/thumbs/v-480.webp" width="480" height="270"' in text
    assert 'value="1:02:03"' in text
    assert reverse("admin:papers_refreshrun_change", args=[run.pk]) in text
    assert "62004" in text
    assert "S2 down" not in text  # only the video refresh's runs


def test_run_list_filters_by_kind(admin_client):
    RefreshRun.objects.create(kind=RefreshRun.Kind.VIDEOS, last_error="video run")
    RefreshRun.objects.create(kind=RefreshRun.Kind.CITATIONS, last_error="s2 run")
    url = reverse("admin:papers_refreshrun_changelist") + "?kind=videos"
    response = admin_client.get(url)
    assert response.status_code == 200
    assert len(response.context["cl"].result_list) == 1


@pytest.mark.parametrize(
    ("typed", "seconds"), [("1:02:03", 3723), ("62:03", 3723), ("3723", 3723)]
)
def test_timecode_field_reads_and_shows_times(typed, seconds):
    field = TimecodeField()
    assert field.clean(typed) == seconds
    assert field.prepare_value(seconds) == "1:02:03"
