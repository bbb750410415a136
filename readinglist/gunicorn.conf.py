"""gunicorn settings for production: ``gunicorn -c readinglist/gunicorn.conf.py
readinglist.wsgi`` (docs/deploy.md, the systemd unit).

Threaded workers (gthread) that hand a request to a thread only once its headers
have all arrived (readinglist/gunicorn_worker.py): a client dripping its headers
waits in the worker's poller, holding no thread, and is cut off after 10 s. Request
bodies are still read by a thread, so gunicorn runs behind a proxy that buffers
whole requests (nginx) and listens only where that proxy reaches it; ``when_ready``
warns when it listens anywhere else.
https://docs.gunicorn.org/en/stable/design.html#how-many-threads
https://docs.gunicorn.org/en/stable/settings.html
"""

import ipaddress
import os

_env = os.environ.get
_DEBUG = _env("DJANGO_DEBUG", "0").lower() in ("1", "true", "yes", "on")

# Loopback (or a unix socket, "unix:/run/readinglist/gunicorn.sock"): nginx in front.
bind = [_env("GUNICORN_BIND", "127.0.0.1:8000")]
worker_class = "readinglist.gunicorn_worker.HeaderBufferingWorker"
workers = int(_env("GUNICORN_WORKERS", "3"))
# Each thread keeps its own PostgreSQL connection (DJANGO_CONN_MAX_AGE).
threads = int(_env("GUNICORN_THREADS", "4"))
# A request thread stuck longer than this is not noticed by gthread's heartbeat;
# the database and Redis timeouts (settings) keep requests well under it.
timeout = 30
graceful_timeout = 30
keepalive = 5
max_requests = 2000
max_requests_jitter = 200
# No gunicornc control socket (under $HOME by default): nothing here uses it.
control_socket_disable = True

# One JSON object per line on stderr, like Django's own (papers/log_format.py);
# readable text with DJANGO_LOG_FORMAT=text. The access line names the method, the
# path without its query string (it may hold tokens), the status and the time taken.
_json_lines = _env("DJANGO_LOG_FORMAT", "text" if _DEBUG else "json") == "json"
access_log_format = "%(m)s %(U)s %(s)s"
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "event": {
            "()": "papers.log_format.EventFormatter",
            "json_lines": _json_lines,
        }
    },
    "filters": {"access": {"()": "papers.log_format.GunicornAccessFields"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "event",
            "stream": "ext://sys.stderr",
        },
        "access": {
            "class": "logging.StreamHandler",
            "formatter": "event",
            "filters": ["access"],
            "stream": "ext://sys.stderr",
        },
    },
    "root": {"level": "INFO", "handlers": ["console"]},
    "loggers": {
        # Their own handlers and no propagation: Django's LOGGING, applied later in
        # each worker, gives the root logger a handler too, and a line must not be
        # written twice.
        "gunicorn.error": {
            "level": "INFO",
            "handlers": ["console"],
            "propagate": False,
        },
        "gunicorn.access": {
            "level": "INFO",
            "handlers": ["access"],
            "propagate": False,
        },
    },
}


def _is_exposed(address) -> bool:
    """Whether a listening address is every interface or a public one (a private
    address of a web machine behind nginx on another machine is fine)."""
    if isinstance(address, str):  # a unix socket path
        return False
    try:
        ip = ipaddress.ip_address(address[0])
    except ValueError:
        return False
    return ip.is_unspecified or ip.is_global


def when_ready(server):
    for listener in server.LISTENERS:
        if _is_exposed(listener.sock.getsockname()):
            server.log.warning(
                "gunicorn listens on %s, on every or a public interface. It must sit "
                "behind a proxy that buffers whole requests (nginx): slow request "
                "bodies hold a worker thread each. Bind 127.0.0.1, a private address "
                "or a unix socket (docs/deploy.md).",
                listener,
            )
