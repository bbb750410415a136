"""Fixed-window rate limits for what a client can repeat (请求精读 submits, votes,
hints), counted in the database.

Why not the cache: under ``maxmemory`` a page-cache flood evicts keys, and the
eviction policy is per Redis instance, so counters beside the pages could vanish and
hand a client its quota back; and with Redis down the limiter must not turn the form
into a 500. A row per client and window, incremented with ``F("count") + 1`` under a
unique constraint, is atomic on SQLite and PostgreSQL. Old windows are purged when a
new window's first row is written.
"""

from __future__ import annotations

import math
import time

from django.db import IntegrityError, transaction
from django.db.models import F

from papers.models import RateLimitCounter

WINDOW_SECONDS = 60 * 60
# The clock; tests move it forward.
_clock = time.time

__all__ = ["WINDOW_SECONDS", "count", "hit"]


def _window(now: float) -> int:
    return int(now // WINDOW_SECONDS)


def _key(scope: str, identity: str) -> str:
    return f"{scope}:{identity}"


@transaction.atomic
def _increment(key: str, window: int) -> int:
    counters = RateLimitCounter.objects.filter(key=key, window=window)
    if not counters.update(count=F("count") + 1):
        try:
            with transaction.atomic():
                RateLimitCounter.objects.create(key=key, window=window, count=1)
        except IntegrityError:
            # Another worker created it between our UPDATE and INSERT.
            counters.update(count=F("count") + 1)
        else:
            RateLimitCounter.objects.filter(window__lt=window).delete()
            return 1
    # Our UPDATE holds the row lock until commit, so this reads our own increment.
    return counters.values_list("count", flat=True).get()


def hit(scope: str, identity: str, limit: int) -> int:
    """Count one attempt by ``identity``; the seconds until its window ends when it
    is over ``limit``, else 0."""
    now = _clock()
    if _increment(_key(scope, identity), _window(now)) <= limit:
        return 0
    return math.ceil(WINDOW_SECONDS - now % WINDOW_SECONDS)


def count(scope: str, identity: str) -> int:
    """Attempts by ``identity`` in the current window (for tests and the admin)."""
    return (
        RateLimitCounter.objects.filter(
            key=_key(scope, identity), window=_window(_clock())
        )
        .values_list("count", flat=True)
        .first()
        or 0
    )
