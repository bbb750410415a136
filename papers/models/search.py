"""The search index (issue 15): one row per searchable thing, and curated aliases.

One table for papers, videos, chapters and paths (not a vector column on each model):
results are grouped from a single ranked query, SQLite's FTS5 mirror is one virtual
table, and a new kind (learning paths) is a new ``Kind`` value, not a migration per
model. Rows are written only by ``papers.search.index``.
"""

from django.contrib.postgres.search import SearchVectorField
from django.db import models
from django.utils.translation import gettext_lazy as _


class SearchEntry(models.Model):
    class Kind(models.TextChoices):
        PAPER = "paper", _("论文")
        VIDEO = "video", _("视频")
        CHAPTER = "chapter", _("视频片段")
        PATH = "path", _("学习路径")

    kind = models.CharField(_("类型"), max_length=10, choices=Kind.choices)
    object_id = models.PositiveBigIntegerField(_("对象 ID"))
    # What a result shows and where it links.
    title = models.CharField(_("标题"), max_length=500)
    subtitle = models.CharField(_("副标题"), max_length=500, blank=True)
    body = models.TextField(_("正文"), blank=True)
    url = models.CharField(_("链接"), max_length=500)
    # Exact matches come first: the lower-cased short name and the arXiv id.
    name_key = models.CharField(_("名字（小写）"), max_length=300, blank=True)
    arxiv_id = models.CharField(_("arXiv ID"), max_length=40, blank=True)
    # The segmented text (words separated by spaces): the title weighs more.
    title_words = models.TextField(_("标题分词"), blank=True)
    body_words = models.TextField(_("正文分词"), blank=True)
    # PostgreSQL only: to_tsvector of the words, "simple" + "english", GIN indexed.
    vector = SearchVectorField(_("检索向量"), null=True, editable=False)
    # Ties are broken by popularity (citations for papers).
    popularity = models.PositiveIntegerField(_("热度"), default=0)
    start = models.PositiveIntegerField(_("开始秒数"), null=True, blank=True)

    class Meta:
        verbose_name = _("搜索索引条目")
        verbose_name_plural = _("搜索索引条目")
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "object_id"], name="search_entry_unique_object"
            )
        ]

    def __str__(self):
        return f"{self.kind}:{self.object_id} {self.title}"


class SearchAlias(models.Model):
    """A term that also searches for its expansion, both ways (注意力 ↔ attention)."""

    term = models.CharField(_("词"), max_length=100)
    expansion = models.CharField(
        _("扩展为"), max_length=200, help_text=_("搜索“词”时也搜索这些词，反之亦然。")
    )
    created_at = models.DateTimeField(_("创建于"), auto_now_add=True)

    class Meta:
        verbose_name = _("搜索同义词")
        verbose_name_plural = _("搜索同义词")
        ordering = ["term", "expansion"]
        constraints = [
            models.UniqueConstraint(
                fields=["term", "expansion"], name="search_alias_unique_pair"
            )
        ]

    def __str__(self):
        return f"{self.term} ↔ {self.expansion}"
