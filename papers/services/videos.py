"""The nightly video refresh: view counts, availability, covers and chapters from
bilibili and YouTube. The nightly task, the command and the admin all run
:func:`videos_refresh`.

It never loses data: a failed answer is recorded on the video (``bilibili_status``,
``bilibili_error``…) and on the :class:`RefreshRun`, and leaves the stored counts,
cover and chapters as they were; a video bilibili says is gone is marked
unavailable, never deleted. Chapters a curator wrote or edited are never touched.
Videos are read and written in chunks, each its own transaction, so memory stays
flat and a bad chunk never undoes the good ones before it.

bilibili's web API is private and its community documentation was withdrawn after a
legal letter (docs/video-sources.md): an empty ``BILIBILI_API_URL`` switches the
bilibili half off, with one log line.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

from django.conf import settings
from django.db import DatabaseError, transaction
from django.utils import timezone
from kombu.exceptions import KombuError

from papers import tasks
from papers.bilibili import BilibiliClient, VideoInfo
from papers.bilibili import Chapter as BilibiliChapter
from papers.cache import bump_content_version
from papers.locks import refresh_lock
from papers.models import Chapter, Platform, RefreshRun, VideoNote, ViewSnapshot
from papers.video_http import ProblemKind, VideoProblem
from papers.youtube import YouTubeClient, YouTubeStats

__all__ = [
    "VideoRefreshAlreadyRunning",
    "bilibili_client",
    "video_refresh_summary",
    "videos_refresh",
    "videos_refresh_enqueue",
    "youtube_client",
]

logger = logging.getLogger(__name__)

CHUNK_SIZE = 100
MAX_ERROR_LINES = 20
ERROR_LENGTH = 300  # VideoNote.bilibili_error / youtube_error
TITLE_LENGTH = 300  # Chapter.title
VIDEO_FIELDS = (
    "pk", "title", "bvid", "youtube_id", "bilibili_aid", "bilibili_cid",
    "bilibili_views", "youtube_views", "views_updated_at", "bilibili_status",
    "bilibili_error", "youtube_status", "youtube_error", "cover_small",
    "cover_source",
)  # fmt: skip
WRITTEN_FIELDS = (
    "bilibili_aid", "bilibili_cid", "bilibili_views", "youtube_views",
    "views_updated_at", "bilibili_status", "bilibili_error", "youtube_status",
    "youtube_error",
)  # fmt: skip

Progress = Callable[[int, int], None]  # (videos done, videos to do)
# Fills a video's missing cover from an image URL (papers.services.covers); returns
# whether it stored one. Given by the caller so tests and benches can leave it out.
CoverFiller = Callable[[VideoNote, str], bool]


class VideoRefreshAlreadyRunning(Exception):
    """Another video refresh holds the lock; this one did nothing."""


def bilibili_client() -> BilibiliClient | None:
    """The client configured from settings, or None when ``BILIBILI_API_URL`` is
    empty (the refresh's off switch)."""
    if not settings.BILIBILI_API_URL:
        return None
    return BilibiliClient(settings.BILIBILI_API_URL, max_rps=settings.BILIBILI_MAX_RPS)


def youtube_client() -> YouTubeClient | None:
    """The client configured from settings, or None without ``YOUTUBE_API_KEY``."""
    if not settings.YOUTUBE_API_KEY:
        return None
    return YouTubeClient(settings.YOUTUBE_API_KEY, base_url=settings.YOUTUBE_API_URL)


def videos_refresh(
    *,
    video_ids: Sequence[int] | None = None,
    limit: int | None = None,
    trigger: str = RefreshRun.Trigger.SCHEDULE,
    bilibili: BilibiliClient | None | bool = True,
    youtube: YouTubeClient | None | bool = True,
    fill_cover: CoverFiller | None | bool = True,
    progress: Progress | None = None,
) -> RefreshRun:
    """Refresh every video (or ``video_ids``; at most ``limit``) from bilibili and
    YouTube and return the finished run record.

    ``bilibili``/``youtube``: a client, None to leave that platform out, or True for
    the one settings configure. ``fill_cover``: how a missing cover is filled from
    bilibili's ``pic``; True for the covers service, None for not at all.

    Raises :class:`VideoRefreshAlreadyRunning`, without a run record, when another
    video refresh holds the lock.
    """
    with refresh_lock(name="videos") as acquired:
        if not acquired:
            logger.info("video refresh not started: another one is running")
            raise VideoRefreshAlreadyRunning("another video refresh is running")
        _close_abandoned_runs()
        run = RefreshRun.objects.create(trigger=trigger, kind=RefreshRun.Kind.VIDEOS)
        logger.info("video refresh %s started (%s)", run.pk, trigger)
        own = []
        if bilibili is True:
            bilibili = bilibili_client()
            own.append(bilibili)
            if bilibili is None:
                logger.info("bilibili refresh disabled: BILIBILI_API_URL is empty")
        if youtube is True:
            youtube = youtube_client()
            own.append(youtube)
            if youtube is None:
                logger.info("YouTube refresh skipped: YOUTUBE_API_KEY is not set")
        if fill_cover is True:
            from papers.services.covers import cover_fill_from_url

            fill_cover = cover_fill_from_url
        refresh = _Refresh(
            run=run,
            bilibili=bilibili or None,
            youtube=youtube or None,
            fill_cover=fill_cover or None,
            progress=progress,
        )
        try:
            refresh.run_chunks(_chunks(video_ids=video_ids, limit=limit))
        except BaseException as exc:
            refresh.stop(f"stopped: {type(exc).__name__}: {exc}".rstrip(": "))
            raise
        finally:
            for client in own:
                if client is not None:
                    client.close()
        return run


def videos_refresh_enqueue(
    *,
    video_ids: Sequence[int] | None = None,
    trigger: str = RefreshRun.Trigger.ADMIN,
    on_failure: Callable[[Exception], None] | None = None,
) -> None:
    """The one way to queue a video refresh, once the current transaction commits;
    a broker that is down is logged and handed to ``on_failure``."""
    kwargs = {
        "video_ids": list(video_ids) if video_ids is not None else None,
        "trigger": str(trigger),
    }

    def send() -> None:
        try:
            tasks.refresh_videos.apply_async(kwargs=kwargs)
        except (KombuError, OSError) as exc:
            logger.warning("video refresh not queued, the broker is down: %s", exc)
            if on_failure is not None:
                on_failure(exc)

    transaction.on_commit(send, robust=True)


def video_refresh_summary(run: RefreshRun) -> str:
    seconds = f"{run.duration.total_seconds():.1f} s" if run.duration else "running"
    return (
        f"{run.get_status_display()} ({run.status}): {run.papers_asked} videos, "
        f"{run.updated} updated, {run.unchanged} unchanged, "
        f"{run.not_found} unavailable, {run.failed} failed; "
        f"{run.http_calls} HTTP calls, {run.retries} retries; {seconds}"
    )


# Reading videos -----------------------------------------------------------------------


@dataclass
class _Chunks:
    total: int
    chunks: Iterator[list[VideoNote]]


def _chunks(*, video_ids: Sequence[int] | None, limit: int | None) -> _Chunks:
    """Videos in primary-key order, CHUNK_SIZE at a time, one query per chunk."""
    videos = VideoNote.objects.only(*VIDEO_FIELDS).order_by("pk")
    if video_ids is not None:
        videos = videos.filter(pk__in=list(video_ids))
    total = videos.count()
    if limit is not None:
        total = min(total, limit)

    def walk() -> Iterator[list[VideoNote]]:
        last, left = 0, total
        while left > 0:
            chunk = list(videos.filter(pk__gt=last)[: min(CHUNK_SIZE, left)])
            if not chunk:
                return
            yield chunk
            last, left = chunk[-1].pk, left - len(chunk)

    return _Chunks(total, walk())


# The run ----------------------------------------------------------------------------


@dataclass
class _Outcome:
    """What one chunk's answers change, worked out before anything is written."""

    changed: list[VideoNote] = field(default_factory=list)
    snapshots: list[ViewSnapshot] = field(default_factory=list)
    chapters: dict[int, list[BilibiliChapter]] = field(default_factory=dict)
    covers: list[tuple[VideoNote, str]] = field(default_factory=list)


class _Refresh:
    def __init__(self, *, run, bilibili, youtube, fill_cover, progress):
        self.run = run
        self.bilibili = bilibili
        self.youtube = youtube
        self.fill_cover = fill_cover
        self.progress = progress
        self.errors: deque[str] = deque(maxlen=MAX_ERROR_LINES)

    def note(self, message: str) -> None:
        logger.warning("video refresh %s: %s", self.run.pk, message)
        self.errors.append(message)
        self.run.last_error = "\n".join(self.errors)

    def run_chunks(self, chunks: _Chunks) -> None:
        done = 0
        if self.progress:
            self.progress(0, chunks.total)
        for videos in chunks.chunks:
            self.refresh_chunk(videos)
            done += len(videos)
            self.save()
            if self.progress:
                self.progress(done, chunks.total)
        self.finish()

    # --- one chunk ---

    def refresh_chunk(self, videos: list[VideoNote]) -> None:
        self.run.papers_asked += len(videos)
        now = timezone.now()
        outcome = _Outcome()
        before = {v.pk: _state(v) for v in videos}
        failed: set[int] = set()
        unavailable: set[int] = set()
        if self.bilibili is not None:
            for video in videos:
                if video.bvid:
                    self.ask_bilibili(video, now, outcome, failed, unavailable)
        if self.youtube is not None:
            asked = [v for v in videos if v.youtube_id]
            if asked:
                answers = self.youtube.statistics([v.youtube_id for v in asked])
                for video in asked:
                    self.take_youtube(
                        video, answers[video.youtube_id], now, outcome, failed
                    )
        outcome.changed = [v for v in videos if _state(v) != before[v.pk]]
        try:
            with transaction.atomic():
                chapters_changed = self.write(outcome)
        except DatabaseError as exc:
            self.run.failed += len(videos)
            self.note(f"videos #{videos[0].pk}–#{videos[-1].pk}: not saved: {exc}")
            return
        for video in videos:
            if video.pk in failed:
                self.run.failed += 1
            elif video.pk in unavailable:
                self.run.not_found += 1
            elif video in outcome.changed or video.pk in chapters_changed:
                self.run.updated += 1
            else:
                self.run.unchanged += 1
        # Covers last, outside the chunk's transaction: each is a download.
        for video, url in outcome.covers:
            try:
                self.fill_cover(video, url)
            except Exception as exc:  # a cover never stops the run
                self.note(f"video #{video.pk}: cover not stored: {exc}")

    def ask_bilibili(self, video, now, outcome, failed, unavailable) -> None:
        answer = self.bilibili.video(video.bvid)
        if isinstance(answer, VideoProblem):
            self.problem(video, Platform.BILIBILI, answer, failed, unavailable)
            return
        info: VideoInfo = answer
        video.bilibili_views = info.view_count
        video.bilibili_aid, video.bilibili_cid = info.aid, info.cid
        video.bilibili_status = VideoNote.Availability.OK
        video.bilibili_error = ""
        video.views_updated_at = now
        outcome.snapshots.append(
            ViewSnapshot(
                video=video,
                platform=Platform.BILIBILI,
                count=info.view_count,
                fetched_at=now,
            )
        )
        if self.fill_cover and info.pic_url and not video.cover_small:
            outcome.covers.append((video, info.pic_url))
        chapters = self.bilibili.chapters(info.aid, info.cid)
        if isinstance(chapters, VideoProblem):
            # The counts are good; the stored chapters stay as they are.
            self.note(f"video #{video.pk} chapters: {chapters}")
            return
        outcome.chapters[video.pk] = chapters

    def take_youtube(self, video, answer, now, outcome, failed) -> None:
        if isinstance(answer, VideoProblem):
            self.problem(video, Platform.YOUTUBE, answer, failed, set())
            return
        stats: YouTubeStats = answer
        video.youtube_status = VideoNote.Availability.OK
        video.youtube_error = ""
        if stats.view_count is None:  # hidden by the owner: keep what we had
            return
        video.youtube_views = stats.view_count
        video.views_updated_at = now
        outcome.snapshots.append(
            ViewSnapshot(
                video=video,
                platform=Platform.YOUTUBE,
                count=stats.view_count,
                fetched_at=now,
            )
        )

    def problem(self, video, platform, problem, failed, unavailable) -> None:
        status, error = f"{platform}_status", f"{platform}_error"
        if problem.kind is ProblemKind.SKIPPED:
            # Not asked (blocked earlier this run, or no key): nothing learnt.
            failed.add(video.pk)
            return
        setattr(video, error, str(problem)[:ERROR_LENGTH])
        if problem.unavailable:
            setattr(video, status, VideoNote.Availability.UNAVAILABLE)
            unavailable.add(video.pk)
            self.note(f"video #{video.pk} unavailable on {platform}: {problem}")
        else:
            setattr(video, status, VideoNote.Availability.ERROR)
            failed.add(video.pk)
            self.note(f"video #{video.pk} on {platform}: {problem}")

    # --- writing ---

    def write(self, outcome: _Outcome) -> set[int]:
        """Write a chunk's changes; returns the videos whose chapters changed."""
        changed_chapters = _replace_chapters(outcome.chapters)
        for video in outcome.changed:
            # One small UPDATE a video: bulk_update's CASE over 9 fields x 100 rows
            # costs more to build than these cost to run.
            VideoNote.objects.filter(pk=video.pk).update(
                **{name: getattr(video, name) for name in WRITTEN_FIELDS}
            )
        if outcome.snapshots:
            ViewSnapshot.objects.bulk_create(outcome.snapshots)
        if outcome.changed or outcome.snapshots or changed_chapters:
            bump_content_version()  # bulk writes send no signals
        return changed_chapters

    # --- the record ---

    def calls(self) -> tuple[int, int]:
        clients = [c for c in (self.bilibili, self.youtube) if c is not None]
        return (
            sum(c.stats.requests for c in clients),
            sum(c.stats.retries for c in clients),
        )

    def save(self, *also: str) -> None:
        self.run.http_calls, self.run.retries = self.calls()
        self.run.save(update_fields=[*also, *RefreshRun.COUNTERS, "last_error"])

    def finish(self) -> None:
        run = self.run
        answered = run.updated + run.unchanged + run.not_found
        if run.failed and not answered:
            run.status = RefreshRun.Status.FAILED
        elif run.failed:
            run.status = RefreshRun.Status.PARTIAL
        else:
            run.status = RefreshRun.Status.SUCCEEDED
        self.close()

    def stop(self, reason: str) -> None:
        try:
            self.note(reason)
            answered = self.run.updated + self.run.unchanged + self.run.not_found
            self.run.status = (
                RefreshRun.Status.PARTIAL if answered else RefreshRun.Status.FAILED
            )
            self.close()
        except Exception:
            logger.exception("could not record the end of video refresh %s", self.run)

    def close(self) -> None:
        self.run.finished_at = timezone.now()
        self.save("status", "finished_at")
        logger.log(
            SUMMARY_LEVELS.get(self.run.status, logging.ERROR),
            "video refresh %s %s",
            self.run.pk,
            video_refresh_summary(self.run),
            extra={
                "event": "refresh_run",
                "kind": "videos",
                "run_id": self.run.pk,
                "status": str(self.run.status),
                "http_calls": self.run.http_calls,
            },
        )


SUMMARY_LEVELS = {
    RefreshRun.Status.SUCCEEDED: logging.INFO,
    RefreshRun.Status.PARTIAL: logging.WARNING,
    RefreshRun.Status.FAILED: logging.ERROR,
}


def _state(video: VideoNote) -> tuple:
    return tuple(
        getattr(video, name) for name in WRITTEN_FIELDS if name != "views_updated_at"
    )


def _replace_chapters(answers: dict[int, list[BilibiliChapter]]) -> set[int]:
    """Make each video's bilibili chapters what bilibili answered; chapters a curator
    wrote or edited stay, and a bilibili chapter at one of their start times is left
    out (the curator's version of that moment wins). Two queries per chunk, plus the
    writes for the videos whose chapters changed."""
    if not answers:
        return set()
    stored: dict[int, list[Chapter]] = {pk: [] for pk in answers}
    for chapter in Chapter.objects.filter(video_id__in=list(answers)):
        stored[chapter.video_id].append(chapter)
    delete: list[int] = []
    create: list[Chapter] = []
    changed: set[int] = set()
    for pk, incoming in answers.items():
        kept = {c.start for c in stored[pk] if c.kept_by_refresh}
        ours = [c for c in stored[pk] if not c.kept_by_refresh]
        wanted = {}
        for item in incoming:
            end = item.end if item.end is not None and item.end > item.start else None
            if item.start not in kept:
                wanted[item.start] = (end, item.title[:TITLE_LENGTH])
        if {c.start: (c.end, c.title) for c in ours} == wanted and len(ours) == len(
            wanted
        ):
            continue
        changed.add(pk)
        delete.extend(c.pk for c in ours)
        create.extend(
            Chapter(
                video_id=pk,
                start=start,
                end=end,
                title=title,
                source=Chapter.Source.BILIBILI,
            )
            for start, (end, title) in sorted(wanted.items())
        )
    if delete:
        Chapter.objects.filter(pk__in=delete).delete()
    if create:
        Chapter.objects.bulk_create(create)
    return changed


def _close_abandoned_runs() -> None:
    """Video runs still "running" lost their worker: the lock holder is the only
    live one."""
    reason = "abandoned: the run ended without finishing (worker crashed or killed)"
    for run in RefreshRun.objects.filter(
        kind=RefreshRun.Kind.VIDEOS, status=RefreshRun.Status.RUNNING
    ):
        run.status = RefreshRun.Status.FAILED
        run.finished_at = timezone.now()
        run.last_error = "\n".join(filter(None, [run.last_error, reason]))
        run.save(update_fields=["status", "finished_at", "last_error"])
