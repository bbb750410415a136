"""The nightly refresh end to end: real PostgreSQL, a real Redis broker and a real
Celery worker process, against the fake Semantic Scholar on 127.0.0.1."""

import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import quote

import pytest
import redis
from celery import Celery
from django.db import connection

from papers.models import CitationSnapshot, Paper, RefreshRun
from tests.factories import CitationSnapshotFactory, PaperFactory
from tests.fake_s2 import FakeSemanticScholar, Reply, default_paper_id
from tests.helpers import require, stop_process

pytestmark = [
    pytest.mark.integration,
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.django_db(transaction=True),  # the worker must see committed rows
]

ROOT = Path(__file__).resolve().parents[1]
STARTUP_TIMEOUT = 30
RUN_TIMEOUT = 60


def database_url() -> str:
    """The test database (not the one named in DATABASE_URL) as a URL."""
    db = connection.settings_dict
    auth = quote(db["USER"] or "postgres")
    if db["PASSWORD"]:
        auth += ":" + quote(db["PASSWORD"])
    host = f"{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}"
    return f"postgres://{auth}@{host}/{db['NAME']}"


def wait_for(worker, log_path: Path, what: str, condition, timeout=None):
    """Poll ``condition`` until true; fail at once if the worker exits, or after
    ``timeout`` seconds (RUN_TIMEOUT by default) with the tail of its log."""
    timeout = RUN_TIMEOUT if timeout is None else timeout
    deadline = time.monotonic() + timeout
    while not condition():
        if worker.poll() is not None:
            pytest.fail(
                f"the worker exited ({worker.returncode}):\n{log_tail(log_path)}"
            )
        if time.monotonic() > deadline:
            pytest.fail(
                f"no {what} after {timeout} s; worker log:\n{log_tail(log_path)}"
            )
        time.sleep(0.2)


def log_tail(path: Path) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-40:])


def test_worker_refreshes_citations_against_the_fake_api(tmp_path, redis_url):
    old = PaperFactory(citation_count=10)
    CitationSnapshotFactory(paper=old, count=10)
    new = PaperFactory(citation_count=None)
    by_arxiv = PaperFactory(s2_paper_id="", arxiv_id="1706.03762", citation_count=None)
    unknown = PaperFactory(citation_count=77)
    queue = f"test-refresh-{uuid.uuid4().hex[:12]}"
    log_path = tmp_path / "worker.log"

    with (
        FakeSemanticScholar(
            counts={
                old.s2_paper_id: 12,
                new.s2_paper_id: 3,
                "ARXIV:1706.03762": 120_000,
            },
            unknown={unknown.s2_paper_id},
        ) as s2,
        refresh_sent_to_worker(
            "--pool=solo", s2=s2, redis_url=redis_url, queue=queue, log_path=log_path
        ) as worker,
    ):
        wait_for(
            worker,
            log_path,
            "finished refresh",
            lambda: RefreshRun.objects.filter(finished_at__isnull=False).exists(),
        )

    counts = dict(Paper.objects.values_list("pk", "citation_count"))
    assert counts == {old.pk: 12, new.pk: 3, by_arxiv.pk: 120_000, unknown.pk: 77}
    by_arxiv.refresh_from_db()
    assert by_arxiv.s2_paper_id == default_paper_id("ARXIV:1706.03762")
    assert list(
        CitationSnapshot.objects.filter(paper=old)
        .order_by("fetched_at")
        .values_list("count", flat=True)
    ) == [10, 12]
    run = RefreshRun.objects.get()
    assert run.status == RefreshRun.Status.SUCCEEDED, run.last_error
    assert (run.papers_asked, run.updated, run.not_found) == (4, 3, 1)
    assert run.http_calls == 1 and len(s2.calls) == 1
    assert s2.headers[0].get("x-api-key") == "test-key"


def worker_env(s2: FakeSemanticScholar, redis_url: str) -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "readinglist.settings",
        "DJANGO_SECRET_KEY": "integration-test-secret-key-0123456789abcdefghij",
        "DJANGO_DEBUG": "0",
        "DJANGO_LOG_FORMAT": "json",
        "DATABASE_URL": database_url(),
        "CELERY_BROKER_URL": redis_url,
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "SEMANTIC_SCHOLAR_API_URL": s2.base_url,
        "SEMANTIC_SCHOLAR_API_KEY": "test-key",
        "SEMANTIC_SCHOLAR_MAX_RPS": "0",
    }


def start_worker(*pool: str, queue: str, env: dict, log) -> subprocess.Popen:
    """A Celery worker of the site consuming only ``queue``, logging to ``log``."""
    return subprocess.Popen(
        [
            sys.executable, "-m", "celery", "-A", "readinglist", "worker", *pool,
            "--queues", queue, "--hostname", f"{queue}@%h", "--without-gossip",
            "--without-mingle", "--without-heartbeat", "--loglevel=INFO",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )  # fmt: skip


@contextlib.contextmanager
def refresh_sent_to_worker(*pool: str, s2, redis_url: str, queue: str, log_path: Path):
    """A worker (started with ``pool`` options, logging to ``log_path``) once it is
    ready and a refresh is on its queue; stopped, and its queue forgotten, after."""
    with log_path.open("w") as log:
        worker = start_worker(
            *pool, queue=queue, env=worker_env(s2, redis_url), log=log
        )
        sender = Celery("integration-test", broker=redis_url)
        try:
            wait_for(
                worker,
                log_path,
                "ready worker",
                lambda: "ready." in log_path.read_text(errors="replace"),
                timeout=STARTUP_TIMEOUT,
            )
            sender.send_task("papers.refresh_citations", queue=queue)
            yield worker
        finally:
            stop_process(worker, timeout=15)
            sender.close()
            _forget_queue(redis_url, queue)


def pool_children(pid: int) -> list[int]:
    children = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(child) for child in children.read_text().split()]


def test_a_refresh_whose_pool_process_is_killed_runs_again(tmp_path, redis_url):
    """kill -9 of the prefork child mid-refresh: the task goes back on the queue
    (acks_late + reject_on_worker_lost), runs again to completion, and the run
    record the dead process left "running" is closed as failed."""
    require(Path("/proc/self/task").is_dir(), "needs Linux /proc to find the child")
    paper = PaperFactory(citation_count=10)
    queue = f"test-killed-{uuid.uuid4().hex[:12]}"
    log_path = tmp_path / "worker.log"

    with FakeSemanticScholar(counts={paper.s2_paper_id: 42}) as s2:
        # The first call hangs long enough to kill the process making it.
        s2.script.append(Reply(status=503, delay=25))
        with refresh_sent_to_worker(
            "--pool=prefork",
            "--concurrency=1",
            s2=s2,
            redis_url=redis_url,
            queue=queue,
            log_path=log_path,
        ) as worker:
            wait_for(
                worker,
                log_path,
                "call to the fake API",
                lambda: len(s2.calls) == 1,
            )
            (child,) = pool_children(worker.pid)
            os.kill(child, signal.SIGKILL)
            wait_for(
                worker,
                log_path,
                "refresh run again to completion",
                RefreshRun.objects.filter(status=RefreshRun.Status.SUCCEEDED).exists,
            )

    log_text = log_path.read_text(errors="replace")
    assert "WorkerLostError" in log_text
    paper.refresh_from_db()
    assert paper.citation_count == 42
    assert len(s2.calls) == 2  # the cut-short call, then the rerun's
    killed, rerun = RefreshRun.objects.order_by("started_at")
    assert killed.status == RefreshRun.Status.FAILED
    assert "abandoned" in killed.last_error
    assert rerun.status == RefreshRun.Status.SUCCEEDED


def _forget_queue(redis_url: str, queue: str) -> None:
    """Remove the test queue, its exchange and bindings from Redis."""
    client = redis.Redis.from_url(redis_url)
    name = queue.encode()
    try:
        for key in client.scan_iter("*"):
            if name in key:
                client.delete(key)
            elif key.startswith(b"_kombu.binding"):
                kind = client.type(key)
                if kind == b"set":
                    members = [m for m in client.smembers(key) if name in m]
                    if members:
                        client.srem(key, *members)
                elif kind == b"zset":
                    members = [m for m in client.zrange(key, 0, -1) if name in m]
                    if members:
                        client.zrem(key, *members)
    finally:
        client.close()
