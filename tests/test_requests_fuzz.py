"""请求精读 under hostile input (hypothesis): never a 500, never stored markup.

Whatever is posted to the form, the hint or the vote button, the answer is a normal
one (200, 302, 404, 405 or 429), and every page that shows what was stored contains
only the markup the templates wrote.
"""

import re
from html.parser import HTMLParser

import pytest
from django.core.cache import cache
from django.test import Client
from django.utils.html import escape
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.provisional import urls

from papers.models import ReadingRequest
from readinglist.celery import app as celery_app
from tests.factories_requests import ReadingRequestFactory

pytestmark = pytest.mark.django_db

PAGE = "/requests/"
HINT = "/requests/hint/"
FUZZ = settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
NORMAL_STATUSES = {200, 302, 404, 405, 429}
HTML_TAG = re.compile(r"<(?:[A-Za-z/?]|!--|![A-Za-z])")


@pytest.fixture(autouse=True)
def _mail_tasks_run_at_once(monkeypatch):
    """Mail is a Celery task queued after commit; run it in this process."""
    monkeypatch.setitem(celery_app.conf, "task_always_eager", True)


@pytest.fixture(autouse=True)
def _roomy_limits(settings):
    # Rate limits are tested elsewhere; here they would only stop the fuzzing early.
    settings.READING_REQUEST_SUBMITS_PER_HOUR = 10**6
    settings.READING_REQUEST_VOTES_PER_HOUR = 10**6
    settings.READING_REQUEST_HINTS_PER_HOUR = 10**6
    settings.MANAGERS = []
    cache.clear()
    yield
    cache.clear()


# --- Strategies -------------------------------------------------------------------

HOSTILE_URLS = [
    "javascript:alert(1)",
    "JaVaScRiPt:alert(document.domain)",
    " javascript:alert(1)",
    "java\tscript:alert(1)",
    "javascript://%0aalert(1)",
    "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
    "vbscript:msgbox(1)",
    "file:///etc/passwd",
    'https://example.org/"><script>alert(1)</script>',
    "https://example.org/'onmouseover='alert(1)",
    "https://example.org/`x`",
    "https://exa\u0000mple.org/",
    "https://[::1",
    "https://example.org:99999/",
    "http://user:pass@example.org/",
    "http://127.0.0.1:8000/admin/",
    "https://xn--80ak6aa92e.com/",
    "https://例子.测试/论文",
    "https://İ" + "İ" * 250 + ".org/",
    "doi:10.1000/<script>alert(1)</script>",
    "10.1002/(SICI)1097-4636(199706)35:4<419::AID-JBM1>3.0.CO;2-N",
    "arXiv:1706.03762<b>",
    "https://arxiv.org/abs/1706.03762?<svg/onload=alert(1)>",
    "https://" + "a" * 600 + ".org/",
    "",
    " ",
]

hostile_text = st.one_of(
    st.text(),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=1, max_size=50),
    st.text(alphabet="<>&\"'`/=!-? \n\r\t\x00\u202e\u2028abcscript", max_size=80),
    st.sampled_from(
        [
            "<script>alert(1)</script>",
            "<img src=x onerror=alert(1)>",
            "<!-- x -->",
            "</textarea><script>alert(1)</script>",
            '" autofocus onfocus="alert(1)',
            "{{ 7*7 }} {% debug %}",
            "&lt;b&gt;",
            "\x00",
            "\u202eevil",
            "ＡＢＣ　全角",
            "😀" * 100,
            "a" * 5000,
        ]
    ),
    st.text(min_size=1900, max_size=2100),
)
hostile_url = st.one_of(
    st.sampled_from(HOSTILE_URLS),
    urls(),
    st.builds(
        lambda scheme, rest: f"{scheme}:{rest}",
        st.sampled_from(
            ["javascript", "data", "http", "https", "HTTPS", "ftp", "mailto"]
        ),
        st.text(max_size=60),
    ),
    hostile_text,
)
form_data = st.fixed_dictionaries(
    {
        "url": hostile_url,
        "title": hostile_text,
        "reason": hostile_text,
        "nickname": hostile_text,
        "email": st.one_of(st.emails(), hostile_text),
    },
    optional={"website": st.one_of(st.just(""), hostile_text)},
)


# --- What "renders as markup" means ---------------------------------------------------


class _Markup(HTMLParser):
    """Collects the tags and attributes of a page."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, attrs))

    handle_startendtag = handle_starttag


# Every tag the base template and templates/requests write.
TEMPLATE_TAGS = {
    "html", "head", "meta", "title", "link", "script", "body", "a", "header", "div",
    "nav", "ul", "ol", "li", "main", "section", "h1", "h2", "h3", "p", "span", "form",
    "input", "label", "textarea", "button", "time", "br", "strong", "footer", "select",
    "option", "small", "svg", "path", "abbr", "img", "dl", "dt", "dd",
}  # fmt: skip


def assert_only_template_markup(text: str) -> None:
    parser = _Markup()
    parser.feed(text)
    for tag, attrs in parser.tags:
        assert tag in TEMPLATE_TAGS, f"unexpected <{tag}>"
        for name, value in attrs:
            assert not name.startswith("on"), f"event handler {name}= on <{tag}>"
            if name in {"href", "src", "action", "hx-post", "hx-get"} and value:
                assert re.match(r"(https?://|/|#|\?)", value), f"{name}={value!r}"
        if tag == "script":
            assert dict(attrs).get("src"), "inline script"


def assert_stored_values_are_plain_text(page: str) -> None:
    for item in ReadingRequest.objects.all():
        for value in (item.title, item.reason, item.nickname, item.public_reason):
            assert not HTML_TAG.search(value)
        assert item.url.startswith(("http://", "https://"))
        assert escape(item.title) in page


# --- Properties ---------------------------------------------------------------------


@FUZZ
@given(data=form_data, htmx=st.booleans())
def test_the_form_never_fails_and_never_stores_markup(client, data, htmx):
    headers = {"HX-Request": "true"} if htmx else {}

    response = client.post(PAGE, data, headers=headers)

    assert response.status_code in NORMAL_STATUSES
    page = client.get(PAGE)
    assert page.status_code == 200
    assert_only_template_markup(response.content.decode())
    assert_only_template_markup(page.text)
    assert_stored_values_are_plain_text(page.text)


# Mostly acceptable submissions with hostile text inside, so that requests really are
# stored, shown and mailed.
plausible_form = st.fixed_dictionaries(
    {
        "url": st.one_of(urls(), st.sampled_from(HOSTILE_URLS)),
        "title": st.one_of(st.text(min_size=1, max_size=300), hostile_text),
        "reason": st.one_of(st.text(min_size=12, max_size=2000), hostile_text),
        "nickname": st.text(max_size=40),
        "email": st.one_of(st.just(""), st.emails()),
    }
)


def test_stored_requests_render_and_mail_as_plain_text(
    client, settings, mailoutbox, django_capture_on_commit_callbacks
):
    settings.MANAGERS = [("Curator", "curator@example.org")]
    created = []

    @FUZZ
    @given(data=plausible_form)
    def submit(data):
        cache.clear()
        before = ReadingRequest.objects.count()
        sent = len(mailoutbox)
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(PAGE, data, headers={"HX-Request": "true"})
        assert response.status_code in NORMAL_STATUSES
        if ReadingRequest.objects.count() > before:
            created.append(data)
            # One mail per new request: a hostile title never breaks the header.
            assert len(mailoutbox) == sent + 1
            assert "\n" not in mailoutbox[-1].subject
            assert "\r" not in mailoutbox[-1].subject
        page = client.get(PAGE)
        assert_only_template_markup(page.text)
        assert_stored_values_are_plain_text(page.text)

    submit()
    assert created, "no example was accepted: the property was never exercised"


@FUZZ
@given(url=hostile_url)
def test_hostile_links_are_never_stored(client, url):
    response = client.post(
        PAGE,
        {"url": url, "title": "A title", "reason": "A long enough reason."},
        headers={"HX-Request": "true"},
    )
    assert response.status_code in NORMAL_STATUSES
    for item in ReadingRequest.objects.all():
        assert re.match(r"https?://[^\s<>\"'`]+\Z", item.url), item.url
        assert not item.url.lower().startswith(("javascript", "data"))


@FUZZ
@given(url=st.one_of(hostile_url, st.text(max_size=700)), htmx=st.booleans())
def test_the_hint_never_fails(client, url, htmx):
    headers = {"HX-Request": "true"} if htmx else {}
    response = client.get(HINT, {"url": url}, headers=headers)
    assert response.status_code in NORMAL_STATUSES
    assert_only_template_markup(response.content.decode())


@FUZZ
@given(
    pk=st.one_of(st.integers(min_value=0, max_value=2**80), st.just(None)),
    body=st.dictionaries(st.text(max_size=20), hostile_text, max_size=4),
    forwarded=st.one_of(st.none(), hostile_text, st.ip_addresses().map(str)),
    remote=st.one_of(
        st.ip_addresses().map(str), st.sampled_from(["", "unknown", "::"])
    ),
    htmx=st.booleans(),
    proxies=st.integers(min_value=0, max_value=3),
)
def test_the_vote_endpoint_never_fails(
    settings, pk, body, forwarded, remote, htmx, proxies
):
    settings.TRUSTED_PROXY_COUNT = proxies
    item = ReadingRequestFactory()
    extra = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    headers = {"HX-Request": "true"} if htmx else {}
    visitor = Client(**extra)

    response = visitor.post(
        f"/requests/{item.pk if pk is None else pk}/vote/", body, headers=headers
    )

    assert response.status_code in NORMAL_STATUSES
    assert_only_template_markup(response.content.decode())
    assert item.votes.count() <= 1


@FUZZ
@given(page=st.one_of(st.text(max_size=30), st.integers().map(str)))
def test_the_page_parameter_never_fails(client, page):
    assert client.get(PAGE, {"page": page}).status_code == 200
