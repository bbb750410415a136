"""One line per log event, for journald, gunicorn and Celery to collect from stderr.

``EventFormatter`` writes a JSON object per line in production (``json_lines=True``)
and a readable ``time level logger message key=value`` line in development. Fields
passed with ``extra=`` become fields of the line; a ``request`` (as the
``django.request`` logger passes) becomes ``method`` and ``path`` (no query string: it
may hold tokens).

In JSON mode a traceback is a ``traceback`` field of the same line, so one event is
always one line: journald and log shippers do not split it, lines from several workers
do not interleave, and ``jq -r .traceback`` prints it as Python wrote it. In text mode
it follows the line, as usual, for reading in a terminal.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Mapping

# Attributes every LogRecord has; anything else on a record came from ``extra=``.
_RECORD_ATTRS = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


def _fields(record: logging.LogRecord) -> dict:
    fields = {}
    for name, value in vars(record).items():
        if name in _RECORD_ATTRS or name.startswith("_"):
            continue
        if name == "request":
            fields.update(_request_fields(value, record))
        elif name == "status_code":
            fields["status"] = value
        else:
            fields[name] = value
    if record.exc_info and record.exc_info[0] is not None:
        fields["exc_type"] = record.exc_info[0].__name__
    return fields


def _request_fields(request, record: logging.LogRecord) -> dict:
    """``method`` and ``path`` of the request a record is about, whichever logger.

    ``django.request`` passes the ``HttpRequest``; ``django.server`` (runserver)
    passes the socket, and its request line is the first argument of the message:
    ``"GET /search/?q=x HTTP/1.1"``. A field that cannot be known is left out
    rather than written as None.
    """
    method = getattr(request, "method", None)
    path = getattr(request, "path", None)
    if method is None and record.args and isinstance(record.args, tuple):
        parts = str(record.args[0]).split()
        if len(parts) == 3 and parts[2].startswith("HTTP/"):
            method, path = parts[0], parts[1]
    fields = {}
    if isinstance(method, str) and isinstance(path, str):
        fields["method"] = method
        fields["path"] = path.split("?", 1)[0]
    return fields


def _logfmt(value) -> str:
    text = str(value)
    if not text or any(c in text for c in ' "=\n'):
        return json.dumps(text, ensure_ascii=False)
    return text


class EventFormatter(logging.Formatter):
    def __init__(self, *args, json_lines: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        self.json_lines = json_lines

    def format(self, record: logging.LogRecord) -> str:
        time = dt.datetime.fromtimestamp(record.created, tz=dt.UTC)
        fields = _fields(record)
        if self.json_lines:
            event = {
                "time": time.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
                "level": record.levelname,
                "logger": record.name,
                "message": record.getMessage(),
                **fields,
            }
            if record.exc_info and record.exc_info[0] is not None:
                event["traceback"] = self.formatException(record.exc_info)
            elif record.stack_info:
                event["stack"] = self.formatStack(record.stack_info)
            return json.dumps(event, ensure_ascii=False, default=str)

        line = " ".join(
            [
                time.astimezone().strftime("%Y-%m-%d %H:%M:%S"),
                record.levelname,
                record.name,
                record.getMessage(),
                *(f"{k}={_logfmt(v)}" for k, v in fields.items()),
            ]
        )
        if record.exc_info and record.exc_info[0] is not None:
            line += "\n" + self.formatException(record.exc_info)
        return line


class GunicornAccessFields(logging.Filter):
    """gunicorn's access log record as fields of its line: ``method``, ``path`` (no
    query string), ``status``, ``duration_ms`` and ``bytes``.

    gunicorn passes its "atoms" as the record's arguments (``%(m)s`` and so on).
    https://docs.gunicorn.org/en/stable/settings.html#access-log-format
    """

    def filter(self, record: logging.LogRecord) -> bool:
        atoms = record.args
        if isinstance(atoms, Mapping):
            record.method = atoms.get("m")
            record.path = atoms.get("U")
            record.status = _int(atoms.get("s"))
            micros = _int(atoms.get("D"))
            record.duration_ms = None if micros is None else round(micros / 1000, 1)
            record.bytes = _int(atoms.get("B"))
        return True


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
