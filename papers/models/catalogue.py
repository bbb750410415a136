from typing import NamedTuple

from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from papers import identifiers
from papers.markup import strip_links

S2_ID_VALIDATOR = RegexValidator(
    r"^[0-9a-f]{40}$",
    _(
        "Semantic Scholar 论文 ID 是 40 位十六进制字符，例如 "
        "204e3073870fae3d05bcbc2f6a8e263d9b72e776（也可以粘贴论文页面的链接）。"
    ),
)
ARXIV_ID_VALIDATOR = RegexValidator(
    r"^(\d{4}\.\d{4,5}|[a-z][a-z\-]*(\.[A-Z]{2})?/\d{7})$",
    _(
        "arXiv ID 形如 1706.03762（不带版本号），旧式 ID 形如 cs/0112017；"
        "也可以粘贴 arxiv.org/abs/… 链接。"
    ),
)
DOI_VALIDATOR = RegexValidator(
    r"^10\.\d{4,9}/\S+$",
    _("DOI 形如 10.1093/mind/lix.236.433（也可以粘贴 https://doi.org/… 链接）。"),
)


# The details the nightly refresh writes and a curator may take over: once a
# curator edits one in the admin it is named in Paper.curated_fields and the
# refresh leaves it alone. title and year keep their older rule (the refresh only
# fills them while blank).
CURATABLE_FIELDS = (
    "authors",
    "venue",
    "venue_type",
    "publication_types",
    "journal_volume",
    "journal_pages",
    "publication_date",
    "abstract",
    "tldr",
    "open_access_pdf_url",
    "reference_count",
    "fields_of_study",
)


class Category(models.Model):
    name = models.CharField(_("名称"), max_length=200, unique=True)
    name_en = models.CharField(_("英文名称"), max_length=200, blank=True)
    slug = models.SlugField(_("URL 标识"), max_length=200, unique=True)
    position = models.PositiveIntegerField(_("排序"), default=0)
    description = models.TextField(_("介绍"), blank=True)

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("分类")
        verbose_name_plural = pgettext_lazy("plural", "分类")
        indexes = [models.Index(fields=["position", "id"], name="category_order_idx")]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("papers:category", args=[self.slug])

    @property
    def display_name(self):
        """The English name on English pages where the curator has set one."""
        if self.name_en and (get_language() or "").startswith("en"):
            return self.name_en
        return self.name


class PaperQuerySet(models.QuerySet):
    def recorded(self):
        return self.filter(is_recorded=True)


class Paper(models.Model):
    name = models.CharField(
        _("名字"), max_length=300, help_text=_("列表里显示的短名，例如 Transformer。")
    )
    title = models.CharField(_("完整标题"), max_length=500, blank=True)
    url = models.URLField(_("论文链接"), max_length=1000, blank=True)
    year = models.PositiveSmallIntegerField(
        _("年份"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1900), MaxValueValidator(2100)],
    )
    summary = models.TextField(_("简介"), blank=True)
    slug = models.SlugField(_("URL 标识"), max_length=200, unique=True)
    s2_paper_id = models.CharField(
        _("Semantic Scholar ID"),
        max_length=40,
        blank=True,
        validators=[S2_ID_VALIDATOR],
    )
    arxiv_id = models.CharField(
        _("arXiv ID"), max_length=40, blank=True, validators=[ARXIV_ID_VALIDATOR]
    )
    doi = models.CharField(
        _("DOI"), max_length=200, blank=True, validators=[DOI_VALIDATOR]
    )
    is_recorded = models.BooleanField(
        _("已录制"), default=False, help_text=_("已有精读视频讲过这篇论文（✅）。")
    )
    categories = models.ManyToManyField(
        Category,
        through="Placement",
        related_name="papers",
        verbose_name=_("分类"),
        blank=True,
    )
    citation_count = models.PositiveIntegerField(_("引用数"), null=True, blank=True)
    influential_citation_count = models.PositiveIntegerField(
        _("高影响力引用数"), null=True, blank=True
    )
    citations_updated_at = models.DateTimeField(
        _("引用数更新于"), null=True, blank=True
    )
    # Details from Semantic Scholar's nightly batch call (issue 13). A curator's
    # value wins: a field named in ``curated_fields`` is never written by the
    # refresh, and an empty or failed answer never blanks a stored value.
    authors = models.JSONField(
        _("作者"),
        default=list,
        blank=True,
        help_text=_(
            '按顺序的作者列表，例如 [{"name": "Ashish Vaswani", "authorId": "1"}]。'
        ),
    )
    venue = models.CharField(_("发表于"), max_length=300, blank=True)
    venue_type = models.CharField(
        _("发表类型"),
        max_length=40,
        blank=True,
        help_text=_(
            "journal 或 conference（来自 Semantic Scholar 的 publicationVenue）。"
        ),
    )
    publication_types = models.JSONField(
        _("文献类型"),
        default=list,
        blank=True,
        help_text=_('Semantic Scholar 的 publicationTypes，例如 ["JournalArticle"]。'),
    )
    journal_volume = models.CharField(_("卷"), max_length=50, blank=True)
    journal_pages = models.CharField(_("页码"), max_length=50, blank=True)
    publication_date = models.DateField(_("发表日期"), null=True, blank=True)
    abstract = models.TextField(_("摘要"), blank=True)
    tldr = models.TextField(_("TLDR"), blank=True)
    open_access_pdf_url = models.URLField(
        _("开放获取 PDF"), max_length=1000, blank=True
    )
    reference_count = models.PositiveIntegerField(
        _("参考文献数"), null=True, blank=True
    )
    fields_of_study = models.JSONField(_("研究领域"), default=list, blank=True)
    details_fetched_at = models.DateTimeField(
        _("详情获取于"),
        null=True,
        blank=True,
        help_text=_("最近一次从 Semantic Scholar 写入详情的时间。"),
    )
    details_fetched_on = models.JSONField(
        _("各项详情的获取时间"),
        default=dict,
        blank=True,
        help_text=_(
            '每个字段最近一次写入的时间，例如 {"abstract": "2026-12-01T03:00:00Z"}。'
        ),
    )
    curated_fields = models.JSONField(
        _("编辑维护的字段"),
        default=list,
        blank=True,
        help_text=_("编辑在后台改过的字段名；夜间刷新从不覆盖这些字段。"),
    )
    # Citations per year from OpenAlex's counts_by_year, weekly; never mixed with
    # the Semantic Scholar totals of CitationSnapshot.
    openalex_id = models.CharField(_("OpenAlex ID"), max_length=40, blank=True)
    yearly_citations = models.JSONField(
        _("每年引用数（OpenAlex）"),
        default=list,
        blank=True,
        help_text=_('例如 [{"year": 2024, "count": 123}]，按年份升序。'),
    )
    yearly_citations_fetched_at = models.DateTimeField(
        _("每年引用数获取于"), null=True, blank=True
    )
    created_at = models.DateTimeField(_("创建于"), auto_now_add=True)
    updated_at = models.DateTimeField(_("修改于"), auto_now=True)

    objects = PaperQuerySet.as_manager()

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("论文")
        verbose_name_plural = pgettext_lazy("plural", "论文")
        constraints = [
            models.UniqueConstraint(
                fields=["s2_paper_id"],
                condition=~Q(s2_paper_id=""),
                name="paper_unique_s2_paper_id",
                violation_error_message=_("已有论文使用这个 Semantic Scholar ID。"),
            ),
            models.UniqueConstraint(
                fields=["arxiv_id"],
                condition=~Q(arxiv_id=""),
                name="paper_unique_arxiv_id",
                violation_error_message=_("已有论文使用这个 arXiv ID。"),
            ),
        ]
        indexes = [
            models.Index(fields=["year", "name"], name="paper_year_idx"),
            models.Index(
                fields=["citation_count", "name"], name="paper_citation_count_idx"
            ),
            models.Index(fields=["created_at"], name="paper_created_at_idx"),
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("papers:paper", args=[self.slug])

    @property
    def arxiv_url(self):
        return f"https://arxiv.org/abs/{self.arxiv_id}" if self.arxiv_id else ""

    @property
    def doi_url(self):
        return f"https://doi.org/{self.doi}" if self.doi else ""

    @property
    def huggingface_url(self):
        return f"https://huggingface.co/papers/{self.arxiv_id}" if self.arxiv_id else ""

    @property
    def alphaxiv_url(self):
        return f"https://www.alphaxiv.org/abs/{self.arxiv_id}" if self.arxiv_id else ""

    @property
    def semantic_scholar_url(self):
        if not self.s2_paper_id:
            return ""
        return f"https://www.semanticscholar.org/paper/{self.s2_paper_id}"


class Placement(models.Model):
    """A paper's place in a category, in curator order."""

    paper = models.ForeignKey(
        Paper,
        on_delete=models.CASCADE,
        related_name="placements",
        verbose_name=_("论文"),
    )
    category = models.ForeignKey(
        Category,
        on_delete=models.CASCADE,
        related_name="placements",
        verbose_name=_("分类"),
    )
    position = models.PositiveIntegerField(_("排序"), default=0)

    class Meta:
        ordering = ["category__position", "position", "id"]
        verbose_name = _("分类位置")
        verbose_name_plural = pgettext_lazy("plural", "分类位置")
        constraints = [
            models.UniqueConstraint(
                fields=["paper", "category"],
                name="placement_unique_paper_category",
                violation_error_message=_("这篇论文已经在这个分类里。"),
            )
        ]
        indexes = [
            models.Index(
                fields=["category", "position", "id"], name="placement_order_idx"
            )
        ]

    def __str__(self):
        return f"{self.category} · {self.paper}"


class Thumbnail(NamedTuple):
    """A self-hosted cover image, with the size templates put on ``<img>``."""

    url: str
    width: int
    height: int


class VideoNote(models.Model):
    class Availability(models.TextChoices):
        UNKNOWN = "", _("未检查")
        OK = "ok", _("可以观看")
        UNAVAILABLE = "unavailable", _("已不可见")
        ERROR = "error", _("出错")

    title = models.CharField(
        _("标题"),
        max_length=500,
        help_text=_(
            "可以包含 Markdown 链接，例如 [GPT-3](https://arxiv.org/abs/…) 精读。"
        ),
    )
    published_on = models.DateField(_("发布日期"))
    duration = models.DurationField(_("时长"), help_text=_("例如 1:27:05"))
    cover = models.ImageField(_("封面"), upload_to="covers/", blank=True)
    cover_path = models.CharField(
        _("README 封面路径"),
        max_length=300,
        blank=True,
        help_text=_("原 README 里的封面图片路径，例如 imgs/gpt4.jpg；导出时使用。"),
    )
    bilibili_url = models.URLField(_("bilibili 链接"), max_length=500, blank=True)
    youtube_url = models.URLField(_("YouTube 链接"), max_length=500, blank=True)
    zhihu_url = models.URLField(_("知乎链接"), max_length=500, blank=True)
    paper_url = models.URLField(
        _("论文链接"),
        max_length=1000,
        blank=True,
        help_text=_("README 标题里链接的论文（可以是不在列表里的论文）。"),
    )
    notes = models.TextField(_("笔记"), blank=True, help_text=_("Markdown 格式。"))
    papers = models.ManyToManyField(
        Paper, related_name="videos", blank=True, verbose_name=_("讲到的论文")
    )
    slug = models.SlugField(_("URL 标识"), max_length=200, unique=True)
    bvid = models.CharField(
        _("BV 号"), max_length=20, blank=True, editable=False, db_index=True
    )
    youtube_id = models.CharField(
        _("YouTube 编号"), max_length=20, blank=True, editable=False
    )
    series = models.CharField(
        _("系列"),
        max_length=200,
        blank=True,
        help_text=_("分几期讲的系列，例如 Llama 3.1论文精读。"),
    )
    part = models.PositiveSmallIntegerField(_("第几期"), null=True, blank=True)
    # What the nightly refresh reads; null until it has read it, never blanked.
    bilibili_aid = models.PositiveBigIntegerField(null=True, blank=True, editable=False)
    bilibili_cid = models.PositiveBigIntegerField(null=True, blank=True, editable=False)
    bilibili_views = models.PositiveBigIntegerField(
        _("bilibili 播放量"), null=True, blank=True
    )
    youtube_views = models.PositiveBigIntegerField(
        _("YouTube 播放量"), null=True, blank=True
    )
    views_updated_at = models.DateTimeField(_("播放量更新于"), null=True, blank=True)
    bilibili_status = models.CharField(
        _("bilibili 状态"),
        max_length=20,
        blank=True,
        choices=Availability.choices,
        default=Availability.UNKNOWN,
    )
    bilibili_error = models.CharField(_("bilibili 错误"), max_length=300, blank=True)
    youtube_status = models.CharField(
        _("YouTube 状态"),
        max_length=20,
        blank=True,
        choices=Availability.choices,
        default=Availability.UNKNOWN,
    )
    youtube_error = models.CharField(_("YouTube 错误"), max_length=300, blank=True)
    # Self-hosted cover thumbnails (papers/services/covers.py), made from cover_source.
    cover_source = models.CharField(
        _("封面来源"), max_length=1000, blank=True, editable=False
    )
    cover_sha256 = models.CharField(max_length=64, blank=True, editable=False)
    cover_small = models.ImageField(
        _("封面缩略图"), upload_to="covers/thumbs/", blank=True, editable=False
    )
    cover_small_width = models.PositiveSmallIntegerField(null=True, editable=False)
    cover_small_height = models.PositiveSmallIntegerField(null=True, editable=False)
    cover_large = models.ImageField(
        _("封面大图"), upload_to="covers/thumbs/", blank=True, editable=False
    )
    cover_large_width = models.PositiveSmallIntegerField(null=True, editable=False)
    cover_large_height = models.PositiveSmallIntegerField(null=True, editable=False)
    created_at = models.DateTimeField(_("创建于"), auto_now_add=True)
    updated_at = models.DateTimeField(_("修改于"), auto_now=True)

    class Meta:
        ordering = ["-published_on", "-id"]
        verbose_name = _("精读视频")
        verbose_name_plural = pgettext_lazy("plural", "精读视频")
        indexes = [
            models.Index(fields=["-published_on", "-id"], name="video_published_idx")
        ]

    def __str__(self):
        return self.plain_title

    def get_absolute_url(self):
        return reverse("papers:video", args=[self.slug])

    def clean(self):
        # The platform ids follow the links, whoever edits them.
        self.bvid = identifiers.bilibili_bvid(self.bilibili_url)
        self.youtube_id = identifiers.youtube_id(self.youtube_url)

    @property
    def plain_title(self):
        """The title with markdown links reduced to their text."""
        return strip_links(self.title)

    @property
    def cover_thumb(self) -> Thumbnail | None:
        """The 480 px wide cover, or None when none has been made."""
        return _thumbnail(
            self.cover_small, self.cover_small_width, self.cover_small_height
        )

    @property
    def cover_thumb_large(self) -> Thumbnail | None:
        """The 960 px wide cover (for the video page and srcset), or None."""
        return _thumbnail(
            self.cover_large, self.cover_large_width, self.cover_large_height
        )

    @property
    def view_count(self) -> int | None:
        """Both platforms together; None when neither count is known."""
        counts = [c for c in (self.bilibili_views, self.youtube_views) if c is not None]
        return sum(counts) if counts else None


def _thumbnail(image, width, height) -> Thumbnail | None:
    if not image or not width or not height:
        return None
    return Thumbnail(image.url, width, height)


class CitationSnapshot(models.Model):
    """Append-only history of a paper's citation count."""

    class Source(models.TextChoices):
        SEMANTIC_SCHOLAR = "semantic_scholar", "Semantic Scholar"

    paper = models.ForeignKey(
        Paper,
        on_delete=models.CASCADE,
        related_name="citation_snapshots",
        verbose_name=_("论文"),
    )
    count = models.PositiveIntegerField(_("引用数"))
    fetched_at = models.DateTimeField(_("获取时间"), default=timezone.now)
    source = models.CharField(
        _("来源"),
        max_length=40,
        choices=Source.choices,
        default=Source.SEMANTIC_SCHOLAR,
    )

    class Meta:
        ordering = ["paper", "fetched_at"]
        verbose_name = _("引用数记录")
        verbose_name_plural = pgettext_lazy("plural", "引用数记录")
        indexes = [
            models.Index(fields=["paper", "fetched_at"], name="snapshot_paper_time_idx")
        ]

    def __str__(self):
        return f"{self.paper}: {self.count} ({self.fetched_at:%Y-%m-%d})"
