"""Playwright fixtures for the browser tests: Debian's chromium, headless.

One browser per test module and a fresh context (cookies, storage, language) per
test. A test module that needs them imports ``browser_fixture``, ``browsing_fixture``
and ``page_fixture`` from here (with ``# noqa: F401``). Each fixture is named in its
decorator (``browser``, ``browsing``, ``page``), so the imported names never clash
with the test arguments that use them (ruff F811).

The browser is module-scoped, not session-scoped, on purpose: while Playwright's
sync API is running, the test thread has a running asyncio loop, which makes
Django refuse ORM calls there (SynchronousOnlyOperation) and breaks anything that
uses ``async_to_sync``. Closing it at the end of each browser module keeps that loop,
and ``DJANGO_ALLOW_ASYNC_UNSAFE``, out of every other test.
https://docs.djangoproject.com/en/5.2/topics/async/#envvar-DJANGO_ALLOW_ASYNC_UNSAFE
"""

from __future__ import annotations

import os
import re
import shutil

import pytest
from django.core.cache import cache

from tests.helpers import require

# Playwright's own browser builds cannot be downloaded here: drive Debian's.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-dev-shm-usage",
]
# How long an expectation or an action may wait. The live server answers in
# milliseconds; this only bounds a failure.
TIMEOUT_MS = 10_000

# Anything not on the live server (the bilibili and YouTube players): the tests use
# no network but loopback, so those frames get an empty page at once.
NOT_LOOPBACK = re.compile(r"^https?://(?!(localhost|127\.0\.0\.1)[:/])")

# Added to every page before its own scripts run. Init scripts are injected by the
# browser, not the page, so the page's CSP does not apply to this one.
CSP_LISTENER = """
document.addEventListener("securitypolicyviolation", (event) => {
  window.__reportCspViolation(
    `CSP violation: ${event.violatedDirective} blocked ` +
    `${event.blockedURI || "inline code"} (${event.sourceFile}:${event.lineNumber})`
  );
});
"""


def chromium_executable() -> str | None:
    return shutil.which("chromium")


@pytest.fixture(name="browser", scope="module")
def browser_fixture():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        sync_playwright = None
    require(
        sync_playwright is not None,
        "needs Playwright: pip install -r requirements-dev.txt",
    )
    executable = chromium_executable()
    require(executable is not None, "needs Debian's chromium: apt-get install chromium")

    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(
                executable_path=executable, args=CHROMIUM_ARGS
            )
            yield chromium
            chromium.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


class Browsing:
    """Opens pages on the live server, each in a fresh context, and keeps what went
    wrong in them: console errors, uncaught exceptions and CSP violations."""

    def __init__(self, browser, base_url: str):
        self.browser = browser
        self.base_url = base_url
        self._contexts = []
        self._problems = {}

    def new_page(
        self,
        *,
        locale: str = "zh-CN",
        color_scheme: str = "light",
        bypass_csp: bool = False,
    ):
        """A page whose browser asks for ``locale`` (Accept-Language) and prefers
        ``color_scheme``. Keep the default ``bypass_csp=False`` for anything that
        proves the site works."""
        context = self.browser.new_context(
            base_url=self.base_url,
            locale=locale,
            color_scheme=color_scheme,
            bypass_csp=bypass_csp,
        )
        context.set_default_timeout(TIMEOUT_MS)
        self._contexts.append(context)
        context.route(NOT_LOOPBACK, _empty_page)

        problems: list[str] = []
        context.expose_function(
            "__reportCspViolation", lambda report: problems.append(report)
        )
        context.add_init_script(CSP_LISTENER)
        page = context.new_page()
        page.on("console", lambda message: _console(problems, message))
        page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
        self._problems[page] = problems
        return page

    def problems(self, page) -> list[str]:
        """Everything that went wrong in ``page`` since it opened."""
        return list(self._problems[page])

    def close(self):
        for context in self._contexts:
            context.close()


def _empty_page(route):
    route.fulfill(status=200, content_type="text/html", body="<!doctype html>")


def _console(problems: list[str], message) -> None:
    if message.type == "error":
        where = message.location.get("url", "")
        problems.append(f"console error: {message.text} ({where})")


@pytest.fixture(name="browsing")
def browsing_fixture(browser, live_server, settings):
    # live_server speaks plain http: secure-only cookies would never come back.
    settings.SESSION_COOKIE_SECURE = False
    settings.CSRF_COOKIE_SECURE = False
    # The page cache and rate-limit counters live in the cache the live server shares
    # with this process; the database is emptied after every test, so must they be.
    cache.clear()
    session = Browsing(browser, live_server.url)
    yield session
    session.close()
    cache.clear()


@pytest.fixture(name="page")
def page_fixture(browsing):
    """A page in Chinese, the site's first language."""
    return browsing.new_page()
