"""Production settings: check --deploy, security headers, CSP, the admin's lockout and
path, the client address behind proxies, and the one-line log format."""

import json
import logging
import os
import re
import secrets
import subprocess
import sys
import time
from html.parser import HTMLParser
from pathlib import Path
from unittest import mock

import pytest
from csp.decorators import csp_exempt, csp_update
from csp.utils import build_policy
from django.conf import settings as django_settings
from django.contrib import admin
from django.contrib.auth.models import User
from django.http import HttpResponse, HttpResponseNotFound, HttpResponseServerError
from django.template.loader import render_to_string
from django.test import Client, RequestFactory, override_settings
from django.urls import path, reverse

from papers.client_ip import client_ip
from papers.log_format import EventFormatter

ROOT = Path(__file__).resolve().parents[1]
DEPLOY_DOC = ROOT / "docs" / "deploy.md"
ENV_BLOCK_MARKER = "# /etc/readinglist/env"


# A throwaway URLconf for the logging tests (pytest.mark.urls("tests.test_deploy")).
def boom(request):
    raise ZeroDivisionError("division by zero")


def plain_404(request, exception):
    return HttpResponseNotFound("not found")


def plain_500(request):
    return HttpResponseServerError("server error")


def ok(request):
    return HttpResponse("ok")


@csp_update({"img-src": "https://i0.hdslb.com"})
def with_covers(request):
    return HttpResponse("covers")


@csp_exempt()
def exempt(request):
    return HttpResponse("no policy")


urlpatterns = [
    path("boom/", boom),
    path("ok/", ok),
    path("covers/", with_covers),
    path("exempt/", exempt),
]
handler404 = plain_404
handler500 = plain_500


def run_manage(*args, env_overrides, settings_module="readinglist.settings"):
    # A clean environment: only what production would set, plus what Python needs.
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
    env.update(DJANGO_SETTINGS_MODULE=settings_module, **env_overrides)
    return subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def documented_production_env() -> dict[str, str]:
    """The variables of the env file shown in docs/deploy.md."""
    text = DEPLOY_DOC.read_text(encoding="utf-8")
    block = text.split(ENV_BLOCK_MARKER, 1)[1].split("```", 1)[0]
    return dict(re.findall(r"^([A-Z][A-Z0-9_]*)=(.*)$", block, flags=re.MULTILINE))


# --- check --deploy ---------------------------------------------------------------


def test_documented_production_env_passes_check_deploy(tmp_path):
    env = documented_production_env()
    assert env["DJANGO_DEBUG"] == "0"
    assert {"DJANGO_SECRET_KEY", "DJANGO_ALLOWED_HOSTS", "CACHE_URL"} <= set(env)
    env["DJANGO_SECRET_KEY"] = secrets.token_urlsafe(50)  # the doc says generate one
    # The check needs no server; keep it away from production paths.
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    env["DJANGO_STATIC_ROOT"] = str(tmp_path / "static")
    env["DJANGO_MEDIA_ROOT"] = str(tmp_path / "media")

    result = run_manage("manage.py", "check", "--deploy", env_overrides=env)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout
    assert "WARNING" not in result.stdout + result.stderr


def test_every_variable_the_settings_read_is_documented():
    source = (ROOT / "readinglist" / "settings.py").read_text(encoding="utf-8")
    names = set(
        re.findall(
            r'env\.(?:str|bool|int|float|list|path|db_url|cache_url|email_url)\(\s*"(\w+)"',
            source,
        )
    )
    example = (ROOT / ".env.example").read_text(encoding="utf-8")
    deploy = DEPLOY_DOC.read_text(encoding="utf-8")

    assert len(names) > 20
    # A commented-out line ("# CACHE_URL=redis://...") documents a variable too.
    assert {n for n in names if not re.search(rf"^(# ?)?{n}=", example, re.M)} == set()
    assert {n for n in names if f"`{n}`" not in deploy} == set()


def test_admin_path_and_redis_cache_come_from_the_environment():
    script = (
        "import django; django.setup();"
        "from django.conf import settings;"
        "from django.urls import resolve, reverse, Resolver404;"
        "print(reverse('admin:index'), resolve('/backstage-7f3a/').app_name,"
        " settings.CACHES['default']['BACKEND'],"
        " settings.CACHES['default']['KEY_PREFIX']);"
        "resolve('/admin/')"
    )
    result = run_manage(
        "-c",
        script,
        env_overrides={
            "DJANGO_ADMIN_URL": "/backstage-7f3a",
            "CACHE_URL": "redis://127.0.0.1:6379/1?key_prefix=papers-site",
        },
        settings_module="tests.settings",
    )

    assert result.stdout.split() == [
        "/backstage-7f3a/",
        "admin",
        "papers.cache.RedisCache",  # Django's, reusing its client (papers/cache.py)
        "papers-site",  # not lost to django-environ's lower-casing
    ], result.stderr
    assert "Resolver404" in result.stderr  # nothing at the old path any more


# --- security headers ---------------------------------------------------------------

PRODUCTION_SECURITY = {
    "SECURE_PROXY_SSL_HEADER": ("HTTP_X_FORWARDED_PROTO", "https"),
    "SECURE_SSL_REDIRECT": True,
    "SECURE_HSTS_SECONDS": 31536000,
    "SECURE_HSTS_INCLUDE_SUBDOMAINS": True,
    "SECURE_HSTS_PRELOAD": True,
}


def csp_directives(header: str) -> dict[str, list[str]]:
    directives = {}
    for part in header.split(";"):
        name, *values = part.split()
        directives[name] = values
    return directives


@pytest.mark.django_db
@override_settings(**PRODUCTION_SECURITY)
def test_a_page_over_https_sends_the_security_headers(client):
    response = client.get(reverse("admin:login"), HTTP_X_FORWARDED_PROTO="https")

    assert response.status_code == 200
    assert response["Strict-Transport-Security"] == (
        "max-age=31536000; includeSubDomains; preload"
    )
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    assert "Content-Security-Policy" in response
    cookie = response.cookies[django_settings.CSRF_COOKIE_NAME]
    assert cookie["secure"] is True


@pytest.mark.django_db
@override_settings(**PRODUCTION_SECURITY)
def test_plain_http_is_redirected_to_https(client):
    response = client.get(reverse("admin:login"))

    assert response.status_code == 301
    assert response["Location"].startswith("https://")
    assert "Strict-Transport-Security" not in response  # only sent over https


@pytest.mark.django_db
@override_settings(**PRODUCTION_SECURITY)
def test_healthz_is_exempt_from_the_ssl_redirect(client, settings):
    settings.CELERY_BROKER_URL = "memory://"
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {}

    assert client.get("/healthz").status_code in (200, 503)


@pytest.mark.django_db
def test_content_security_policy(client):
    header = client.get(reverse("admin:login"))["Content-Security-Policy"]
    directives = csp_directives(header)

    assert directives == {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "frame-src": [
            "https://player.bilibili.com",
            "https://www.youtube-nocookie.com",
        ],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
    }
    assert "unsafe" not in header


@pytest.mark.urls("tests.test_deploy")
def test_the_prebuilt_header_is_django_csps_and_views_can_still_change_it(client):
    assert client.get("/ok/")["Content-Security-Policy"] == build_policy()

    covers = csp_directives(client.get("/covers/")["Content-Security-Policy"])
    assert covers["img-src"] == ["'self'", "data:", "https://i0.hdslb.com"]
    assert "Content-Security-Policy" not in client.get("/exempt/")


@pytest.mark.urls("tests.test_deploy")
def test_the_prebuilt_header_follows_settings_changes(client, settings):
    settings.CONTENT_SECURITY_POLICY = {"DIRECTIVES": {"default-src": ["'none'"]}}

    assert client.get("/ok/")["Content-Security-Policy"] == "default-src 'none'"


class InlineCode(HTMLParser):
    """Collects what a no-inline CSP would block: inline scripts and styles."""

    def __init__(self):
        super().__init__()
        self.found = []
        self._open = None

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        data_types = ("application/json", "application/ld+json")
        if (
            tag == "script"
            and "src" not in attributes
            and attributes.get("type") not in data_types
        ):
            self.found.append(self.get_starttag_text())
        if tag == "style":
            self.found.append("<style>")
        for name in attributes:
            if name.startswith("on") or name == "style":
                self.found.append(f"{tag} {name}=")


def inline_code(html: str) -> list[str]:
    parser = InlineCode()
    parser.feed(html)
    return parser.found


@pytest.mark.django_db
def test_base_template_has_no_inline_code_and_disables_htmx_styles():
    request = RequestFactory().get("/")
    html = render_to_string("base.html", request=request)

    assert inline_code(html) == []
    config = re.search(r'<meta name="htmx-config" content=\'([^\']*)\'>', html)
    assert json.loads(config.group(1))["includeIndicatorStyles"] is False
    assert "css/htmx.css" in html
    # htmx comes from our own static files, never a CDN.
    scripts = re.findall(r'<script[^>]*src="([^"]+)"', html)
    assert scripts
    assert all(src.startswith(django_settings.STATIC_URL) for src in scripts), scripts


# django-celery-beat's periodic task form has one inline script that only hides the
# "crontab translation" field and adds it to the help text. The CSP blocks it, so the
# field shows and the form works as before.
KNOWN_INLINE_IN_THIRD_PARTY_ADMIN = {'<script id="periodic-task-overrides">'}


@pytest.mark.django_db
def test_admin_pages_work_under_the_csp(admin_client):
    urls = [reverse("admin:index")]
    for model in admin.site._registry:
        info = f"admin:{model._meta.app_label}_{model._meta.model_name}"
        urls += [reverse(f"{info}_changelist"), reverse(f"{info}_add")]

    for url in urls:
        response = admin_client.get(url)
        if url.endswith("/add/") and response.status_code == 403:
            continue  # a read-only model (e.g. the refresh runs)
        assert response.status_code == 200, url
        blocked = set(inline_code(response.text)) - KNOWN_INLINE_IN_THIRD_PARTY_ADMIN
        assert blocked == set(), url


# --- django-axes ------------------------------------------------------------------


@pytest.fixture
def curator(db):
    return User.objects.create_superuser("ada", "ada@example.org", "correct horse")


def log_in(client, password, **extra):
    return client.post(
        reverse("admin:login"),
        {"username": "ada", "password": password, "next": reverse("admin:index")},
        **extra,
    )


def test_password_guessing_locks_the_admin_out(curator):
    client = Client()
    for _ in range(django_settings.AXES_FAILURE_LIMIT - 1):
        assert log_in(client, "wrong").status_code == 200  # the form again

    assert log_in(client, "wrong").status_code == 429
    locked = log_in(client, "correct horse")

    assert locked.status_code == 429
    assert "_auth_user_id" not in client.session
    # Only that username from that address: the curator elsewhere still gets in.
    elsewhere = log_in(Client(), "correct horse", REMOTE_ADDR="203.0.113.9")
    assert elsewhere.status_code == 302


def test_a_good_password_before_the_limit_logs_in(curator):
    client = Client()
    log_in(client, "wrong")

    assert log_in(client, "correct horse").status_code == 302
    assert client.get(reverse("admin:index")).status_code == 200


def test_force_login_is_unaffected_by_axes(curator, client):
    client.force_login(curator)

    assert client.get(reverse("admin:index")).status_code == 200


# --- the client address -------------------------------------------------------------


@pytest.mark.parametrize(
    ("proxies", "forwarded_for", "expected"),
    [
        (0, "6.6.6.6", "10.0.0.2"),  # no proxy trusted: the header is ignored
        (1, "203.0.113.5", "203.0.113.5"),
        (1, "6.6.6.6, 203.0.113.5", "203.0.113.5"),  # a forged entry on the left
        (2, "6.6.6.6, 203.0.113.5, 198.51.100.9", "203.0.113.5"),
        (2, "203.0.113.5", "10.0.0.2"),  # fewer entries than proxies: misconfigured
        (1, "", "10.0.0.2"),
    ],
)
def test_client_ip_trusts_only_the_configured_proxies(
    settings, proxies, forwarded_for, expected
):
    settings.TRUSTED_PROXY_COUNT = proxies
    request = RequestFactory().get(
        "/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR=forwarded_for
    )

    assert client_ip(request) == expected


# --- logs -----------------------------------------------------------------------------


def test_production_logs_are_json_lines():
    formatter = django_settings.LOGGING["formatters"]["event"]
    assert formatter["()"] == "papers.log_format.EventFormatter"
    assert formatter["json_lines"] is True  # DEBUG is off


@pytest.mark.django_db
@pytest.mark.urls("tests.test_deploy")
def test_a_server_error_logs_one_json_line(caplog):
    client = Client(raise_request_exception=False)
    with caplog.at_level(logging.WARNING, logger="django.request"):
        response = client.get("/boom/?token=secret")

    assert response.status_code == 500
    [record] = [r for r in caplog.records if r.name == "django.request"]
    line = EventFormatter(json_lines=True).format(record)
    assert "\n" not in line
    event = json.loads(line)
    assert event["level"] == "ERROR"
    assert event["logger"] == "django.request"
    assert event["method"] == "GET"
    assert event["path"] == "/boom/"
    assert event["status"] == 500
    assert event["exc_type"] == "ZeroDivisionError"
    assert "ZeroDivisionError: division by zero" in event["traceback"]
    assert "secret" not in line


@pytest.mark.django_db
@pytest.mark.urls("tests.test_deploy")
def test_a_client_error_logs_a_warning(caplog):
    with caplog.at_level(logging.WARNING, logger="django.request"):
        Client().get("/missing/")

    [record] = [r for r in caplog.records if r.name == "django.request"]
    event = json.loads(EventFormatter(json_lines=True).format(record))
    assert event["level"] == "WARNING"
    assert (event["method"], event["path"], event["status"]) == (
        "GET",
        "/missing/",
        404,
    )


def test_extra_fields_become_fields_of_the_line():
    record = logging.makeLogRecord(
        {
            "name": "papers.services.citations",
            "levelno": logging.WARNING,
            "levelname": "WARNING",
            "msg": "citation refresh %s",
            "args": ("partial",),
            "event": "refresh_run",
            "run_id": 7,
            "failed": 2,
        }
    )

    event = json.loads(EventFormatter(json_lines=True).format(record))
    text = EventFormatter(json_lines=False).format(record)

    assert event["message"] == "citation refresh partial"
    assert (event["event"], event["run_id"], event["failed"]) == ("refresh_run", 7, 2)
    assert text.endswith(
        "WARNING papers.services.citations citation refresh partial "
        "event=refresh_run run_id=7 failed=2"
    )


# --- logins and request bodies --------------------------------------------------------


@pytest.mark.parametrize(
    "unsafe_next", ["https://evil.example/", "//evil.example/x", "javascript:alert(1)"]
)
def test_an_unsafe_next_after_login_lands_on_the_admin(curator, unsafe_next):
    response = Client().post(
        reverse("admin:login"),
        {"username": "ada", "password": "correct horse", "next": unsafe_next},
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("admin:index")


def multipart_post(client, url, size):
    boundary = "x" * 16
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="language"\r\n\r\nen\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="f"; filename="a"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    body = head + b"\0" * size + f"\r\n--{boundary}--\r\n".encode()
    return client.generic(
        "POST", url, body, content_type=f"multipart/form-data; boundary={boundary}"
    )


@pytest.mark.django_db
def test_a_large_multipart_post_to_setlang_is_refused_unread(client, tmp_path):
    with mock.patch(
        "django.core.files.uploadhandler.TemporaryFileUploadHandler.new_file"
    ) as spooled:
        response = multipart_post(client, "/i18n/setlang/", 20 * 1024 * 1024)

    assert response.status_code == 413
    assert not spooled.called
    # A language switch, the body it really needs, still works.
    assert client.post("/i18n/setlang/", {"language": "en"}).status_code == 302


@pytest.mark.django_db
def test_the_admin_takes_cover_sized_uploads_but_not_more(admin_client):
    url = reverse("admin:index")
    assert multipart_post(admin_client, url, 5 * 1024 * 1024).status_code != 413
    assert multipart_post(admin_client, url, 11 * 1024 * 1024).status_code == 413


def test_upload_limits_are_set():
    assert django_settings.DATA_UPLOAD_MAX_MEMORY_SIZE <= 2.5 * 1024 * 1024
    assert django_settings.REQUEST_BODY_MAX_BYTES <= 1024 * 1024


def test_worker_log_lines_are_json_objects(tmp_path):
    """Celery's own lines (startup, "ready", warnings) come out as JSON objects on
    stderr, through Django's LOGGING (readinglist/celery.py)."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "readinglist.settings",
        "DJANGO_SECRET_KEY": "integration-test-secret-key-0123456789abcdefghij",
        "DJANGO_DEBUG": "0",
        "DJANGO_LOG_FORMAT": "json",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "CELERY_BROKER_URL": "memory://",
    }
    if os.geteuid() == 0:
        # Celery warns about root before any logging is set up; production runs the
        # worker as its own user (docs/deploy.md).
        env["PYTHONWARNINGS"] = "ignore:You're running the worker with superuser"
    stderr_path = tmp_path / "worker.err"
    with stderr_path.open("w") as stderr:
        worker = subprocess.Popen(
            [
                sys.executable, "-m", "celery", "-A", "readinglist", "--quiet",
                "worker", "--pool=solo", "--without-gossip", "--without-mingle",
                "--without-heartbeat",
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while "ready." not in stderr_path.read_text(errors="replace"):
            if worker.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"no ready worker:\n{stderr_path.read_text()}")
            time.sleep(0.2)
    finally:
        worker.terminate()
        worker.wait(timeout=30)

    lines = [line for line in stderr_path.read_text().splitlines() if line.strip()]
    events = [json.loads(line) for line in lines]  # every line is one JSON object
    assert any(
        e["logger"] == "celery.apps.worker" and e["message"].endswith("ready.")
        for e in events
    )
