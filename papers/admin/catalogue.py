from django import forms
from django.contrib import admin
from django.db.models import Max, Prefetch
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from papers.admin.refresh import CitationRefreshAdminMixin, ReadOnlyAdminMixin
from papers.admin.videos import ChapterInline, VideoRefreshAdminMixin
from papers.models import (
    CURATABLE_FIELDS,
    Category,
    CitationSnapshot,
    Paper,
    Placement,
    VideoNote,
)
from papers.services.catalogue import (
    ID_FIELDS,
    paper_create,
    paper_id_parse,
    paper_identifiers,
    paper_slug,
)
from papers.services.readme import paper_slug_remember

admin.site.site_header = _("论文精读 · 管理")
admin.site.site_title = _("论文精读管理")
admin.site.index_title = _("内容管理")


class _LinesField(forms.CharField):
    """Text whose line endings do not count as a change (browsers send CRLF)."""

    def to_python(self, value):
        value = super().to_python(value)
        return "\n".join(line.strip() for line in value.splitlines()).strip()


class PaperAdminForm(forms.ModelForm):
    """Curators paste links; the form turns them into ids or says what is wrong."""

    # Wider than the model fields: a pasted link is turned into the id in clean_*().
    s2_paper_id = forms.CharField(
        label=_("Semantic Scholar ID"), max_length=500, required=False
    )
    arxiv_id = forms.CharField(label=_("arXiv ID"), max_length=500, required=False)
    doi = forms.CharField(label=_("DOI"), max_length=500, required=False)
    # One author a line, easier to edit than the stored JSON list.
    authors = _LinesField(
        label=_("作者"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("每行一位作者，按署名顺序。"),
    )
    curated_fields = forms.MultipleChoiceField(
        label=_("编辑维护的字段"),
        required=False,
        # Labelled by the fields' own names: the Chinese admin shows no raw names.
        choices=[
            (name, Paper._meta.get_field(name).verbose_name)
            for name in CURATABLE_FIELDS
        ],
        widget=forms.CheckboxSelectMultiple,
        help_text=_(
            "勾选的字段由编辑维护，夜间刷新不会覆盖；改动一个详情字段会自动勾选它，"
            "取消勾选则交还给 Semantic Scholar。"
        ),
    )

    class Meta:
        model = Paper
        fields = [
            "name", "title", "url", "year", "summary", "is_recorded",
            "slug", "s2_paper_id", "arxiv_id", "doi",
            "authors", "venue", "venue_type", "journal_volume", "journal_pages",
            "publication_date", "abstract", "tldr", "open_access_pdf_url",
            "curated_fields",
        ]  # fmt: skip

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["slug"].required = False
        # Also when bound: "changed" compares the posted text with this.
        self.initial["authors"] = "\n".join(
            a.get("name", "") for a in self.instance.authors or []
        )
        self.fields["slug"].help_text = _("留空则根据名字自动生成。")
        self.fields["s2_paper_id"].help_text = _(
            "40 位十六进制 ID，或直接粘贴 semanticscholar.org 的论文链接。"
        )
        self.fields["arxiv_id"].help_text = _(
            "例如 1706.03762，或直接粘贴 arxiv.org 链接；论文链接是 arXiv 时自动填写。"
        )

    def _clean_id(self, field: str) -> str:
        return paper_id_parse(field, self.cleaned_data[field])

    def clean_s2_paper_id(self):
        return self._clean_id("s2_paper_id")

    def clean_arxiv_id(self):
        return self._clean_id("arxiv_id")

    def clean_doi(self):
        return self._clean_id("doi")

    def clean_authors(self):
        """Names one a line; an unchanged name keeps its Semantic Scholar id."""
        known = {a.get("name"): a.get("authorId") for a in self.instance.authors or []}
        names = [line.strip() for line in self.cleaned_data["authors"].splitlines()]
        return [
            {"name": name[:300], "authorId": known.get(name) or None}
            for name in names
            if name
        ]

    def clean_curated_fields(self):
        """A detail the curator changed in this form becomes theirs."""
        ticked = set(self.cleaned_data["curated_fields"])
        changed = set(self.changed_data) & set(CURATABLE_FIELDS)
        # An unticked box hands the field back to the refresh, unless edited too.
        return [name for name in CURATABLE_FIELDS if name in ticked | changed]

    def clean(self):
        cleaned = super().clean()
        if url := cleaned.get("url"):
            from_url = paper_identifiers(url=url)
            for name in ID_FIELDS:
                if not cleaned.get(name) and name not in self.errors:
                    cleaned[name] = from_url[name]
        if not cleaned.get("slug") and cleaned.get("name"):
            cleaned["slug"] = paper_slug(
                name=cleaned["name"],
                arxiv_id=cleaned.get("arxiv_id", ""),
                s2_paper_id=cleaned.get("s2_paper_id", ""),
                exclude_pk=self.instance.pk,
            )
        return cleaned

    def _post_clean(self):
        # The ids filled in clean() must reach the instance before model validation
        # (uniqueness), so copy them over first.
        for name in ("arxiv_id", "s2_paper_id", "doi", "slug"):
            if name in self.cleaned_data:
                setattr(self.instance, name, self.cleaned_data[name])
        super()._post_clean()


def next_position(category) -> int:
    """The position after the last paper of a category: where a new one goes."""
    last = Placement.objects.filter(category=category).aggregate(Max("position"))
    return 0 if last["position__max"] is None else last["position__max"] + 1


class PlacementForm(forms.ModelForm):
    """A paper added to a category goes to its end unless a position is given."""

    position = forms.IntegerField(
        label=_("排序"),
        min_value=0,
        required=False,
        help_text=_("留空则排在这个分类的最后。"),
    )

    class Meta:
        model = Placement
        fields = ["paper", "category", "position"]

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("position") is None:
            category = cleaned.get("category") or getattr(
                self.instance, "category", None
            )
            if category is not None and category.pk is None:
                cleaned["position"] = 0  # a new category: added in form order
            elif category is not None:
                # Ties among several papers added at once keep their order: the
                # category lists by (position, id).
                cleaned["position"] = (
                    self.instance.position
                    if self.instance.pk
                    else next_position(category)
                )
        return cleaned


class PlacementInline(admin.TabularInline):
    model = Placement
    form = PlacementForm
    extra = 1
    autocomplete_fields = ["category"]
    fields = ["category", "position"]


class PaperVideoForm(forms.ModelForm):
    class Meta:
        model = VideoNote.papers.through
        fields = ["videonote"]
        labels = {"videonote": _("精读视频")}


class PaperVideoInline(admin.TabularInline):
    model = VideoNote.papers.through
    form = PaperVideoForm
    extra = 1
    autocomplete_fields = ["videonote"]
    verbose_name = _("精读视频")
    verbose_name_plural = _("讲到这篇论文的精读视频")


@admin.register(Paper)
class PaperAdmin(CitationRefreshAdminMixin, admin.ModelAdmin):
    form = PaperAdminForm
    actions = ["refresh_citations_now"]
    list_display = [
        "name",
        "year",
        "category_list",
        "is_recorded",
        "citation_count",
        "citations_updated_at",
    ]
    list_display_links = ["name"]
    list_filter = ["is_recorded", "categories", "year"]
    search_fields = ["name", "title", "summary", "arxiv_id", "s2_paper_id", "doi"]
    list_per_page = 100
    ordering = ["name"]
    inlines = [PlacementInline, PaperVideoInline]
    readonly_fields = [
        "citation_count",
        "citations_updated_at",
        "details_fetched_at",
        "yearly_citations_fetched_at",
        "created_at",
        "updated_at",
    ]
    fieldsets = [
        (None, {"fields": ["name", "title", "url", "year", "summary", "is_recorded"]}),
        (_("标识"), {"fields": ["slug", "s2_paper_id", "arxiv_id", "doi"]}),
        (
            _("详情（Semantic Scholar）"),
            {
                "classes": ["collapse"],
                "fields": [
                    "authors",
                    "venue",
                    "venue_type",
                    "journal_volume",
                    "journal_pages",
                    "publication_date",
                    "tldr",
                    "abstract",
                    "open_access_pdf_url",
                    "curated_fields",
                    "details_fetched_at",
                    "yearly_citations_fetched_at",
                ],
            },
        ),
        (
            _("引用"),
            {
                "fields": [
                    "citation_count",
                    "citations_updated_at",
                    "created_at",
                    "updated_at",
                ]
            },
        ),
    ]

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            # The old URL keeps working: it answers 301 to the new one.
            if "slug" in form.changed_data:
                paper_slug_remember(paper=obj, old_slug=form.initial.get("slug", ""))
            return
        paper = paper_create(
            **{
                name: form.cleaned_data[name]
                for name in PaperAdminForm.Meta.fields
                if name in form.cleaned_data
            }
        )
        # The inlines are bound to the form's instance: make it the saved paper.
        obj.pk = paper.pk
        obj.refresh_from_db()
        obj._state.adding = False

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .prefetch_related(
                Prefetch("categories", queryset=Category.objects.order_by("position"))
            )
        )

    @admin.display(description=_("分类"))
    def category_list(self, paper):
        return "、".join(c.name for c in paper.categories.all()) or "—"


class CategoryPlacementInline(admin.TabularInline):
    model = Placement
    form = PlacementForm
    extra = 1
    autocomplete_fields = ["paper"]
    fields = ["paper", "position"]
    ordering = ["position", "id"]


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["name", "name_en", "slug", "position"]
    list_editable = ["position"]
    ordering = ["position", "id"]
    search_fields = ["name", "name_en", "slug"]
    prepopulated_fields = {"slug": ["name_en"]}
    inlines = [CategoryPlacementInline]


@admin.register(VideoNote)
class VideoNoteAdmin(VideoRefreshAdminMixin, admin.ModelAdmin):
    list_display = [
        "plain_title",
        "published_on",
        "duration",
        "paper_list",
        "platforms",
        "bilibili_views",
    ]
    inlines = [ChapterInline]
    readonly_fields = [
        *VideoRefreshAdminMixin.video_readonly_fields,
        "bilibili_views", "youtube_views", "views_updated_at", "bilibili_status",
        "bilibili_error", "youtube_status", "youtube_error",
    ]  # fmt: skip
    list_filter = ["published_on"]
    date_hierarchy = "published_on"
    search_fields = ["title", "notes", "bilibili_url", "youtube_url"]
    autocomplete_fields = ["papers"]
    ordering = ["-published_on"]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("papers")

    @admin.display(description=_("标题"), ordering="title")
    def plain_title(self, video):
        return video.plain_title

    @admin.display(description=_("讲到的论文"))
    def paper_list(self, video):
        return "、".join(p.name for p in video.papers.all()) or "—"

    @admin.display(description=_("平台"))
    def platforms(self, video):
        links = [
            (label, url)
            for label, url in (
                ("bilibili", video.bilibili_url),
                ("YouTube", video.youtube_url),
                (_("知乎"), video.zhihu_url),
            )
            if url
        ]
        return (
            format_html(
                " · ".join(['<a href="{}" rel="noopener">{}</a>'] * len(links)),
                *[part for label, url in links for part in (url, label)],
            )
            if links
            else "—"
        )


@admin.register(CitationSnapshot)
class CitationSnapshotAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Append-only history: visible, never edited by hand."""

    list_display = ["paper", "count", "fetched_at", "source"]
    list_filter = ["source"]
    search_fields = ["paper__name", "paper__s2_paper_id"]
    list_select_related = ["paper"]
    date_hierarchy = "fetched_at"
