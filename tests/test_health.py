import datetime as dt
import socket
import time
from unittest import mock

import pytest
from django.core.cache import caches
from django.db import connections
from django.db.utils import OperationalError, load_backend
from django.urls import reverse
from django.utils import timezone

from papers.models import RefreshRun
from papers.views import health

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


@pytest.fixture
def silent_port():
    """A port whose server accepts connections (the kernel completes them) and never
    answers: a PostgreSQL or Redis stopped with SIGSTOP looks like this."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(64)
        yield sock.getsockname()[1]


# Generous: a hung check would make the probe wait forever (or for minutes).
PROMPT_SECONDS = 5


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
    assert set(body["checks"]) == {"database", "broker", "cache", "citations", "videos"}
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


def test_broker_down_only_degrades_without_leaking_the_url(client, settings):
    # A load balancer must not pull every web machine because Celery's Redis is down.
    finished_run(hours_ago=1)
    settings.CELERY_BROKER_URL = f"redis://:s3cret-pw@127.0.0.1:{closed_port()}/0"

    response = get_health(client)

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "degraded"
    assert body["checks"]["broker"] == {"status": "fail", "error": "ConnectionError"}
    assert body["checks"]["database"]["status"] == "ok"
    assert "s3cret" not in response.text
    assert "127.0.0.1" not in response.text


def test_a_hung_broker_answers_promptly_and_degraded(client, settings, silent_port):
    finished_run(hours_ago=1)
    settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{silent_port}/0"

    started = time.monotonic()
    response = get_health(client)

    assert time.monotonic() - started < PROMPT_SECONDS
    assert response.status_code == 200
    assert response.json()["status"] == "degraded"
    assert response.json()["checks"]["broker"]["status"] == "fail"


def test_the_broker_check_reuses_one_redis_client(client, settings):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:6390/0"
    with mock.patch("redis.Redis.ping", autospec=True, return_value=True) as ping:
        for _ in range(3):
            assert get_health(client).json()["checks"]["broker"] == {"status": "ok"}

    assert ping.call_count == 3
    assert len({id(call.args[0]) for call in ping.call_args_list}) == 1


def test_a_hung_cache_answers_promptly_and_degraded(client, settings, silent_port):
    finished_run(hours_ago=1)
    settings.CACHES = {
        "default": {
            "BACKEND": "papers.cache.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{silent_port}/0",
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }

    started = time.monotonic()
    response = get_health(client)

    assert time.monotonic() - started < PROMPT_SECONDS
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "degraded"
    assert body["checks"]["cache"] == {"status": "fail", "error": "TimeoutError"}
    assert body["checks"]["database"]["status"] == "ok"


@pytest.fixture
def hung_database(monkeypatch):
    """The health check's database is a PostgreSQL that never answers (a separate
    connection: the test database stays usable)."""
    backend = load_backend("django.db.backends.postgresql")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(64)
        config = connections.configure_settings(
            {
                "default": {
                    "ENGINE": "django.db.backends.postgresql",
                    "HOST": "127.0.0.1",
                    "PORT": sock.getsockname()[1],
                    "NAME": "never",
                    "USER": "never",
                    "OPTIONS": {"connect_timeout": 3},
                }
            }
        )["default"]
        monkeypatch.setattr(
            health,
            "_database_connection",
            lambda: backend.DatabaseWrapper(config, alias="healthz-hung"),
        )
        yield
    # The socket is closed: let the stuck check end before the next test probes.
    health._runner.start("database").result(timeout=10)


def test_a_hung_database_answers_503_promptly(client, hung_database):
    started = time.monotonic()
    first = get_health(client)
    # The next probe waits on the same stuck check instead of starting another.
    second = get_health(client)
    elapsed = time.monotonic() - started

    assert elapsed < 2 * PROMPT_SECONDS
    for response in (first, second):
        assert response.status_code == 503
        body = response.json()
        assert body["status"] == "fail"
        assert body["checks"]["database"]["status"] == "fail"
        assert body["checks"]["database"]["error"] in (
            "CheckTimeout",
            "OperationalError",
        )
        assert body["checks"]["citations"]["status"] == "fail"
    assert first.json()["checks"]["database"]["error"] == "CheckTimeout"


def test_database_failure_is_503(client):
    # Only the health check's own connection handle fails; the test database stays.
    with mock.patch.object(health, "connections") as handler:
        handler.__getitem__.return_value.cursor.side_effect = OperationalError(
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
    # The check runs in a thread of its own, with its own cache handle: patch the class.
    with mock.patch.object(type(caches["default"]), "set", side_effect=ConnectionError):
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
