"""What a user sees in the terminal: one summary per import, no axes banner, and
request lines that say which request they are about."""

import io
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.servers.basehttp import WSGIRequestHandler

from papers.log_format import EventFormatter

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT / "papers" / "data" / "seed-list.md"


def test_a_management_command_logs_no_axes_banner(tmp_path):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "readinglist.settings",
        "DJANGO_DEBUG": "1",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 0, result.stderr
    assert "AXES" not in result.stderr + result.stdout


@pytest.mark.django_db
def test_the_import_summary_is_printed_once(caplog):
    out = io.StringIO()
    with caplog.at_level(logging.DEBUG):
        logging.getLogger().setLevel(logging.INFO)  # what LOGGING's root shows
        call_command("import_readme", str(SEED), stdout=out, stderr=io.StringIO())

    shown = out.getvalue() + "\n".join(
        r.getMessage() for r in caplog.records if r.levelno >= logging.INFO
    )
    assert shown.count("papers: ") == 1
    assert shown.count("categories: ") == 1


def _runserver_record(request_line: str, status: str) -> logging.LogRecord:
    """The record runserver's handler logs for a request, captured as it is made."""
    handler = WSGIRequestHandler.__new__(WSGIRequestHandler)
    handler.request = object()  # runserver passes its socket here, not a request
    handler.requestline = request_line
    records = []

    class Keep(logging.Handler):
        def emit(self, record):
            records.append(record)

    logger = logging.getLogger("django.server")
    keep = Keep()
    logger.addHandler(keep)
    try:
        handler.log_message('"%s" %s %s', request_line, status, "1234")
    finally:
        logger.removeHandler(keep)
    [record] = records
    return record


def test_runserver_request_lines_carry_method_and_path():
    record = _runserver_record("GET /search/?q=bert HTTP/1.1", "200")

    text = EventFormatter(json_lines=False).format(record)
    event = EventFormatter(json_lines=True).format(record)

    assert "method=GET path=/search/" in text
    assert "None" not in text
    assert '"method": "GET"' in event and '"path": "/search/"' in event
    assert "bert" not in text.split("path=")[1].split()[0]  # no query string


def test_a_record_without_a_request_line_gets_no_none_fields():
    record = _runserver_record("\x16\x03\x01garbage", "400")

    text = EventFormatter(json_lines=False).format(record)

    assert "method=None" not in text and "path=None" not in text
