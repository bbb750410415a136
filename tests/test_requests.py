"""请求精读: the public page, the hint, votes, de-duplication, rate limits and mail."""

import re
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from papers.forms import ReadingRequestForm, paper_url_from_input
from papers.identifiers import request_key
from papers.models import ReadingRequest, RequestVote
from papers.selectors import listed_paper_for_key
from papers.services.reading_requests import (
    Voter,
    reading_request_submit,
    reading_request_vote,
    voter_identity,
)
from readinglist.celery import app as celery_app
from tests.browser import browser_fixture, browsing_fixture, page_fixture  # noqa: F401
from tests.factories import PaperFactory
from tests.factories_requests import ReadingRequestFactory, RequestVoteFactory

pytestmark = pytest.mark.django_db

PAGE = "/requests/"
HINT = "/requests/hint/"
HTMX = {"HX-Request": "true"}


@pytest.fixture(autouse=True)
def _clear_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _mail_tasks_run_at_once(monkeypatch):
    """Mail is a Celery task queued after commit; run it in this process."""
    monkeypatch.setitem(celery_app.conf, "task_always_eager", True)


@pytest.fixture(autouse=True)
def _limits(request_limits):
    request_limits.MANAGERS = [("Curator", "curator@example.org")]


def form_data(**overrides):
    data = {
        "url": "https://arxiv.org/abs/1706.03762v5",
        "title": "Attention Is All You Need",
        "reason": "The paper behind every large language model.",
        "nickname": "小明",
        "email": "",
        "website": "",
    }
    data.update(overrides)
    return data


def client_at(ip: str) -> Client:
    return Client(REMOTE_ADDR=ip)


def vote_url(item) -> str:
    return reverse("papers:request_vote", args=[item.pk])


def voter(n: int) -> Voter:
    return voter_identity(session_key=f"session-{n}", ip=f"198.51.100.{n}")


# --- The page -------------------------------------------------------------------


def test_page_lists_open_requests_by_votes_then_newest(client):
    few = ReadingRequestFactory(title="Few votes")
    many = ReadingRequestFactory(title="Many votes")
    newest_few = ReadingRequestFactory(title="Newest with few votes")
    RequestVoteFactory.create_batch(3, reading_request=many)
    RequestVoteFactory(reading_request=few)
    RequestVoteFactory(reading_request=newest_few)

    response = client.get(PAGE)

    assert response.status_code == 200
    text = response.text
    assert "<html" in text
    assert (
        text.index("Many votes")
        < text.index("Newest with few votes")
        < text.index("Few votes")
    )
    assert "3 票" in text


def test_page_shows_answered_requests_with_their_paper_and_video(client):
    from tests.factories import VideoNoteFactory

    paper = PaperFactory(name="GPT-3")
    video = VideoNoteFactory(title="GPT-3 逐段精读")
    ReadingRequestFactory(title="Accepted one", status="accepted", paper=paper)
    ReadingRequestFactory(title="Done one", status="done", paper=paper, video=video)

    text = client.get(PAGE).text

    answered = text[text.index('id="answered-requests"') :]
    assert "Accepted one" in answered and "已接受" in answered
    assert "Done one" in answered and "已完成" in answered
    assert paper.get_absolute_url() in answered
    assert video.get_absolute_url() in answered


def test_page_shows_declined_requests_with_the_public_reason(client):
    ReadingRequestFactory(
        title="Off topic",
        status="declined",
        public_reason="不是深度学习论文 & 不在范围内。",
    )

    text = client.get(PAGE).text

    declined = text[text.index('id="declined-requests"') :]
    assert "Off topic" in declined
    assert "不是深度学习论文 &amp; 不在范围内。" in declined


def test_email_is_never_shown_publicly(client):
    ReadingRequestFactory(email="secret-reader@example.org")
    assert "secret-reader" not in client.get(PAGE).text


def test_page_query_count_does_not_grow_with_requests(
    client, django_assert_max_num_queries
):
    from tests.factories import VideoNoteFactory

    for _ in range(5):
        RequestVoteFactory.create_batch(2, reading_request=ReadingRequestFactory())
    video = VideoNoteFactory()
    for _ in range(5):
        ReadingRequestFactory(status="done", paper=PaperFactory(), video=video)
        ReadingRequestFactory(status="declined", public_reason="重复")
    with django_assert_max_num_queries(10):
        response = client.get(PAGE)
    assert response.status_code == 200


def test_page_links_requested_urls_as_user_content(client):
    ReadingRequestFactory(url="https://example.org/paper")
    text = client.get(PAGE).text
    assert (
        'href="https://example.org/paper" rel="nofollow ugc noopener noreferrer"'
        in text
    )


def test_the_form_is_on_the_page_with_the_hint_and_honeypot(client):
    text = client.get(PAGE).text
    assert f'action="{PAGE}"' in text
    assert f'hx-post="{PAGE}"' in text
    assert f'hx-get="{HINT}"' in text
    assert 'hx-trigger="input changed delay:400ms"' in text
    honeypot = re.search(
        r'<div class="rq-honeypot" aria-hidden="true">.*?</div>', text, re.S
    )
    assert honeypot
    assert 'name="website"' in honeypot.group()
    assert 'autocomplete="off"' in honeypot.group()
    assert 'tabindex="-1"' in honeypot.group()
    assert "csrfmiddlewaretoken" in text


def test_page_brings_its_own_css_and_script(client):
    text = client.get(PAGE).text
    assert "css/requests.css" in text
    # The script lets htmx swap in 429 answers; it is a file, as the CSP requires.
    assert re.search(r'<script src="[^"]*js/requests\.js" defer>', text)


def test_the_language_of_the_page_is_kept_for_the_mail(client):
    client.post(PAGE, form_data())
    assert ReadingRequest.objects.get().language == "zh-hans"


def test_nav_links_to_the_request_page(client):
    text = client.get(reverse("papers:home")).text
    assert f'href="{PAGE}"' in text


# --- Submitting -----------------------------------------------------------------


def test_htmx_submit_replaces_the_form_with_a_confirmation(client):
    response = client.post(PAGE, form_data(), headers=HTMX)

    assert response.status_code == 200
    assert "<html" not in response.text
    assert 'id="request-form-box"' in response.text
    assert "谢谢！你的请求已经提交。" in response.text
    # The open list comes along out of band with the new request in it.
    assert 'hx-swap-oob="true"' in response.text
    item = ReadingRequest.objects.get()
    assert f'id="request-{item.pk}"' in response.text
    assert item.key == "arxiv:1706.03762"
    assert item.nickname == "小明"
    assert item.votes.count() == 1  # the submitter's own vote


def test_plain_post_submit_redirects_to_the_page_with_the_confirmation(client):
    response = client.post(PAGE, form_data(email="me@example.org"))

    assert response.status_code == 302
    assert response["Location"] == f"{PAGE}#request-form"
    page = client.get(response["Location"])
    assert "谢谢！你的请求已经提交。" in page.text
    assert "精读完成时会发邮件通知你。" in page.text
    assert "me@example.org" not in page.text
    # Shown once: a reload shows the form again.
    assert "谢谢！" not in client.get(PAGE).text


def test_htmx_errors_appear_next_to_their_fields(client):
    response = client.post(
        PAGE, form_data(url="javascript:alert(1)", reason="short"), headers=HTMX
    )

    assert response.status_code == 200
    assert "<html" not in response.text
    text = response.text
    assert 'id="id_url_error"' in text
    assert 'id="id_reason_error"' in text
    assert 'aria-invalid="true"' in text
    # What the reader typed is kept.
    assert 'value="Attention Is All You Need"' in text
    assert not ReadingRequest.objects.exists()


def test_plain_post_errors_render_the_whole_page(client):
    response = client.post(PAGE, form_data(title=""))
    assert response.status_code == 200
    assert "<html" in response.text
    assert 'id="id_title_error"' in response.text
    assert not ReadingRequest.objects.exists()


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "JaVaScRiPt:alert(document.cookie)",
        "data:text/html,<script>alert(1)</script>",
        "ftp://example.org/paper.pdf",
        "file:///etc/passwd",
        "https://",
        "//example.org/paper",
        'https://example.org/"onmouseover="alert(1)',
        "https://example.org/<script>",
        "https://exa mple.org/",
        "http://a.com:99999/",
    ],
)
def test_only_http_and_https_links_are_accepted(url):
    form = ReadingRequestForm(data=form_data(url=url))
    assert not form.is_valid()
    assert "url" in form.errors


@pytest.mark.parametrize(
    ("typed", "url"),
    [
        ("arXiv:1706.03762v5", "https://arxiv.org/abs/1706.03762"),
        ("1706.03762", "https://arxiv.org/abs/1706.03762"),
        ("doi:10.1145/3292500.3330701", "https://doi.org/10.1145/3292500.3330701"),
        (
            "204E3073870FAE3D05BCBC2F6A8E263D9B72E776",
            "https://www.semanticscholar.org/paper/"
            "204e3073870fae3d05bcbc2f6a8e263d9b72e776",
        ),
        ("  https://example.org/x  ", "https://example.org/x"),
    ],
)
def test_bare_identifiers_become_links(typed, url):
    assert paper_url_from_input(typed) == url


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("title", "<b>Bold</b> title"),
        ("title", "Nice <img src=x onerror=alert(1)>"),
        ("reason", "Read this <script>alert(1)</script> now please"),
        ("reason", "Hidden <!-- comment --> text in a reason"),
        ("nickname", "</a>"),
    ],
)
def test_html_is_refused_with_a_clear_message(field, value):
    form = ReadingRequestForm(data=form_data(**{field: value}))
    assert not form.is_valid()
    assert "HTML" in form.errors[field][0]


def test_text_that_merely_contains_angle_brackets_is_plain_text():
    form = ReadingRequestForm(data=form_data(title="When a < b and c > d: <3"))
    assert form.is_valid(), form.errors


def test_text_is_stripped_and_whitespace_collapsed():
    form = ReadingRequestForm(
        data=form_data(
            title="  Attention \t Is\u00a0All   You\u202e Need \x07 ",
            reason="First   line\r\n\r\n\r\n\r\nSecond\tline   ",
            nickname="  小明  ",
        )
    )
    assert form.is_valid(), form.errors
    assert form.cleaned_data["title"] == "Attention Is All You Need"
    assert form.cleaned_data["reason"] == "First line\n\nSecond line"
    assert form.cleaned_data["nickname"] == "小明"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("url", "https://example.org/" + "a" * 490),
        ("title", "t" * 301),
        ("reason", "r" * 2001),
        ("reason", "too short"),
        ("reason", "a" + " " * 30 + "b"),  # ten characters only before collapsing
        ("nickname", "n" * 41),
        ("email", "a" * 250 + "@example.org"),
        ("email", "not an address"),
    ],
)
def test_length_limits(field, value):
    form = ReadingRequestForm(data=form_data(**{field: value}))
    assert not form.is_valid()
    assert field in form.errors


def test_null_characters_are_refused_not_stored(client):
    response = client.post(PAGE, form_data(title="Null\x00title"), headers=HTMX)
    assert response.status_code == 200
    assert not ReadingRequest.objects.exists()


def test_stored_text_is_shown_escaped(client):
    ReadingRequestFactory(
        title='Quotes " and & ampersands',
        reason="It's 'quoted' & <3 worth it",
        nickname="O'Neil & co",
    )
    text = client.get(PAGE).text
    assert "Quotes &quot; and &amp; ampersands" in text
    assert "It&#x27;s &#x27;quoted&#x27; &amp; &lt;3 worth it" in text
    assert "O&#x27;Neil &amp; co" in text


def test_honeypot_answers_like_success_and_stores_nothing(client, mailoutbox):
    response = client.post(PAGE, form_data(website="http://spam.example"), headers=HTMX)

    assert response.status_code == 200
    assert "谢谢！你的请求已经提交。" in response.text
    assert not ReadingRequest.objects.exists()
    assert not RequestVote.objects.exists()
    assert mailoutbox == []


def test_honeypot_plain_post_also_pretends(client):
    response = client.post(PAGE, form_data(website="x"), follow=True)
    assert "谢谢！你的请求已经提交。" in response.text
    assert not ReadingRequest.objects.exists()


def test_posts_without_a_csrf_token_are_refused():
    item = ReadingRequestFactory()
    csrf_client = Client(enforce_csrf_checks=True)
    assert csrf_client.post(PAGE, form_data()).status_code == 403
    assert csrf_client.post(vote_url(item)).status_code == 403
    assert not ReadingRequest.objects.exclude(pk=item.pk).exists()
    assert not RequestVote.objects.exists()


def test_posts_with_the_csrf_token_go_through():
    csrf_client = Client(enforce_csrf_checks=True)
    csrf_client.get(PAGE)
    token = csrf_client.cookies["csrftoken"].value
    response = csrf_client.post(PAGE, form_data(), headers={"X-CSRFToken": token})
    assert response.status_code == 302
    assert ReadingRequest.objects.count() == 1


def test_only_get_and_post_are_allowed(client):
    assert client.put(PAGE).status_code == 405
    assert client.get(vote_url(ReadingRequestFactory())).status_code == 405
    assert client.post(HINT).status_code == 405


# --- De-duplication ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "key"),
    [
        ("https://arxiv.org/abs/1706.03762", "arxiv:1706.03762"),
        ("http://www.arxiv.org/pdf/1706.03762v7.pdf", "arxiv:1706.03762"),
        ("https://arxiv.org/abs/cs/0112017v1", "arxiv:cs/0112017"),
        (
            "https://www.semanticscholar.org/paper/Attention-is-All-you-Need-Vaswani/"
            "204e3073870fae3d05bcbc2f6a8e263d9b72e776",
            "s2:204e3073870fae3d05bcbc2f6a8e263d9b72e776",
        ),
        ("https://doi.org/10.1145/3292500.3330701", "doi:10.1145/3292500.3330701"),
        (
            "https://dx.doi.org/10.1162/NECO.1997.9.8.1735",
            "doi:10.1162/neco.1997.9.8.1735",
        ),
        ("http://www.Example.org:80/paper/#section", "url:https://example.org/paper"),
        ("javascript:alert(1)", ""),
    ],
)
def test_request_key(url, key):
    assert request_key(url) == key


def test_a_second_request_for_the_same_paper_is_a_vote(client):
    client.post(PAGE, form_data(url="https://arxiv.org/abs/1706.03762"))
    other = client_at("203.0.113.9")

    response = other.post(
        PAGE,
        form_data(url="http://arxiv.org/pdf/1706.03762v2.pdf"),
        headers=HTMX,
    )

    assert ReadingRequest.objects.count() == 1
    item = ReadingRequest.objects.with_vote_count().get()
    assert item.vote_count == 2
    assert "你的请求记为一票" in response.text
    assert "现在共 2 票" in response.text


def test_the_same_visitor_submitting_twice_is_not_counted_twice(client):
    client.post(PAGE, form_data())
    response = client.post(PAGE, form_data(), headers=HTMX)
    assert "你也已经投过票了" in response.text
    assert RequestVote.objects.count() == 1


def test_request_for_a_paper_on_the_list_points_to_it(client):
    paper = PaperFactory(name="Transformer", arxiv_id="1706.03762")

    response = client.post(PAGE, form_data(), headers=HTMX)

    assert "这篇论文已经在列表里了" in response.text
    assert paper.get_absolute_url() in response.text
    assert not ReadingRequest.objects.exists()


@pytest.mark.parametrize(
    ("paper_fields", "url"),
    [
        ({"arxiv_id": "1706.03762"}, "https://arxiv.org/pdf/1706.03762v3"),
        (
            {"s2_paper_id": "204e3073870fae3d05bcbc2f6a8e263d9b72e776"},
            "https://www.semanticscholar.org/paper/"
            "204e3073870fae3d05bcbc2f6a8e263d9b72e776",
        ),
        ({"doi": "10.1145/3292500.3330701"}, "https://doi.org/10.1145/3292500.3330701"),
        (
            {"url": "https://proceedings.mlr.press/v37/ioffe15.html"},
            "http://www.proceedings.mlr.press/v37/ioffe15.html/",
        ),
        (
            {"url": "https://arxiv.org/abs/1512.03385"},
            "https://arxiv.org/pdf/1512.03385v1",
        ),
    ],
)
def test_listed_paper_is_found_by_id_or_normalised_link(paper_fields, url):
    defaults = {"arxiv_id": "", "s2_paper_id": "", "doi": "", "url": ""}
    paper = PaperFactory(**{**defaults, **paper_fields})
    PaperFactory()  # another paper, never matched
    assert listed_paper_for_key(request_key(url)) == paper


def test_request_for_a_declined_paper_shows_the_decision(client):
    ReadingRequestFactory(
        url="https://arxiv.org/abs/1706.03762",
        key="arxiv:1706.03762",
        status="declined",
        public_reason="已经在视频里讲过了。",
    )
    response = client.post(PAGE, form_data(), headers=HTMX)
    assert "请求的状态是“已婉拒”" in response.text
    assert "已经在视频里讲过了。" in response.text
    assert not RequestVote.objects.exists()


def test_concurrent_first_requests_become_one_request_and_a_vote():
    reading_request_submit(
        url="https://arxiv.org/abs/1706.03762",
        title="A",
        reason="reason one, long enough",
        voter=voter(1),
    )
    result = reading_request_submit(
        url="https://arxiv.org/abs/1706.03762v2",
        title="B",
        reason="reason two, long enough",
        voter=voter(2),
    )
    assert result.outcome == "voted"
    assert ReadingRequest.objects.get().title == "A"


# --- The hint -----------------------------------------------------------------------


def test_hint_for_a_paper_on_the_list(client):
    paper = PaperFactory(name="ResNet", arxiv_id="1512.03385")
    response = client.get(
        HINT, {"url": "https://arxiv.org/abs/1512.03385v1"}, headers=HTMX
    )
    assert response.status_code == 200
    assert "<html" not in response.text
    assert "这篇论文已经在列表里了" in response.text
    assert f'href="{paper.get_absolute_url()}"' in response.text


def test_hint_for_a_requested_paper_offers_a_vote(client):
    item = ReadingRequestFactory(
        url="https://arxiv.org/abs/2301.00001", key="arxiv:2301.00001"
    )
    RequestVoteFactory.create_batch(4, reading_request=item)

    response = client.get(HINT, {"url": "arXiv:2301.00001"}, headers=HTMX)

    assert "已经有人请求过这篇论文，4 票" in response.text
    assert f'hx-post="{vote_url(item)}"' in response.text
    # Inside the request form: a button, never a nested <form>.
    assert "<form" not in response.text


def test_hint_knows_when_you_voted_already(client):
    client.post(PAGE, form_data())
    response = client.get(
        HINT, {"url": "https://arxiv.org/abs/1706.03762"}, headers=HTMX
    )
    assert "已投票" in response.text
    assert "hx-post" not in response.text


def test_hint_for_a_decided_request_shows_its_status(client):
    paper = PaperFactory(arxiv_id="", url="")
    ReadingRequestFactory(
        url="https://example.org/p",
        key="url:https://example.org/p",
        status="accepted",
        paper=paper,
    )
    response = client.get(HINT, {"url": "http://www.example.org/p/"}, headers=HTMX)
    assert "状态是“已接受”" in response.text
    assert paper.get_absolute_url() in response.text
    assert "hx-post" not in response.text


@pytest.mark.parametrize(
    "url", ["", "https://example.org/new-paper", "javascript:alert(1)", "x" * 600]
)
def test_hint_is_empty_when_there_is_nothing_to_say(client, url):
    response = client.get(HINT, {"url": url}, headers=HTMX)
    assert response.status_code == 200
    assert response.text.strip() == ""


# --- Votes ------------------------------------------------------------------------


def test_htmx_vote_updates_the_count_in_place(client):
    item = ReadingRequestFactory()
    RequestVoteFactory(reading_request=item)

    response = client.post(vote_url(item), headers=HTMX)

    assert response.status_code == 200
    assert "<html" not in response.text
    assert response.text.strip().startswith('<div class="rq-vote">')
    assert "2 票" in response.text
    assert "谢谢，已记下你的一票。" in response.text


def test_plain_vote_redirects_back_with_a_message(client):
    item = ReadingRequestFactory()

    response = client.post(vote_url(item))

    assert response.status_code == 302
    assert response["Location"] == f"{PAGE}#request-{item.pk}"
    page = client.get(PAGE)
    assert "谢谢，已记下你的一票。" in page.text
    assert "已投票" in page.text


def test_one_vote_per_session(client):
    item = ReadingRequestFactory()
    client.post(vote_url(item))
    client.defaults["REMOTE_ADDR"] = "203.0.113.50"  # same session, new address

    response = client.post(vote_url(item), headers=HTMX)

    assert "你已经为这个请求投过票了。" in response.text
    assert item.votes.count() == 1


def test_two_sessions_behind_one_address_both_vote():
    # A lab, a campus or a phone carrier: many readers, one address.
    item = ReadingRequestFactory()
    first, second = client_at("203.0.113.7"), client_at("203.0.113.7")
    first.post(vote_url(item))

    response = second.post(vote_url(item), headers=HTMX)

    assert "谢谢，已记下你的一票。" in response.text
    assert ReadingRequest.objects.with_vote_count().get().vote_count == 2
    page = second.get(PAGE).text
    assert "2 票" in page and "已投票" in page


def test_only_the_session_that_voted_sees_already_voted():
    item = ReadingRequestFactory()
    voter_client, neighbour = client_at("203.0.113.7"), client_at("203.0.113.7")
    voter_client.post(vote_url(item))

    assert "已投票" in voter_client.get(PAGE).text
    page = neighbour.get(PAGE).text
    assert "已投票" not in page
    assert f'action="{vote_url(item)}"' in page
    hint = neighbour.get(HINT, {"url": item.url}, headers=HTMX).text
    assert "已投票" not in hint and "hx-post" in hint


def test_past_the_address_cap_the_next_voter_is_told_so(settings):
    settings.READING_REQUEST_VOTES_PER_ADDRESS_PER_DAY = 2
    item = ReadingRequestFactory()
    for _ in range(2):
        client_at("203.0.113.7").post(vote_url(item))
    late = client_at("203.0.113.7")

    response = late.post(vote_url(item), headers=HTMX)

    assert response.status_code == 200
    assert "今天已经为这个请求投了 2 票，达到上限" in response.text
    assert "已投票" not in response.text
    assert "你已经为这个请求投过票了" not in response.text
    assert item.votes.count() == 2
    # The plain POST says the same, and the page does not claim a vote.
    plain = late.post(vote_url(item), follow=True)
    assert "达到上限" in plain.text
    assert "已投票" not in plain.text
    # Another address is not affected.
    client_at("203.0.113.8").post(vote_url(item))
    assert item.votes.count() == 3


def test_the_address_cap_is_per_request_and_per_day(settings):
    settings.READING_REQUEST_VOTES_PER_ADDRESS_PER_DAY = 1
    item, other = ReadingRequestFactory.create_batch(2)
    client_at("203.0.113.7").post(vote_url(item))
    client_at("203.0.113.7").post(vote_url(other))
    assert other.votes.count() == 1  # another request: its own cap
    item.votes.update(created_at=timezone.now() - timedelta(hours=25))
    client_at("203.0.113.7").post(vote_url(item))
    assert item.votes.count() == 2  # a day later the address may vote again


def test_a_duplicate_submission_past_the_address_cap_says_so(settings):
    settings.READING_REQUEST_VOTES_PER_ADDRESS_PER_DAY = 1
    client_at("203.0.113.7").post(PAGE, form_data())
    response = client_at("203.0.113.7").post(PAGE, form_data(), headers=HTMX)
    assert "今天已经为它投了 1 票，达到上限，这一票没有记下" in response.text
    assert "你也已经投过票了" not in response.text
    assert RequestVote.objects.count() == 1


def test_different_visitors_each_get_a_vote():
    item = ReadingRequestFactory()
    for n in range(3):
        client_at(f"203.0.113.{n + 1}").post(vote_url(item))
    assert item.votes.count() == 3


def test_ipv6_addresses_in_one_64_share_an_address_cap(settings):
    settings.READING_REQUEST_VOTES_PER_ADDRESS_PER_DAY = 1
    item = ReadingRequestFactory()
    client_at("2001:db8:1:2::1").post(vote_url(item))
    client_at("2001:db8:1:2:ffff::9").post(vote_url(item))
    client_at("2001:db8:1:3::1").post(vote_url(item))
    assert item.votes.count() == 2


def test_votes_store_hashes_never_the_raw_ip_or_session_key(client):
    item = ReadingRequestFactory()
    client.post(vote_url(item))
    vote = RequestVote.objects.get()
    session_key = client.session.session_key
    assert re.fullmatch(r"[0-9a-f]{64}", vote.ip_hash)
    assert re.fullmatch(r"[0-9a-f]{64}", vote.session_hash)
    stored = " ".join(str(v) for v in RequestVote.objects.values_list().get())
    assert "127.0.0.1" not in stored
    assert session_key not in stored


def test_ip_hash_depends_on_the_secret_salt(settings):
    first = voter_identity(session_key="s", ip="192.0.2.1")
    settings.READING_REQUEST_IP_SALT = "another-salt"
    second = voter_identity(session_key="s", ip="192.0.2.1")
    assert first.ip_hash != second.ip_hash
    assert first.session_hash != second.session_hash


def test_closed_requests_take_no_votes(client):
    item = ReadingRequestFactory(status="declined", public_reason="不合适")
    response = client.post(vote_url(item), headers=HTMX)
    assert "不再接受投票" in response.text
    assert not item.votes.exists()


def test_vote_on_a_missing_request_is_404(client):
    assert client.post("/requests/999999/vote/", headers=HTMX).status_code == 404


def test_vote_service_counts():
    item = ReadingRequestFactory()
    assert reading_request_vote(reading_request=item, voter=voter(1)).vote_count == 1
    again = reading_request_vote(reading_request=item, voter=voter(1))
    assert (again.outcome, again.vote_count) == ("already_voted", 1)
    assert reading_request_vote(reading_request=item, voter=voter(2)).vote_count == 2


# --- Client addresses ---------------------------------------------------------------


def test_forwarded_for_is_ignored_without_trusted_proxies(settings):
    settings.READING_REQUEST_VOTES_PER_ADDRESS_PER_DAY = 1
    item = ReadingRequestFactory()
    for n in range(2):
        Client(REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR=f"203.0.113.{n}").post(
            vote_url(item)
        )
    assert item.votes.count() == 1  # both came from 10.0.0.1


def test_behind_a_trusted_proxy_the_rightmost_entry_is_the_client(settings):
    settings.TRUSTED_PROXY_COUNT = 1
    settings.READING_REQUEST_VOTES_PER_ADDRESS_PER_DAY = 1
    item = ReadingRequestFactory()
    # A client forging the leftmost entry cannot escape its address's cap.
    for forged in ("1.1.1.1", "8.8.8.8"):
        Client(
            REMOTE_ADDR="10.0.0.1",
            HTTP_X_FORWARDED_FOR=f"{forged}, 203.0.113.5",
        ).post(vote_url(item))
    assert item.votes.count() == 1
    Client(REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.6").post(
        vote_url(item)
    )
    assert item.votes.count() == 2


# --- Rate limits ------------------------------------------------------------------


def _arxiv(n: int) -> str:
    return f"https://arxiv.org/abs/2302.{n:05d}"


def test_submissions_over_the_limit_get_429_with_a_message(client, settings):
    settings.READING_REQUEST_SUBMITS_PER_HOUR = 2
    for n in range(2):
        assert client.post(PAGE, form_data(url=_arxiv(n))).status_code == 302

    response = client.post(PAGE, form_data(url=_arxiv(9)), headers=HTMX)

    assert response.status_code == 429
    assert 0 < int(response["Retry-After"]) <= 3600
    assert "<html" not in response.text
    assert "每小时最多提交 2 个请求" in response.text
    assert 'value="Attention Is All You Need"' in response.text  # nothing lost
    assert ReadingRequest.objects.count() == 2


def test_plain_post_over_the_limit_renders_the_page_with_429(client, settings):
    settings.READING_REQUEST_SUBMITS_PER_HOUR = 1
    client.post(PAGE, form_data(url=_arxiv(1)))
    response = client.post(PAGE, form_data(url=_arxiv(2)))
    assert response.status_code == 429
    assert "<html" in response.text
    assert "每小时最多提交 1 个请求" in response.text
    assert "Retry-After" in response


def test_submission_limit_is_per_ip_across_sessions(settings):
    settings.READING_REQUEST_SUBMITS_PER_HOUR = 1
    assert (
        client_at("192.0.2.10").post(PAGE, form_data(url=_arxiv(1))).status_code == 302
    )
    response = client_at("192.0.2.10").post(PAGE, form_data(url=_arxiv(2)))
    assert response.status_code == 429
    assert (
        client_at("192.0.2.11").post(PAGE, form_data(url=_arxiv(3))).status_code == 302
    )


def test_submission_limit_is_per_session_across_addresses(client, settings):
    settings.READING_REQUEST_SUBMITS_PER_HOUR = 1
    client.post(PAGE, form_data(url=_arxiv(1)))
    client.defaults["REMOTE_ADDR"] = "192.0.2.99"
    assert client.post(PAGE, form_data(url=_arxiv(2))).status_code == 429


def test_invalid_forms_do_not_use_up_the_limit(client, settings):
    settings.READING_REQUEST_SUBMITS_PER_HOUR = 1
    for _ in range(3):
        client.post(PAGE, form_data(reason="short"))
    assert client.post(PAGE, form_data()).status_code == 302


def test_honeypot_submissions_count_towards_the_limit(client, settings):
    settings.READING_REQUEST_SUBMITS_PER_HOUR = 2
    for _ in range(2):
        client.post(PAGE, form_data(website="spam"))
    assert client.post(PAGE, form_data(website="spam")).status_code == 429


def test_votes_over_the_limit_get_429(client, settings):
    settings.READING_REQUEST_VOTES_PER_HOUR = 3
    items = ReadingRequestFactory.create_batch(4)
    for item in items[:3]:
        assert client.post(vote_url(item), headers=HTMX).status_code == 200

    response = client.post(vote_url(items[3]), headers=HTMX)

    assert response.status_code == 429
    assert response["Retry-After"]
    assert "每小时最多投 3 票" in response.text
    assert "<form" not in response.text
    assert not items[3].votes.exists()
    plain = client.post(vote_url(items[3]))
    assert plain.status_code == 429
    assert "<html" in plain.text and "每小时最多投 3 票" in plain.text


def test_hint_over_the_limit_gets_429(client, settings):
    settings.READING_REQUEST_HINTS_PER_HOUR = 2
    for _ in range(2):
        client.get(HINT, {"url": "https://example.org/a"}, headers=HTMX)
    response = client.get(HINT, {"url": "https://example.org/a"}, headers=HTMX)
    assert response.status_code == 429
    assert "查询太频繁了" in response.text


def test_the_limit_window_resets(client, settings, monkeypatch):
    settings.READING_REQUEST_SUBMITS_PER_HOUR = 1
    clock = [1_700_000_000.0]
    monkeypatch.setattr("papers.rate_limits._clock", lambda: clock[0])
    client.post(PAGE, form_data(url=_arxiv(1)))
    assert client.post(PAGE, form_data(url=_arxiv(2))).status_code == 429
    clock[0] += 3600
    assert client.post(PAGE, form_data(url=_arxiv(3))).status_code == 302


# --- Mail ---------------------------------------------------------------------------


def test_new_request_notifies_the_managers_after_commit(
    client, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            PAGE,
            form_data(
                title="Attention & friends",
                email="reader@example.org",
            ),
        )

    assert len(mailoutbox) == 1
    mail = mailoutbox[0]
    assert mail.to == ["curator@example.org"]
    assert "新的精读请求：Attention & friends" in mail.subject
    assert "https://arxiv.org/abs/1706.03762v5" in mail.body
    assert "Attention & friends" in mail.body  # plain text, not HTML-escaped
    assert "/admin/papers/readingrequest/" in mail.body
    assert "reader@example.org" not in mail.body


def test_votes_and_duplicates_send_no_mail(
    client, mailoutbox, django_capture_on_commit_callbacks
):
    ReadingRequestFactory(
        url="https://arxiv.org/abs/1706.03762", key="arxiv:1706.03762"
    )
    with django_capture_on_commit_callbacks(execute=True):
        client.post(PAGE, form_data())
    assert mailoutbox == []


def test_no_managers_no_mail(
    client, mailoutbox, settings, django_capture_on_commit_callbacks
):
    settings.MANAGERS = []
    with django_capture_on_commit_callbacks(execute=True):
        client.post(PAGE, form_data())
    assert ReadingRequest.objects.count() == 1
    assert mailoutbox == []


# --- In a browser -------------------------------------------------------------------


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_htmx_behaviour_in_a_browser(page, settings):
    """The hint, the htmx submit with its out-of-band list, and the 429 swap."""
    settings.READING_REQUEST_SUBMITS_PER_HOUR = 1
    ReadingRequestFactory(
        url="https://arxiv.org/abs/2301.00001",
        key="arxiv:2301.00001",
        title="Already requested",
    )

    page.goto(PAGE)

    page.type("#id_url", "arXiv:2301.00001", delay=10)
    page.wait_for_selector(".rq-hint__box")
    assert "已经有人请求过这篇论文，0 票" in page.inner_text("#url-hint")
    page.click("#url-hint .rq-vote__button")
    page.wait_for_selector("#url-hint .rq-vote__done, #url-hint .rq-vote__message")
    assert "1 票" in page.inner_text("#url-hint")

    page.fill("#id_url", "https://example.org/new-paper")
    page.fill("#id_title", "A new paper")
    page.fill("#id_reason", "Worth reading, and long enough.")
    page.click(".rq-actions button")
    page.wait_for_selector(".rq-box--done")
    assert "A new paper" in page.inner_text("#open-requests")

    page.goto(PAGE)
    page.fill("#id_url", "https://example.org/another")
    page.fill("#id_title", "One too many")
    page.fill("#id_reason", "Over the hourly limit by one.")
    page.click(".rq-actions button")
    page.wait_for_selector(".rq-alert")
    assert "每小时最多提交 1 个请求" in page.inner_text(".rq-alert")
    assert page.input_value("#id_title") == "One too many"


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_two_browsers_behind_one_address_both_vote(browsing):
    """Two browser sessions on the same address (127.0.0.1) each cast a vote."""
    item = ReadingRequestFactory(title="Shared lab favourite")
    first, second = browsing.new_page(), browsing.new_page()

    for page in (first, second):
        page.goto(PAGE)
        page.click(f"#request-{item.pk} .rq-vote__button")
        page.wait_for_selector(f"#request-{item.pk} .rq-vote__message")
        assert "谢谢，已记下你的一票。" in page.inner_text(f"#request-{item.pk}")

    assert "2 票" in second.inner_text(f"#request-{item.pk} .rq-vote__count")
    first.reload()
    assert "2 票" in first.inner_text(f"#request-{item.pk} .rq-vote__count")
    assert "已投票" in first.inner_text(f"#request-{item.pk}")
    assert item.votes.count() == 2
    assert browsing.problems(first) == [] and browsing.problems(second) == []
