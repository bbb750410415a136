"""请求精读: submitting, voting and the curator's decisions.

Readers' identities are hashes made here (``voter_identity``); the views pass in the
raw session key and client IP and never store them. Mail never goes out on the
request thread: it is a Celery task (papers/tasks.py) queued after the transaction
commits, so a rolled-back decision sends nothing, a slow or silent mail server never
holds a web worker, and a broker that is down is logged and never turns a committed
request or decision into an error page. The task calls
``reading_request_notify_managers`` / ``reading_request_notify_requester`` here.
"""

from __future__ import annotations

import ipaddress
import logging
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import mail_managers, send_mail
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _

from papers import tasks
from papers.identifiers import request_key
from papers.models import Paper, ReadingRequest, RequestVote, VideoNote
from papers.selectors import listed_paper_for_key
from papers.services.catalogue import paper_create
from papers.services.citations import citations_refresh_enqueue

logger = logging.getLogger(__name__)

Status = ReadingRequest.Status
# The per-address vote cap counts the votes of this last period.
ADDRESS_CAP_PERIOD = timedelta(days=1)

__all__ = [
    "SubmitResult",
    "VoteResult",
    "Voter",
    "reading_request_accept",
    "reading_request_decline",
    "reading_request_done",
    "reading_request_notify_managers",
    "reading_request_notify_requester",
    "reading_request_submit",
    "reading_request_vote",
    "voter_identity",
]


# --- Identity -------------------------------------------------------------------


@dataclass(frozen=True)
class Voter:
    """A visitor as votes and rate limits see them: two hex digests, nothing raw."""

    session_hash: str
    ip_hash: str


def _client_network(ip: str) -> str:
    """The unit a client is counted by: the IPv4 address, or the IPv6 /64 (one
    household or phone usually holds a whole /64 and can pick any address in it)."""
    try:
        address = ipaddress.ip_address(ip.strip())
    except ValueError:
        return "unknown"
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)


def voter_identity(*, session_key: str, ip: str) -> Voter:
    """Salted HMAC-SHA256 digests of the session key and the client's network."""
    salt = settings.READING_REQUEST_IP_SALT
    return Voter(
        session_hash=salted_hmac(
            "papers.reading-request.session",
            session_key,
            secret=salt,
            algorithm="sha256",
        ).hexdigest(),
        ip_hash=salted_hmac(
            "papers.reading-request.ip",
            _client_network(ip),
            secret=salt,
            algorithm="sha256",
        ).hexdigest(),
    )


# --- Submitting and voting -------------------------------------------------------


@dataclass(frozen=True)
class SubmitResult:
    """What happened to a submission.

    ``outcome`` is one of ``created`` (a new request, with the submitter's vote),
    ``voted`` (the paper was requested already: a vote was added), ``already_voted``,
    ``address_cap`` (this address gave the request its daily share of votes),
    ``closed`` (the request for it was already accepted, declined or done) and
    ``listed`` (the paper is on the list: nothing stored, ``paper`` points to it).
    """

    outcome: str
    reading_request: ReadingRequest | None = None
    paper: Paper | None = None


@dataclass(frozen=True)
class VoteResult:
    """``voted``, ``already_voted``, ``address_cap`` (the client's address has added
    its daily share of votes to this request) or ``closed`` (only pending requests
    take votes)."""

    outcome: str
    vote_count: int


def _add_vote(reading_request: ReadingRequest, voter: Voter) -> str:
    """One vote per session; an address adds at most the daily cap to one request."""
    # Lock the request so concurrent voters from one address queue up for the cap.
    ReadingRequest.objects.select_for_update().filter(pk=reading_request.pk).exists()
    votes = RequestVote.objects.filter(reading_request=reading_request)
    if votes.filter(session_hash=voter.session_hash).exists():
        return "already_voted"
    since = timezone.now() - ADDRESS_CAP_PERIOD
    cap = settings.READING_REQUEST_VOTES_PER_ADDRESS_PER_DAY
    if votes.filter(ip_hash=voter.ip_hash, created_at__gte=since).count() >= cap:
        return "address_cap"
    vote = RequestVote(
        reading_request=reading_request,
        session_hash=voter.session_hash,
        ip_hash=voter.ip_hash,
    )
    try:
        # A concurrent vote from the same session loses on the unique constraint;
        # the savepoint keeps the outer transaction usable.
        with transaction.atomic():
            vote.save()
    except IntegrityError:
        return "already_voted"
    return "voted"


@transaction.atomic
def reading_request_submit(
    *,
    url: str,
    title: str,
    reason: str,
    voter: Voter,
    nickname: str = "",
    email: str = "",
    language: str = "",
) -> SubmitResult:
    """Ask for a paper. The same paper asked for again becomes a vote for the first
    request; a paper already on the list is pointed to and nothing is stored."""
    key = request_key(url)
    if not key:
        raise ValidationError(
            {"url": _("请填写以 http:// 或 https:// 开头的论文链接。")}
        )
    paper = listed_paper_for_key(key)
    if paper is not None:
        return SubmitResult("listed", paper=paper)
    existing = ReadingRequest.objects.filter(key=key).first()
    if existing is not None:
        return _submit_existing(existing, voter)

    reading_request = ReadingRequest(
        url=url,
        key=key,
        title=title,
        reason=reason,
        nickname=nickname,
        email=email,
        language=language,
    )
    reading_request.full_clean()
    try:
        with transaction.atomic():
            reading_request.save()
    except IntegrityError:
        # Someone asked for the same paper between our check and our insert.
        return _submit_existing(ReadingRequest.objects.get(key=key), voter)
    _add_vote(reading_request, voter)
    _send_after_commit(tasks.reading_request_notify_managers, reading_request.pk)
    return SubmitResult("created", reading_request=reading_request)


def _submit_existing(existing: ReadingRequest, voter: Voter) -> SubmitResult:
    if not existing.is_open:
        return SubmitResult("closed", reading_request=existing, paper=existing.paper)
    return SubmitResult(_add_vote(existing, voter), reading_request=existing)


@transaction.atomic
def reading_request_vote(
    *, reading_request: ReadingRequest, voter: Voter
) -> VoteResult:
    """One vote per browser session on a pending request, within the address cap."""
    if not reading_request.is_open:
        outcome = "closed"
    else:
        outcome = _add_vote(reading_request, voter)
    return VoteResult(outcome, reading_request.votes.count())


# --- The curator's decisions -----------------------------------------------------


def _paper_ids_from_key(key: str) -> dict[str, str]:
    kind, _sep, value = key.partition(":")
    field = {"arxiv": "arxiv_id", "s2": "s2_paper_id", "doi": "doi"}.get(kind)
    return {field: value} if field else {}


@transaction.atomic
def reading_request_accept(
    *, request_obj: ReadingRequest, by, on_enqueue_failure=None
) -> Paper:
    """Accept a request: link the paper already on the list (or chosen by the
    curator), or create it from the request, and look it up in the background.

    The lookup is the citation refresh of that one paper: it finds the paper by its
    arXiv id or DOI (or S2 id), stores the S2 id and the count, and fills in the
    title and year. ``on_enqueue_failure`` hears of a broker that is down.
    """
    if request_obj.status == Status.DONE:
        raise ValidationError(_("已完成的请求不能再改为已接受。"), code="done")
    paper = request_obj.paper or listed_paper_for_key(request_obj.key)
    created = paper is None
    if created:
        paper = paper_create(
            name=request_obj.title,
            url=request_obj.url,
            **_paper_ids_from_key(request_obj.key),
        )
    request_obj.paper = paper
    if request_obj.status != Status.ACCEPTED:
        request_obj.status = Status.ACCEPTED
        request_obj.decided_by = by
        request_obj.decided_at = timezone.now()
    request_obj.full_clean()
    request_obj.save()
    if created or not paper.s2_paper_id:
        citations_refresh_enqueue(paper_ids=[paper.pk], on_failure=on_enqueue_failure)
    return paper


@transaction.atomic
def reading_request_decline(
    *, request_obj: ReadingRequest, by, public_reason: str
) -> ReadingRequest:
    """Decline with a reason that is shown on the public list."""
    if request_obj.status == Status.DONE:
        raise ValidationError(_("已完成的请求不能再婉拒。"), code="done")
    public_reason = (public_reason or "").strip()
    if not public_reason:
        raise ValidationError(
            {"public_reason": _("婉拒请求时必须写一句公开说明。")}, code="required"
        )
    request_obj.status = Status.DECLINED
    request_obj.public_reason = public_reason
    request_obj.decided_by = by
    request_obj.decided_at = timezone.now()
    request_obj.full_clean()
    request_obj.save()
    return request_obj


@transaction.atomic
def reading_request_done(
    *, request_obj: ReadingRequest, by, video: VideoNote
) -> ReadingRequest:
    """Mark a request answered by a video; the requester (if they left an address)
    is told once, when the request first becomes done."""
    if request_obj.status == Status.DECLINED:
        raise ValidationError(_("已婉拒的请求请先接受，再标记完成。"), code="declined")
    newly_done = request_obj.status != Status.DONE
    request_obj.status = Status.DONE
    request_obj.video = video
    if request_obj.paper_id is None:
        request_obj.paper = listed_paper_for_key(request_obj.key)
    request_obj.decided_by = by
    request_obj.decided_at = timezone.now()
    request_obj.full_clean()
    request_obj.save()
    if newly_done and request_obj.email:
        _send_after_commit(tasks.reading_request_notify_requester, request_obj.pk)
    return request_obj


# --- Mail ------------------------------------------------------------------------


def _send_after_commit(task, reading_request_id: int) -> None:
    """Queue a mail task once the transaction commits. With the broker down the
    save stands and the lost mail is logged."""

    def enqueue() -> None:
        try:
            task.delay(reading_request_id)
        except Exception:
            logger.exception(
                "could not queue %s for reading request %s: the mail is not sent",
                task.name,
                reading_request_id,
            )

    transaction.on_commit(enqueue, robust=True)


_SUBJECT_TITLE_LENGTH = 80


def _short(title: str) -> str:
    title = " ".join(title.split())
    if len(title) <= _SUBJECT_TITLE_LENGTH:
        return title
    return title[: _SUBJECT_TITLE_LENGTH - 1] + "…"


def _site_url(path: str) -> str:
    # Mail is sent after the request is over, so links are built from the setting.
    return settings.SITE_URL.rstrip("/") + path


def reading_request_notify_managers(*, reading_request_id: int) -> None:
    """Tell the managers about a new request (run by a Celery task)."""
    reading_request = (
        ReadingRequest.objects.with_vote_count().filter(pk=reading_request_id).first()
    )
    if reading_request is None:
        return
    context = {
        "reading_request": reading_request,
        "list_url": _site_url(reading_request.get_absolute_url()),
        "admin_url": _site_url(
            reverse("admin:papers_readingrequest_change", args=[reading_request.pk])
        ),
    }
    mail_managers(
        _("新的精读请求：%(title)s") % {"title": _short(reading_request.title)},
        render_to_string("requests/email/new_request.txt", context),
    )


def reading_request_notify_requester(*, reading_request_id: int) -> None:
    """Tell the requester their paper has been read (run by a Celery task)."""
    reading_request = (
        ReadingRequest.objects.select_related("paper", "video")
        .filter(pk=reading_request_id)
        .first()
    )
    if reading_request is None or not reading_request.email:
        return
    with translation.override(reading_request.language or settings.LANGUAGE_CODE):
        context = {
            "reading_request": reading_request,
            "video": reading_request.video,
            "video_url": _site_url(reading_request.video.get_absolute_url())
            if reading_request.video
            else "",
            "request_url": _site_url(reading_request.get_absolute_url()),
        }
        subject = _("你请求的论文已经精读：%(title)s") % {
            "title": _short(reading_request.title)
        }
        body = render_to_string("requests/email/done.txt", context)
    send_mail(
        settings.EMAIL_SUBJECT_PREFIX + subject,
        body,
        None,
        [reading_request.email],
    )
