"""Whole-page cache for the public pages, invalidated by one site-wide content version.

Every write to the data behind the public pages calls ``bump_content_version()``
(the receivers in ``papers/signals.py`` do it for model saves and deletes; bulk writes
call it themselves). A cached page remembers the version it was rendered under and is
only served while that is still the current version, so after a save no reader sees
the old page; ``PAGE_CACHE_SECONDS`` bounds how long any page lives anyway.

The version lives in the cache (Redis in production), so a bump in one process, a
Celery worker or a management command invalidates the pages of every web process.
With the default local-memory cache each process has its own version: check --deploy
warns about that (papers.W001).

Pages are kept in the shared cache and, for the pages a process serves most, in the
process itself: a hit then costs one small read of the version instead of moving the
whole page out of Redis (about 60 KB for the home page) on every request.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import secrets
import threading
import time
from collections import OrderedDict

from django.conf import settings
from django.contrib.messages.storage.cookie import CookieStorage
from django.core import checks
from django.core.cache import cache
from django.core.cache.backends import redis as redis_backend
from django.db import transaction
from django.http import HttpResponse
from django.utils import translation
from django.utils.cache import cc_delim_re
from django.utils.translation import get_language

logger = logging.getLogger(__name__)

VERSION_KEY = "papers:content-version"
PAGE_KEY_PREFIX = "papers:page:"

# Request headers that change what a public view renders, besides the language.
KEY_HEADERS = ("HX-Request", "HX-Target", "HX-History-Restore-Request")
# A response that varies on anything else (Cookie above all) is not cached.
CACHEABLE_VARY = {"accept-language", "accept-encoding"} | {
    h.lower() for h in KEY_HEADERS
}


# Pages kept in each process, most recently used last.
LOCAL_PAGES = 200


def _new_version() -> int:
    # Random, not 1: if the key is ever evicted or the cache cleared, the new version
    # matches no page stored before (in the cache or in any process).
    return secrets.randbits(62)


def current_content_version() -> int:
    version = cache.get(VERSION_KEY)
    if version is None:
        cache.add(VERSION_KEY, _new_version(), timeout=None)
        version = cache.get(VERSION_KEY)
    return version


def _bump() -> None:
    try:
        try:
            cache.incr(VERSION_KEY)
        except ValueError:  # not there yet, or evicted
            if not cache.add(VERSION_KEY, _new_version(), timeout=None):
                cache.incr(VERSION_KEY)
    except Exception:
        # The write has happened; the pages go stale for at most PAGE_CACHE_SECONDS.
        logger.exception("page cache: could not bump the content version")


def bump_content_version() -> None:
    """Invalidate every cached public page, now and again when the transaction commits.

    The bump now lets code in the same transaction (and tests) see fresh pages; the
    bump at commit discards any page another process rendered from the old data while
    the transaction was open. One commit bump per transaction, however many writes.
    """
    _bump()
    connection = transaction.get_connection()
    if not connection.in_atomic_block:
        return
    open_savepoints = set(connection.savepoint_ids)
    for savepoint_ids, func, _robust in connection.run_on_commit:
        # Registered at this level or an outer one, so it runs if our write commits.
        if func is _bump and savepoint_ids <= open_savepoints:
            return
    transaction.on_commit(_bump, robust=True)


class _LocalPages:
    """The pages this process served last, each with its version and expiry."""

    def __init__(self, size: int):
        self._size = size
        self._pages: OrderedDict[str, tuple] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str, version: int):
        with self._lock:
            entry = self._pages.get(key)
            if entry is None:
                return None
            if entry[0] != version or entry[3] < time.monotonic():
                del self._pages[key]
                return None
            self._pages.move_to_end(key)
            return entry[:3]

    def put(self, key: str, entry: tuple, seconds: int) -> None:
        with self._lock:
            self._pages[key] = (*entry, time.monotonic() + seconds)
            self._pages.move_to_end(key)
            while len(self._pages) > self._size:
                self._pages.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._pages.clear()


local_pages = _LocalPages(LOCAL_PAGES)


def _valid(entry, version) -> bool:
    return isinstance(entry, tuple) and len(entry) == 3 and entry[0] == version


def _page_key(request, language: str | None = None) -> str:
    parts = [language or get_language() or "", request.build_absolute_uri()]
    parts += [request.headers.get(name, "") for name in KEY_HEADERS]
    digest = hashlib.sha256("\n".join(parts).encode()).hexdigest()
    return PAGE_KEY_PREFIX + digest


def _looks_personal(request) -> bool:
    """A session (a curator, a voter) or pending flash messages."""
    cookies = request.COOKIES
    return (
        settings.SESSION_COOKIE_NAME in cookies or CookieStorage.cookie_name in cookies
    )


def _cacheable(request, response) -> bool:
    if request.method != "GET" or response.status_code != 200 or response.streaming:
        return False
    if response.cookies:
        return False
    # Reading the session (request.user does) or rendering a CSRF token makes the page
    # personal; Django adds Vary: Cookie or a Set-Cookie for it later, in middleware.
    session = getattr(request, "session", None)
    if session is not None and session.accessed:
        return False
    if request.META.get("CSRF_COOKIE_NEEDS_UPDATE"):
        return False
    cache_control = response.get("Cache-Control", "").lower()
    if any(word in cache_control for word in ("private", "no-store", "no-cache")):
        return False
    vary = {v.lower() for v in cc_delim_re.split(response.get("Vary", "")) if v}
    return vary <= CACHEABLE_VARY


def cache_public_page(view):
    """Serve a read-only public page from the cache while the content is unchanged.

    Keyed on the content version, the language, the htmx headers and the absolute
    URL. Only GET 200 answers to anonymous-looking requests are stored (HEAD is
    answered from a stored GET), and never a page that read the session or the user,
    rendered a CSRF token or set a cookie. A hit runs no view code and no query.
    """

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        if hasattr(request, "page_cache_lookup"):
            # PageCacheMiddleware looked the page up already and stores it on the
            # way out, with the headers the rest of the middleware adds.
            request.page_cache_view = True
            return view(request, *args, **kwargs)
        return _serve(request, _page_key, lambda: view(request, *args, **kwargs))

    # Copied outward by functools.wraps, so a decorated view is recognisable.
    wrapper.is_public_page_cached = True
    return wrapper


def _serve(request, make_key, respond, *, only_marked: bool = False):
    """Answer from the cache, or call ``respond()`` and store what may be stored.

    ``only_marked``: store only responses of views marked by ``cache_public_page``
    (the middleware sees every request; the decorator only its own view's).
    """
    seconds = settings.PAGE_CACHE_SECONDS
    if seconds <= 0 or request.method not in ("GET", "HEAD"):
        return respond()
    if _looks_personal(request):
        return respond()
    key = make_key(request)
    try:
        version = current_content_version()
        entry = local_pages.get(key, version)
        if entry is None:
            entry = cache.get(key)
            if _valid(entry, version):
                local_pages.put(key, entry, seconds)
    except Exception:
        logger.warning("page cache unavailable, serving uncached", exc_info=True)
        return respond()
    if _valid(entry, version):
        _version, content, headers = entry
        return HttpResponse(content, headers=headers)

    request.page_cache_lookup = (key, version)
    response = respond()
    marked = getattr(request, "page_cache_view", False) or not only_marked
    if marked and _cacheable(request, response):
        entry = (version, response.content, dict(response.headers))
        local_pages.put(key, entry, seconds)
        try:
            cache.set(key, entry, seconds)
        except Exception:
            logger.warning("page cache: could not store %s", request.path)
    return response


def _middleware_key(request) -> str:
    # LocaleMiddleware has not run yet: choose the language the way it will.
    return _page_key(request, translation.get_language_from_request(request))


class PageCacheMiddleware:
    """Answer cached public pages before the rest of the middleware runs.

    Placed right after WhiteNoise: a hit costs one cache read (the content version
    and the page, or just the version when this process holds the page) and skips
    sessions, locale, CSRF, auth, messages, CSP and axes, which is most of a cached
    page's time. Only views decorated with ``cache_public_page`` are stored, with
    the final headers (CSP, Vary, Content-Language, X-Frame-Options). The same
    rules as the decorator decide what may be stored.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return _serve(
            request,
            _middleware_key,
            lambda: self.get_response(request),
            only_marked=True,
        )


class _OneClientPerPool(redis_backend.RedisCacheClient):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            # redis.Redis is thread-safe and only borrows connections from the pool.
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client


class RedisCache(redis_backend.RedisCache):
    """Django's Redis cache backend, keeping one redis-py client per connection pool.

    Django builds a new ``redis.Redis`` for every cache call, and redis-py fills a
    table of some 170 response callbacks each time: about 100 µs, more than the
    round trip to Redis on the page cache's hot path. Settings use this class
    whenever ``CACHE_URL`` is ``redis://``.
    """

    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = _OneClientPerPool


@checks.register(checks.Tags.caches, deploy=True)
def check_shared_cache(app_configs=None, **kwargs):
    backend = settings.CACHES["default"]["BACKEND"]
    if backend.rsplit(".", 1)[-1] in ("LocMemCache", "DummyCache"):
        return [
            checks.Warning(
                "The default cache is local to each process: the page cache of one "
                "web process is not invalidated by a save in another, a Celery "
                "worker or a management command, and rate limits are per process.",
                hint="Set CACHE_URL to a Redis shared by every process, e.g. "
                "redis://127.0.0.1:6379/1 (docs/deploy.md).",
                id="papers.W001",
            )
        ]
    return []
