"""Fixtures; the plain helpers the tests share are in tests/helpers.py."""

import os
from urllib.parse import urlsplit

import pytest

from tests.helpers import EXCERPT, SEED_LIST, port_open, read_full_readme, require


@pytest.fixture(autouse=True)
def _service_markers(request):
    if request.node.get_closest_marker("postgres"):
        from django.db import connection

        require(
            connection.vendor == "postgresql",
            "needs PostgreSQL: run with DATABASE_URL=postgres://postgres@127.0.0.1:5432/"
            "readinglist",
        )


@pytest.fixture
def redis_url() -> str:
    """The Redis the tests may use (REDIS_URL, database 15 by default); skips, or
    fails under CI=true, when nothing answers there."""
    url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/15")
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 6379
    require(port_open(host, port), f"needs Redis on {host}:{port} (REDIS_URL)")
    return url


@pytest.fixture
def queued(monkeypatch):
    """The citation refreshes sent to the broker, kept here instead of sent."""
    from papers.tasks import refresh_citations

    sent = []
    monkeypatch.setattr(
        refresh_citations, "apply_async", lambda *, kwargs: sent.append(kwargs)
    )
    return sent


@pytest.fixture
def var_in_tmp(settings, tmp_path):
    """VAR_DIR (the SQLite lock file of the refresh) in this test's tmp_path."""
    settings.VAR_DIR = tmp_path
    return tmp_path


@pytest.fixture
def request_limits(settings):
    """The 请求精读 rate limits the request tests assume (no proxy in front)."""
    settings.READING_REQUEST_SUBMITS_PER_HOUR = 5
    settings.READING_REQUEST_VOTES_PER_HOUR = 60
    settings.READING_REQUEST_HINTS_PER_HOUR = 600
    settings.TRUSTED_PROXY_COUNT = 0
    return settings


@pytest.fixture
def full_readme_text():
    return read_full_readme()


@pytest.fixture
def seed_text():
    return SEED_LIST.read_text(encoding="utf-8")


@pytest.fixture
def excerpt_text():
    """Our hand-written excerpt in the upstream format: both tables, every quirk."""
    return EXCERPT.read_text(encoding="utf-8")


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Each test starts with an empty cache: no page, rate limit or version left."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
