"""The nightly video refresh (issue 12) against local fake bilibili and YouTube servers:
service, task, command, beat entry and /healthz."""

import datetime as dt
import logging
from io import StringIO

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.utils import timezone

from papers import cache as page_cache
from papers.bilibili import BilibiliClient
from papers.locks import refresh_lock
from papers.models import Chapter, RefreshRun, VideoNote, ViewSnapshot
from papers.services.videos import VideoRefreshAlreadyRunning, videos_refresh
from papers.youtube import YouTubeClient
from tests.factories import ChapterFactory, VideoNoteFactory
from tests.fake_bilibili import (
    DATA,
    VIEW_PATH,
    FakeBilibili,
    FakeClock,
    Reply,
    load,
)
from tests.fake_youtube import FakeYouTube

pytestmark = pytest.mark.django_db

BV1, BV2 = "BV1pu411o7BE", "BV1xx411c7mD"
POINTS = load("player.json")["data"]["view_points"]


@pytest.fixture
def bili():
    with FakeBilibili() as fake:
        yield fake


@pytest.fixture
def clock():
    return FakeClock()


def client_for(bili, clock):
    return BilibiliClient(
        bili.base_url,
        max_rps=0,
        backoff_jitter=0.0,
        clock=clock.clock,
        sleep=clock.sleep,
    )


def video(bvid, **fields):
    url = f"https://www.bilibili.com/video/{bvid}"
    return VideoNoteFactory(bilibili_url=url, **fields)


def refresh(bili, clock, **kwargs):
    kwargs.setdefault("youtube", None)
    kwargs.setdefault("fill_cover", None)
    with client_for(bili, clock) as client:
        return videos_refresh(bilibili=client, **kwargs)


def test_refresh_stores_counts_ids_chapters_and_a_snapshot(bili, clock):
    bili.add_video(BV1, aid=11, cid=22, view=812345, view_points=POINTS)
    stored = video(BV1)
    version = page_cache.current_content_version()

    run = refresh(bili, clock)

    stored.refresh_from_db()
    assert stored.bilibili_views == 812345
    assert (stored.bilibili_aid, stored.bilibili_cid) == (11, 22)
    assert stored.bilibili_status == VideoNote.Availability.OK
    assert stored.views_updated_at is not None
    chapters = list(stored.chapters.values_list("start", "end", "title", "source"))
    assert chapters[:2] == [
        (0, 95, "开场", "bilibili"),
        (95, 1130, "摘要与导言", "bilibili"),
    ]
    assert len(chapters) == len(POINTS)
    assert list(ViewSnapshot.objects.values_list("platform", "count")) == [
        ("bilibili", 812345)
    ]
    assert (run.kind, run.status, run.papers_asked, run.updated) == (
        "videos", "succeeded", 1, 1,
    )  # fmt: skip
    assert run.http_calls == 3  # view, nav (WBI keys), player
    assert page_cache.current_content_version() != version


def test_snapshots_are_appended_each_night(bili, clock):
    bili.add_video(BV1, view=100)
    stored = video(BV1)
    refresh(bili, clock)
    bili.videos[BV1]["stat"]["view"] = 150
    run = refresh(bili, clock)
    assert list(stored.view_snapshots.values_list("count", flat=True)) == [100, 150]
    assert run.updated == 1


def test_missing_video_is_marked_unavailable_never_deleted(bili, clock):
    bili.add_video(BV1, view=5)
    gone = video(BV2, bilibili_views=777)
    bili.codes[BV2] = load("view-62002.json")

    run = refresh(bili, clock)

    gone.refresh_from_db()
    assert gone.bilibili_status == VideoNote.Availability.UNAVAILABLE
    assert "62002" in gone.bilibili_error
    assert gone.bilibili_views == 777  # never blanked
    assert (run.not_found, run.failed, run.status) == (1, 0, "succeeded")


def test_a_video_with_no_bilibili_answer_at_all_is_404(bili, clock):
    gone = video(BV2)
    refresh(bili, clock)
    gone.refresh_from_db()
    assert gone.bilibili_status == VideoNote.Availability.UNAVAILABLE
    assert "-404" in gone.bilibili_error


def test_412_then_success_backs_off_and_stores(bili, clock):
    bili.add_video(BV1, view=42)
    stored = video(BV1)
    bili.queue(VIEW_PATH, Reply(412, b"<html>412</html>"))

    run = refresh(bili, clock)

    stored.refresh_from_db()
    assert stored.bilibili_views == 42
    assert run.retries == 1 and run.status == "succeeded"
    assert clock.sleeps and clock.sleeps[0] >= 5  # the backoff waited


def test_truncated_json_keeps_the_count_and_cover(bili, clock):
    bili.add_video(BV1, view=42, view_points=POINTS)
    stored = video(
        BV1,
        bilibili_views=10,
        cover_small="covers/thumbs/a-480.webp",
        cover_small_width=480,
        cover_small_height=270,
    )
    ChapterFactory(video=stored, start=0, title="旧的")
    whole = (DATA / "view.json").read_bytes()
    bili.queue(VIEW_PATH, Reply(200, whole[: len(whole) // 2]))

    run = refresh(bili, clock)

    stored.refresh_from_db()
    assert stored.bilibili_views == 10
    assert stored.cover_small.name == "covers/thumbs/a-480.webp"
    assert stored.bilibili_status == VideoNote.Availability.ERROR
    assert "malformed" in stored.bilibili_error
    assert list(stored.chapters.values_list("title", flat=True)) == ["旧的"]
    assert (run.failed, run.status) == (1, "failed")
    assert "malformed" in run.last_error


def test_blocked_run_skips_the_rest_and_blanks_nothing(bili, clock):
    first, second = video(BV1, bilibili_views=1), video(BV2, bilibili_views=2)
    bili.add_video(BV1)
    bili.add_video(BV2)
    bili.queue(VIEW_PATH, *[Reply(412, b"<html>412</html>")] * 5)

    run = refresh(bili, clock)

    assert len(bili.calls_to(VIEW_PATH)) == 5  # the first video's tries, then none
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.bilibili_views, second.bilibili_views) == (1, 2)
    assert (run.failed, run.status) == (2, "failed")


def test_curator_chapters_and_edited_ones_are_kept(bili, clock):
    bili.add_video(BV1, view_points=POINTS)
    stored = video(BV1)
    ChapterFactory(video=stored, start=95, title="我改过的", edited=True)
    ChapterFactory(
        video=stored,
        start=600,
        title="§3.2 Multi-Head Attention",
        source=Chapter.Source.CURATOR,
    )
    ChapterFactory(video=stored, start=7, title="bilibili 删掉的")

    refresh(bili, clock)
    refresh(bili, clock)  # a second run changes nothing

    rows = list(stored.chapters.order_by("start").values_list("start", "title"))
    assert (95, "我改过的") in rows
    assert (95, "摘要与导言") not in rows  # the curator's version of that moment wins
    assert (600, "§3.2 Multi-Head Attention") in rows
    assert (7, "bilibili 删掉的") not in rows
    assert (0, "开场") in rows
    assert len(rows) == len(POINTS) + 1


def test_unchanged_chapters_are_not_rewritten(bili, clock):
    bili.add_video(BV1, view_points=POINTS)
    stored = video(BV1)
    refresh(bili, clock)
    ids = set(stored.chapters.values_list("pk", flat=True))
    refresh(bili, clock)
    assert set(stored.chapters.values_list("pk", flat=True)) == ids


def test_youtube_counts_with_a_key(bili, clock):
    stored = video(BV1, youtube_url="https://www.youtube.com/watch?v=nzqlFIcCSWQ")
    bili.add_video(BV1, view=3)
    with FakeYouTube() as yt:
        yt.add_video("nzqlFIcCSWQ", views=4321)
        client = YouTubeClient("test-key", base_url=yt.base_url, max_rps=0)
        run = refresh(bili, clock, youtube=client)
    stored.refresh_from_db()
    assert (stored.bilibili_views, stored.youtube_views) == (3, 4321)
    assert stored.view_count == 4324
    assert stored.youtube_status == VideoNote.Availability.OK
    platforms = set(ViewSnapshot.objects.values_list("platform", flat=True))
    assert platforms == {"bilibili", "youtube"}
    assert run.status == "succeeded"


def test_youtube_video_gone_is_unavailable(clock):
    stored = VideoNoteFactory(
        bilibili_url="",
        youtube_url="https://youtu.be/AAAAAAAAAAA",
        youtube_views=9,
    )
    with FakeYouTube() as yt:
        client = YouTubeClient("test-key", base_url=yt.base_url, max_rps=0)
        videos_refresh(bilibili=None, youtube=client, fill_cover=None)
    stored.refresh_from_db()
    assert stored.youtube_status == VideoNote.Availability.UNAVAILABLE
    assert stored.youtube_views == 9


def test_settings_switch_each_platform_off_with_one_log_line(caplog, settings):
    settings.BILIBILI_API_URL = ""
    settings.YOUTUBE_API_KEY = ""
    stored = video(BV1, bilibili_views=5)
    with caplog.at_level(logging.INFO, logger="papers.services.videos"):
        run = videos_refresh(fill_cover=None)
    lines = [r.getMessage() for r in caplog.records]
    assert sum("BILIBILI_API_URL is empty" in line for line in lines) == 1
    assert sum("YOUTUBE_API_KEY is not set" in line for line in lines) == 1
    stored.refresh_from_db()
    assert stored.bilibili_views == 5
    assert run.http_calls == 0 and run.status == "succeeded"


def test_a_second_refresh_does_not_start_while_one_runs(bili, clock):
    with refresh_lock(name="videos") as acquired:
        assert acquired
        with pytest.raises(VideoRefreshAlreadyRunning):
            refresh(bili, clock)
        # The citation refresh has its own lock.
        with refresh_lock(name="citations") as other:
            assert other
    assert not RefreshRun.objects.exists()


def test_command_shows_progress_and_summary(bili, settings):
    settings.BILIBILI_API_URL = bili.base_url
    settings.BILIBILI_MAX_RPS = 0
    bili.add_video(BV1, view=9)
    bili.add_video(BV2, view=8)
    video(BV1)
    video(BV2)
    out, err = StringIO(), StringIO()
    call_command("refresh_videos", "--limit", "1", stdout=out, stderr=err)
    assert "1 videos, 1 updated" in out.getvalue()
    assert "refresh videos" in err.getvalue()  # the tqdm bar
    run = RefreshRun.objects.get()
    assert (run.kind, run.trigger) == ("videos", "command")
    with pytest.raises(CommandError, match="at least 1"):
        call_command("refresh_videos", "--limit", "0")


def test_task_runs_the_service(bili, settings):
    from papers.tasks import refresh_videos

    settings.BILIBILI_API_URL = bili.base_url
    settings.BILIBILI_MAX_RPS = 0
    bili.add_video(BV1, view=9)
    video(BV1)
    result = refresh_videos.apply().get()
    assert result["status"] == "succeeded"
    assert VideoNote.objects.get().bilibili_views == 9


def test_beat_runs_the_video_refresh_at_half_past_three():
    entry = settings.CELERY_BEAT_SCHEDULE["refresh-videos-nightly"]
    assert entry["task"] == "papers.refresh_videos"
    assert entry["schedule"].hour == {3} and entry["schedule"].minute == {30}
    assert settings.CELERY_TIMEZONE == "Asia/Shanghai"


# /healthz ------------------------------------------------------------------------


@pytest.fixture
def _memory_broker(settings):
    settings.CELERY_BROKER_URL = "memory://"
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {}


def finished(kind, hours_ago):
    end = timezone.now() - dt.timedelta(hours=hours_ago)
    RefreshRun.objects.create(
        kind=kind,
        started_at=end - dt.timedelta(minutes=1),
        finished_at=end,
        status=RefreshRun.Status.SUCCEEDED,
    )


@pytest.mark.usefixtures("_memory_broker")
def test_healthz_reports_the_video_refresh_age(client, settings):
    settings.BILIBILI_API_URL = "https://api.bilibili.com"
    finished(RefreshRun.Kind.CITATIONS, 1)
    checks = client.get("/healthz").json()["checks"]
    assert checks["videos"]["status"] == "degraded"  # a citation run is not a video run
    assert checks["videos"]["last_success"] is None
    finished(RefreshRun.Kind.VIDEOS, 3)
    checks = client.get("/healthz").json()["checks"]
    assert checks["videos"]["status"] == "ok"
    assert checks["videos"]["age_hours"] == pytest.approx(3, abs=0.1)
    assert checks["citations"]["age_hours"] == pytest.approx(1, abs=0.1)


@pytest.mark.usefixtures("_memory_broker")
def test_healthz_says_when_the_video_refresh_is_switched_off(client):
    assert client.get("/healthz").json()["checks"]["videos"] == {
        "status": "ok",
        "disabled": True,
    }


def test_missing_covers_are_filled_from_bilibili_pic(bili, clock):
    pic = "https://i0.hdslb.com/bfs/archive/abc.jpg"
    bili.add_video(BV1, pic=pic)
    bili.add_video(BV2, pic=pic)
    bare = video(BV1)
    video(
        BV2,
        cover_small="covers/thumbs/b-480.webp",
        cover_small_width=480,
        cover_small_height=270,
    )
    asked = []

    def fill(found, url):
        asked.append((found.pk, url))
        raise OSError("disk full")  # a cover never stops the run

    run = refresh(bili, clock, fill_cover=fill)

    assert asked == [(bare.pk, pic)]
    assert run.status == "succeeded"
    assert "cover not stored" in run.last_error


def test_enqueue_sends_after_commit_and_survives_a_broker_that_is_down(
    monkeypatch, django_capture_on_commit_callbacks
):
    from papers import tasks
    from papers.services.videos import videos_refresh_enqueue

    sent, failures = [], []
    monkeypatch.setattr(
        tasks.refresh_videos, "apply_async", lambda *, kwargs: sent.append(kwargs)
    )
    with django_capture_on_commit_callbacks(execute=True):
        videos_refresh_enqueue(video_ids=[3])
        assert sent == []  # not before the commit
    assert sent == [{"video_ids": [3], "trigger": "admin"}]

    def down(*, kwargs):
        raise OSError("connection refused")

    monkeypatch.setattr(tasks.refresh_videos, "apply_async", down)
    with django_capture_on_commit_callbacks(execute=True):
        videos_refresh_enqueue(on_failure=failures.append)
    assert len(failures) == 1
