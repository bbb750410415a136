from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class PaperSlugRedirect(models.Model):
    """A slug a paper had before: its old URL answers 301 to the paper's URL now."""

    old_slug = models.SlugField(_("旧 URL 标识"), max_length=200, unique=True)
    paper = models.ForeignKey(
        "papers.Paper",
        on_delete=models.CASCADE,
        related_name="slug_redirects",
        verbose_name=_("论文"),
    )
    created_at = models.DateTimeField(_("创建于"), auto_now_add=True)

    class Meta:
        ordering = ["old_slug"]
        verbose_name = _("旧链接跳转")
        verbose_name_plural = pgettext_lazy("plural", "旧链接跳转")

    def __str__(self):
        return f"{self.old_slug} → {self.paper.slug}"
