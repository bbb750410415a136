"""请求精读: readers ask for a paper and vote on requests; the curator decides.

Votes are rows, never a stored counter, so a count can always be explained (and a
spam wave deleted) row by row; lists annotate ``Count("votes")``.
"""

import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Count, Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from papers.models.catalogue import Paper, VideoNote

# Something a browser would parse as a tag or comment: "<b>", "</a>", "<!--", "<?x".
# "a < b" and "<3" are text to a browser, so they are allowed.
_HTML_TAG_RE = re.compile(r"<(?:[A-Za-z/?]|!--|![A-Za-z])")


def validate_no_html(value: str) -> None:
    """Readers write plain text: anything that looks like HTML is refused outright
    (it is shown escaped anyway; refusing it keeps the queue readable)."""
    if value and _HTML_TAG_RE.search(value):
        raise ValidationError(
            _("请不要输入 HTML 标签（例如 <b>）：这里只接受纯文本。"), code="html"
        )


class ReadingRequestQuerySet(models.QuerySet):
    def with_vote_count(self):
        return self.annotate(vote_count=Count("votes"))

    def pending(self):
        return self.filter(status=ReadingRequest.Status.PENDING)

    def answered(self):
        return self.filter(
            status__in=[ReadingRequest.Status.ACCEPTED, ReadingRequest.Status.DONE]
        )

    def declined(self):
        return self.filter(status=ReadingRequest.Status.DECLINED)

    def by_votes(self):
        """Most votes first, then newest; needs ``with_vote_count()``."""
        return self.order_by("-vote_count", "-created_at", "-id")


class ReadingRequest(models.Model):
    """One paper a reader asked for; further readers asking for it become votes."""

    class Status(models.TextChoices):
        PENDING = "pending", _("待处理")
        ACCEPTED = "accepted", _("已接受")
        DECLINED = "declined", _("已婉拒")
        DONE = "done", _("已完成")

    # The limits the public form enforces; the model says the same so the admin and
    # the services cannot store more than the form would accept.
    URL_MAX_LENGTH = 500
    TITLE_MAX_LENGTH = 300
    REASON_MIN_LENGTH = 10
    REASON_MAX_LENGTH = 2000
    NICKNAME_MAX_LENGTH = 40
    PUBLIC_REASON_MAX_LENGTH = 1000

    url = models.URLField(_("论文链接"), max_length=URL_MAX_LENGTH)
    key = models.CharField(
        _("去重标识"),
        max_length=600,
        unique=True,
        help_text=_(
            "由链接归一化得到：arxiv:ID、s2:ID、doi:DOI 或 url:链接；"
            "同一篇论文只有一个请求。"
        ),
        error_messages={"unique": _("这篇论文已经有人请求过了。")},
    )
    title = models.CharField(
        _("标题"), max_length=TITLE_MAX_LENGTH, validators=[validate_no_html]
    )
    reason = models.TextField(
        _("推荐理由"), max_length=REASON_MAX_LENGTH, validators=[validate_no_html]
    )
    nickname = models.CharField(
        _("昵称"),
        max_length=NICKNAME_MAX_LENGTH,
        blank=True,
        validators=[validate_no_html],
    )
    email = models.EmailField(
        _("邮箱"),
        max_length=254,
        blank=True,
        help_text=_("只用于完成时通知请求者，不公开。"),
    )
    language = models.CharField(
        _("语言"),
        max_length=10,
        blank=True,
        help_text=_("请求者使用的网站语言，通知邮件用同一种语言（空：网站默认语言）。"),
    )
    status = models.CharField(
        _("状态"),
        max_length=20,
        choices=Status.choices,
        default=Status.PENDING,
    )
    public_reason = models.TextField(
        _("公开说明"),
        max_length=PUBLIC_REASON_MAX_LENGTH,
        blank=True,
        validators=[validate_no_html],
        help_text=_("婉拒时必须填写，会公开显示在请求列表里。"),
    )
    paper = models.ForeignKey(
        Paper,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="reading_requests",
        verbose_name=_("论文"),
    )
    video = models.ForeignKey(
        VideoNote,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="reading_requests",
        verbose_name=_("精读视频"),
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("处理人"),
    )
    decided_at = models.DateTimeField(_("处理于"), null=True, blank=True)
    created_at = models.DateTimeField(_("创建于"), auto_now_add=True)
    updated_at = models.DateTimeField(_("修改于"), auto_now=True)

    objects = ReadingRequestQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("精读请求")
        verbose_name_plural = pgettext_lazy("plural", "精读请求")
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="declined") | ~Q(public_reason=""),
                name="readingrequest_declined_has_reason",
                violation_error_message=_("婉拒请求时必须写一句公开说明。"),
            ),
        ]
        indexes = [
            models.Index(
                fields=["status", "-created_at"], name="readingrequest_status_idx"
            ),
        ]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return f"{reverse('papers:requests')}#request-{self.pk}"

    def clean(self):
        # Not database constraints: the paper or video may be deleted later
        # (SET_NULL), and that must not be blocked by an old request.
        if self.status == self.Status.ACCEPTED and self.paper_id is None:
            raise ValidationError(
                {"paper": _("接受请求时需要关联一篇论文。")}, code="required"
            )
        if self.status == self.Status.DONE and self.video_id is None:
            raise ValidationError(
                {"video": _("标记完成时需要选择讲这篇论文的精读视频。")},
                code="required",
            )

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.PENDING


class RequestVote(models.Model):
    """One visitor's vote: keyed by hashes only, never by the raw IP or session key.

    One vote per browser session (the unique constraint). The IP hash does not decide
    who may vote: a lab, a campus or a phone carrier puts many readers behind one
    address, and each of them gets a vote. It only caps how many votes one address can
    add to one request in a day (``READING_REQUEST_VOTES_PER_ADDRESS_PER_DAY``, see
    docs/deploy.md), so clearing cookies cannot stuff a ballot without bound.
    """

    reading_request = models.ForeignKey(
        ReadingRequest,
        on_delete=models.CASCADE,
        related_name="votes",
        verbose_name=_("精读请求"),
    )
    session_hash = models.CharField(_("会话哈希"), max_length=64)
    ip_hash = models.CharField(_("IP 哈希"), max_length=64)
    created_at = models.DateTimeField(_("投票于"), auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("请求投票")
        verbose_name_plural = pgettext_lazy("plural", "请求投票")
        constraints = [
            models.UniqueConstraint(
                fields=["reading_request", "session_hash"],
                name="requestvote_unique_session",
                violation_error_message=_("你已经为这个请求投过票了。"),
            ),
        ]
        indexes = [
            # The per-address daily cap counts an address's recent votes on a request.
            models.Index(
                fields=["reading_request", "ip_hash", "created_at"],
                name="requestvote_address_idx",
            ),
        ]

    def __str__(self):
        return f"{self.reading_request_id} · {self.created_at:%Y-%m-%d %H:%M}"
