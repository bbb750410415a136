"""The production gunicorn (readinglist/gunicorn.conf.py), started for real on
127.0.0.1: slow clients do not starve it, and its log lines are JSON objects."""

import contextlib
import importlib.util
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from tests.helpers import stop_process

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "readinglist" / "gunicorn.conf.py"
STARTUP_TIMEOUT = 60


@pytest.fixture
def gunicorn(tmp_path):
    """A gunicorn with the production config (its default workers and threads) on a
    free loopback port; yields (base URL, path of its stderr)."""
    static = tmp_path / "static"
    static.mkdir()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "readinglist.settings",
        "DJANGO_SECRET_KEY": "gunicorn-test-secret-key-0123456789abcdefghijklm",
        "DJANGO_DEBUG": "0",
        "DJANGO_LOG_FORMAT": "json",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DJANGO_STATIC_ROOT": str(static),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "CELERY_BROKER_URL": "memory://",
        "DJANGO_SECURE_SSL_REDIRECT": "0",
        "GUNICORN_BIND": "127.0.0.1:0",
    }
    for name in ("CACHE_URL", "GUNICORN_WORKERS", "GUNICORN_THREADS"):
        env.pop(name, None)
    stderr_path = tmp_path / "gunicorn.err"
    with stderr_path.open("w") as stderr:
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", str(CONFIG), "readinglist.wsgi"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        port = None
        while port is None or not _answers(port):
            if server.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"gunicorn did not start:\n{stderr_path.read_text()}")
            found = re.search(
                r"Listening at: http://127\.0\.0\.1:(\d+)", _text(stderr_path)
            )
            port = int(found[1]) if found else None
            time.sleep(0.2)
        yield f"http://127.0.0.1:{port}", stderr_path
    finally:
        stop_process(server, timeout=30)


def _text(path: Path) -> str:
    return path.read_text(errors="replace")


def _answers(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5):
            return True
    except urllib.error.HTTPError:
        return True
    except OSError:
        return False


def probe(url: str, method: str = "GET") -> int | None:
    """The status of the request, or None when it does not answer within 5 s."""
    try:
        request = urllib.request.Request(url, method=method)
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError:
        return None


def test_slow_clients_do_not_starve_the_workers(gunicorn):
    """Slowloris: 20 connections each sending one header line every 3 s for about
    10 s, while a load balancer probes /healthz every second."""
    base, _stderr = gunicorn
    host, port = base.removeprefix("http://").split(":")
    stop = threading.Event()
    drippers = []
    for _ in range(20):
        sock = socket.create_connection((host, int(port)), timeout=5)
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        drippers.append(sock)

    def drip():
        n = 0
        while not stop.wait(3):
            n += 1
            for sock in drippers:
                with contextlib.suppress(OSError):
                    sock.sendall(f"X-Drip-{n}: 1\r\n".encode())

    thread = threading.Thread(target=drip, daemon=True)
    thread.start()
    try:
        answers = []
        started = time.monotonic()
        while time.monotonic() - started < 10:
            answers.append(probe(f"{base}/healthz"))
            time.sleep(1)
    finally:
        stop.set()
        thread.join(timeout=5)
        for sock in drippers:
            sock.close()

    assert len(answers) >= 5
    assert answers == [200] * len(answers)


def test_gunicorn_log_lines_are_json_objects(gunicorn):
    base, stderr_path = gunicorn
    assert probe(f"{base}/healthz?token=secret") == 200
    assert probe(f"{base}/healthz", method="POST") == 403  # no CSRF token
    time.sleep(0.5)  # the access line is written after the answer

    lines = [line for line in _text(stderr_path).splitlines() if line.strip()]
    events = [json.loads(line) for line in lines]  # every line is one JSON object

    loggers = {event["logger"] for event in events}
    assert {"gunicorn.error", "gunicorn.access"} <= loggers
    assert any(name.startswith("django.") for name in loggers)  # the app's own
    access = [e for e in events if e["logger"] == "gunicorn.access"]
    assert {"method": "GET", "path": "/healthz", "status": 200}.items() <= access[
        0
    ].items()
    assert any(e["method"] == "POST" and e["status"] == 403 for e in access)
    assert "secret" not in _text(stderr_path)


@pytest.mark.parametrize(
    "address, exposed",
    [
        (("127.0.0.1", 8000), False),
        (("::1", 8000, 0, 0), False),
        (("10.0.0.12", 8000), False),
        ("/run/readinglist/gunicorn.sock", False),
        (("0.0.0.0", 8000), True),
        (("::", 8000, 0, 0), True),
        (("203.0.113.7", 8000), False),  # documentation range: not global
        (("8.8.8.8", 8000), True),
    ],
)
def test_gunicorn_warns_when_listening_where_anyone_reaches_it(address, exposed):
    spec = importlib.util.spec_from_file_location("gunicorn_conf", CONFIG)
    config = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(config)

    assert config._is_exposed(address) is exposed
