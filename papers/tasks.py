"""Celery tasks: thin wrappers that take ids and call one service.

Tasks are the outer adapter: services import this module to queue a task, and a
task imports its service inside its body.
"""

from __future__ import annotations

import logging
import smtplib

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded

from papers.models import RefreshRun

logger = logging.getLogger(__name__)

# 100,000 papers are 200 calls, about 3.5 minutes at 1 request/s; the limits leave
# room for retries. They must stay below the Redis broker's visibility timeout
# (2 hours, settings) or an unacknowledged (acks_late) run would be sent twice.
# The prefork pool enforces them; the solo pool of `make run` cannot.
REFRESH_SOFT_TIME_LIMIT = 50 * 60
REFRESH_TIME_LIMIT = 55 * 60
# acks_late with reject_on_worker_lost: a run whose pool process dies (kill -9, out
# of memory) goes back on the queue and runs again instead of being acknowledged as
# failed. Safe because the refresh is idempotent under its lock (papers/locks.py) and
# the next run closes a stale "running" record. Only this task opts in: a task that
# kills its process every time would loop.
# https://docs.celeryq.dev/en/stable/userguide/configuration.html#task-reject-on-worker-lost
# A targeted refresh that finds the lock taken tries again for about an hour.
TARGETED_RETRY_DELAY = 5 * 60
TARGETED_RETRIES = 12


@shared_task(
    bind=True,
    name="papers.refresh_citations",
    acks_late=True,
    reject_on_worker_lost=True,
    soft_time_limit=REFRESH_SOFT_TIME_LIMIT,
    time_limit=REFRESH_TIME_LIMIT,
)
def refresh_citations(
    self,
    paper_ids: list[int] | None = None,
    trigger: str = RefreshRun.Trigger.SCHEDULE,
    only_missing: bool = False,
) -> dict:
    """Refresh citation counts (all papers, or ``paper_ids``; only those with no
    count yet if ``only_missing``) from Semantic Scholar."""
    from papers.services.citations import (
        RefreshAlreadyRunning,
        citations_refresh,
        refresh_summary,
    )

    try:
        run = citations_refresh(
            paper_ids=paper_ids, only_missing=only_missing, trigger=trigger
        )
    except RefreshAlreadyRunning as exc:
        if paper_ids and self.request.retries < TARGETED_RETRIES:
            # A few papers (an admin action, an accepted 请求精读) must not wait a
            # whole night because the nightly run happened to hold the lock.
            logger.info(
                "refresh_citations: another refresh is running, retrying %s papers "
                "in %s s",
                len(paper_ids),
                TARGETED_RETRY_DELAY,
            )
            raise self.retry(exc=exc, countdown=TARGETED_RETRY_DELAY) from exc
        logger.info("refresh_citations: another refresh is running, nothing done")
        return {"status": "skipped", "reason": "another refresh is running"}
    except SoftTimeLimitExceeded:
        # The service has closed the run record (partial or failed, with the
        # reason); ending normally keeps acks_late from queueing the run again.
        logger.warning("refresh_citations stopped by its soft time limit")
        return {"status": "stopped", "reason": "soft time limit"}
    # The service has logged the run's summary line.
    return {"status": run.status, "run": run.pk, "summary": refresh_summary(run)}


@shared_task(
    name="papers.refresh_yearly_citations",
    soft_time_limit=REFRESH_SOFT_TIME_LIMIT,
    time_limit=REFRESH_TIME_LIMIT,
)
def refresh_yearly_citations() -> dict:
    """Refresh citations per year from OpenAlex (weekly)."""
    from papers.services.yearly_citations import (
        RefreshAlreadyRunning,
        yearly_citations_refresh,
    )

    try:
        run = yearly_citations_refresh()
    except RefreshAlreadyRunning:
        logger.info("refresh_yearly_citations: another refresh is running, skipped")
        return {"status": "skipped", "reason": "another refresh is running"}
    except SoftTimeLimitExceeded:
        logger.warning("refresh_yearly_citations stopped by its soft time limit")
        return {"status": "stopped", "reason": "soft time limit"}
    return {"status": "failed" if run.failed else "done", "summary": run.summary()}


# --- the nightly video refresh (issue 12) -------------------------------------------
# 1,000 videos are about 2,000 bilibili calls: 35 minutes at 1 request/s.
VIDEO_REFRESH_SOFT_TIME_LIMIT = 100 * 60
VIDEO_REFRESH_TIME_LIMIT = 105 * 60


@shared_task(
    name="papers.refresh_videos",
    acks_late=True,
    soft_time_limit=VIDEO_REFRESH_SOFT_TIME_LIMIT,
    time_limit=VIDEO_REFRESH_TIME_LIMIT,
)
def refresh_videos(
    video_ids: list[int] | None = None,
    trigger: str = RefreshRun.Trigger.SCHEDULE,
) -> dict:
    """Refresh view counts, covers and chapters from bilibili and YouTube."""
    from papers.services.videos import (
        VideoRefreshAlreadyRunning,
        video_refresh_summary,
        videos_refresh,
    )

    try:
        run = videos_refresh(video_ids=video_ids, trigger=trigger)
    except VideoRefreshAlreadyRunning:
        logger.info("refresh_videos: another video refresh is running, nothing done")
        return {"status": "skipped", "reason": "another refresh is running"}
    except SoftTimeLimitExceeded:
        logger.warning("refresh_videos stopped by its soft time limit")
        return {"status": "stopped", "reason": "soft time limit"}
    return {"status": run.status, "run": run.pk, "summary": video_refresh_summary(run)}


# --- 请求精读 mail ----------------------------------------------------------------
# A mail server that is down or silent is retried with a doubling delay: 1, 2, 4, 8
# and 16 minutes (about half an hour in all), then the failure is logged as an
# error. Each attempt is bounded by EMAIL_TIMEOUT (settings), the task by its limits.
MAIL_MAX_RETRIES = 5
MAIL_RETRY_DELAY = 60
MAIL_SOFT_TIME_LIMIT = 2 * 60
MAIL_TIME_LIMIT = 3 * 60
# socket.timeout and refused connections are OSErrors.
MAIL_ERRORS = (OSError, smtplib.SMTPException)


def _send_mail(task, send, reading_request_id: int, what: str) -> None:
    try:
        send(reading_request_id=reading_request_id)
    except MAIL_ERRORS as exc:
        attempt = task.request.retries + 1
        if task.request.retries >= MAIL_MAX_RETRIES:
            logger.error(
                "%s for reading request %s not sent after %s attempts: %r",
                what,
                reading_request_id,
                attempt,
                exc,
            )
            raise
        countdown = MAIL_RETRY_DELAY * 2**task.request.retries
        logger.warning(
            "%s for reading request %s failed (attempt %s): %r; retrying in %s s",
            what,
            reading_request_id,
            attempt,
            exc,
            countdown,
        )
        raise task.retry(
            exc=exc, countdown=countdown, max_retries=MAIL_MAX_RETRIES
        ) from exc


@shared_task(
    bind=True,
    name="papers.reading_request_notify_managers",
    soft_time_limit=MAIL_SOFT_TIME_LIMIT,
    time_limit=MAIL_TIME_LIMIT,
)
def reading_request_notify_managers(self, reading_request_id: int) -> None:
    """Mail the managers about a new 请求精读."""
    from papers.services.reading_requests import reading_request_notify_managers

    _send_mail(
        self, reading_request_notify_managers, reading_request_id, "new-request mail"
    )


@shared_task(
    bind=True,
    name="papers.reading_request_notify_requester",
    soft_time_limit=MAIL_SOFT_TIME_LIMIT,
    time_limit=MAIL_TIME_LIMIT,
)
def reading_request_notify_requester(self, reading_request_id: int) -> None:
    """Mail the requester that their paper has been read."""
    from papers.services.reading_requests import reading_request_notify_requester

    _send_mail(self, reading_request_notify_requester, reading_request_id, "done mail")
