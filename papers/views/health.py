"""``/healthz`` for load balancers and monitoring.

200 with ``"ok"`` or ``"degraded"`` (the site serves pages, something needs a look),
503 with ``"fail"`` only when the database is unreachable: without it no page can be
rendered. A broker or cache that is down degrades the site (pages render uncached,
tasks wait) but taking every web machine out of the load balancer for it would turn
a degraded site into no site. The body names each check; it never holds a URL, a
host name or an error message (they can carry credentials), only the type of the
error, which is logged in full.

Each dependency is checked in a thread of its own with a deadline, so a server that
accepts connections and never answers costs a probe ``DEADLINE_SECONDS``, not a hung
worker. A check still waiting from an earlier probe is waited on again, not started
twice: a hung dependency holds at most one thread per check. The broker check keeps
one Redis client per process, the cache check uses the cache's own client; the
database check opens a connection of its own each time.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
import uuid
from concurrent.futures import Future, ThreadPoolExecutor

import redis
from django.conf import settings
from django.core.cache import cache
from django.db import DEFAULT_DB_ALIAS, connections
from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from kombu import Connection

from papers.models import RefreshRun

logger = logging.getLogger(__name__)

OK, DEGRADED, FAIL = "ok", "degraded", "fail"
# The refresh runs nightly; a day and a half without a good run means it is failing.
CITATIONS_MAX_AGE_HOURS = 36
# Checks whose failure means the site cannot do its job: answer 503.
CRITICAL = ("database",)
# How long one probe waits for all the checks together. The page cache middleware
# may have spent up to REDIS_SOCKET_TIMEOUT before the view runs.
DEADLINE_SECONDS = 2.0
# Connect and read timeouts of the broker check's own Redis client.
BROKER_TIMEOUT_SECONDS = 1.0


class CheckTimeout(Exception):
    """The check did not answer within the probe's deadline."""


def _failed(name: str, exc: BaseException) -> dict:
    logger.error("health check %s failed", name, exc_info=exc, extra={"check": name})
    return {"status": FAIL, "error": type(exc).__name__}


# --------------------------------------------------------------------------------------
# The checks (each runs in its own thread)


def _database_connection():
    return connections[DEFAULT_DB_ALIAS]


def check_database() -> dict:
    # A new connection each probe (Django's belong to a thread; this is the check
    # thread's), closed at once: it proves that new connections are possible
    # (max_connections not exhausted) and holds no server session between probes.
    # DATABASE_CONNECT_TIMEOUT bounds the wait on a server that never answers.
    connection = _database_connection()
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:
        return _failed("database", exc)
    finally:
        connection.close()
    return {"status": OK}


@functools.cache
def _redis_client(url: str) -> redis.Redis:
    return redis.Redis.from_url(
        url,
        socket_connect_timeout=BROKER_TIMEOUT_SECONDS,
        socket_timeout=BROKER_TIMEOUT_SECONDS,
        health_check_interval=0,
    )


def check_broker() -> dict:
    url = settings.CELERY_BROKER_URL
    try:
        if url.startswith(("redis://", "rediss://", "unix://")):
            _redis_client(url).ping()
        else:
            # filesystem:// and memory://: local, nothing to keep open.
            with Connection(
                url,
                connect_timeout=BROKER_TIMEOUT_SECONDS,
                transport_options=settings.CELERY_BROKER_TRANSPORT_OPTIONS,
            ) as broker:
                broker.ensure_connection(
                    max_retries=1, interval_start=0, timeout=BROKER_TIMEOUT_SECONDS
                )
    except Exception as exc:
        return _failed("broker", exc)
    return {"status": OK}


def check_cache() -> dict:
    key = f"healthz:{uuid.uuid4().hex}"
    try:
        cache.set(key, 1, 10)
        found = cache.get(key)
        cache.delete(key)
    except Exception as exc:
        return _failed("cache", exc)
    # The site works without its cache (pages are rendered), only slower.
    return {"status": OK if found == 1 else DEGRADED}


CHECKS = {"database": check_database, "broker": check_broker, "cache": check_cache}


class _Runner:
    """One thread per check, and the check's last future, across probes."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._executors: dict[str, ThreadPoolExecutor] = {}
        self._running: dict[str, Future] = {}

    def start(self, name: str) -> Future:
        with self._lock:
            future = self._running.get(name)
            if future is None or future.done():
                executor = self._executors.get(name)
                if executor is None:
                    executor = self._executors[name] = ThreadPoolExecutor(
                        max_workers=1, thread_name_prefix=f"healthz-{name}"
                    )
                future = self._running[name] = executor.submit(CHECKS[name])
            return future


_runner = _Runner()


def run_checks(names, *, deadline: float = DEADLINE_SECONDS) -> dict[str, dict]:
    """Run the checks together; those not done by ``deadline`` seconds fail."""
    futures = {name: _runner.start(name) for name in names}
    end = time.monotonic() + deadline
    results = {}
    for name, future in futures.items():
        try:
            results[name] = future.result(timeout=max(end - time.monotonic(), 0))
        except TimeoutError:
            results[name] = _failed(name, CheckTimeout(f"no answer in {deadline} s"))
        except Exception as exc:
            results[name] = _failed(name, exc)
    return results


# --------------------------------------------------------------------------------------
# The freshness of the data (on the request's own connection)


def check_citations() -> dict:
    return _check_refresh("citations", RefreshRun.Kind.CITATIONS)


def check_videos() -> dict:
    """The nightly video refresh's age; "disabled" (and ok) when neither bilibili
    (BILIBILI_API_URL empty) nor YouTube (no key) is configured."""
    if not settings.BILIBILI_API_URL and not settings.YOUTUBE_API_KEY:
        return {"status": OK, "disabled": True}
    return _check_refresh("videos", RefreshRun.Kind.VIDEOS)


def _check_refresh(name: str, kind: str) -> dict:
    try:
        last = (
            RefreshRun.objects.successful()
            .filter(kind=kind)
            .values_list("finished_at", flat=True)
            .first()
        )
    except Exception as exc:
        return _failed(name, exc)
    if last is None:
        return {"status": DEGRADED, "age_hours": None, "last_success": None}
    age_hours = (timezone.now() - last).total_seconds() / 3600
    return {
        "status": OK if age_hours <= CITATIONS_MAX_AGE_HOURS else DEGRADED,
        "age_hours": round(age_hours, 1),
        "last_success": last.isoformat(),
    }


@never_cache
@require_safe
def healthz(request):
    checks = run_checks(CHECKS)
    if checks["database"]["status"] == OK:
        checks["citations"] = check_citations()
        checks["videos"] = check_videos()
    else:
        # Asking the database again here would wait on it a second time.
        checks["citations"] = {"status": FAIL, "error": "DatabaseUnavailable"}
        checks["videos"] = {"status": FAIL, "error": "DatabaseUnavailable"}
    if any(checks[name]["status"] == FAIL for name in CRITICAL):
        status = FAIL
    elif all(check["status"] == OK for check in checks.values()):
        status = OK
    else:
        status = DEGRADED
    return JsonResponse(
        {"status": status, "checks": checks},
        status=503 if status == FAIL else 200,
    )
