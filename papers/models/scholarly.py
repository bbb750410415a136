"""The citation graph inside the list (issue 13).

``ReferenceList`` keeps the Semantic Scholar ids a paper cites, as the API gave
them; ``PaperLink`` is the part of that graph where both ends are in our list,
rebuilt from the reference lists after each refresh, so a paper that joins the
list later gets the links of the papers already there without another call.
"""

from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from papers.models.catalogue import Paper


class PaperLink(models.Model):
    """``citing`` cites ``cited``; both are papers of our list."""

    citing = models.ForeignKey(
        Paper,
        on_delete=models.CASCADE,
        related_name="links_out",
        verbose_name=_("引用方"),
    )
    cited = models.ForeignKey(
        Paper,
        on_delete=models.CASCADE,
        related_name="links_in",
        verbose_name=_("被引用方"),
    )
    fetched_at = models.DateTimeField(_("获取时间"), default=timezone.now)

    class Meta:
        ordering = ["citing", "cited"]
        verbose_name = _("列表内引用")
        verbose_name_plural = pgettext_lazy("plural", "列表内引用")
        constraints = [
            models.UniqueConstraint(
                fields=["citing", "cited"], name="paperlink_unique_pair"
            ),
            models.CheckConstraint(
                condition=~Q(citing=F("cited")), name="paperlink_not_self"
            ),
        ]
        indexes = [models.Index(fields=["cited", "citing"], name="paperlink_cited_idx")]

    def __str__(self):
        return f"{self.citing} → {self.cited}"


class ReferenceList(models.Model):
    """The Semantic Scholar ids of a paper's references, from
    ``GET /paper/{id}/references``; fetched again only when ``referenceCount``
    changes (a published paper's references rarely do)."""

    paper = models.OneToOneField(
        Paper,
        on_delete=models.CASCADE,
        related_name="reference_list",
        verbose_name=_("论文"),
    )
    s2_ids = models.JSONField(_("参考文献 ID"), default=list, blank=True)
    reference_count = models.PositiveIntegerField(
        _("获取时的参考文献数"), null=True, blank=True
    )
    fetched_at = models.DateTimeField(_("获取时间"), default=timezone.now)

    class Meta:
        verbose_name = _("参考文献列表")
        verbose_name_plural = pgettext_lazy("plural", "参考文献列表")

    def __str__(self):
        return f"{self.paper}: {len(self.s2_ids)}"
