"""The public page cache (papers/cache.py) and its invalidation (papers/signals.py).

A throwaway URLconf in this module stands in for the public pages, so these tests
do not depend on the real templates.
"""

import gzip
import itertools
import os
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path
from types import SimpleNamespace
from unittest import mock

import brotli
import pytest
from django.contrib import admin
from django.core.cache import cache, caches
from django.db import transaction
from django.http import HttpResponse, HttpResponseNotFound, JsonResponse
from django.middleware.csrf import get_token
from django.urls import path, reverse
from django.utils.translation import get_language
from django.views.decorators.vary import vary_on_headers

from papers import cache as page_cache
from papers.cache import bump_content_version, cache_public_page
from papers.models import Category, CitationSnapshot, Paper, RefreshRun, VideoNote
from papers.services import readme_import
from tests.factories import (
    CategoryFactory,
    CitationSnapshotFactory,
    PaperFactory,
    PlacementFactory,
    VideoNoteFactory,
)
from tests.helpers import paper_form, port_open

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data"

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.test_cache")]

renders = itertools.count()


@cache_public_page(query={"sort": page_cache.choice("name", "year")})
@vary_on_headers("HX-Request")
def paper_names(request):
    next(renders)
    names = ", ".join(Paper.objects.order_by("name").values_list("name", flat=True))
    kind = "fragment" if request.headers.get("HX-Request") else "page"
    return HttpResponse(f"{kind} {get_language()}: {names}")


@cache_public_page
def with_csrf_token(request):
    next(renders)
    return HttpResponse(f"<form>{get_token(request)}</form>")


@cache_public_page
def with_user(request):
    next(renders)
    return HttpResponse(f"hello {request.user}")


@cache_public_page
def missing(request):
    next(renders)
    return HttpResponseNotFound("no such paper")


@cache_public_page
def with_cookie(request):
    next(renders)
    response = HttpResponse("tracked")
    response.set_cookie("seen", "1")
    return response


@cache_public_page
def data(request):
    next(renders)
    return JsonResponse({"papers": Paper.objects.count()})


urlpatterns = [
    path("admin/", admin.site.urls),
    path("list/", paper_names, name="list"),
    path("csrf/", with_csrf_token, name="csrf"),
    path("user/", with_user, name="user"),
    path("missing/", missing, name="missing"),
    path("cookie/", with_cookie, name="cookie"),
    path("data.json", data, name="data"),
]


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()
    page_cache.local_pages.clear()
    yield
    cache.clear()


def render_count():
    """How many times the test views have run so far."""
    return next(renders)


def served_from_cache(client, url, **headers) -> bool:
    before = render_count()
    client.get(url, headers=headers)
    return render_count() == before + 1


def test_second_request_is_served_without_queries(client, django_assert_num_queries):
    PaperFactory(name="Transformer")
    first = client.get("/list/")

    with django_assert_num_queries(0):
        second = client.get("/list/")

    assert second.status_code == 200
    assert second.content == first.content
    assert "Transformer" in second.text
    assert second["Content-Type"] == first["Content-Type"]
    assert "HX-Request" in second["Vary"]


def test_a_page_rendered_by_another_process_comes_from_the_shared_cache(
    client, django_assert_num_queries
):
    PaperFactory(name="Transformer")
    client.get("/list/")
    page_cache.local_pages.clear()  # as in a process that has not served it yet

    with django_assert_num_queries(0):
        assert "Transformer" in client.get("/list/").text


def test_query_parameters_the_view_reads_are_different_pages(client):
    client.get("/list/?sort=year")

    assert served_from_cache(client, "/list/?sort=year")
    assert not served_from_cache(client, "/list/")


def test_parameters_the_view_ignores_or_rejects_share_the_plain_page(client):
    client.get("/list/")

    for url in ("/list/?sort=bogus", "/list/?x=1", "/list/?sort=name&utm=a"):
        assert served_from_cache(client, url), url


def test_model_save_shows_on_the_next_request(client):
    paper = PaperFactory(name="Transformer")
    client.get("/list/")

    paper.name = "BERT"
    paper.save()

    assert "BERT" in client.get("/list/").text


def test_delete_shows_on_the_next_request(client):
    paper = PaperFactory(name="Transformer")
    client.get("/list/")

    paper.delete()

    assert "Transformer" not in client.get("/list/").text


def test_curator_save_in_the_admin_shows_on_the_next_request(admin_client, client):
    client.get("/list/")
    data = paper_form(
        name="ResNet", url="https://arxiv.org/abs/1512.03385", year="2015"
    )

    response = admin_client.post(reverse("admin:papers_paper_add"), data)

    assert response.status_code == 302
    assert "ResNet" in client.get("/list/").text


def test_readme_import_invalidates(client, seed_text):
    client.get("/data.json")
    version = page_cache.current_content_version()

    readme_import(text=seed_text)

    assert page_cache.current_content_version() > version
    assert client.get("/data.json").json()["papers"] == Paper.objects.count() > 0


def test_readme_dry_run_changes_nothing_cached(client, seed_text):
    client.get("/data.json")

    readme_import(text=seed_text, dry_run=True)

    assert client.get("/data.json").json() == {"papers": 0}


@pytest.mark.parametrize(
    "write",
    [
        pytest.param(CategoryFactory, id="category"),
        pytest.param(PaperFactory, id="paper"),
        pytest.param(PlacementFactory, id="placement"),
        pytest.param(VideoNoteFactory, id="video"),
        pytest.param(CitationSnapshotFactory, id="snapshot"),
        pytest.param(RefreshRun.objects.create, id="refresh-run"),
    ],
)
def test_every_public_model_invalidates(write):
    version = page_cache.current_content_version()

    write()

    assert page_cache.current_content_version() > version


@pytest.mark.parametrize(
    ("model", "factory"),
    [
        (Category, CategoryFactory),
        (Paper, PaperFactory),
        (VideoNote, VideoNoteFactory),
        (CitationSnapshot, CitationSnapshotFactory),
    ],
    ids=lambda value: getattr(value, "__name__", ""),
)
def test_deletes_invalidate(model, factory):
    obj = factory()
    version = page_cache.current_content_version()

    model.objects.filter(pk=obj.pk).get().delete()

    assert page_cache.current_content_version() > version


def test_many_to_many_changes_invalidate():
    video, paper, category = VideoNoteFactory(), PaperFactory(), CategoryFactory()

    for change in (
        lambda: video.papers.add(paper),
        lambda: video.papers.clear(),
        lambda: paper.categories.add(category),
        lambda: paper.categories.remove(category),
    ):
        version = page_cache.current_content_version()
        change()
        assert page_cache.current_content_version() > version


def test_bulk_writes_that_call_bump_invalidate(client):
    paper = PaperFactory(name="Transformer")
    client.get("/list/")

    Paper.objects.filter(pk=paper.pk).update(name="GPT")  # no signal
    bump_content_version()

    assert "GPT" in client.get("/list/").text


def test_commit_bumps_again_once_per_transaction(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks, transaction.atomic():
        PaperFactory()
        PaperFactory()
        with transaction.atomic():
            CategoryFactory()
        bump_content_version()
    version = page_cache.current_content_version()

    assert len(callbacks) == 1
    callbacks[0]()
    # The bump at commit discards pages rendered from the old data meanwhile.
    assert page_cache.current_content_version() == version + 1


def test_htmx_fragments_and_full_pages_are_not_mixed_up(client):
    PaperFactory(name="Transformer")

    page = client.get("/list/")
    fragment = client.get("/list/", headers={"HX-Request": "true"})

    assert page.text.startswith("page ")
    assert fragment.text.startswith("fragment ")
    assert client.get("/list/").text.startswith("page ")
    assert client.get("/list/", headers={"HX-Request": "true"}).text.startswith(
        "fragment "
    )


def test_languages_are_not_mixed_up(client):
    chinese = client.get("/list/", headers={"Accept-Language": "zh-hans"})
    english = client.get("/list/", headers={"Accept-Language": "en"})

    assert chinese.text.startswith("page zh-hans")
    assert english.text.startswith("page en")
    cached = client.get("/list/", headers={"Accept-Language": "en"})
    assert cached.text.startswith("page en")
    assert cached["Content-Language"] == "en"
    assert "Accept-Language" in cached["Vary"]


def test_pages_with_a_csrf_token_are_never_cached(client):
    client.get("/csrf/")

    assert not served_from_cache(client, "/csrf/")


def test_pages_that_read_the_user_are_never_cached(client):
    response = client.get("/user/")

    assert not served_from_cache(client, "/user/")
    assert "Cookie" in response["Vary"]


def test_pages_that_set_a_cookie_are_never_cached(client):
    client.get("/cookie/")

    assert not served_from_cache(client, "/cookie/")


def test_errors_are_never_cached(client):
    assert client.get("/missing/").status_code == 404

    assert not served_from_cache(client, "/missing/")


def test_logged_in_curators_bypass_the_cache(admin_client, client):
    client.get("/list/")
    assert served_from_cache(client, "/list/")

    assert not served_from_cache(admin_client, "/list/")


def test_a_cache_hit_sets_no_cookie_and_no_vary_cookie(client):
    client.get("/list/")

    response = client.get("/list/")

    assert not response.cookies
    assert "Cookie" not in response.get("Vary", "")


def test_head_is_answered_from_the_cached_get(client):
    client.get("/list/")
    before = render_count()

    response = client.head("/list/")

    assert response.status_code == 200
    assert render_count() == before + 1


def test_post_is_never_cached(client):
    client.get("/list/")
    before = render_count()

    client.post("/list/")

    assert render_count() == before + 2


def test_page_cache_can_be_turned_off(client, settings):
    settings.PAGE_CACHE_SECONDS = 0
    client.get("/list/")

    assert not served_from_cache(client, "/list/")


def test_lost_version_key_never_revives_old_pages(client):
    paper = PaperFactory(name="Transformer")
    client.get("/list/")
    cache.delete(page_cache.VERSION_KEY)  # evicted, or Redis restarted empty

    Paper.objects.filter(pk=paper.pk).update(name="BERT")
    bump_content_version()

    assert "BERT" in client.get("/list/").text


def test_a_broken_cache_serves_pages_uncached(client):
    PaperFactory(name="Transformer")
    with mock.patch.object(cache, "get", side_effect=ConnectionError):
        response = client.get("/list/")

    assert response.status_code == 200
    assert "Transformer" in response.text


def test_a_broken_cache_does_not_break_saves():
    with mock.patch.object(cache, "incr", side_effect=ConnectionError):
        PaperFactory()  # logged, not raised


def test_check_deploy_warns_about_a_per_process_cache(settings):
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    }
    assert [w.id for w in page_cache.check_shared_cache()] == ["papers.W001"]

    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:6379/1",
        }
    }
    assert page_cache.check_shared_cache() == []


@pytest.fixture
def redis_cache(settings, redis_url):
    prefix = f"test-cache-{uuid.uuid4().hex}"
    settings.CACHES = {
        "default": {
            "BACKEND": "papers.cache.RedisCache",
            "LOCATION": redis_url,
            # A prefix of our own: other tests share the server, so never clear it.
            "KEY_PREFIX": prefix,
        }
    }
    redis_cache = caches["default"]
    redis_cache.keys = lambda: redis_keys(redis_cache, prefix)
    yield redis_cache
    client = redis_cache._cache.get_client(write=True)
    for key in redis_keys(redis_cache, prefix):
        client.delete(key)


def redis_keys(redis_cache, prefix) -> list:
    client = redis_cache._cache.get_client()
    return list(client.scan_iter(match=f"{prefix}:*", count=1000))


@pytest.mark.redis
def test_a_bump_in_another_process_invalidates_with_redis(client, redis_cache):
    paper = PaperFactory(name="Transformer")
    client.get("/list/")
    assert served_from_cache(client, "/list/")

    Paper.objects.filter(pk=paper.pk).update(name="BERT")
    # Another process (a Celery worker, another web machine) has its own connection.
    other_process = caches.create_connection("default")
    other_process.incr(page_cache.VERSION_KEY)

    assert "BERT" in client.get("/list/").text


@pytest.mark.redis
def test_the_redis_backend_keeps_one_client(redis_cache):
    redis_cache.set("k", 1)

    assert redis_cache.get("k") == 1
    assert redis_cache.incr("k") == 2
    assert redis_cache._cache.get_client() is redis_cache._cache.get_client()


@pytest.mark.urls("readinglist.urls")
def test_the_real_public_pages_are_cached_and_follow_a_save(
    client, django_assert_num_queries
):
    from papers.views import public

    for view in (public.home, public.category, public.paper, public.videos):
        assert getattr(view, "is_public_page_cached", False), view.__name__
    from tests.factories import PlacementFactory

    placement = PlacementFactory(paper__name="Attention")
    assert "Attention" in client.get("/").text
    with django_assert_num_queries(0):
        assert "Attention" in client.get("/").text
    placement.paper.name = "Attention Is All You Need"
    placement.paper.save()
    assert "Attention Is All You Need" in client.get("/").text


@pytest.mark.urls("readinglist.urls")
def test_a_cache_hit_keeps_every_header_of_the_rendered_page(client):
    """Hits are answered before CSP, locale and clickjacking middleware run."""
    from tests.factories import PlacementFactory

    PlacementFactory()
    headers = ("Content-Security-Policy", "X-Frame-Options", "Content-Language", "Vary")
    for language in ("zh-hans", "en"):
        first = client.get("/", HTTP_ACCEPT_LANGUAGE=language)
        hit = client.get("/", HTTP_ACCEPT_LANGUAGE=language)
        assert hit.content == first.content
        assert first["Content-Language"] == language
        for name in headers:
            assert hit[name] == first[name], name


def test_check_deploy_accepts_the_shared_file_cache(settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": "/tmp/unused",
        }
    }
    assert page_cache.check_shared_cache() == []


# Issue 10.1: nobody can grow the cache by varying what the views do not read.

FLOOD = 200


def flood(client):
    """Junk parameters, junk htmx targets and random searches, as in the attack."""
    for n in range(FLOOD):
        junk = uuid.uuid4().hex
        assert client.get(f"/?x={junk}").status_code == 200
        assert client.get(f"/?sort={junk}&recorded={junk}").status_code == 200
        response = client.get("/", headers={"HX-Request": "true", "HX-Target": junk})
        assert response.status_code == 200
        if n % 3 == 0:
            assert client.get(f"/search/?q={junk}").status_code == 200


def file_cache_entries(file_cache) -> int:
    return len(list(Path(file_cache._dir).glob("*.djcache")))


@pytest.mark.urls("readinglist.urls")
def test_a_flood_of_junk_requests_adds_no_entries_to_the_default_cache(client):
    PlacementFactory(paper__name="Transformer")
    default = caches["default"]
    assert default.__class__.__name__ == "FileBasedCache"  # the shared default
    client.get("/")
    client.get("/", headers={"HX-Request": "true"})
    before = file_cache_entries(default)

    flood(client)

    # The version, the page and its fragment: what there was before the flood.
    assert file_cache_entries(default) == before <= 3
    assert len(page_cache.local_search_pages) <= page_cache.LOCAL_SEARCH_PAGES
    assert len(page_cache.local_pages) <= 2


def test_the_default_cache_is_bounded(monkeypatch):
    default = caches["default"]
    monkeypatch.setattr(default, "_max_entries", 60)  # 2,000 in settings: slow here
    for n in range(200):
        default.set(f"filler-{n}", n)

    assert file_cache_entries(default) <= 60


@pytest.mark.redis
@pytest.mark.urls("readinglist.urls")
def test_a_flood_of_junk_requests_adds_no_entries_to_redis(client, redis_cache):
    PlacementFactory(paper__name="Transformer")
    client.get("/")
    client.get("/", headers={"HX-Request": "true"})
    before = len(redis_cache.keys())

    flood(client)

    assert len(redis_cache.keys()) == before <= 3
    page_cache.local_pages.clear()  # another web process
    assert "Transformer" in client.get("/?x=1").text


@pytest.mark.urls("readinglist.urls")
def test_junk_requests_are_answered_from_the_plain_page(
    client, django_assert_num_queries
):
    PlacementFactory(paper__name="Transformer")
    page = client.get("/")
    fragment = client.get("/", headers={"HX-Request": "true"})

    with django_assert_num_queries(0):
        assert client.get("/?x=1&sort=bogus").content == page.content
        junk_target = client.get(
            "/", headers={"HX-Request": "true", "HX-Target": "junk"}
        )
        assert junk_target.content == fragment.content
    assert fragment.content != page.content


@pytest.mark.urls("readinglist.urls")
def test_search_pages_stay_in_the_process_and_still_hit(
    client, django_assert_num_queries
):
    PlacementFactory(paper__name="Transformer")
    first = client.get("/search/?q=Transformer")
    assert "Transformer" in first.text

    with django_assert_num_queries(0):
        assert client.get("/search/?q=Transformer").content == first.content
    page_cache.local_search_pages.clear()  # another process renders its own
    assert "Transformer" in client.get("/search/?q=Transformer").text


# Issue 10.4: a cached page answers while the database hangs.


@pytest.mark.urls("readinglist.urls")
def test_a_cached_page_is_served_while_the_database_is_down(client):
    from django.contrib.sessions.middleware import SessionMiddleware
    from django.db import OperationalError
    from django.db.backends.base.base import BaseDatabaseWrapper

    PlacementFactory(paper__name="Transformer")
    first = client.get("/")
    down = mock.Mock(side_effect=OperationalError("database hangs"))

    with (
        mock.patch.object(BaseDatabaseWrapper, "ensure_connection", down),
        mock.patch.object(BaseDatabaseWrapper, "cursor", down),
        mock.patch.object(SessionMiddleware, "process_request", down),
    ):
        hit = client.get("/")

    assert hit.status_code == 200
    assert hit.content == first.content
    assert not down.called


# Issue 9.3: a write in any process shows on the next request of a running server.


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def site(tmp_path):
    """`make run`'s setup: runserver, a SQLite file, no CACHE_URL (the default)."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("CACHE_URL", "DJANGO_SETTINGS_MODULE")
    }
    env.update(
        DJANGO_DEBUG="1",
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        DJANGO_PAGE_CACHE_SECONDS="600",
    )

    def manage(*args):
        subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
            timeout=120,
        )

    manage("migrate", "--noinput")
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while not port_open("127.0.0.1", port):
            assert server.poll() is None, "runserver exited"
            assert time.monotonic() < deadline, "runserver did not start"
            time.sleep(0.2)

        def get(path="/"):
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}") as answer:
                return answer.read().decode()

        yield SimpleNamespace(get=get, manage=manage)
    finally:
        server.terminate()
        server.wait(timeout=10)


@pytest.mark.django_db(False)
def test_writes_from_other_processes_show_on_the_next_request(site):
    assert "CacheProbePaper" not in site.get()
    assert "CacheProbePaper" not in site.get()  # now a cache hit

    site.manage("import_readme", str(DATA / "cache-one-paper.md"))
    assert "CacheProbePaper" in site.get()
    assert "CacheProbePaper" in site.get()  # cached again

    site.manage(
        "shell",
        "-c",
        "from papers.models import Paper; "
        "p = Paper.objects.get(name='CacheProbePaper'); "
        "p.name = 'RenamedProbePaper'; p.save()",
    )
    page = site.get()
    assert "RenamedProbePaper" in page
    assert "CacheProbePaper" not in page


# Issue 11: pages compressed once when stored, sent as the client accepts.


@pytest.fixture
def home_page(client):
    PlacementFactory(paper__name="Transformer")
    page = client.get("/")  # a miss: rendered, compressed and stored
    assert len(page.content) > page_cache.COMPRESS_MIN_BYTES
    return page


@pytest.mark.urls("readinglist.urls")
@pytest.mark.parametrize(
    ("accept", "encoding", "decode"),
    [
        ("gzip, deflate", "gzip", gzip.decompress),
        ("gzip, deflate, br, zstd", "br", brotli.decompress),
        ("br;q=0.5, gzip;q=0.8", "gzip", gzip.decompress),
        ("*", "br", brotli.decompress),
    ],
)
def test_hits_are_sent_compressed_as_the_client_accepts(
    client, home_page, accept, encoding, decode
):
    hit = client.get("/", headers={"Accept-Encoding": accept})

    assert hit["Content-Encoding"] == encoding
    assert int(hit["Content-Length"]) == len(hit.content) < len(home_page.content)
    assert decode(hit.content) == home_page.content
    assert "Accept-Encoding" in hit["Vary"]
    assert "Accept-Language" in hit["Vary"]


@pytest.mark.urls("readinglist.urls")
@pytest.mark.parametrize(
    "accept", ["", "identity", "gzip;q=0, br;q=0", "compress", "gzip;q=0.1, *;q=0"]
)
def test_clients_that_take_no_compression_get_the_page_as_it_is(
    client, home_page, accept
):
    headers = {"Accept-Encoding": accept} if accept else {}
    hit = client.get("/", headers=headers)

    if accept.startswith("gzip;q=0.1"):
        assert hit["Content-Encoding"] == "gzip"  # the only coding it still takes
    else:
        assert not hit.has_header("Content-Encoding")
        assert hit.content == home_page.content
    assert int(hit["Content-Length"]) == len(hit.content)


@pytest.mark.urls("readinglist.urls")
def test_head_has_the_headers_of_the_compressed_get(client, home_page):
    get = client.get("/", headers={"Accept-Encoding": "gzip"})
    head = client.head("/", headers={"Accept-Encoding": "gzip"})

    assert head.status_code == 200
    assert head["Content-Encoding"] == "gzip"
    assert head["Content-Length"] == get["Content-Length"]
    assert head.content == b""


@pytest.mark.urls("readinglist.urls")
def test_the_stored_page_holds_compressed_bytes_made_once(client, home_page):
    with (
        mock.patch.object(page_cache.gzip, "compress") as gzip_compress,
        mock.patch.object(page_cache.brotli, "compress") as brotli_compress,
    ):
        for accept in ("gzip", "br", "gzip", "br"):
            client.get("/", headers={"Accept-Encoding": accept})
        page_cache.local_pages.clear()
        client.get("/", headers={"Accept-Encoding": "gzip"})  # from the shared cache

    assert not gzip_compress.called
    assert not brotli_compress.called
    version = page_cache.current_content_version()
    [(key, entry)] = [
        (key, entry)
        for key, entry in page_cache.local_pages._pages.items()
        if entry[0] == version
    ]
    bodies = cache.get(key)[1]
    assert set(bodies) == {"gzip", "br"}
    assert gzip.decompress(bodies["gzip"]) == home_page.content


def test_tiny_pages_are_sent_as_they_are(client):
    client.get("/data.json")

    hit = client.get("/data.json", headers={"Accept-Encoding": "gzip, br"})

    assert not hit.has_header("Content-Encoding")
    assert hit.json() == {"papers": 0}


def test_pages_with_a_csrf_token_are_never_compressed(client):
    for _ in range(2):
        response = client.get("/csrf/", headers={"Accept-Encoding": "gzip, br"})
        assert not response.has_header("Content-Encoding")
        assert response.content.startswith(b"<form>")


@pytest.mark.urls("readinglist.urls")
def test_pages_for_a_session_are_never_compressed(admin_client, home_page):
    response = admin_client.get("/", headers={"Accept-Encoding": "gzip, br"})

    assert response.status_code == 200
    assert not response.has_header("Content-Encoding")
    assert b"Transformer" in response.content
