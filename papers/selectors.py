"""Reads that span models or need annotations: the queries the views and exports use."""

from __future__ import annotations

from django.db.models import Prefetch
from django.utils import timezone

from papers import readme
from papers.models import Category, Paper, Placement, VideoNote
from papers.readme import CategoryBlock, PaperRow, ReadmeDocument, VideoRow


def list_totals() -> dict[str, int]:
    """Live counts for the top of the list, computed from the data, never typed."""
    listed = Paper.objects.filter(placements__isnull=False).distinct()
    return {
        "papers": listed.count(),
        "recorded": listed.filter(is_recorded=True).count(),
        "videos": VideoNote.objects.count(),
    }


def _video_row(video: VideoNote) -> VideoRow:
    title = video.title
    if video.paper_url and "](" not in title:
        label = title.replace("\\", "\\\\").replace("[", "\\[").replace("]", "\\]")
        title = f"[{label}]({video.paper_url})"
    cover = video.cover_path or (video.cover.url if video.cover else "")
    return VideoRow(
        title=title,
        published_on=video.published_on,
        duration=video.duration,
        cover=cover,
        bilibili_url=video.bilibili_url,
        youtube_url=video.youtube_url,
        zhihu_url=video.zhihu_url,
        paper_urls=(video.paper_url,) if video.paper_url else (),
    )


def _paper_row(paper: Paper) -> PaperRow:
    return PaperRow(
        name=paper.name,
        url=paper.url,
        year=paper.year,
        summary=paper.summary,
        is_recorded=paper.is_recorded,
        s2_paper_id=paper.s2_paper_id,
        arxiv_id=paper.arxiv_id,
        doi=paper.doi,
        citation_count=paper.citation_count,
        citations_updated_at=(
            timezone.localtime(paper.citations_updated_at)
            if paper.citations_updated_at
            else None
        ),
    )


def readme_document() -> ReadmeDocument:
    """The whole list as plain data, in curator order (three queries)."""
    placements = Placement.objects.select_related("paper").order_by("position", "id")
    categories = Category.objects.prefetch_related(
        Prefetch("placements", queryset=placements, to_attr="ordered_placements")
    )
    return ReadmeDocument(
        videos=tuple(_video_row(v) for v in VideoNote.objects.all()),
        categories=tuple(
            CategoryBlock(
                name=category.name,
                description=category.description,
                papers=tuple(_paper_row(p.paper) for p in category.ordered_placements),
            )
            for category in categories
        ),
    )


def readme_markdown(*, badges: bool = False) -> str:
    document = readme_document()
    totals = list_totals()
    intro = (
        f"总论文数 {totals['papers']}，录制完成数 {totals['recorded']}，"
        f"视频数 {totals['videos']}（导出于 {timezone.localdate():%Y-%m-%d}）。"
        "引用数来自 Semantic Scholar。"
    )
    return readme.render_readme(document, badges=badges, intro=intro)


# Public pages -----------------------------------------------------------------

# Each sort is the ORDER BY of the papers; "curated" keeps the placement order.
# Missing years and citation counts go last whichever way the list is sorted.
PAPER_SORTS = ("curated", "year", "-year", "citations", "name")
SEARCH_SORTS = ("relevance", "year", "-year", "citations", "name")
SEARCH_MAX_RESULTS = 100
FEED_ITEMS = 50
