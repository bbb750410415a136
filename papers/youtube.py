"""The YouTube Data API v3 client: view counts and durations from ``videos.list``.

It knows HTTP and nothing of the ORM: it takes video ids and answers, for every id
asked, a :class:`YouTubeStats` or a :class:`~papers.video_http.VideoProblem`. Ids go
50 to a call (the most ``videos.list`` takes), one quota unit per call
(docs/video-sources.md). The key travels in the ``X-Goog-Api-Key`` header, never in
a URL, so it cannot reach a log line or an exception message.

Without a key the client sends nothing: every id is ``SKIPPED`` and one line is
logged. A spent quota (403 ``quotaExceeded``) or a refused key (400 ``keyInvalid``,
403 ``forbidden``…) stops the run's remaining calls too: each would fail the same
way and cost quota.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

import requests

from papers.video_http import (
    CallStats,
    ProblemKind,
    RateLimiter,
    VideoProblem,
    build_session,
    describe_exception,
)

__all__ = ["BATCH_LIMIT", "DEFAULT_BASE_URL", "YouTubeClient", "YouTubeStats"]

logger = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://www.googleapis.com/youtube/v3"
BATCH_LIMIT = 50
PARTS = "statistics,contentDetails,snippet"
RETRY_STATUSES = (429, 500, 502, 503, 504)
QUOTA_REASONS = frozenset(
    {
        "quotaExceeded",
        "dailyLimitExceeded",
        "rateLimitExceeded",
        "userRateLimitExceeded",
    }
)
KEY_REASONS = frozenset(
    {"keyInvalid", "keyExpired", "API_KEY_INVALID", "forbidden", "accessNotConfigured"}
)
_VIDEO_ID = re.compile(r"[0-9A-Za-z_-]{11}")
# ISO 8601 durations as YouTube writes them: PT1H2M3S, P1DT2H, P0D (live).
_DURATION = re.compile(
    r"P(?:(?P<d>\d+)D)?(?:T(?:(?P<h>\d+)H)?(?:(?P<m>\d+)M)?(?:(?P<s>\d+)S)?)?"
)


@dataclass(frozen=True, slots=True)
class YouTubeStats:
    """What ``videos.list`` says about one video."""

    video_id: str
    view_count: int | None  # None when the owner hides it
    duration_seconds: int | None
    title: str = ""
    published: datetime | None = None


class YouTubeClient:
    """``videos.list`` for any number of ids, 50 to a call, paced to ``max_rps``,
    with the same retries and injectable clock as ``papers.bilibili``."""

    def __init__(
        self,
        api_key: str,
        base_url: str = DEFAULT_BASE_URL,
        max_rps: float | None = 1.0,
        session: requests.Session | None = None,
        *,
        connect_timeout: float = 5.0,
        read_timeout: float = 20.0,
        max_retries: int = 4,
        backoff_factor: float = 2.0,
        backoff_jitter: float = 1.0,
        backoff_max: float = 60.0,
        retry_after_max: int = 120,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.base_url = base_url.rstrip("/")
        self.enabled = bool(api_key and api_key.strip())
        self.timeout = (connect_timeout, read_timeout)
        self.rate_limiter = RateLimiter(max_rps, clock=clock, sleep=sleep)
        self.stats = CallStats()
        self.stopped: VideoProblem | None = None  # quota spent or key refused
        headers = {"Accept": "application/json"}
        if self.enabled:
            headers["X-Goog-Api-Key"] = api_key.strip()
        self.session = build_session(
            retry_statuses=RETRY_STATUSES,
            max_retries=max_retries,
            backoff_factor=backoff_factor,
            backoff_jitter=backoff_jitter,
            backoff_max=backoff_max,
            retry_after_max=retry_after_max,
            rate_limiter=self.rate_limiter,
            stats=self.stats,
            sleep=sleep,
            headers=headers,
            session=session,
        )

    def __repr__(self) -> str:
        return f"<YouTubeClient {self.base_url}>"  # never the key

    def close(self) -> None:
        self.session.close()

    def __enter__(self) -> YouTubeClient:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def statistics(self, ids: Iterable[str]) -> dict[str, YouTubeStats | VideoProblem]:
        """An answer for every distinct id asked, in the order asked: the stats, or
        ``UNAVAILABLE`` (not in the answer: deleted or private), or the problem of
        its call."""
        wanted = list(dict.fromkeys(ids))
        answers: dict[str, YouTubeStats | VideoProblem] = {}
        if not self.enabled:
            if wanted:
                logger.info(
                    "YOUTUBE_API_KEY is not set: YouTube statistics skipped for %d "
                    "videos",
                    len(wanted),
                )
            return {
                i: VideoProblem(i, ProblemKind.SKIPPED, "no YouTube API key")
                for i in wanted
            }
        valid = []
        for video_id in wanted:
            if isinstance(video_id, str) and _VIDEO_ID.fullmatch(video_id):
                valid.append(video_id)
            else:
                answers[video_id] = VideoProblem(
                    str(video_id)[:40],
                    ProblemKind.INVALID,
                    f"not a YouTube video id: {video_id!r}",
                )
        for start in range(0, len(valid), BATCH_LIMIT):
            chunk = valid[start : start + BATCH_LIMIT]
            answers.update(self._chunk(chunk))
        return {i: answers[i] for i in wanted}

    # --- one call ---

    def _chunk(self, ids: list[str]) -> dict[str, YouTubeStats | VideoProblem]:
        if self.stopped is not None:
            reason = f"not asked: {self.stopped.message}"
            return {i: VideoProblem(i, ProblemKind.SKIPPED, reason) for i in ids}
        self.rate_limiter.wait()
        self.stats.requests += 1
        retries_before = self.stats.retries
        try:
            response = self.session.get(
                f"{self.base_url}/videos",
                params={"part": PARTS, "id": ",".join(ids)},
                timeout=self.timeout,
            )
        except requests.RequestException as exc:
            tries = self.stats.retries - retries_before + 1
            message = f"{describe_exception(exc)} after {tries} tries"
            return _all(ids, ProblemKind.SERVER, message)
        tries = self.stats.retries - retries_before + 1
        if response.status_code != 200:
            return self._error(ids, response, tries)
        try:
            body = json.loads(response.content)
        except ValueError as exc:
            message = (
                f"HTTP 200 with a body that is not JSON "
                f"({len(response.content)} bytes): {exc}"
            )
            return _all(ids, ProblemKind.MALFORMED, message, status=200)
        items = body.get("items") if isinstance(body, dict) else None
        if not isinstance(items, list):
            return _all(ids, ProblemKind.MALFORMED, "no items list", status=200)
        found: dict[str, YouTubeStats | VideoProblem] = {}
        for item in items:
            if isinstance(item, dict) and item.get("id") in ids:
                found[item["id"]] = _parse_item(item)
        return {
            i: found.get(i)
            or VideoProblem(
                i, ProblemKind.UNAVAILABLE, "not in the answer: deleted or private"
            )
            for i in ids
        }

    def _error(
        self, ids: list[str], response: requests.Response, tries: int
    ) -> dict[str, VideoProblem]:
        status = response.status_code
        reason, message = _google_error(response)
        text = f"HTTP {status} {reason or ''} after {tries} tries: {message}"
        text = " ".join(text.split())
        if status in (400, 403) and reason in QUOTA_REASONS:
            kind = ProblemKind.QUOTA
        elif status in (400, 401, 403) and (
            reason in KEY_REASONS or "API key" in message
        ):
            kind = ProblemKind.KEY_REFUSED
        elif status in RETRY_STATUSES or status >= 500:
            kind = ProblemKind.SERVER
        else:
            kind = ProblemKind.API_ERROR
        problems = _all(ids, kind, text, status=status)
        if kind in (ProblemKind.QUOTA, ProblemKind.KEY_REFUSED):
            self.stopped = problems[ids[0]]
            logger.warning("YouTube statistics stopped: %s", text)
        return problems


def _all(
    ids: list[str], kind: ProblemKind, message: str, *, status: int | None = None
) -> dict[str, VideoProblem]:
    return {i: VideoProblem(i, kind, message, status=status) for i in ids}


def _google_error(response: requests.Response) -> tuple[str, str]:
    """(reason, message) from Google's ``{"error": {"errors": [{"reason": …}]}}``."""
    try:
        body = response.json()
    except ValueError:
        return "", " ".join(response.text[:200].split()) or response.reason or ""
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return "", str(body)[:200]
    message = re.sub(r"<[^>]+>", "", str(error.get("message") or ""))[:300]
    reason = ""
    errors = error.get("errors")
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        reason = str(errors[0].get("reason") or "")
    if not reason:
        for detail in error.get("details") or ():
            if isinstance(detail, dict) and detail.get("reason"):
                reason = str(detail["reason"])
                break
    return reason, message


def _parse_item(item: dict) -> YouTubeStats | VideoProblem:
    video_id = item["id"]
    statistics = item.get("statistics") or {}
    details = item.get("contentDetails") or {}
    snippet = item.get("snippet") or {}
    if not all(isinstance(x, dict) for x in (statistics, details, snippet)):
        return VideoProblem(
            video_id, ProblemKind.MALFORMED, "a part is not an object", status=200
        )
    raw_views = statistics.get("viewCount")  # a string of digits in the JSON
    if raw_views is None:
        views = None
    elif isinstance(raw_views, str | int) and str(raw_views).isdigit():
        views = int(raw_views)
    else:
        return VideoProblem(
            video_id, ProblemKind.MALFORMED, f"viewCount {raw_views!r}", status=200
        )
    title = snippet.get("title")
    return YouTubeStats(
        video_id=video_id,
        view_count=views,
        duration_seconds=iso_duration_seconds(details.get("duration")),
        title=title.strip()[:300] if isinstance(title, str) else "",
        published=_datetime(snippet.get("publishedAt")),
    )


def iso_duration_seconds(value: object) -> int | None:
    """Seconds in an ISO 8601 duration as YouTube gives them; None if unreadable."""
    if not isinstance(value, str):
        return None
    match = _DURATION.fullmatch(value.strip())
    if match is None or value.strip() in ("P", "PT"):
        return None
    parts = {k: int(v) for k, v in match.groupdict(default="0").items()}
    return ((parts["d"] * 24 + parts["h"]) * 60 + parts["m"]) * 60 + parts["s"]


def _datetime(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None
