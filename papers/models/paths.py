"""Learning paths: ordered routes through the list, each step a paper or a video."""

from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import get_language, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from papers.models.catalogue import Paper, VideoNote


def _english() -> bool:
    return (get_language() or "").startswith("en")


class LearningPath(models.Model):
    title = models.CharField(_("标题"), max_length=200)
    title_en = models.CharField(_("英文标题"), max_length=200, blank=True)
    slug = models.SlugField(_("URL 标识"), max_length=200, unique=True)
    description = models.TextField(
        _("介绍"), blank=True, help_text=_("Markdown 格式。")
    )
    description_en = models.TextField(
        _("英文介绍"), blank=True, help_text=_("Markdown 格式。")
    )
    position = models.PositiveIntegerField(_("排序"), default=0)
    created_at = models.DateTimeField(_("创建于"), auto_now_add=True)
    updated_at = models.DateTimeField(_("修改于"), auto_now=True)

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("学习路线")
        verbose_name_plural = pgettext_lazy("plural", "学习路线")

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse("papers:path", args=[self.slug])

    @property
    def display_title(self):
        """The English title on English pages where the curator has set one."""
        return self.title_en if self.title_en and _english() else self.title

    @property
    def display_description(self):
        if self.description_en and _english():
            return self.description_en
        return self.description


class PathStep(models.Model):
    """One step of a path: exactly one paper or one video, with why it comes next."""

    path = models.ForeignKey(
        LearningPath,
        on_delete=models.CASCADE,
        related_name="steps",
        verbose_name=_("学习路线"),
    )
    # Blank in forms: a step without a position goes to the end of the path (the
    # admin formset and path_step_add fill it in before saving).
    position = models.PositiveIntegerField(_("排序"), blank=True)
    paper = models.ForeignKey(
        Paper,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="path_steps",
        verbose_name=_("论文"),
    )
    video = models.ForeignKey(
        VideoNote,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="path_steps",
        verbose_name=_("精读视频"),
    )
    title = models.CharField(
        _("标题"),
        max_length=200,
        blank=True,
        help_text=_("留空则使用论文名或视频标题。"),
    )
    note = models.CharField(
        _("说明"), max_length=300, blank=True, help_text=_("一句话：为什么接着读它。")
    )
    note_en = models.CharField(_("英文说明"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("创建于"), auto_now_add=True)
    updated_at = models.DateTimeField(_("修改于"), auto_now=True)

    class Meta:
        ordering = ["path", "position", "id"]
        verbose_name = _("路线步骤")
        verbose_name_plural = pgettext_lazy("plural", "路线步骤")
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(paper__isnull=False, video__isnull=True)
                    | Q(paper__isnull=True, video__isnull=False)
                ),
                name="pathstep_paper_xor_video",
                violation_error_message=_("每一步只能是一篇论文或一个视频（二选一）。"),
            ),
            models.UniqueConstraint(
                fields=["path", "paper"],
                name="pathstep_unique_paper",
                violation_error_message=_("这篇论文已经在这条路线上。"),
            ),
            models.UniqueConstraint(
                fields=["path", "video"],
                name="pathstep_unique_video",
                violation_error_message=_("这个视频已经在这条路线上。"),
            ),
        ]
        indexes = [
            models.Index(fields=["path", "position", "id"], name="pathstep_order_idx")
        ]

    def __str__(self):
        return f"{self.path} · {self.display_title}"

    def get_absolute_url(self):
        return self.item.get_absolute_url()

    @property
    def item(self):
        """The paper or the video of this step."""
        return self.paper if self.paper_id else self.video

    @property
    def display_title(self):
        if self.title:
            return self.title
        if self.paper_id:
            return self.paper.name
        return self.video.plain_title if self.video_id else ""

    @property
    def display_note(self):
        return self.note_en if self.note_en and _english() else self.note
