"""Whole-page cache for the public pages, invalidated by one site-wide content version.

Every write to the data behind the public pages calls ``bump_content_version()``
(the receivers in ``papers/signals.py`` do it for model saves and deletes; bulk writes
call it themselves). A cached page remembers the version it was rendered under and is
only served while that is still the current version, so after a save no reader sees
the old page; ``PAGE_CACHE_SECONDS`` bounds how long any page lives anyway.

The version lives in the default cache, which every process of the site shares: a
file-based cache under var/ by default, Redis in production. So a bump in one
process, a Celery worker or a management command invalidates the pages of every web
process on the next request. A per-process cache (locmem) would break that: check
--deploy warns about it (papers.W001).

Pages are kept in the shared cache and, for the pages a process serves most, in the
process itself: a hit then costs one small read of the version instead of moving the
whole page out of the shared cache on every request. That is only safe because every
hit reads the shared version first.

The key is built from what the views read, never from raw request data, so nobody can
grow the cache by varying a URL or a header (see ``_page_key``). Pages are compressed
once, when stored, and each hit is sent in the encoding the client accepts."""

from __future__ import annotations

import functools
import gzip
import hashlib
import logging
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable

import brotli
from django.conf import settings
from django.contrib.messages.storage.cookie import CookieStorage
from django.core import checks
from django.core.cache import cache
from django.core.cache.backends import redis as redis_backend
from django.db import transaction
from django.http import HttpResponse
from django.urls import Resolver404, resolve
from django.utils import translation
from django.utils.cache import cc_delim_re, patch_vary_headers
from django.utils.translation import get_language

logger = logging.getLogger(__name__)

VERSION_KEY = "papers:content-version"
PAGE_KEY_PREFIX = "papers:page:"

# The htmx headers a cached view may vary on. The views read HX-Request and
# HX-History-Restore-Request as booleans (django-htmx), and the key holds just those
# two booleans. No view reads HX-Target, so it is not in the key, and a response that
# varies on it (or on anything else, Cookie above all) is not stored.
CACHEABLE_VARY = {
    "accept-language",
    "accept-encoding",
    "hx-request",
    "hx-history-restore-request",
}

# Pages kept in each process, most recently used last.
LOCAL_PAGES = 200
# Pages keyed on free text (a search query), kept only in the process that rendered
# them: each query is its own page, and anyone can send any number of them, so they
# never reach the shared cache. This budget is all the memory a flood of random
# queries can take, per process; popular queries still hit.
LOCAL_SEARCH_PAGES = 100

# Bodies shorter than this are sent as they are: compression would barely save.
COMPRESS_MIN_BYTES = 512
GZIP_LEVEL = 6  # level 9 saves ~8% more, at 4x the time on a 1 MiB page
BROTLI_QUALITY = 5  # quality 11 is smaller still, but takes seconds on a 1 MiB page


def choice(*values: str) -> Callable[[str], str]:
    """A query parameter read as one of ``values``; anything else means the first.

    As the views read ``sort`` and ``recorded``: ``?sort=bogus`` is the plain page.
    """
    default = values[0]

    def normalise(raw: str) -> str:
        return raw if raw in values and raw != default else ""

    return normalise


def free_text(normalise: Callable[[str], str]) -> Callable[[str], str]:
    """A free-text query parameter, cleaned by the view's own ``normalise``.

    A page keyed on free text stays in the process that rendered it (see
    ``LOCAL_SEARCH_PAGES``).
    """

    def clean(raw: str) -> str:
        return normalise(raw)

    clean.free_text = True
    return clean


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

    def __len__(self) -> int:
        return len(self._pages)

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
local_search_pages = _LocalPages(LOCAL_SEARCH_PAGES)


def _valid(entry, version) -> bool:
    return (
        isinstance(entry, tuple)
        and len(entry) == 3
        and entry[0] == version
        and isinstance(entry[1], dict)
    )


class _Key(str):
    """A page's cache key; ``shared`` is False for pages kept in the process only."""

    shared = True


def _page_key(request, query: dict, language: str | None = None) -> _Key:
    """The key of the page ``request`` asks for, from what the view reads of it.

    The view's language, the host (one of ALLOWED_HOSTS), the path (only answers
    with 200 are stored, so only real pages), two htmx booleans, and the query
    parameters the view declared, normalised as the view reads them. Any other
    parameter or header, which the view ignores, cannot make a new entry: ``/?x=1``
    is ``/``. Explicit defaults (``?sort=curated``) are separate keys, a fixed few.
    """
    headers = request.headers
    parts = [
        language or get_language() or "",
        request.scheme,
        request.get_host(),
        request.path,
        str(headers.get("HX-Request") == "true"),
        str(headers.get("HX-History-Restore-Request") == "true"),
    ]
    shared = True
    for name, normalise in sorted(query.items()):
        value = normalise(request.GET.get(name, ""))
        if value:
            parts.append(f"{name}={value}")
            shared = shared and not getattr(normalise, "free_text", False)
    digest = hashlib.sha256("\n".join(parts).encode()).hexdigest()
    key = _Key(PAGE_KEY_PREFIX + digest)
    key.shared = shared
    return key


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


def _encode(response) -> dict[str, bytes]:
    """The bodies to store: gzip and brotli once, or the body as it is when short.

    Only pages that may be stored come here, never one with a CSRF token or a
    session (BREACH needs a secret in a compressed body).
    """
    content = response.content
    if len(content) < COMPRESS_MIN_BYTES or response.has_header("Content-Encoding"):
        return {"identity": content}
    patch_vary_headers(response, ["Accept-Encoding"])
    return {
        "br": brotli.compress(content, quality=BROTLI_QUALITY, mode=brotli.MODE_TEXT),
        "gzip": gzip.compress(content, compresslevel=GZIP_LEVEL, mtime=0),
    }


def _quality(value: str) -> float:
    try:
        quality = float(value)
    except ValueError:
        return 0.0
    return quality if 0.0 <= quality <= 1.0 else 0.0


def choose_encoding(accept_encoding: str, available) -> str:
    """The coding of ``available`` the client prefers, by its q-values (RFC 9110
    12.5.3), brotli before gzip when equal; ``identity`` when it accepts neither."""
    weights = {}
    for item in accept_encoding.split(","):
        coding, *params = item.split(";")
        coding = coding.strip().lower()
        if not coding:
            continue
        weight = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                weight = _quality(value.strip())
        weights[coding] = weight
    if "x-gzip" in weights:
        weights.setdefault("gzip", weights["x-gzip"])
    star = weights.get("*", 0.0)
    best, best_weight = "identity", 0.0
    for coding in ("br", "gzip"):
        weight = weights.get(coding, star)
        if coding in available and weight > best_weight:
            best, best_weight = coding, weight
    # Identity is always acceptable; it wins only when the client ranks it higher.
    if best_weight == 0.0 or weights.get("identity", 0.0) > best_weight:
        return "identity"
    return best


def _respond_from(request, entry) -> HttpResponse:
    _version, bodies, headers = entry
    encoding = choose_encoding(request.headers.get("Accept-Encoding", ""), bodies)
    if encoding != "identity":
        body = bodies[encoding]
    elif "identity" in bodies:
        body = bodies["identity"]
    else:  # a client that takes no compression: rare, and cheap to inflate
        body = gzip.decompress(bodies["gzip"])
    # HEAD gets the GET body's headers; the WSGI server sends no body for it.
    response = HttpResponse(body, headers=headers)
    if encoding != "identity":
        response["Content-Encoding"] = encoding
    response["Content-Length"] = str(len(body))
    return response


def cache_public_page(view=None, *, query: dict | None = None):
    """Serve a read-only public page from the cache while the content is unchanged.

    ``query`` names the query parameters the view reads, each with how it reads
    them (``choice``, ``free_text``); the key holds those, normalised, and nothing
    else of the query string (see ``_page_key``). Only GET 200 answers to
    anonymous-looking requests are stored (HEAD is answered from a stored GET), and
    never a page that read the session or the user, rendered a CSRF token or set a
    cookie. A hit runs no view code and no query.
    """
    if view is None:
        return functools.partial(cache_public_page, query=query)
    query = dict(query or {})

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        if hasattr(request, "page_cache_lookup"):
            # PageCacheMiddleware looked the page up already and stores it on the
            # way out, with the headers the rest of the middleware adds.
            request.page_cache_view = True
            return view(request, *args, **kwargs)
        return _serve(
            request,
            lambda: _page_key(request, query),
            lambda: view(request, *args, **kwargs),
        )

    # Copied outward by functools.wraps, so a decorated view is recognisable.
    wrapper.is_public_page_cached = True
    wrapper.page_cache_query = query
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
    key = make_key()
    if key is None:
        return respond()
    local = local_pages if key.shared else local_search_pages
    try:
        version = current_content_version()
        entry = local.get(key, version)
        if entry is None and key.shared:
            entry = cache.get(key)
            if _valid(entry, version):
                local.put(key, entry, seconds)
    except Exception:
        logger.warning("page cache unavailable, serving uncached", exc_info=True)
        return respond()
    if _valid(entry, version):
        return _respond_from(request, entry)

    request.page_cache_lookup = (key, version)
    response = respond()
    marked = getattr(request, "page_cache_view", False) or not only_marked
    if not (marked and _cacheable(request, response)):
        return response
    bodies = _encode(response)
    headers = {
        name: value
        for name, value in response.headers.items()
        if name.lower() != "content-length"
    }
    entry = (version, bodies, headers)
    local.put(key, entry, seconds)
    if key.shared:
        try:
            cache.set(key, entry, seconds)
        except Exception:
            logger.warning("page cache: could not store %s", request.path)
    return _respond_from(request, entry)


@functools.lru_cache(maxsize=1024)
def _view_query(urlconf: str, path: str) -> dict | None:
    """The query parameters the cached view at ``path`` reads; None if it has none."""
    try:
        match = resolve(path, urlconf)
    except Resolver404:
        return None
    return getattr(match.func, "page_cache_query", None)


def _middleware_key(request) -> _Key | None:
    urlconf = getattr(request, "urlconf", None) or settings.ROOT_URLCONF
    query = _view_query(urlconf, request.path_info)
    if query is None:
        return None  # not a cached view: no lookup at all
    # LocaleMiddleware has not run yet: choose the language the way it will.
    return _page_key(request, query, translation.get_language_from_request(request))


class PageCacheMiddleware:
    """Answer cached public pages before the rest of the middleware runs.

    Placed right after WhiteNoise: a hit costs one cache read (the content version
    and the page, or just the version when this process holds the page) and skips
    sessions, locale, CSRF, auth, messages, CSP and axes, which is most of a cached
    page's time. Only views decorated with ``cache_public_page`` are looked up and
    stored, with the final headers (CSP, Vary, Content-Language, X-Frame-Options).
    The same rules as the decorator decide what may be stored.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return _serve(
            request,
            lambda: _middleware_key(request),
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
                "worker or a management command.",
                hint="Set CACHE_URL to a Redis shared by every process, e.g. "
                "redis://127.0.0.1:6379/1 (docs/deploy.md).",
                id="papers.W001",
            )
        ]
    return []
