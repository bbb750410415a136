"""``/healthz`` for load balancers and monitoring.

200 with ``"ok"`` or ``"degraded"`` (the site serves pages, something needs a look),
503 with ``"fail"`` when the database or the broker is unreachable. The body names each
check; it never holds a URL, a host name or an error message (they can carry
credentials), only the type of the error, which is logged in full.
"""

from __future__ import annotations

import logging
import uuid

from django.conf import settings
from django.core.cache import cache
from django.db import connection
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
CRITICAL = ("database", "broker")
TIMEOUT_SECONDS = 2


def _failed(name: str, exc: Exception) -> dict:
    logger.error("health check %s failed", name, exc_info=exc, extra={"check": name})
    return {"status": FAIL, "error": type(exc).__name__}


def check_database() -> dict:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:
        return _failed("database", exc)
    return {"status": OK}


def check_broker() -> dict:
    try:
        with Connection(
            settings.CELERY_BROKER_URL,
            connect_timeout=TIMEOUT_SECONDS,
            transport_options=getattr(settings, "CELERY_BROKER_TRANSPORT_OPTIONS", {}),
        ) as broker:
            broker.ensure_connection(
                max_retries=1, interval_start=0, timeout=TIMEOUT_SECONDS
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


def check_citations() -> dict:
    try:
        last = (
            RefreshRun.objects.filter(
                status__in=[RefreshRun.Status.SUCCEEDED, RefreshRun.Status.PARTIAL],
                finished_at__isnull=False,
            )
            .order_by("-finished_at")
            .values_list("finished_at", flat=True)
            .first()
        )
    except Exception as exc:
        return _failed("citations", exc)
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
    checks = {
        "database": check_database(),
        "broker": check_broker(),
        "cache": check_cache(),
        "citations": check_citations(),
    }
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
