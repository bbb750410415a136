"""请求精读 for the curator: the admin queue, accept / decline / done, and the mail."""

from unittest import mock

import pytest
from django.contrib.admin import helpers
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.urls import reverse

from papers.models import Paper, ReadingRequest
from papers.services.reading_requests import (
    reading_request_accept,
    reading_request_decline,
    reading_request_done,
)
from readinglist.celery import app as celery_app
from tests.factories import PaperFactory, VideoNoteFactory
from tests.factories_requests import ReadingRequestFactory, RequestVoteFactory

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:papers_readingrequest_changelist")


@pytest.fixture(autouse=True)
def _clear_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def mail_tasks_run_at_once(monkeypatch):
    """Mail is a Celery task queued after commit; run it in this process."""
    monkeypatch.setitem(celery_app.conf, "task_always_eager", True)


@pytest.fixture
def lookup():
    """The background Semantic Scholar lookup, never really queued in these tests."""
    with mock.patch("papers.tasks.refresh_citations.apply_async") as send:
        yield send


def run_action(client, action, items, **extra):
    data = {
        "action": action,
        helpers.ACTION_CHECKBOX_NAME: [str(item.pk) for item in items],
        **extra,
    }
    return client.post(CHANGELIST, data)


# --- The queue ------------------------------------------------------------------


def test_queue_is_sorted_by_votes_then_newest(admin_client):
    quiet = ReadingRequestFactory(title="Quiet")
    popular = ReadingRequestFactory(title="Popular")
    newer_quiet = ReadingRequestFactory(title="Newer quiet")
    RequestVoteFactory.create_batch(5, reading_request=popular)

    response = admin_client.get(CHANGELIST)

    assert response.status_code == 200
    titles = [item.title for item in response.context["cl"].result_list]
    assert titles == ["Popular", "Newer quiet", "Quiet"]
    assert response.context["cl"].result_list[0].vote_count == 5
    assert quiet and newer_quiet


def test_queue_filters_by_status_and_sorts_by_the_vote_column(admin_client):
    ReadingRequestFactory(title="Open")
    ReadingRequestFactory(title="Declined", status="declined", public_reason="不")
    response = admin_client.get(CHANGELIST, {"status__exact": "declined"})
    assert [i.title for i in response.context["cl"].result_list] == ["Declined"]
    # The vote column is sortable (o=<column index>).
    assert admin_client.get(CHANGELIST, {"o": "3"}).status_code == 200


def test_queue_search(admin_client):
    ReadingRequestFactory(title="Mamba: linear-time sequence modeling")
    ReadingRequestFactory(title="Something else")
    response = admin_client.get(CHANGELIST, {"q": "mamba"})
    assert len(response.context["cl"].result_list) == 1


def test_email_is_visible_to_staff_in_the_admin(admin_client):
    item = ReadingRequestFactory(email="reader@example.org")
    response = admin_client.get(
        reverse("admin:papers_readingrequest_change", args=[item.pk])
    )
    assert response.status_code == 200
    assert "reader@example.org" in response.text


def test_anonymous_visitors_cannot_see_the_queue(client):
    ReadingRequestFactory(email="reader@example.org")
    response = client.get(CHANGELIST)
    assert response.status_code == 302
    assert "reader@example.org" not in response.text


def test_requests_are_not_added_in_the_admin(admin_client):
    assert (
        admin_client.get(reverse("admin:papers_readingrequest_add")).status_code == 403
    )


def test_change_form_keeps_a_declined_request_reasoned(admin_client):
    item = ReadingRequestFactory(status="declined", public_reason="重复")
    url = reverse("admin:papers_readingrequest_change", args=[item.pk])
    data = {
        "title": item.title,
        "reason": item.reason,
        "nickname": "",
        "paper": "",
        "video": "",
        "public_reason": "   ",
    }
    response = admin_client.post(url, data)
    assert response.status_code == 200
    assert "婉拒请求时必须写一句公开说明" in response.text
    item.refresh_from_db()
    assert item.public_reason == "重复"


# --- Accept -----------------------------------------------------------------------


def test_accept_creates_the_paper_from_the_request(
    admin_client, admin_user, lookup, django_capture_on_commit_callbacks
):
    item = ReadingRequestFactory(
        url="https://arxiv.org/abs/1706.03762v5",
        key="arxiv:1706.03762",
        title="Attention Is All You Need",
    )

    with django_capture_on_commit_callbacks(execute=True):
        response = run_action(admin_client, "accept", [item])

    assert response.status_code == 302
    item.refresh_from_db()
    paper = Paper.objects.get()
    assert item.status == "accepted"
    assert item.paper == paper
    assert item.decided_by == admin_user
    assert item.decided_at is not None
    assert paper.name == "Attention Is All You Need"
    assert paper.arxiv_id == "1706.03762"
    assert paper.url == "https://arxiv.org/abs/1706.03762v5"
    assert paper.slug == "attention-is-all-you-need"
    lookup.assert_called_once_with(kwargs={"paper_ids": [paper.pk], "trigger": "admin"})


def test_accept_enqueues_only_after_commit(lookup, admin_user):
    item = ReadingRequestFactory()
    reading_request_accept(request_obj=item, by=admin_user)
    # The test transaction never commits, so nothing may have been queued.
    lookup.assert_not_called()


def test_accept_queues_the_refresh_task_for_the_paper(
    admin_user, django_capture_on_commit_callbacks
):
    item = ReadingRequestFactory(
        key="doi:10.1145/3292500.3330701", url="https://doi.org/10.1145/3292500.3330701"
    )
    with (
        mock.patch("papers.tasks.refresh_citations.apply_async") as send,
        django_capture_on_commit_callbacks(execute=True),
    ):
        paper = reading_request_accept(request_obj=item, by=admin_user)
    assert paper.doi == "10.1145/3292500.3330701"
    send.assert_called_once_with(kwargs={"paper_ids": [paper.pk], "trigger": "admin"})


@pytest.mark.parametrize(
    ("key", "url", "field", "value"),
    [
        (
            "s2:204e3073870fae3d05bcbc2f6a8e263d9b72e776",
            "https://www.semanticscholar.org/paper/204e3073870fae3d05bcbc2f6a8e263d9b72e776",
            "s2_paper_id",
            "204e3073870fae3d05bcbc2f6a8e263d9b72e776",
        ),
        (
            "doi:10.1162/neco.1997.9.8.1735",
            "https://doi.org/10.1162/NECO.1997.9.8.1735",
            "doi",
            "10.1162/neco.1997.9.8.1735",
        ),
        (
            "url:https://example.org/paper",
            "https://example.org/paper",
            "url",
            "https://example.org/paper",
        ),
    ],
)
def test_accept_copies_the_identifier_of_the_key(
    lookup, admin_user, key, url, field, value
):
    item = ReadingRequestFactory(key=key, url=url)
    paper = reading_request_accept(request_obj=item, by=admin_user)
    assert getattr(paper, field) == value


def test_accept_gives_chinese_titles_an_ascii_slug(lookup, admin_user):
    PaperFactory(slug="can-shu-fu-wu-qi")
    item = ReadingRequestFactory(
        title="参数服务器", key="arxiv:1207.0580", url="https://arxiv.org/abs/1207.0580"
    )
    paper = reading_request_accept(request_obj=item, by=admin_user)
    assert paper.slug == "can-shu-fu-wu-qi-2"  # pinyin, and taken once already


def test_accept_links_the_paper_already_on_the_list(lookup, admin_user):
    paper = PaperFactory(arxiv_id="1706.03762")
    item = ReadingRequestFactory(key="arxiv:1706.03762")

    assert reading_request_accept(request_obj=item, by=admin_user) == paper

    assert Paper.objects.count() == 1
    assert item.paper == paper


def test_accept_links_the_paper_the_curator_chose(lookup, admin_user):
    chosen = PaperFactory()
    item = ReadingRequestFactory(paper=chosen, key="url:https://example.org/x")
    assert reading_request_accept(request_obj=item, by=admin_user) == chosen
    assert Paper.objects.count() == 1


def test_accept_is_refused_for_done_requests(admin_client, lookup):
    video = VideoNoteFactory()
    item = ReadingRequestFactory(status="done", video=video)
    response = run_action(admin_client, "accept", [item])
    assert response.status_code == 302
    item.refresh_from_db()
    assert item.status == "done"
    messages = [str(m) for m in response.wsgi_request._messages]
    assert any("已完成的请求不能再改为已接受" in m for m in messages)


# --- Decline ----------------------------------------------------------------------


def test_decline_asks_for_a_public_reason_first(admin_client):
    item = ReadingRequestFactory()

    response = run_action(admin_client, "decline", [item])

    assert response.status_code == 200
    assert 'name="public_reason"' in response.text
    assert f'value="{item.pk}"' in response.text
    item.refresh_from_db()
    assert item.status == "pending"


def test_decline_without_a_reason_is_refused(admin_client):
    item = ReadingRequestFactory()
    response = run_action(
        admin_client, "decline", [item], apply="1", public_reason="  "
    )
    assert response.status_code == 200
    assert "errorlist" in response.text
    item.refresh_from_db()
    assert item.status == "pending"


def test_decline_with_a_reason(admin_client, admin_user):
    items = ReadingRequestFactory.create_batch(2)

    response = run_action(
        admin_client, "decline", items, apply="1", public_reason="不是深度学习论文。"
    )

    assert response.status_code == 302
    for item in items:
        item.refresh_from_db()
        assert item.status == "declined"
        assert item.public_reason == "不是深度学习论文。"
        assert item.decided_by == admin_user


def test_decline_service_needs_a_reason(admin_user):
    item = ReadingRequestFactory()
    with pytest.raises(ValidationError):
        reading_request_decline(request_obj=item, by=admin_user, public_reason="")


def test_database_refuses_a_declined_request_without_reason():
    from django.db import IntegrityError, transaction

    item = ReadingRequestFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        ReadingRequest.objects.filter(pk=item.pk).update(status="declined")


# --- Done and the requester's mail --------------------------------------------------


def test_mark_done_shows_the_video_autocomplete(admin_client):
    item = ReadingRequestFactory()
    response = run_action(admin_client, "mark_done", [item])
    assert response.status_code == 200
    assert 'name="video"' in response.text
    assert "admin-autocomplete" in response.text


def test_video_autocomplete_answers_for_the_done_form(admin_client):
    VideoNoteFactory(title="GPT-4 精读")
    response = admin_client.get(
        reverse("admin:autocomplete"),
        {
            "app_label": "papers",
            "model_name": "readingrequest",
            "field_name": "video",
            "term": "GPT-4",
        },
    )
    assert response.status_code == 200
    assert len(response.json()["results"]) == 1


def test_mark_done_emails_the_requester_once(
    admin_client,
    mailoutbox,
    django_capture_on_commit_callbacks,
    mail_tasks_run_at_once,
    settings,
):
    settings.SITE_URL = "https://papers.example.org"
    paper = PaperFactory()
    video = VideoNoteFactory(
        title="[GPT-4](https://arxiv.org/abs/2303.08774) 精读",
        bilibili_url="https://www.bilibili.com/video/BV1vM4y1U7b5",
    )
    item = ReadingRequestFactory(
        title="GPT-4 & friends",
        status="accepted",
        paper=paper,
        email="reader@example.org",
    )

    with django_capture_on_commit_callbacks(execute=True):
        response = run_action(
            admin_client, "mark_done", [item], apply="1", video=str(video.pk)
        )

    assert response.status_code == 302
    item.refresh_from_db()
    assert item.status == "done"
    assert item.video == video
    assert len(mailoutbox) == 1
    mail = mailoutbox[0]
    assert mail.to == ["reader@example.org"]
    assert "GPT-4 & friends" in mail.subject
    assert "GPT-4 & friends" in mail.body  # plain text, not escaped
    assert "GPT-4 精读" in mail.body
    assert f"https://papers.example.org/videos/{video.slug}/" in mail.body
    assert "https://www.bilibili.com/video/BV1vM4y1U7b5" in mail.body

    with django_capture_on_commit_callbacks(execute=True):
        run_action(admin_client, "mark_done", [item], apply="1", video=str(video.pk))
    assert len(mailoutbox) == 1


def test_done_mail_is_in_the_requesters_language(
    admin_user, mailoutbox, django_capture_on_commit_callbacks, mail_tasks_run_at_once
):
    item = ReadingRequestFactory(email="reader@example.org", language="zh-hans")
    with django_capture_on_commit_callbacks(execute=True):
        reading_request_done(request_obj=item, by=admin_user, video=VideoNoteFactory())
    assert "你请求的论文已经精读" in mailoutbox[0].subject


def test_done_without_an_email_sends_nothing(
    admin_user, mailoutbox, django_capture_on_commit_callbacks, mail_tasks_run_at_once
):
    item = ReadingRequestFactory(email="")
    with django_capture_on_commit_callbacks(execute=True):
        reading_request_done(request_obj=item, by=admin_user, video=VideoNoteFactory())
    assert item.status == "done"
    assert mailoutbox == []


def test_done_links_the_listed_paper(admin_user):
    paper = PaperFactory(arxiv_id="1706.03762")
    item = ReadingRequestFactory(key="arxiv:1706.03762")
    reading_request_done(request_obj=item, by=admin_user, video=VideoNoteFactory())
    assert item.paper == paper


def test_done_needs_a_video(admin_client):
    item = ReadingRequestFactory()
    response = run_action(admin_client, "mark_done", [item], apply="1", video="")
    assert response.status_code == 200
    item.refresh_from_db()
    assert item.status == "pending"


def test_declined_requests_are_not_marked_done(admin_user):
    item = ReadingRequestFactory(status="declined", public_reason="不")
    with pytest.raises(ValidationError):
        reading_request_done(request_obj=item, by=admin_user, video=VideoNoteFactory())


def test_a_broker_that_is_down_does_not_undo_the_decision(
    admin_user, django_capture_on_commit_callbacks, caplog
):
    item = ReadingRequestFactory(email="reader@example.org")
    with (
        mock.patch(
            "papers.tasks.reading_request_notify_requester.delay",
            side_effect=OSError("broker down"),
        ),
        django_capture_on_commit_callbacks(execute=True),
    ):
        reading_request_done(request_obj=item, by=admin_user, video=VideoNoteFactory())
    item.refresh_from_db()
    assert item.status == "done"
    assert "could not queue papers.reading_request_notify_requester" in caplog.text
    assert "broker down" in caplog.text
