"""请求精读 mail never runs on the request thread: a mail server that accepts and never
answers leaves the form prompt, and the mail task times out, retries with a growing
delay and logs its final failure (issue 10.3)."""

import logging
import socket
import threading
import time
from unittest import mock

import pytest

from papers import tasks
from papers.models import ReadingRequest
from readinglist.celery import app as celery_app
from tests.factories_requests import ReadingRequestFactory

pytestmark = pytest.mark.django_db

PAGE = "/requests/"
HTMX = {"HX-Request": "true"}


class SilentSMTPServer:
    """A socket on loopback that accepts connections and never says a word."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.accepted = []
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self):
        while True:
            try:
                conn, _address = self.sock.accept()
            except OSError:
                return
            self.accepted.append(conn)  # held open, never answered

    def close(self):
        self.sock.close()
        for conn in self.accepted:
            conn.close()


@pytest.fixture
def silent_smtp(settings):
    server = SilentSMTPServer()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = server.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 1
    settings.MANAGERS = [("Curator", "curator@example.org")]
    yield server
    server.close()


def form_data() -> dict:
    return {
        "url": "https://arxiv.org/abs/1706.03762",
        "title": "Attention Is All You Need",
        "reason": "The paper behind every large language model.",
        "nickname": "",
        "email": "reader@example.org",
        "website": "",
    }


def test_email_timeout_is_set():
    from django.conf import settings

    assert 0 < settings.EMAIL_TIMEOUT <= 10


def test_a_silent_mail_server_does_not_hold_the_form(
    client, silent_smtp, django_capture_on_commit_callbacks
):
    queued = []
    with (
        mock.patch.object(
            tasks.reading_request_notify_managers, "delay", side_effect=queued.append
        ),
        django_capture_on_commit_callbacks(execute=True),
    ):
        started = time.monotonic()
        response = client.post(PAGE, form_data(), headers=HTMX)
        elapsed = time.monotonic() - started

    assert response.status_code == 200
    assert "谢谢！你的请求已经提交。" in response.text
    item = ReadingRequest.objects.get()
    assert queued == [item.pk]  # the mail is the worker's job
    assert silent_smtp.accepted == []  # the request never talked to the mail server
    # Behaviour, not a benchmark: it did not wait for the mail timeout.
    assert elapsed < 1


def test_the_mail_task_retries_with_backoff_then_logs_the_failure(
    silent_smtp, caplog, monkeypatch
):
    monkeypatch.setattr(tasks, "MAIL_MAX_RETRIES", 2)
    monkeypatch.setitem(celery_app.conf, "task_eager_propagates", False)
    item = ReadingRequestFactory()
    countdowns = []
    retry = tasks.reading_request_notify_managers.retry

    def spy(*args, **kwargs):
        countdowns.append(kwargs["countdown"])
        return retry(*args, **kwargs)

    monkeypatch.setattr(tasks.reading_request_notify_managers, "retry", spy)

    with caplog.at_level(logging.WARNING, logger="papers.tasks"):
        result = tasks.reading_request_notify_managers.apply(args=[item.pk])

    assert result.failed()
    assert "timed out" in str(result.result)
    assert len(silent_smtp.accepted) == 3  # the first attempt and two retries
    assert countdowns == [tasks.MAIL_RETRY_DELAY, 2 * tasks.MAIL_RETRY_DELAY]
    errors = [
        r
        for r in caplog.records
        if r.name == "papers.tasks" and r.levelno == logging.ERROR
    ]
    assert len(errors) == 1
    assert f"reading request {item.pk} not sent after 3 attempts" in (
        errors[0].getMessage()
    )


def test_the_done_mail_task_sends_when_the_server_answers(mailoutbox):
    item = ReadingRequestFactory(email="reader@example.org")
    tasks.reading_request_notify_requester.apply(args=[item.pk], throw=True)
    assert [mail.to for mail in mailoutbox] == [["reader@example.org"]]


def test_a_broker_that_is_down_keeps_the_request(
    client, caplog, django_capture_on_commit_callbacks, settings
):
    settings.MANAGERS = [("Curator", "curator@example.org")]
    with (
        mock.patch.object(
            tasks.reading_request_notify_managers,
            "delay",
            side_effect=ConnectionError("broker down"),
        ),
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = client.post(PAGE, form_data())

    assert response.status_code == 302
    assert ReadingRequest.objects.count() == 1
    assert "could not queue papers.reading_request_notify_managers" in caplog.text
