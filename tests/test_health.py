import datetime as dt
import socket
from unittest import mock

import pytest
from django.db.utils import OperationalError
from django.urls import reverse
from django.utils import timezone

from papers.models import RefreshRun

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _reachable_broker(settings):
    # kombu's in-memory transport: always there, no server needed.
    settings.CELERY_BROKER_URL = "memory://"
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {}


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def finished_run(*, hours_ago: float, status=RefreshRun.Status.SUCCEEDED):
    finished = timezone.now() - dt.timedelta(hours=hours_ago)
    return RefreshRun.objects.create(
        started_at=finished - dt.timedelta(minutes=5),
        finished_at=finished,
        status=status,
    )


def get_health(client):
    return client.get(reverse("healthz"))


def test_healthz_is_ok_after_a_recent_refresh(client):
    finished_run(hours_ago=2)

    response = get_health(client)

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert set(body["checks"]) == {"database", "broker", "cache", "citations"}
    assert body["checks"]["database"] == {"status": "ok"}
    assert body["checks"]["broker"] == {"status": "ok"}
    assert body["checks"]["citations"]["status"] == "ok"
    assert body["checks"]["citations"]["age_hours"] == pytest.approx(2, abs=0.1)


def test_healthz_is_never_cached(client):
    response = get_health(client)

    assert "no-store" in response["Cache-Control"]
    assert response["Content-Type"] == "application/json"


def test_partial_refresh_counts_as_a_refresh(client):
    finished_run(hours_ago=1, status=RefreshRun.Status.PARTIAL)

    assert get_health(client).json()["checks"]["citations"]["status"] == "ok"


def test_old_refresh_is_degraded_but_still_200(client):
    finished_run(hours_ago=37)
    # A newer failed or still running run does not count as a success.
    finished_run(hours_ago=1, status=RefreshRun.Status.FAILED)
    RefreshRun.objects.create(status=RefreshRun.Status.RUNNING)

    response = get_health(client)

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "degraded"
    assert body["checks"]["citations"]["status"] == "degraded"
    assert body["checks"]["citations"]["age_hours"] == pytest.approx(37, abs=0.1)


def test_no_refresh_ever_is_degraded(client):
    response = get_health(client)

    assert response.status_code == 200
    assert response.json()["checks"]["citations"] == {
        "status": "degraded",
        "age_hours": None,
        "last_success": None,
    }


def test_broker_down_is_503_without_leaking_the_url(client, settings):
    finished_run(hours_ago=1)
    settings.CELERY_BROKER_URL = f"redis://:s3cret-pw@127.0.0.1:{closed_port()}/0"

    response = get_health(client)

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "fail"
    assert body["checks"]["broker"]["status"] == "fail"
    assert body["checks"]["database"]["status"] == "ok"
    assert "s3cret" not in response.text
    assert "127.0.0.1" not in response.text


def test_database_failure_is_503(client):
    # Only the health check's own connection handle fails; the test database stays.
    with mock.patch("papers.views.health.connection") as connection:
        connection.cursor.side_effect = OperationalError(
            "could not connect to server: password=hunter2"
        )
        response = get_health(client)

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "fail"
    assert body["checks"]["database"] == {
        "status": "fail",
        "error": "OperationalError",
    }
    assert "hunter2" not in response.text


def test_cache_failure_only_degrades(client):
    finished_run(hours_ago=1)
    with mock.patch("papers.views.health.cache.set", side_effect=ConnectionError):
        response = get_health(client)

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "degraded"
    assert body["checks"]["cache"]["status"] == "fail"


def test_healthz_answers_head_and_refuses_post(client):
    assert client.head(reverse("healthz")).status_code == 200
    assert client.post(reverse("healthz")).status_code == 405


def test_healthz_is_probed_over_http_despite_the_ssl_redirect(client, settings):
    settings.SECURE_SSL_REDIRECT = True

    assert client.get(reverse("healthz")).status_code == 200
    assert client.get(reverse("admin:login")).status_code == 301
