"""What the nightly video refresh and the curators add to a video: chapters and the
history of its view counts."""

from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from papers.models.catalogue import Paper, VideoNote


class Platform(models.TextChoices):
    BILIBILI = "bilibili", "bilibili"
    YOUTUBE = "youtube", "YouTube"


class Chapter(models.Model):
    """A moment in a video: where it starts, what it covers.

    Chapters read from bilibili (``source=bilibili``) are replaced by each refresh;
    a curator's chapter (``source=curator``) or a bilibili chapter a curator changed
    (``edited``) is never touched by it.
    """

    class Source(models.TextChoices):
        BILIBILI = "bilibili", "bilibili"
        CURATOR = "curator", _("编辑")

    video = models.ForeignKey(
        VideoNote,
        on_delete=models.CASCADE,
        related_name="chapters",
        verbose_name=_("视频"),
    )
    start = models.PositiveIntegerField(_("开始（秒）"))
    end = models.PositiveIntegerField(_("结束（秒）"), null=True, blank=True)
    title = models.CharField(_("标题"), max_length=300)
    section = models.CharField(
        _("论文章节"),
        max_length=200,
        blank=True,
        help_text=_("这一段讲的论文章节，例如 §3.2 Multi-Head Attention。"),
    )
    paper = models.ForeignKey(
        Paper,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="video_chapters",
        verbose_name=_("讲到的论文"),
        help_text=_("串讲视频：这一段讲的是列表里的哪篇论文。"),
    )
    source = models.CharField(
        _("来源"), max_length=20, choices=Source.choices, default=Source.CURATOR
    )
    edited = models.BooleanField(
        _("已编辑"),
        default=False,
        help_text=_("编辑改过的 bilibili 章节，夜间刷新不会覆盖。"),
    )

    class Meta:
        ordering = ["video", "start", "id"]
        verbose_name = _("章节")
        verbose_name_plural = pgettext_lazy("plural", "章节")
        constraints = [
            models.UniqueConstraint(
                fields=["video", "start", "source"],
                name="chapter_unique_video_start_source",
                violation_error_message=_("这个视频在这个时间已经有一个章节。"),
            ),
            models.CheckConstraint(
                condition=Q(end__isnull=True) | Q(end__gt=F("start")),
                name="chapter_end_after_start",
                violation_error_message=_("章节的结束时间要晚于开始时间。"),
            ),
        ]

    def __str__(self):
        return f"{self.start}s {self.title}"

    @property
    def kept_by_refresh(self) -> bool:
        """True when the nightly refresh must leave this chapter alone."""
        return self.source == self.Source.CURATOR or self.edited


class ViewSnapshot(models.Model):
    """Append-only history of a video's view count on one platform."""

    video = models.ForeignKey(
        VideoNote,
        on_delete=models.CASCADE,
        related_name="view_snapshots",
        verbose_name=_("视频"),
    )
    platform = models.CharField(_("平台"), max_length=20, choices=Platform.choices)
    count = models.PositiveBigIntegerField(_("播放量"))
    fetched_at = models.DateTimeField(_("获取时间"), default=timezone.now)

    class Meta:
        ordering = ["video", "platform", "fetched_at"]
        verbose_name = _("播放量记录")
        verbose_name_plural = pgettext_lazy("plural", "播放量记录")
        indexes = [
            models.Index(
                fields=["video", "platform", "fetched_at"],
                name="viewsnapshot_video_time_idx",
            )
        ]

    def __str__(self):
        day = f"{self.fetched_at:%Y-%m-%d}"
        return f"{self.video_id} {self.platform}: {self.count} ({day})"
