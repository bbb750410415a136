"""请求精读 rate limits: they live in the database, so a page-cache flood or a Redis
outage can neither hand a client its quota back nor turn the form into a 500; and a
refused POST starts no session."""

import socket
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.contrib.sessions.models import Session
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.urls import reverse

from papers import rate_limits
from papers.models import RateLimitCounter, ReadingRequest
from tests.factories_requests import ReadingRequestFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("request_limits")]

PAGE = "/requests/"
HINT = "/requests/hint/"
HTMX = {"HX-Request": "true"}


def form_data(n: int) -> dict:
    return {
        "url": f"https://arxiv.org/abs/2302.{n:05d}",
        "title": f"Paper {n}",
        "reason": "Worth reading slowly, and long enough.",
        "nickname": "",
        "email": "",
        "website": "",
    }


def vote_url(item) -> str:
    return reverse("papers:request_vote", args=[item.pk])


# --- A page-cache flood leaves the limits alone (issue 10.2) ------------------------


def _flood_the_cache(entries: int = 2000) -> None:
    """What a flood of uncacheable URLs does under maxmemory: fill the cache, and
    evict everything else (here, all of it)."""
    cache.set_many({f"flood:{n}": "x" * 100 for n in range(entries)})
    cache.clear()


def test_the_submit_limit_holds_after_a_cache_flood(client, settings):
    settings.READING_REQUEST_SUBMITS_PER_HOUR = 2
    for n in range(2):
        assert client.post(PAGE, form_data(n)).status_code == 302
    assert client.post(PAGE, form_data(2)).status_code == 429

    _flood_the_cache()

    for n in range(3, 8):
        assert client.post(PAGE, form_data(n)).status_code == 429
    assert Client().post(PAGE, form_data(9)).status_code == 429  # same address
    assert ReadingRequest.objects.count() == 2


def test_the_vote_limit_holds_after_a_cache_flood(client, settings):
    settings.READING_REQUEST_VOTES_PER_HOUR = 2
    items = ReadingRequestFactory.create_batch(4)
    for item in items[:2]:
        client.post(vote_url(item), headers=HTMX)
    _flood_the_cache()
    assert client.post(vote_url(items[2]), headers=HTMX).status_code == 429
    assert not items[2].votes.exists()


def test_counters_are_rows_not_cache_entries(client):
    client.post(PAGE, form_data(1))
    assert RateLimitCounter.objects.count() == 2  # by address and by session


def test_old_windows_are_purged(monkeypatch):
    clock = [1_700_000_000.0]
    monkeypatch.setattr(rate_limits, "_clock", lambda: clock[0])
    rate_limits.hit("vote", "a", 5)
    rate_limits.hit("vote", "b", 5)
    clock[0] += rate_limits.WINDOW_SECONDS
    rate_limits.hit("vote", "a", 5)
    assert list(RateLimitCounter.objects.values_list("key", "count")) == [("vote:a", 1)]


# --- Redis down: the form refuses politely or works, never a 500 (issue 10.5) -------


@pytest.fixture
def redis_down(settings):
    """The default cache pointing at a closed port on loopback."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings.CACHES = {
        "default": {
            "BACKEND": "papers.cache.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{port}/0",
        }
    }
    yield


def test_with_redis_down_the_form_vote_and_hint_answer(redis_down, settings):
    settings.READING_REQUEST_SUBMITS_PER_HOUR = 1
    client = Client(raise_request_exception=False)
    item = ReadingRequestFactory()

    assert client.get(PAGE).status_code == 200
    assert client.post(PAGE, form_data(1)).status_code == 302
    assert client.post(PAGE, form_data(2), headers=HTMX).status_code == 429
    assert client.post(vote_url(item), headers=HTMX).status_code == 200
    assert client.get(HINT, {"url": item.url}, headers=HTMX).status_code == 200
    assert ReadingRequest.objects.count() == 2
    assert item.votes.count() == 1


# --- Refused POSTs start no session (issue 10.7) -------------------------------------


def test_votes_over_the_address_limit_create_no_sessions(settings):
    settings.READING_REQUEST_VOTES_PER_HOUR = 3
    item = ReadingRequestFactory()
    for _ in range(3):
        Client().post(vote_url(item))
    sessions = Session.objects.count()

    # A flood of cookie-less POSTs from the same address, as a script sends them.
    statuses = {Client().post(vote_url(item)).status_code for _ in range(50)}

    assert statuses == {429}
    assert Session.objects.count() == sessions


def test_submits_and_honeypots_over_the_address_limit_create_no_sessions(settings):
    settings.READING_REQUEST_SUBMITS_PER_HOUR = 1
    Client().post(PAGE, form_data(1))
    sessions = Session.objects.count()
    for n in range(10):
        spam = {**form_data(n + 2), "website": "spam" if n % 2 else ""}
        assert Client().post(PAGE, spam).status_code == 429
    assert Session.objects.count() == sessions


# --- Concurrency ----------------------------------------------------------------------


def _race(limit: int, attempts: int) -> list[int]:
    """``attempts`` threads, each with its own database connection as separate
    worker processes would have, count one attempt for the same client at once."""
    barrier = threading.Barrier(attempts)

    def attempt(_):
        barrier.wait()
        try:
            return rate_limits.hit("vote", "one-client", limit)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=attempts) as pool:
        return list(pool.map(attempt, range(attempts)))


# SQLite's in-memory test database refuses a second writer outright ("table is
# locked") instead of waiting as the file database of `make run` does.
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_attempts_never_exceed_the_limit():
    results = _race(limit=5, attempts=12)
    assert results.count(0) == 5  # exactly the limit got through
    assert rate_limits.count("vote", "one-client") == 12  # no increment lost
