"""请求精读: the public request queue, the duplicate hint and votes.

Everything here that a client can repeat is rate-limited per client (hash of the IP
network) and per session, in fixed one-hour windows (papers/rate_limits.py). Over the
limit the answer is HTTP 429 with ``Retry-After`` and a readable message: the form
fragment (htmx) or the whole page (a plain POST), with what the reader typed kept.
"""

from __future__ import annotations

import math

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from papers import rate_limits, selectors
from papers.client_ip import client_ip
from papers.forms import ReadingRequestForm, clean_line, paper_url_from_input
from papers.models import Paper, ReadingRequest
from papers.services.reading_requests import (
    Voter,
    reading_request_submit,
    reading_request_vote,
    voter_identity,
)

TEMPLATE = "requests/list.html"
# The outcome of a plain POST, kept in the session for the page after the redirect.
CONFIRMATION_SESSION_KEY = "reading_request_confirmation"


# --- Who is asking ----------------------------------------------------------------


def _voter(request, *, start_session: bool) -> Voter:
    """The visitor's hashes. Voting and submitting start a session (a vote is one per
    session); reading the page does not."""
    if start_session and request.session.session_key is None:
        # An empty session is never sent as a cookie, so give it something to keep.
        request.session["reading_requests"] = True
        request.session.save()
    voter = voter_identity(
        session_key=request.session.session_key or "", ip=client_ip(request)
    )
    if request.session.session_key is None:
        return Voter(session_hash="", ip_hash=voter.ip_hash)
    return voter


def _check_limit(request, scope: str, limit: int, *, start_session: bool):
    """Count one attempt by the client's address, then by its session: ``(voter,
    retry_after)``, ``retry_after`` 0 when within the limit.

    The address is checked before any session is started, so a flood of refused
    POSTs leaves no session rows behind."""
    voter = _voter(request, start_session=False)
    if retry_after := rate_limits.hit(scope, voter.ip_hash, limit):
        return voter, retry_after
    if start_session:
        voter = _voter(request, start_session=True)
    if voter.session_hash:
        return voter, rate_limits.hit(scope, voter.session_hash, limit)
    return voter, 0


def _limit_message(scope: str, limit: int, retry_after: int) -> str:
    minutes = max(1, math.ceil(retry_after / 60))
    if scope == "submit":
        text = ngettext(
            "提交得太频繁了：每小时最多提交 %(limit)d 个请求。",
            "提交得太频繁了：每小时最多提交 %(limit)d 个请求。",
            limit,
        )
    elif scope == "vote":
        text = ngettext(
            "投票太频繁了：每小时最多投 %(limit)d 票。",
            "投票太频繁了：每小时最多投 %(limit)d 票。",
            limit,
        )
    else:
        text = _("查询太频繁了，请稍后再试。")
    wait = ngettext(
        "请 %(minutes)d 分钟后再试。", "请 %(minutes)d 分钟后再试。", minutes
    )
    return (text % {"limit": limit}) + (wait % {"minutes": minutes})


def _address_cap_message() -> str:
    cap = settings.READING_REQUEST_VOTES_PER_ADDRESS_PER_DAY
    return ngettext(
        "你所在的网络地址今天已经为这个请求投了 %(cap)d 票，达到上限，"
        "这一票没有记下。明天再来吧。",
        "你所在的网络地址今天已经为这个请求投了 %(cap)d 票，达到上限，"
        "这一票没有记下。明天再来吧。",
        cap,
    ) % {"cap": cap}


def _too_many(response, retry_after: int):
    response.status_code = 429
    response["Retry-After"] = str(retry_after)
    return response


# --- Page ----------------------------------------------------------------------


def _page_context(request, *, form, voter: Voter | None = None, **extra) -> dict:
    if voter is None:
        voter = _voter(request, start_session=False)
    queue = selectors.reading_request_queue(page=request.GET.get("page"))
    voted_ids = selectors.reading_request_voted_ids(
        session_hash=voter.session_hash,
        request_ids=[item.pk for item in queue["open_requests"]],
    )
    return {
        "form": form,
        **queue,
        "voted_ids": voted_ids,
        "limits": _limits(),
        **extra,
    }


def _limits() -> dict[str, int]:
    return {
        "submits": settings.READING_REQUEST_SUBMITS_PER_HOUR,
        "votes": settings.READING_REQUEST_VOTES_PER_HOUR,
        "votes_per_address_per_day": settings.READING_REQUEST_VOTES_PER_ADDRESS_PER_DAY,
    }


def _pop_confirmation(request) -> dict | None:
    stored = request.session.pop(CONFIRMATION_SESSION_KEY, None)
    if not isinstance(stored, dict):
        return None
    reading_request = paper = None
    if stored.get("request_id"):
        reading_request = selectors.reading_request_detail(pk=stored["request_id"])
    if stored.get("paper_id"):
        paper = Paper.objects.filter(pk=stored["paper_id"]).first()
    return {
        "outcome": stored.get("outcome", "created"),
        "reading_request": reading_request,
        "paper": paper,
    }


def _confirmed(request, *, outcome: str, reading_request=None, paper=None):
    """Answer a successful submission: the confirmation fragment (htmx) or a
    redirect to the page, which shows the same confirmation once."""
    if request.htmx:
        if reading_request is not None:
            reading_request = selectors.reading_request_detail(pk=reading_request.pk)
        # The open list comes along out of band, so the new request or vote shows.
        confirmation = {
            "outcome": outcome,
            "reading_request": reading_request,
            "paper": paper,
        }
        return render(
            request,
            TEMPLATE + "#confirmation",
            _page_context(
                request, form=None, confirmation=confirmation, oob_open_list=True
            ),
        )
    request.session[CONFIRMATION_SESSION_KEY] = {
        "outcome": outcome,
        "request_id": reading_request.pk if reading_request else None,
        "paper_id": paper.pk if paper else None,
    }
    return redirect(reverse("papers:requests") + "#request-form")


def _form_response(request, form, *, status=200, **extra):
    if request.htmx:
        return render(
            request,
            TEMPLATE + "#request-form",
            {"form": form, "limits": _limits(), **extra},
            status=status,
        )
    return render(
        request, TEMPLATE, _page_context(request, form=form, **extra), status=status
    )


def _prefill(query) -> dict:
    """The form's initial url and title from ``?url=…&title=…`` (a search with no
    results links here with its query as the title; a link or id goes in url)."""
    url = clean_line(query.get("url", ""))[: ReadingRequest.URL_MAX_LENGTH]
    title = clean_line(query.get("title", ""))[: ReadingRequest.TITLE_MAX_LENGTH]
    if not url and paper_url_from_input(title):
        url, title = title, ""
    return {name: value for name, value in (("url", url), ("title", title)) if value}


@require_http_methods(["GET", "POST"])
def requests_page(request):
    """The queue, and the form that adds to it (posting to this same URL)."""
    if request.method == "GET":
        confirmation = _pop_confirmation(request)
        return render(
            request,
            TEMPLATE,
            _page_context(
                request,
                form=ReadingRequestForm(initial=_prefill(request.GET)),
                confirmation=confirmation,
            ),
        )

    form = ReadingRequestForm(request.POST)
    # A filled-in honeypot skips validation but meets the same limit as anyone, so a
    # bot that keeps trying is refused like a person; invalid forms cost nothing.
    is_bot = form.is_bot()
    if not is_bot and not form.is_valid():
        return _form_response(request, form)
    limit = settings.READING_REQUEST_SUBMITS_PER_HOUR
    voter, retry_after = _check_limit(request, "submit", limit, start_session=True)
    if retry_after:
        message = _limit_message("submit", limit, retry_after)
        return _too_many(
            _form_response(request, form, limit_message=message), retry_after
        )
    if is_bot:
        # Answer exactly like a success, store nothing.
        return _confirmed(request, outcome="created")
    data = form.cleaned_data
    try:
        result = reading_request_submit(
            url=data["url"],
            title=data["title"],
            reason=data["reason"],
            nickname=data["nickname"],
            email=data["email"],
            language=translation.get_language() or "",
            voter=voter,
        )
    except ValidationError as error:
        _add_model_errors(form, error)
        return _form_response(request, form)
    return _confirmed(
        request,
        outcome=result.outcome,
        reading_request=result.reading_request,
        paper=result.paper,
    )


def _add_model_errors(form, error: ValidationError) -> None:
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for field, errors in error.error_dict.items():
        form.add_error(field if field in form.fields else None, errors)


@require_GET
def request_hint(request):
    """While the reader types a link: is the paper on the list or requested already?

    Answers a fragment (empty when there is nothing to say)."""
    raw = request.GET.get("url", "")
    hint = None
    if 0 < len(raw) <= ReadingRequest.URL_MAX_LENGTH:
        limit = settings.READING_REQUEST_HINTS_PER_HOUR
        voter, retry_after = _check_limit(request, "hint", limit, start_session=False)
        if retry_after:
            message = _limit_message("hint", limit, retry_after)
            return _too_many(
                render(request, TEMPLATE + "#hint", {"hint_message": message}),
                retry_after,
            )
        hint = selectors.reading_request_hint(
            url=paper_url_from_input(raw), session_hash=voter.session_hash
        )
    return render(request, TEMPLATE + "#hint", {"hint": hint})


@require_POST
def request_vote(request, pk):
    """+1 for a pending request: the updated count in place (htmx), or back to the
    list with a message."""
    limit = settings.READING_REQUEST_VOTES_PER_HOUR
    voter, retry_after = _check_limit(request, "vote", limit, start_session=True)
    item = selectors.reading_request_detail(pk=pk)
    if item is None:
        raise Http404
    if retry_after:
        message = _limit_message("vote", limit, retry_after)
        if request.htmx:
            response = render(
                request,
                TEMPLATE + "#vote",
                {"item": item, "voted_ids": set(), "vote_message": message},
            )
        else:
            response = render(
                request,
                TEMPLATE,
                _page_context(
                    request,
                    form=ReadingRequestForm(),
                    voter=voter,
                    page_message=message,
                ),
            )
        return _too_many(response, retry_after)

    result = reading_request_vote(reading_request=item, voter=voter)
    message = {
        "voted": _("谢谢，已记下你的一票。"),
        "already_voted": _("你已经为这个请求投过票了。"),
        "address_cap": _address_cap_message(),
        "closed": _("这个请求已经处理，不再接受投票。"),
    }[result.outcome]
    if request.htmx:
        item.vote_count = result.vote_count
        voted = {item.pk} if result.outcome in ("voted", "already_voted") else set()
        return render(
            request,
            TEMPLATE + "#vote",
            {"item": item, "voted_ids": voted, "vote_message": message},
        )
    messages.info(request, message)
    return redirect(item.get_absolute_url())
