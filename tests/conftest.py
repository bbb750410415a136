import os
import socket
from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[2] / "shared"
FIXTURES = SHARED / "fixtures"
FULL_README = FIXTURES / "paper-reading-README.md"
SEED_LIST = FIXTURES / "seed-list.md"

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def require(condition: bool, reason: str):
    """Skip with a clear reason, except under CI, where a missing service fails."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"CI=true and a required service is missing: {reason}")
    pytest.skip(reason)


def port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


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
def full_readme_text():
    return FULL_README.read_text(encoding="utf-8")


@pytest.fixture
def seed_text():
    return SEED_LIST.read_text(encoding="utf-8")


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
