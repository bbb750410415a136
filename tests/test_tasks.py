"""The refresh task, its schedule, its lock, and the admin buttons that queue it."""

import os
import signal
import socket
import subprocess
import sys
import time

import pytest
import responses
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings as django_settings
from django.contrib.auth.models import Permission, User
from django.db import connection
from django.urls import reverse
from django_celery_beat.models import PeriodicTask
from django_celery_beat.schedulers import DatabaseScheduler
from kombu.exceptions import OperationalError

from papers import tasks
from papers.locks import ADVISORY_LOCK_KEY, _file_lock, lock_file_path, refresh_lock
from papers.models import RefreshRun
from papers.semantic_scholar import SemanticScholarClient
from papers.services.citations import citations_refresh_enqueue
from papers.tasks import refresh_citations
from readinglist import celery_app
from readinglist.celery import BROKER_FOLDER_OPTIONS
from tests.factories import PaperFactory
from tests.factories_requests import ReadingRequestFactory
from tests.fake_s2 import FakeSemanticScholar
from tests.helpers import admin_action

pytestmark = pytest.mark.django_db

BATCH_URL = "https://api.semanticscholar.org/graph/v1/paper/batch"


@pytest.fixture(autouse=True)
def _fast_client(settings, tmp_path):
    settings.VAR_DIR = tmp_path  # the SQLite lock file
    settings.SEMANTIC_SCHOLAR_API_URL = "https://api.semanticscholar.org/graph/v1"
    settings.SEMANTIC_SCHOLAR_MAX_RPS = 0


@pytest.fixture
def fake():
    fake = FakeSemanticScholar()
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add_callback(responses.POST, BATCH_URL, callback=fake.responses_callback)
        yield fake


def refresh_action(client, papers, *, follow=False):
    """The paper list's "refresh now" action on ``papers``."""
    return admin_action(
        client,
        reverse("admin:papers_paper_changelist"),
        "refresh_citations_now",
        papers,
        follow=follow,
    )


@pytest.fixture
def broker_down(monkeypatch):
    """Sending a task fails as it does when Redis refuses the connection."""

    def refuse(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Refused.")

    monkeypatch.setattr(refresh_citations, "apply_async", refuse)


@pytest.fixture
def broker_closed(monkeypatch):
    """The Celery app pointed at a Redis port on 127.0.0.1 where nothing listens."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setitem(celery_app.conf, "broker_url", f"redis://127.0.0.1:{port}/0")
    monkeypatch.setitem(celery_app.conf, "broker_transport_options", {})
    # Forget the connections made for the default broker.
    monkeypatch.setattr(celery_app, "_pool", None)
    monkeypatch.setattr(celery_app.amqp, "_producer_pool", None)


# The task ---------------------------------------------------------------------------


def test_task_is_safe_to_redeliver_and_bounded_in_time():
    task = refresh_citations._get_current_object()
    assert task.name == "papers.refresh_citations"
    assert task.acks_late is True
    assert 0 < task.soft_time_limit < task.time_limit
    # acks_late: a run still going when the broker redelivers would run twice.
    visibility = django_settings.CELERY_BROKER_TRANSPORT_OPTIONS.get(
        "visibility_timeout", 2 * 60 * 60
    )
    assert task.time_limit < visibility


def test_task_refreshes_the_given_papers(fake):
    chosen, other = PaperFactory(citation_count=None), PaperFactory(citation_count=None)

    result = refresh_citations.apply(
        kwargs={"paper_ids": [chosen.pk], "trigger": RefreshRun.Trigger.ADMIN}
    ).get()

    run = RefreshRun.objects.get()
    assert result["status"] == "succeeded" and result["run"] == run.pk
    assert run.trigger == RefreshRun.Trigger.ADMIN
    assert fake.calls == [[chosen.s2_paper_id]]
    chosen.refresh_from_db()
    other.refresh_from_db()
    assert chosen.citation_count is not None and other.citation_count is None


def test_task_exits_at_once_when_another_run_holds_the_lock(fake):
    PaperFactory()
    with refresh_lock():
        result = refresh_citations.apply().get()
    assert result == {"status": "skipped", "reason": "another refresh is running"}
    assert not RefreshRun.objects.exists()
    assert fake.calls == []


def test_soft_time_limit_closes_the_run_record(fake, monkeypatch):
    PaperFactory(citation_count=7)

    def out_of_time(self, ids):
        raise SoftTimeLimitExceeded()

    monkeypatch.setattr(SemanticScholarClient, "fetch_batch", out_of_time)

    result = refresh_citations.apply().get()

    assert result["status"] == "stopped"
    run = RefreshRun.objects.get()
    assert run.status == RefreshRun.Status.FAILED
    assert run.finished_at is not None
    assert "SoftTimeLimitExceeded" in run.last_error


# Beat closes "old" connections, and a connection inside a test transaction is one.
@pytest.mark.django_db(transaction=True)
def test_beat_puts_the_schedule_in_django_celery_beat():
    # `celery -A readinglist beat` makes our app the current one; an earlier test
    # (a worker, another app) may have left a different one current in this process.
    celery_app.set_current()
    for entry in django_settings.CELERY_BEAT_SCHEDULE.values():
        entry["schedule"].app = celery_app
    DatabaseScheduler(app=celery_app)  # what `celery beat` does when it starts

    task = PeriodicTask.objects.get(name="refresh-citations-nightly")
    assert task.task == "papers.refresh_citations" and task.enabled
    assert (task.crontab.minute, task.crontab.hour) == ("0", "3")
    assert (task.crontab.day_of_week, task.crontab.day_of_month) == ("*", "*")
    assert str(task.crontab.timezone) == "Asia/Shanghai"


# The lock ---------------------------------------------------------------------------


def test_lock_is_exclusive_and_released():
    with refresh_lock() as first, refresh_lock() as second:
        assert first and not second
    with refresh_lock() as again:
        assert again


def test_sqlite_file_lock_is_freed_when_its_process_dies():
    """The SQLite fallback, exercised directly so it runs on every database."""
    path = lock_file_path()
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import fcntl, sys, time\n"
            "f = open(sys.argv[1], 'a')\n"
            "fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)\n"
            "print('locked', flush=True)\n"
            "time.sleep(60)\n",
            str(path),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        with _file_lock(path) as acquired:
            assert not acquired
        os.kill(holder.pid, signal.SIGKILL)  # a crashed run
        holder.wait(timeout=10)
        with _file_lock(path) as acquired:
            assert acquired
    finally:
        holder.kill()
        holder.wait()
        holder.stdout.close()


def _pg_dsn():
    params = connection.settings_dict
    return (
        f"host={params['HOST'] or '127.0.0.1'} port={params['PORT'] or 5432} "
        f"dbname={params['NAME']} user={params['USER']}"
    ) + (f" password={params['PASSWORD']}" if params["PASSWORD"] else "")


@pytest.mark.postgres
def test_postgres_lock_is_held_across_connections():
    import psycopg

    with psycopg.connect(_pg_dsn(), autocommit=True) as other:
        # Another worker, on another machine for all PostgreSQL knows.
        assert other.execute(
            "SELECT pg_try_advisory_lock(%s)", [ADVISORY_LOCK_KEY]
        ).fetchone()[0]
        with refresh_lock() as acquired:
            assert not acquired
        other.execute("SELECT pg_advisory_unlock(%s)", [ADVISORY_LOCK_KEY])
        with refresh_lock() as acquired:
            assert acquired
            assert not other.execute(
                "SELECT pg_try_advisory_lock(%s)", [ADVISORY_LOCK_KEY]
            ).fetchone()[0]


@pytest.mark.postgres
def test_postgres_lock_is_freed_when_its_worker_dies():
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time, psycopg\n"
            "c = psycopg.connect(sys.argv[1], autocommit=True)\n"
            "c.execute('SELECT pg_advisory_lock(%s)', [int(sys.argv[2])])\n"
            "print('locked', flush=True)\n"
            "time.sleep(60)\n",
            _pg_dsn(),
            str(ADVISORY_LOCK_KEY),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        with refresh_lock() as acquired:
            assert not acquired
        os.kill(holder.pid, signal.SIGKILL)  # a crashed worker
        holder.wait(timeout=10)
        deadline = time.monotonic() + 10
        while True:  # the server notices the closed socket at once, give it a moment
            with refresh_lock() as acquired:
                if acquired or time.monotonic() > deadline:
                    break
            time.sleep(0.05)
        assert acquired
    finally:
        holder.kill()
        holder.wait()
        holder.stdout.close()


# The admin --------------------------------------------------------------------------


def test_admin_action_queues_the_selected_papers_after_commit(
    admin_client, queued, django_capture_on_commit_callbacks
):
    papers = [PaperFactory(), PaperFactory()]
    url = reverse("admin:papers_paper_changelist")

    with django_capture_on_commit_callbacks() as callbacks:
        response = refresh_action(admin_client, papers)
        assert queued == []  # nothing leaves before the commit
    for callback in callbacks:
        callback()

    assert response.status_code == 302
    assert len(queued) == 1
    assert sorted(queued[0]["paper_ids"]) == sorted(p.pk for p in papers)
    assert queued[0]["trigger"] == RefreshRun.Trigger.ADMIN
    page = admin_client.get(url)
    assert "2 篇论文的引用数刷新已加入队列" in page.text


def test_admin_action_is_offered_in_the_paper_list(admin_client):
    PaperFactory()  # the actions menu shows only over a non-empty list
    page = admin_client.get(reverse("admin:papers_paper_changelist"))
    assert "立即刷新引用数" in page.text
    assert "刷新全部引用数" in page.text
    assert reverse("admin:papers_paper_refresh_citations") in page.text
    assert "<style" not in page.text  # the CSP allows no inline style


def test_refresh_all_button_queues_every_paper(
    admin_client, queued, django_capture_on_commit_callbacks
):
    url = reverse("admin:papers_paper_refresh_citations")
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(url, follow=True)

    assert queued == [{"paper_ids": None, "trigger": RefreshRun.Trigger.ADMIN}]
    assert response.redirect_chain[-1][0] == reverse("admin:papers_paper_changelist")
    assert "全部论文的引用数刷新已加入队列" in response.text


def test_refresh_all_button_only_answers_post(admin_client, queued):
    response = admin_client.get(reverse("admin:papers_paper_refresh_citations"))
    assert response.status_code == 405
    assert queued == []


def test_curators_who_may_only_view_cannot_refresh(client, queued):
    PaperFactory()
    viewer = User.objects.create_user("viewer", password="x", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_paper"))
    client.force_login(viewer)

    page = client.get(reverse("admin:papers_paper_changelist"))
    response = client.post(reverse("admin:papers_paper_refresh_citations"))

    assert "刷新全部引用数" not in page.text
    assert "立即刷新引用数" not in page.text
    assert response.status_code == 403
    assert queued == []


def test_refresh_runs_are_shown_read_only(admin_client):
    run = RefreshRun.objects.create(
        status=RefreshRun.Status.PARTIAL,
        papers_asked=10,
        failed=2,
        last_error="HTTP 503",
    )

    listing = admin_client.get(reverse("admin:papers_refreshrun_changelist"))
    detail = admin_client.get(reverse("admin:papers_refreshrun_change", args=[run.pk]))

    assert listing.status_code == 200 and "部分成功" in listing.text
    assert detail.status_code == 200 and "HTTP 503" in detail.text
    assert 'name="_save"' not in detail.text
    assert admin_client.get(reverse("admin:papers_refreshrun_add")).status_code == 403
    delete = reverse("admin:papers_refreshrun_delete", args=[run.pk])
    assert admin_client.post(delete, {"post": "yes"}).status_code == 403
    assert RefreshRun.objects.filter(pk=run.pk).exists()
    assert tasks.REFRESH_SOFT_TIME_LIMIT < tasks.REFRESH_TIME_LIMIT


def test_targeted_refresh_retries_later_when_the_nightly_run_holds_the_lock(
    fake, monkeypatch
):
    """An accepted 请求精读 or an admin action must not wait a whole night."""
    paper = PaperFactory()
    retried = []

    def fake_retry(*, exc, countdown):
        retried.append(countdown)
        return RuntimeError("retry scheduled")

    monkeypatch.setattr(refresh_citations, "retry", fake_retry)
    with refresh_lock(), pytest.raises(RuntimeError, match="retry scheduled"):
        refresh_citations.apply(kwargs={"paper_ids": [paper.pk]}, throw=True).get()
    assert retried == [tasks.TARGETED_RETRY_DELAY]
    assert fake.calls == []


# A broker that is down ---------------------------------------------------------------
# transaction=True: outside a test transaction the task is sent when the admin saves,
# as in production, so the curator's message comes back with the same response.


@pytest.mark.django_db(transaction=True)
def test_refresh_now_with_the_broker_down_warns_instead_of_failing(
    admin_client, broker_down, caplog
):
    paper = PaperFactory(citation_count=7)

    page = refresh_action(admin_client, [paper], follow=True).text

    assert "任务队列暂时连不上" in page and "已加入队列" not in page
    paper.refresh_from_db()
    assert paper.citation_count == 7
    assert "citation refresh not queued, the broker is down" in caplog.text


@pytest.mark.django_db(transaction=True)
def test_accepting_a_request_with_the_broker_down_keeps_the_paper(
    admin_client, broker_down
):
    item = ReadingRequestFactory(
        url="https://arxiv.org/abs/1706.03762", key="arxiv:1706.03762", title="T"
    )

    page = admin_action(
        admin_client,
        reverse("admin:papers_readingrequest_changelist"),
        "accept",
        [item],
        follow=True,
    ).text

    assert "已接受 1 个请求" in page and "任务队列暂时连不上" in page
    item.refresh_from_db()
    assert item.status == "accepted"
    assert item.paper.arxiv_id == "1706.03762"


@pytest.mark.django_db(transaction=True)
def test_a_real_broker_that_refuses_connections_is_caught(broker_closed):
    errors = []

    citations_refresh_enqueue(paper_ids=[1], on_failure=errors.append)

    assert len(errors) == 1 and isinstance(errors[0], OperationalError)


def test_broker_folders_are_made_when_a_process_reads_the_celery_config(
    tmp_path, monkeypatch
):
    folders = {name: tmp_path / name for name in BROKER_FOLDER_OPTIONS}
    options = {name: str(path) for name, path in folders.items()}
    monkeypatch.setitem(celery_app.conf, "broker_transport_options", options)

    celery_app.on_after_configure.send(sender=celery_app, source=celery_app.conf)

    assert all(path.is_dir() for path in folders.values())
