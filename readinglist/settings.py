"""Settings for the 论文精读 site, read from the environment (django-environ).

Every variable is documented in ``.env.example``. Nothing secret has a default: the
development secret key is only accepted when ``DJANGO_DEBUG`` is on.
"""

import hashlib
import logging
from datetime import timedelta
from email.utils import getaddresses
from pathlib import Path

import environ
from celery.schedules import crontab
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
# A local .env is a convenience for development; production sets real variables.
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DJANGO_DEBUG", default=False)

SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY is required when DJANGO_DEBUG is off (see .env.example)."
        )
    SECRET_KEY = "django-insecure-development-only-key-never-used-in-production"

ALLOWED_HOSTS = env.list(
    "DJANGO_ALLOWED_HOSTS",
    default=["localhost", "127.0.0.1", "[::1]"] if DEBUG else [],
)
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

# Security: `manage.py check --deploy` is clean with debug off and the production
# variables of docs/deploy.md. https://docs.djangoproject.com/en/5.2/howto/deployment/checklist/
# Behind a proxy that terminates TLS, name the header it sets for the original scheme,
# e.g. HTTP_X_FORWARDED_PROTO,https, or every request looks like http and the SSL
# redirect loops. The proxy must overwrite that header, never pass the client's on.
# https://docs.djangoproject.com/en/5.2/ref/settings/#secure-proxy-ssl-header
if _proxy_ssl_header := env.list("DJANGO_SECURE_PROXY_SSL_HEADER", default=[]):
    if len(_proxy_ssl_header) != 2:
        raise ImproperlyConfigured(
            "DJANGO_SECURE_PROXY_SSL_HEADER is a header and a value, e.g. "
            "HTTP_X_FORWARDED_PROTO,https"
        )
    SECURE_PROXY_SSL_HEADER = tuple(_proxy_ssl_header)
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=not DEBUG)
# Load balancers probe /healthz over plain http.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = env.int(
    "DJANGO_SECURE_HSTS_SECONDS", default=0 if DEBUG else 365 * 24 * 60 * 60
)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool(
    "DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True
)
# "preload" is consent to being put on the browsers' HTTPS-only lists (hstspreload.org).
SECURE_HSTS_PRELOAD = env.bool("DJANGO_SECURE_HSTS_PRELOAD", default=True)
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# Content-Security-Policy (django-csp 4): no inline script or style anywhere. htmx is
# served from our static files ({% htmx_script %}) and told not to inject its indicator
# <style> (the htmx-config meta in base.html); the players are the only frames.
# https://django-csp.readthedocs.io/en/latest/configuration.html
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "frame-src": [
            "https://player.bilibili.com",
            "https://www.youtube-nocookie.com",
        ],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
        "base-uri": [SELF],
        "object-src": [NONE],
    }
}

# The admin lives at a path of the operator's choosing, and password guessing there
# is locked out by django-axes: 5 failures for one username from one client address
# lock that pair for an hour. Attempts are kept in the database, so every web process
# counts together. https://django-axes.readthedocs.io/en/latest/4_configuration.html
ADMIN_URL = (env.str("DJANGO_ADMIN_URL", default="admin/").strip("/") or "admin") + "/"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = timedelta(hours=1)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
# The client address behind DJANGO_TRUSTED_PROXY_COUNT proxies (see below).
AXES_CLIENT_IP_CALLABLE = "papers.client_ip.client_ip"
# No "AXES: BEGIN version …" INFO line at the start of every management command.
AXES_VERBOSE = False

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.postgres",  # search (SearchVectorField, trigram); fine on SQLite
    "django.contrib.sitemaps",
    "django_htmx",
    "template_partials.apps.SimpleAppConfig",
    "django_celery_beat",
    "papers.apps.AxesConfig",  # django-axes, with a Chinese admin section title
    "csp",
    # Only for its Swagger UI files: the API docs page then loads them from our static
    # files instead of a CDN (https://django-ninja.dev/guides/api-docs/).
    "ninja",
    "papers",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "papers.body_size.RequestBodyLimitMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # /api/v1/ only: CORS for GET and the per-address rate limit (papers/api.py).
    "papers.api.ApiMiddleware",
    # Cached public pages are answered here, before the middleware below runs.
    "papers.cache.PageCacheMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, as django-axes asks: it turns a lockout into the 429 answer.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "readinglist.urls"
WSGI_APPLICATION = "readinglist.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "OPTIONS": {
            # The partials loader resolves "page.html#fragment" names for htmx views;
            # SimpleAppConfig leaves the loaders to us, so they are spelled out here.
            # https://github.com/carltongibson/django-template-partials#installation
            "loaders": [
                (
                    "template_partials.loader.Loader",
                    [
                        (
                            "django.template.loaders.cached.Loader",
                            [
                                "django.template.loaders.filesystem.Loader",
                                "django.template.loaders.app_directories.Loader",
                            ],
                        )
                    ],
                )
            ],
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
            ],
            # django-template-partials is built into Django 6.0: registering it as a
            # builtin keeps the later move a deletion.
            # https://github.com/carltongibson/django-template-partials#installation
            "builtins": ["template_partials.templatetags.partials"],
        },
    }
]

# Database: a SQLite file under var/ so `make run` needs no server; PostgreSQL in
# production and CI (DATABASE_URL=postgres://...).
DATABASES = {
    "default": env.db_url(
        "DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'readinglist.sqlite3'}"
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The worker, beat and web server share the file: wait for a lock instead of
    # failing at once, and take the write lock at BEGIN to avoid upgrade deadlocks.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 20, "transaction_mode": "IMMEDIATE"}
    )
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("DJANGO_CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Fail fast rather than hang: a server that accepts connections but never
    # answers costs a web worker DATABASE_CONNECT_TIMEOUT seconds, and no statement
    # runs longer than DATABASE_STATEMENT_TIMEOUT (0 = no limit). The worker and
    # `manage.py migrate` may need more: their systemd units set their own values.
    # https://www.postgresql.org/docs/current/libpq-connect.html#LIBPQ-CONNECT-CONNECT-TIMEOUT
    _pg_options = DATABASES["default"].setdefault("OPTIONS", {})
    _pg_options.setdefault(
        "connect_timeout", env.int("DATABASE_CONNECT_TIMEOUT", default=3)
    )
    if _statement_ms := round(
        1000 * env.float("DATABASE_STATEMENT_TIMEOUT", default=10.0)
    ):
        _pg_options["options"] = (
            f"{_pg_options.get('options', '')} -c statement_timeout={_statement_ms}"
        ).strip()
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# Opt in to Django 6.0's behaviour now: a URL typed without a scheme means https.
FORMS_URLFIELD_ASSUME_HTTPS = True

# The default cache must be shared by every process of the site: the page cache's
# content version lives there (papers/cache.py), so a save in the admin, a command or
# the worker shows on the next request everywhere. Without CACHE_URL, a file-based
# cache under var/ does that with no server; MAX_ENTRIES bounds it (a third of the
# entries are culled when it is full). Production sets CACHE_URL to Redis.
CACHES = {
    "default": env.cache_url(
        "CACHE_URL",
        default=f"filecache://{VAR_DIR / 'cache'}?max_entries=2000&cull_frequency=3",
    )
}
if CACHES["default"]["BACKEND"] == "django.core.cache.backends.redis.RedisCache":
    # The same backend, reusing one redis-py client per process (papers/cache.py).
    CACHES["default"]["BACKEND"] = "papers.cache.RedisCache"
    # django-environ 0.14 lower-cases ?key_prefix= (and timeout, version) for this
    # backend, and Django ignores the lower-case names: give them back their case.
    for _option in ("timeout", "key_prefix", "version", "key_function"):
        if _option in CACHES["default"]:
            CACHES["default"][_option.upper()] = CACHES["default"].pop(_option)
# A Redis that stops answering must cost a request a second, not a worker: socket
# timeouts for every Redis the cache uses (the broker's are in the Celery block).
# https://redis.readthedocs.io/en/stable/connections.html#redis.Redis
REDIS_CONNECT_TIMEOUT = env.float("REDIS_CONNECT_TIMEOUT", default=1.0)
REDIS_SOCKET_TIMEOUT = env.float("REDIS_SOCKET_TIMEOUT", default=1.0)
for _cache in CACHES.values():
    if _cache["BACKEND"].endswith(".RedisCache"):
        _upper = _cache["BACKEND"].startswith("django_redis.")  # its own spelling
        for _name, _value in (
            ("socket_connect_timeout", REDIS_CONNECT_TIMEOUT),
            ("socket_timeout", REDIS_SOCKET_TIMEOUT),
        ):
            _cache.setdefault("OPTIONS", {}).setdefault(
                _name.upper() if _upper else _name, _value
            )
# How long a cached public page may live (papers/cache.py); every save invalidates
# them anyway. 0 turns the page cache off.
PAGE_CACHE_SECONDS = env.int("DJANGO_PAGE_CACHE_SECONDS", default=10 * 60)
# Requests an hour each client address may send to the JSON API; 0 turns it off.
API_RATE_LIMIT = env.int("API_RATE_LIMIT", default=600)

# Curators log in through the admin: after a login with no (or an unsafe) ?next=,
# land on the admin index, not on Django's default /accounts/profile/ (a 404).
LOGIN_URL = "admin:login"
LOGIN_REDIRECT_URL = "admin:index"

# Request bodies: the public forms send a few kilobytes, the admin cover images up to
# 10 MB (nginx's client_max_body_size). papers.body_size refuses anything larger,
# from its Content-Length, before Django reads or spools it.
# https://docs.djangoproject.com/en/5.2/ref/settings/#data-upload-max-memory-size
REQUEST_BODY_MAX_BYTES = 64 * 1024
ADMIN_REQUEST_BODY_MAX_BYTES = 10 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
DATA_UPLOAD_MAX_NUMBER_FILES = 5

AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation."
        "UserAttributeSimilarityValidator"
    },
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Internationalisation: Chinese first, English second.
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("简体中文")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "papers" / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

# Static and uploaded files.
STATIC_URL = "static/"
STATIC_ROOT = env.path("DJANGO_STATIC_ROOT", default=BASE_DIR / "staticfiles")
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "media/"
MEDIA_ROOT = env.path("DJANGO_MEDIA_ROOT", default=VAR_DIR / "media")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# The live reading list `make run` imports into an empty database (manage.py
# first_start); the shipped seed list is loaded if it cannot. Empty: seed list only.
READINGLIST_SOURCE_URL = env.str(
    "READINGLIST_SOURCE_URL",
    default="https://raw.githubusercontent.com/mli/paper-reading/main/README.md",
)

# Semantic Scholar, the source of citation counts.
SEMANTIC_SCHOLAR_API_URL = env.str(
    "SEMANTIC_SCHOLAR_API_URL", default="https://api.semanticscholar.org/graph/v1"
)
SEMANTIC_SCHOLAR_API_KEY = env.str("SEMANTIC_SCHOLAR_API_KEY", default="")
# The rate the API grants a key is 1 request/second across all endpoints; the
# refresh paces itself to this. 0 turns pacing off (tests, a local fake server).
SEMANTIC_SCHOLAR_MAX_RPS = env.float("SEMANTIC_SCHOLAR_MAX_RPS", default=1.0)
# Calls to GET /paper/{id}/references a refresh may make (paced like the rest): a
# reference list is fetched once, then again only when referenceCount changes, so
# the first fill of a large list spreads over several nights (10,000 papers: 10).
SEMANTIC_SCHOLAR_REFERENCE_CALLS_PER_RUN = env.int(
    "SEMANTIC_SCHOLAR_REFERENCE_CALLS_PER_RUN", default=1000
)

# The nightly video refresh (docs/video-sources.md). bilibili's web API is private:
# an empty BILIBILI_API_URL switches the bilibili half off. Without a YouTube key
# the YouTube half is skipped.
BILIBILI_API_URL = env.str("BILIBILI_API_URL", default="https://api.bilibili.com")
BILIBILI_MAX_RPS = env.float("BILIBILI_MAX_RPS", default=1.0)
YOUTUBE_API_URL = env.str(
    "YOUTUBE_API_URL", default="https://www.googleapis.com/youtube/v3"
)
YOUTUBE_API_KEY = env.str("YOUTUBE_API_KEY", default="")
# Covers downloaded for the video pages: the most bytes and pixels accepted.
COVER_MAX_BYTES = env.int("COVER_MAX_BYTES", default=5 * 1024 * 1024)
COVER_MAX_PIXELS = env.int("COVER_MAX_PIXELS", default=25_000_000)
# Timeouts and retries are constants beside the client (papers/semantic_scholar.py).

# OpenAlex, for citations per year (papers/openalex.py), refreshed weekly. Its polite
# pool asks for a contact address as `mailto`; since 2026 it also hands out free
# API keys, sent as `api_key` when set.
OPENALEX_API_URL = env.str("OPENALEX_API_URL", default="https://api.openalex.org")
OPENALEX_MAILTO = env.str("OPENALEX_MAILTO", default="")
OPENALEX_API_KEY = env.str("OPENALEX_API_KEY", default="")
OPENALEX_MAX_RPS = env.float("OPENALEX_MAX_RPS", default=1.0)

# Email: printed to the console unless EMAIL_URL names an SMTP server, e.g.
# smtp+tls://user:password@smtp.example.org:587
# https://django-environ.readthedocs.io/en/latest/types.html#environ-env-email-url
globals().update(env.email_url("EMAIL_URL", default="consolemail://"))
DEFAULT_FROM_EMAIL = env.str(
    "DJANGO_DEFAULT_FROM_EMAIL", default="论文精读 <noreply@localhost>"
)
SERVER_EMAIL = DEFAULT_FROM_EMAIL
EMAIL_SUBJECT_PREFIX = "[论文精读] "
# Seconds an SMTP connect or reply may take before the mail task gives up and
# retries (papers/tasks.py). Mail never goes out on the request thread.
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=5)
# The site's public address, for links in mail (sent outside any request).
SITE_URL = env.str("DJANGO_SITE_URL", default="http://localhost:8000")
# "Name <a@example.org>, b@example.org": the people told about new 请求精读.
# Django 5.2 wants (name, address) pairs here; 6.0 also takes plain strings.
MANAGERS = [
    (name, address)
    for name, address in getaddresses([env.str("DJANGO_MANAGERS", default="")])
    if address
]

# 请求精读 (papers/views/reading_requests.py): how clients are told apart and
# rate-limited.
# Votes and rate limits key on a salted hash of the client IP, never the IP itself.
# IPv4 has only 2**32 addresses, so an unsalted hash would be reversible: the salt is
# a secret. Without READING_REQUEST_IP_SALT it is derived from the secret key (so
# rotating that key forgets who voted; set the salt to keep votes across rotations).
READING_REQUEST_IP_SALT = env.str("READING_REQUEST_IP_SALT", default="") or (
    hashlib.sha256(f"reading-request-ip-salt:{SECRET_KEY}".encode()).hexdigest()
)
# How many reverse proxies in front of Django append to X-Forwarded-For. 0 means
# REMOTE_ADDR is the client; with N the client is the N-th entry from the right, the
# last one a trusted proxy wrote. Never more than you really run: the header is
# otherwise the client's to forge.
TRUSTED_PROXY_COUNT = env.int("DJANGO_TRUSTED_PROXY_COUNT", default=0)
# Per client IP hash and per session, in fixed one-hour windows counted in the
# database (papers/rate_limits.py): never evicted by page-cache pressure, and the
# form keeps working while Redis is down.
READING_REQUEST_SUBMITS_PER_HOUR = env.int(
    "READING_REQUEST_SUBMITS_PER_HOUR", default=5
)
READING_REQUEST_VOTES_PER_HOUR = env.int("READING_REQUEST_VOTES_PER_HOUR", default=60)
READING_REQUEST_HINTS_PER_HOUR = env.int("READING_REQUEST_HINTS_PER_HOUR", default=600)
# One vote per browser session. The address (IP hash) only caps how many votes it can
# add to one request in 24 hours: a lab or campus behind one address still votes,
# one person clearing cookies cannot add more than this (docs/deploy.md).
READING_REQUEST_VOTES_PER_ADDRESS_PER_DAY = env.int(
    "READING_REQUEST_VOTES_PER_ADDRESS_PER_DAY", default=20
)

# Celery
# With no CELERY_BROKER_URL the broker is kombu's filesystem transport under var/, so
# `make run` starts a worker and beat with no server; production sets redis://...
# https://docs.celeryq.dev/projects/kombu/en/stable/reference/kombu.transport.filesystem.html
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    _broker_dir = VAR_DIR / "celery-broker"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "control_folder": str(_broker_dir / "control"),
        "processed_folder": str(_broker_dir / "processed"),
        "store_processed": False,
    }  # readinglist/celery.py makes these folders
else:
    # The socket timeouts stay above the 1 s BRPOP poll of kombu's Redis transport.
    # https://docs.celeryq.dev/projects/kombu/en/stable/reference/kombu.transport.redis.html
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": 2 * 60 * 60,
        "socket_connect_timeout": env.float("CELERY_BROKER_TIMEOUT", default=3.0),
        "socket_timeout": env.float("CELERY_BROKER_TIMEOUT", default=3.0) + 2,
    }
# A web request that enqueues a task while the broker hangs waits at most about
# this long, twice (https://docs.celeryq.dev/en/stable/userguide/calling.html#retry-policy).
CELERY_BROKER_CONNECTION_TIMEOUT = env.float("CELERY_BROKER_TIMEOUT", default=3.0)
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.2,
}
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_TIME_LIMIT = 30 * 60
CELERY_TASK_SOFT_TIME_LIMIT = 25 * 60
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# Keep LOGGING's one-line format in the worker and beat too.
# https://docs.celeryq.dev/en/stable/userguide/configuration.html#worker-hijack-root-logger
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# Synced into django-celery-beat's tables when beat starts, so it shows in the admin.
CELERY_BEAT_SCHEDULE = {
    # Every night at 03:00 Shanghai time (CELERY_TIMEZONE).
    "refresh-citations-nightly": {
        "task": "papers.refresh_citations",
        "schedule": crontab(hour=3, minute=0),
    },
    # Every Sunday at 04:30 Shanghai time, after that night's citation refresh.
    "refresh-yearly-citations-weekly": {
        "task": "papers.refresh_yearly_citations",
        "schedule": crontab(hour=4, minute=30, day_of_week="sun"),
    },
    # Every night at 03:30 Shanghai time: video counts, covers, chapters (issue 12).
    "refresh-videos-nightly": {
        "task": "papers.refresh_videos",
        "schedule": crontab(hour=3, minute=30),
    },
}

# Logging: one line per event on stderr, where gunicorn, systemd and honcho collect it:
# JSON lines in production (a traceback is a field of its line), readable text in
# development (papers/log_format.py). django.request logs 5xx at ERROR, 4xx at WARNING.
LOG_FORMAT = env.str("DJANGO_LOG_FORMAT", default="text" if DEBUG else "json")
# Python warnings (a library's UserWarning) become log lines of the same format.
logging.captureWarnings(True)
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "event": {
            "()": "papers.log_format.EventFormatter",
            "json_lines": LOG_FORMAT == "json",
        }
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "event"}},
    "root": {"handlers": ["console"], "level": "INFO"},
    "loggers": {
        "django": {"level": env.str("DJANGO_LOG_LEVEL", default="INFO")},
        "papers": {"level": env.str("DJANGO_LOG_LEVEL", default="INFO")},
    },
}
