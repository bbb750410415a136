"""`make run` on a new database (manage.py first_start): the real list, or the seed
list and one line saying why, never a long wait on the network (issue 9, point 2).

The "live list" is served by a real HTTP server on 127.0.0.1 that serves our
excerpt of the upstream README (tests/data/upstream-excerpt.md).
"""

import re
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import StringIO
from pathlib import Path

import pytest
import responses
from django.core.management import call_command

from papers.management.commands import first_start
from papers.models import Category, Paper, RefreshRun, VideoNote
from papers.tasks import refresh_citations
from tests.factories import PaperFactory
from tests.fake_s2 import FakeSemanticScholar
from tests.helpers import EXCERPT, ROOT

# Not inside a test transaction: the command runs in autocommit, as under `make run`,
# so the refresh is sent to the broker (on commit) before the command returns.
pytestmark = pytest.mark.django_db(transaction=True)
QUEUED = {"paper_ids": None, "trigger": "command", "only_missing": True}

UPSTREAM = "https://raw.githubusercontent.com/mli/paper-reading/main/README.md"
BATCH_URL = "https://api.semanticscholar.org/graph/v1/paper/batch"
SEED = {"categories": 3, "papers": 9, "videos": 0}
EXCERPT_LIST = {"categories": 8, "papers": 17, "videos": 13}


class Upstream(BaseHTTPRequestHandler):
    """/README.md: the excerpt; /500: a server error; /html: a 200 that is no README;
    /trickle: one byte every 0.2 s, so no single read ever times out."""

    requests: list[str]
    release: threading.Event

    def do_GET(self):
        type(self).requests.append(self.path)
        if self.path == "/README.md":
            self.answer(200, EXCERPT.read_bytes(), "text/plain; charset=utf-8")
        elif self.path == "/500":
            self.answer(500, b"upstream broke", "text/plain")
        elif self.path == "/html":
            page = "<!doctype html><title>登录</title><p>请先登录</p>".encode()
            self.answer(200, page, "text/html; charset=utf-8")
        elif self.path == "/trickle":
            self.send_response(200)
            self.send_header("Content-Length", "100000")
            self.end_headers()
            while not type(self).release.wait(0.2):
                try:
                    self.wfile.write(b"#")
                    self.wfile.flush()
                except OSError:
                    return
        else:
            self.answer(404, b"not found", "text/plain")

    def answer(self, status, body, content_type):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def upstream():
    """A local "raw.githubusercontent.com": (base URL, paths requested)."""
    handler = type(
        "Handler", (Upstream,), {"requests": [], "release": threading.Event()}
    )
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", handler.requests
    handler.release.set()
    server.shutdown()
    server.server_close()


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def first_start_run() -> tuple[list[str], float]:
    out = StringIO()
    started = time.monotonic()
    call_command("first_start", stdout=out)
    return out.getvalue().splitlines(), time.monotonic() - started


def contents() -> dict:
    return {
        "categories": Category.objects.count(),
        "papers": Paper.objects.count(),
        "videos": VideoNote.objects.count(),
    }


def test_the_default_source_is_the_upstream_readme():
    from django.conf import settings

    assert settings.READINGLIST_SOURCE_URL == UPSTREAM


def test_empty_database_gets_the_live_list_and_one_queued_refresh(
    settings, upstream, queued
):
    base, requested = upstream
    settings.READINGLIST_SOURCE_URL = f"{base}/README.md"

    lines, _ = first_start_run()

    assert contents() == EXCERPT_LIST
    assert requested[0] == "/README.md"
    # Then the covers it names, read against its URL (this server has none).
    assert requested[1:] and all(p.startswith("/imgs/") for p in requested[1:])
    assert lines[0] == (
        f"first start: imported the reading list from {base}/README.md "
        "(8 categories, 17 papers, 13 videos)"
    )
    assert lines[1].startswith("first start: covers: 0 stored, 0 unchanged, ")
    # Queued, not run: the web server starts while the worker fetches the counts.
    assert queued == [QUEUED]
    assert lines[2].startswith("first start: loaded the starter learning paths")
    assert lines[3].startswith("first start: queued a citation refresh for the 17 ")
    assert len(lines) == 4


def test_covers_past_the_time_budget_are_left_for_later_in_one_line(
    settings, upstream, queued, monkeypatch
):
    base, requested = upstream
    settings.READINGLIST_SOURCE_URL = f"{base}/README.md"
    monkeypatch.setattr(first_start, "NETWORK_BUDGET", -1.0)

    lines, _ = first_start_run()

    assert requested == ["/README.md"]  # no cover fetched
    assert lines[1].startswith(
        "first start: covers: 0 stored, 0 unchanged, 0 failed, 13 skipped (out of time)"
    )
    assert "import_readme" in lines[1]


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("/500", r"500 Server Error"),
        ("/html", r"no paper or video table"),
        ("/missing.md", r"404 Client Error"),
        ("closed-port", r"cannot fetch .*(refused|Failed to establish)"),
    ],
)
def test_a_source_that_fails_loads_the_seed_and_says_so_in_one_line(
    settings, upstream, queued, path, reason
):
    base, _ = upstream
    url = (
        f"http://127.0.0.1:{closed_port()}/README.md"
        if path == "closed-port"
        else base + path
    )
    settings.READINGLIST_SOURCE_URL = url

    lines, seconds = first_start_run()

    assert contents() == SEED
    fallback = [line for line in lines if "seed" in line]
    assert len(fallback) == 1
    line = fallback[0]
    assert line.startswith("first start: could not import the reading list (")
    assert re.search(reason, line), line
    assert "loaded the shipped seed list instead (3 categories, 9 papers" in line
    assert line.endswith(f"python manage.py import_readme {url}")
    assert seconds < first_start.SOURCE_DEADLINE  # local failures are immediate
    # The seed's papers have no counts either: the refresh is queued all the same.
    assert queued == [QUEUED]


def test_a_server_that_trickles_is_cut_off_at_the_total_deadline(
    settings, upstream, queued, monkeypatch
):
    """Every read gets a byte in time, so only a deadline on the whole fetch ends it."""
    base, _ = upstream
    settings.READINGLIST_SOURCE_URL = f"{base}/trickle"
    monkeypatch.setattr(first_start, "SOURCE_DEADLINE", 1.0)

    lines, seconds = first_start_run()

    assert seconds < 1.0 + 2  # the deadline and the seed import
    assert contents() == SEED
    assert "no complete answer within 1 s" in lines[0]


def test_a_name_lookup_that_hangs_is_cut_off_at_the_total_deadline(
    settings, queued, monkeypatch
):
    """getaddrinfo has no timeout of its own (an unreachable resolver)."""
    released = threading.Event()

    def hanging_lookup(*args, **kwargs):
        released.wait(30)
        raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")

    monkeypatch.setattr(socket, "getaddrinfo", hanging_lookup)
    monkeypatch.setattr(first_start, "SOURCE_DEADLINE", 1.0)
    settings.READINGLIST_SOURCE_URL = UPSTREAM
    try:
        lines, seconds = first_start_run()
    finally:
        released.set()

    assert seconds < 1.0 + 2
    assert contents() == SEED
    assert f"python manage.py import_readme {UPSTREAM}" in lines[0]


def test_offline_name_resolution_failure_is_immediate(settings, queued, monkeypatch):
    def no_dns(*args, **kwargs):
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", no_dns)
    settings.READINGLIST_SOURCE_URL = UPSTREAM

    lines, seconds = first_start_run()

    assert seconds < first_start.SOURCE_DEADLINE / 2
    assert contents() == SEED
    assert "Name or service not known" in lines[0] or "resolve" in lines[0]


def test_an_empty_source_setting_loads_the_seed_without_a_request(
    settings, upstream, queued
):
    _, requested = upstream
    settings.READINGLIST_SOURCE_URL = ""

    lines, _ = first_start_run()

    assert contents() == SEED
    assert requested == []
    assert lines[0].startswith("first start: READINGLIST_SOURCE_URL is empty")


def test_a_populated_database_is_left_as_it_is(settings, upstream, queued):
    base, requested = upstream
    settings.READINGLIST_SOURCE_URL = f"{base}/README.md"
    PaperFactory(citation_count=12)

    lines, _ = first_start_run()

    assert requested == []
    assert Paper.objects.count() == 1 and Category.objects.count() == 0
    assert lines == ["first start: the database already has a reading list, kept"]
    assert queued == []  # every paper has its count


def test_a_populated_database_with_missing_counts_queues_one_refresh(settings, queued):
    settings.READINGLIST_SOURCE_URL = ""
    PaperFactory(citation_count=12)
    PaperFactory(citation_count=None)
    PaperFactory(citation_count=None, s2_paper_id="", arxiv_id="", doi="")

    lines, _ = first_start_run()

    assert queued == [QUEUED]
    assert "for the 1 papers with no count yet" in lines[-1]


def test_a_broker_that_refuses_the_task_is_one_line_not_a_crash(settings, monkeypatch):
    settings.READINGLIST_SOURCE_URL = ""

    def broker_down(*args, **kwargs):
        raise ConnectionRefusedError(111, "Connection refused")

    monkeypatch.setattr(refresh_citations, "apply_async", broker_down)
    lines, _ = first_start_run()
    assert contents() == SEED
    assert lines[-1].startswith("first start: could not queue the citation refresh")
    assert lines[-1].endswith("python manage.py refresh_citations --only-missing")


# The queued refresh -------------------------------------------------------------------


@pytest.fixture
def fast_client(settings, tmp_path):
    settings.VAR_DIR = tmp_path  # the SQLite lock file
    settings.SEMANTIC_SCHOLAR_API_URL = "https://api.semanticscholar.org/graph/v1"
    settings.SEMANTIC_SCHOLAR_MAX_RPS = 0


def test_the_queued_refresh_asks_only_for_missing_counts(fast_client):
    counted = PaperFactory(citation_count=5)
    missing = PaperFactory(citation_count=None)
    fake = FakeSemanticScholar()
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add_callback(responses.POST, BATCH_URL, callback=fake.responses_callback)
        result = refresh_citations.apply(
            kwargs={"only_missing": True, "trigger": "command"}
        ).get()

    assert result["status"] == "succeeded"
    assert fake.calls == [[missing.s2_paper_id]]
    assert counted.s2_paper_id not in fake.calls[0]
    assert RefreshRun.objects.get().trigger == RefreshRun.Trigger.COMMAND


def test_an_unreachable_api_frees_the_worker_at_once(settings, tmp_path):
    """Offline, the refresh fails at once instead of holding the solo worker of
    `make run` through minutes of backoff (the client's own 6 retries, factor 2)."""
    settings.VAR_DIR = tmp_path
    settings.SEMANTIC_SCHOLAR_API_URL = f"http://127.0.0.1:{closed_port()}/graph/v1"
    PaperFactory(citation_count=None)

    started = time.monotonic()
    result = refresh_citations.apply(kwargs={"only_missing": True}).get()

    assert time.monotonic() - started < 10  # 6 retries would take over a minute
    run = RefreshRun.objects.get()
    assert result["status"] == run.status == RefreshRun.Status.FAILED
    assert run.retries == 0
    assert "unreachable, not retried" in run.last_error


def test_make_run_calls_first_start_after_migrate():
    makefile = Path(ROOT / "Makefile").read_text(encoding="utf-8")
    run = re.search(r"^run: migrate\n((?:\t.*\n)+)", makefile, flags=re.MULTILINE)
    assert run, "the run target depends on migrate"
    recipe = run.group(1)
    assert "manage.py first_start" in recipe
    assert recipe.index("first_start") < recipe.index("honcho")
