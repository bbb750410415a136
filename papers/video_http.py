"""HTTP plumbing shared by the video clients (``papers.bilibili``, ``papers.youtube``).

Like ``papers.semantic_scholar``: urllib3's ``Retry`` mounted on a requests
``Session``, ``Retry-After`` honoured, every request (retries included) paced by one
:class:`~papers.semantic_scholar.RateLimiter` for the life of the client. Two
differences, both for the nightly video job:

- the backoff sleep goes through a function the caller passes in, so tests drive a
  fake clock instead of waiting, and the benchmark can count the seconds;
- the first retry waits too (urllib3 sends it at once): bilibili answers a burst with
  412, and an immediate second try only prolongs the block.

A call that still fails is never an exception here: each client turns it into a
:class:`VideoProblem` for that one video, so one bad answer never aborts a run.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass
from enum import StrEnum
from itertools import takewhile

import requests
from requests.adapters import HTTPAdapter
from urllib3 import exceptions as urllib3_exceptions
from urllib3.util.retry import Retry

from papers.semantic_scholar import CallStats, RateLimiter

__all__ = [
    "CallStats",
    "PacedRetry",
    "ProblemKind",
    "RateLimiter",
    "VideoProblem",
    "build_session",
    "describe_exception",
]


class ProblemKind(StrEnum):
    """Why a platform gave no usable answer for a video. Stored values are kept."""

    UNAVAILABLE = "unavailable"  # gone or hidden on that platform: mark, never delete
    API_ERROR = "api_error"  # another non-zero ``code`` or a 4xx; recorded as is
    BLOCKED = "blocked"  # anti-crawl (HTTP 412, -412, -352, -799) after the retries
    SERVER = "server"  # 429, 5xx, timeouts, refused connections after the retries
    MALFORMED = "malformed"  # a 200 whose body is not the documented JSON
    INVALID = "invalid"  # the id we were given cannot be asked for; nothing sent
    QUOTA = "quota"  # YouTube: the day's quota is spent
    KEY_REFUSED = "key_refused"  # YouTube: the API key is wrong or restricted
    SKIPPED = "skipped"  # not asked: no key, or the platform already blocked us


@dataclass(frozen=True, slots=True)
class VideoProblem:
    """One video's failed answer: what kind, a message for the run record, and the
    platform's ``code`` and the HTTP status when there was one."""

    ref: str  # the id asked for: a BV id, "aid/cid", a YouTube id
    kind: ProblemKind
    message: str
    code: int | None = None
    status: int | None = None

    @property
    def unavailable(self) -> bool:
        return self.kind is ProblemKind.UNAVAILABLE

    def __str__(self) -> str:
        return f"{self.ref}: {self.kind}: {self.message}"


class PacedRetry(Retry):
    """urllib3's Retry with an injectable sleep, a backoff from the first retry, and
    hooks: ``on_retry`` when a retry is decided (for the stats), ``before_resend``
    after the wait and before the request goes out again (the rate limiter).

    The wait is ``Retry-After`` when the answer has one (capped at
    ``retry_after_max``), else ``backoff_factor * 2**(n-1)`` plus up to
    ``backoff_jitter`` for the n-th consecutive retry, capped at ``backoff_max``.
    """

    sleep_func: Callable[[float], None] = staticmethod(time.sleep)
    on_retry: Callable[[], None] | None = None
    before_resend: Callable[[], None] | None = None

    def new(self, **kw):
        retry = super().new(**kw)
        retry.sleep_func = self.sleep_func
        retry.on_retry = self.on_retry
        retry.before_resend = self.before_resend
        return retry

    def increment(self, *args, **kwargs):
        retry = super().increment(*args, **kwargs)  # raises when out of tries
        if self.on_retry is not None:
            self.on_retry()
        return retry

    def get_backoff_time(self) -> float:
        consecutive = len(
            list(takewhile(lambda h: h.redirect_location is None, self.history[::-1]))
        )
        if consecutive == 0:
            return 0.0
        value = self.backoff_factor * 2 ** (consecutive - 1)
        if self.backoff_jitter:
            value += random.random() * self.backoff_jitter
        return float(max(0.0, min(self.backoff_max, value)))

    def sleep(self, response=None) -> None:
        delay = None
        if self.respect_retry_after_header and response is not None:
            try:
                delay = self.get_retry_after(response)
            except urllib3_exceptions.InvalidHeader:
                delay = None  # a garbled header: fall back to the backoff
        if delay is None:
            delay = self.get_backoff_time()
        if delay > 0:
            self.sleep_func(delay)
        if self.before_resend is not None:
            self.before_resend()


def build_session(
    *,
    retry_statuses: Collection[int],
    max_retries: int,
    backoff_factor: float,
    backoff_jitter: float,
    backoff_max: float,
    retry_after_max: int,
    rate_limiter: RateLimiter,
    stats: CallStats,
    sleep: Callable[[float], None],
    headers: dict[str, str],
    session: requests.Session | None = None,
) -> requests.Session:
    """A Session (the one given, or a new one) with a :class:`PacedRetry` mounted."""
    retry = PacedRetry(
        total=max_retries,
        connect=max_retries,
        read=max_retries,
        status=max_retries,
        other=0,
        redirect=0,
        allowed_methods=frozenset({"GET"}),
        status_forcelist=frozenset(retry_statuses),
        backoff_factor=backoff_factor,
        backoff_jitter=backoff_jitter,
        backoff_max=backoff_max,
        respect_retry_after_header=True,
        retry_after_max=retry_after_max,
        # Hand back the last failing response instead of raising, so its status
        # and body go into the problem.
        raise_on_status=False,
    )
    retry.sleep_func = sleep

    def count_retry() -> None:
        stats.retries += 1
        stats.requests += 1

    retry.on_retry = count_retry
    retry.before_resend = rate_limiter.wait
    adapter = HTTPAdapter(max_retries=retry)
    session = session if session is not None else requests.Session()
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    session.headers.update(headers)
    return session


def describe_exception(exc: requests.RequestException) -> str:
    """Says "timed out: …" or "no answer: …", without urllib3's pool and URL text
    (a URL could carry a key)."""
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    timed_out = isinstance(exc, requests.Timeout) or (
        isinstance(reason, TimeoutError | urllib3_exceptions.TimeoutError)
        and not isinstance(reason, urllib3_exceptions.NewConnectionError)
    )
    kind = "timed out" if timed_out else "no answer"
    root = reason if reason is not None else exc
    return f"{kind}: {type(root).__name__}"
