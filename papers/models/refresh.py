from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class RefreshRunQuerySet(models.QuerySet):
    def successful(self):
        """Finished runs that worked, fully or partly, the latest first."""
        return self.filter(
            status__in=[RefreshRun.Status.SUCCEEDED, RefreshRun.Status.PARTIAL],
            finished_at__isnull=False,
        ).order_by("-finished_at", "-id")


class RefreshRun(models.Model):
    """One run of a nightly refresh (``kind``: citations or videos): what it asked,
    what it changed, what failed. For videos, ``papers_asked`` counts videos and
    ``not_found`` the videos a platform says are gone."""

    # What a run counts, in the order the admin and the summary line show them.
    COUNTERS = (
        "papers_asked", "updated", "unchanged", "not_found", "failed",
        "http_calls", "retries",
    )  # fmt: skip

    class Status(models.TextChoices):
        RUNNING = "running", _("进行中")
        SUCCEEDED = "succeeded", _("成功")
        PARTIAL = "partial", _("部分成功")
        FAILED = "failed", _("失败")

    class Kind(models.TextChoices):
        CITATIONS = "citations", _("引用数")
        VIDEOS = "videos", _("视频")

    class Trigger(models.TextChoices):
        SCHEDULE = "schedule", _("定时任务")
        COMMAND = "command", _("命令行")
        ADMIN = "admin", _("后台")

    started_at = models.DateTimeField(_("开始于"), default=timezone.now)
    finished_at = models.DateTimeField(_("结束于"), null=True, blank=True)
    status = models.CharField(
        _("状态"), max_length=20, choices=Status.choices, default=Status.RUNNING
    )
    trigger = models.CharField(
        _("触发方式"), max_length=20, choices=Trigger.choices, default=Trigger.SCHEDULE
    )
    kind = models.CharField(
        _("类型"), max_length=20, choices=Kind.choices, default=Kind.CITATIONS
    )
    papers_asked = models.PositiveIntegerField(_("请求的论文"), default=0)
    updated = models.PositiveIntegerField(_("已更新"), default=0)
    unchanged = models.PositiveIntegerField(_("未变化"), default=0)
    not_found = models.PositiveIntegerField(_("未找到"), default=0)
    failed = models.PositiveIntegerField(_("失败"), default=0)
    http_calls = models.PositiveIntegerField(_("HTTP 请求数"), default=0)
    retries = models.PositiveIntegerField(_("重试次数"), default=0)
    last_error = models.TextField(_("最近的错误"), blank=True)

    objects = RefreshRunQuerySet.as_manager()

    class Meta:
        ordering = ["-started_at", "-id"]
        verbose_name = _("引用数刷新记录")
        verbose_name_plural = pgettext_lazy("plural", "引用数刷新记录")
        indexes = [
            models.Index(
                fields=["status", "-finished_at"], name="refreshrun_status_idx"
            )
        ]

    def __str__(self):
        # In TIME_ZONE, as the admin shows started_at and finished_at.
        started = timezone.localtime(self.started_at)
        return f"{started:%Y-%m-%d %H:%M} {self.get_status_display()}"

    @property
    def duration(self):
        if self.finished_at is None:
            return None
        return self.finished_at - self.started_at
