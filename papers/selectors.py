"""Reads that span models or need annotations: the queries the views and exports use."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from django.core.paginator import Paginator
from django.db.models import Case, Count, F, Prefetch, Q, Value, When
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils import timezone

from papers import readme
from papers.identifiers import request_key
from papers.markup import strip_links
from papers.models import (
    Category,
    CitationSnapshot,
    Paper,
    PaperLink,
    Placement,
    ReadingRequest,
    RefreshRun,
    RequestVote,
    SearchEntry,
    VideoNote,
)
from papers.readme import CategoryBlock, PaperRow, ReadmeDocument, VideoRow
from papers.search import query as search_query


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
PAPER_SORTS = ("curated", "-year", "year", "citations", "name")
SEARCH_SORTS = ("relevance", "-year", "year", "citations", "name")
SEARCH_MAX_RESULTS = 100
FEED_ITEMS = 50


def _paper_ordering(sort: str, prefix: str = "") -> list:
    year, cited = F(f"{prefix}year"), F(f"{prefix}citation_count")
    first = {
        "year": [year.asc(nulls_last=True)],
        "-year": [year.desc(nulls_last=True)],
        "citations": [cited.desc(nulls_last=True)],
    }
    return [*first.get(sort, []), Lower(f"{prefix}name"), f"{prefix}id"]


def _placements(*, sort: str, recorded: bool | None) -> Prefetch:
    placements = Placement.objects.select_related("paper")
    if recorded is not None:
        placements = placements.filter(paper__is_recorded=recorded)
    if sort == "citations":
        # Papers without a count keep the curator's order below the counted ones,
        # rather than turning the list into an alphabetical one before any refresh.
        cited = F("paper__citation_count").desc(nulls_last=True)
        placements = placements.order_by(cited, "position", "id")
    elif sort in PAPER_SORTS and sort != "curated":
        placements = placements.order_by(*_paper_ordering(sort, prefix="paper__"))
    else:
        placements = placements.order_by("position", "id")
    return Prefetch("placements", queryset=placements, to_attr="listed_placements")


def _with_listed_papers(category: Category) -> Category:
    category.listed_papers = [p.paper for p in category.listed_placements]
    return category


def category_tables(*, sort: str = "curated", recorded: bool | None = None):
    """Every category in curator order with its papers sorted and filtered (two
    queries whatever the number of papers); ``listed_papers`` on each."""
    # Meta.ordering is not applied to a query with GROUP BY: order explicitly, or
    # PostgreSQL returns the categories in hash-aggregate order.
    categories = (
        Category.objects.annotate(paper_count=Count("placements"))
        .order_by("position", "id")
        .prefetch_related(_placements(sort=sort, recorded=recorded))
    )
    return [_with_listed_papers(category) for category in categories]


def category_detail(
    *, slug: str, sort: str = "curated", recorded: bool | None = None
) -> Category | None:
    category = (
        Category.objects.filter(slug=slug)
        .annotate(paper_count=Count("placements"))
        .prefetch_related(_placements(sort=sort, recorded=recorded))
        .first()
    )
    return _with_listed_papers(category) if category else None


# Papers of the list in year order (unknown years last), then by name.
LINK_ORDER = (F("year").asc(nulls_last=True), Lower("name"), "id")
LINKED_PAPER_FIELDS = ("id", "name", "slug", "year", "title")


def paper_builds_on(*, paper: Paper):
    """The papers of our list that ``paper`` cites, in year order."""
    return (
        Paper.objects.filter(links_in__citing=paper)
        .only(*LINKED_PAPER_FIELDS)
        .order_by(*LINK_ORDER)
    )


def paper_built_upon_by(*, paper: Paper):
    """The papers of our list that cite ``paper``, in year order."""
    return (
        Paper.objects.filter(links_out__cited=paper)
        .only(*LINKED_PAPER_FIELDS)
        .order_by(*LINK_ORDER)
    )


def _linked(end: str):
    """The links of a paper with the paper at their other ``end``, year order."""
    fields = [f"{end}__{name}" for name in LINKED_PAPER_FIELDS]
    return (
        PaperLink.objects.select_related(end)
        .only("citing_id", "cited_id", *fields)
        .order_by(
            F(f"{end}__year").asc(nulls_last=True), Lower(f"{end}__name"), f"{end}_id"
        )
    )


def paper_detail(*, slug: str) -> Paper | None:
    """A paper with its categories, its videos, its citation history and the
    papers of our list it cites and that cite it, as ``category_list``,
    ``video_list``, ``history``, ``builds_on`` and ``built_upon_by`` (seven
    queries, whatever the size of the list).

    Each category carries ``previous_paper`` and ``next_paper``: the paper's
    neighbours in curator order (None at either end), read with one query for all
    the categories.
    """
    neighbours = (
        Placement.objects.select_related("paper")
        .only("category_id", "position", "paper__name", "paper__slug")
        .order_by("position", "id")
    )
    paper = (
        Paper.objects.filter(slug=slug)
        .prefetch_related(
            Prefetch(
                "categories",
                queryset=Category.objects.order_by("position", "id").prefetch_related(
                    Prefetch(
                        "placements", queryset=neighbours, to_attr="ordered_placements"
                    )
                ),
                to_attr="category_list",
            ),
            Prefetch(
                "videos",
                queryset=VideoNote.objects.order_by("-published_on", "-id"),
                to_attr="video_list",
            ),
            Prefetch(
                "citation_snapshots",
                queryset=CitationSnapshot.objects.order_by("fetched_at", "id"),
                to_attr="history",
            ),
            Prefetch("links_out", queryset=_linked("cited"), to_attr="links_out_list"),
            Prefetch("links_in", queryset=_linked("citing"), to_attr="links_in_list"),
        )
        .first()
    )
    if paper is not None:
        for category in paper.category_list:
            _set_neighbours(category, paper)
        paper.builds_on = [link.cited for link in paper.links_out_list]
        paper.built_upon_by = [link.citing for link in paper.links_in_list]
    return paper


def _set_neighbours(category: Category, paper: Paper) -> None:
    papers = [placement.paper for placement in category.ordered_placements]
    index = next(i for i, p in enumerate(papers) if p.pk == paper.pk)
    category.previous_paper = papers[index - 1] if index > 0 else None
    category.next_paper = papers[index + 1] if index + 1 < len(papers) else None


def video_list():
    """Videos newest first, each with the papers it covers (two queries)."""
    return VideoNote.objects.order_by("-published_on", "-id").prefetch_related(
        Prefetch("papers", queryset=Paper.objects.order_by("name", "id"))
    )


def progress_catalogue() -> dict[str, dict[str, list[str]]]:
    """Every paper and video by the key the progress script marks it with, as
    ``[name, url]``: the /progress/ page names and links the marks with it (two
    queries). A video's key is its slug, or its id while it has none."""
    paper_url = reverse("papers:paper", args=["slug-placeholder"])
    papers = {
        slug: [name, paper_url.replace("slug-placeholder", slug)]
        for slug, name in Paper.objects.order_by("name", "id").values_list(
            "slug", "name"
        )
    }
    videos = {
        str(getattr(video, "slug", "") or video.pk): [
            video.plain_title,
            video.get_absolute_url(),
        ]
        for video in VideoNote.objects.order_by("-published_on", "-id")
    }
    return {"papers": papers, "videos": videos}


def paper_search(
    *,
    query: str,
    sort: str = "relevance",
    recorded: bool | None = None,
    limit: int = SEARCH_MAX_RESULTS,
) -> list[Paper]:
    """Papers whose name, title, summary or arXiv id contain ``query`` (any case),
    at most ``limit``; a match in the name ranks first under "relevance"."""
    query = query.strip()
    if not query:
        return []
    papers = Paper.objects.filter(
        Q(name__icontains=query)
        | Q(title__icontains=query)
        | Q(summary__icontains=query)
        | Q(arxiv_id__icontains=query)
    )
    if recorded is not None:
        papers = papers.filter(is_recorded=recorded)
    if sort == "relevance":
        rank = Case(
            When(name__iexact=query, then=Value(0)),
            When(name__icontains=query, then=Value(1)),
            When(title__icontains=query, then=Value(2)),
            default=Value(3),
        )
        ordering = [rank, F("citation_count").desc(nulls_last=True), Lower("name")]
    else:
        ordering = _paper_ordering(sort)
    categories = Prefetch(
        "categories",
        queryset=Category.objects.order_by("position", "id"),
        to_attr="category_list",
    )
    return list(papers.order_by(*ordering).prefetch_related(categories)[:limit])


def latest_papers(*, category: Category | None = None, limit: int = FEED_ITEMS):
    papers = Paper.objects.all()
    if category is not None:
        papers = papers.filter(placements__category=category)
    return papers.order_by("-created_at", "-id")[:limit]


def latest_videos(*, limit: int = FEED_ITEMS):
    return VideoNote.objects.order_by("-published_on", "-id")[:limit]


def last_refresh() -> RefreshRun | None:
    """The latest finished citation refresh that worked, fully or partly (one query)."""
    citations = RefreshRun.objects.filter(kind=RefreshRun.Kind.CITATIONS)
    return citations.successful().first()


# 请求精读 --------------------------------------------------------------------------

REQUESTS_OPEN_PER_PAGE = 50
REQUESTS_CLOSED_SHOWN = 50
_KEY_HOSTS = {"arxiv": "arxiv.org", "s2": "semanticscholar.org", "doi": "doi.org"}


def reading_request_queue(*, page: str | int | None) -> dict:
    """The public queue: one page of pending requests (most votes first, then
    newest), and the latest answered and declined ones."""
    open_requests = Paginator(
        ReadingRequest.objects.pending().with_vote_count().by_votes(),
        REQUESTS_OPEN_PER_PAGE,
    ).get_page(page)
    answered = (
        ReadingRequest.objects.answered()
        .with_vote_count()
        .select_related("paper", "video")
        .order_by("-decided_at", "-id")[:REQUESTS_CLOSED_SHOWN]
    )
    declined = (
        ReadingRequest.objects.declined()
        .with_vote_count()
        .order_by("-decided_at", "-id")[:REQUESTS_CLOSED_SHOWN]
    )
    return {"open_requests": open_requests, "answered": answered, "declined": declined}


def reading_request_detail(*, pk: int) -> ReadingRequest | None:
    """One request with its vote count, paper and video."""
    return (
        ReadingRequest.objects.with_vote_count()
        .select_related("paper", "video")
        .filter(pk=pk)
        .first()
    )


def reading_request_voted_ids(*, session_hash: str, request_ids) -> set[int]:
    """Which of ``request_ids`` this browser session voted for. Only the session:
    other readers behind the same address have votes of their own."""
    request_ids = list(request_ids)
    if not request_ids or not session_hash:
        return set()
    return set(
        RequestVote.objects.filter(
            session_hash=session_hash, reading_request__in=request_ids
        ).values_list("reading_request_id", flat=True)
    )


def listed_paper_for_key(key: str) -> Paper | None:
    """The paper already on the list under a request key: same arXiv id, S2 id or
    DOI, or a link that normalises to the same key."""
    kind, _sep, value = key.partition(":")
    if not value:
        return None
    by_id = {
        "arxiv": Q(arxiv_id=value),
        "s2": Q(s2_paper_id=value),
        "doi": Q(doi__iexact=value),
    }.get(kind)
    if by_id is not None:
        paper = Paper.objects.filter(by_id).order_by("pk").first()
        if paper is not None:
            return paper
    # Links cannot be normalised in SQL: narrow by host, then compare keys in Python.
    host = _KEY_HOSTS.get(kind) or urlsplit(value).hostname
    if not host:
        return None
    candidates = Paper.objects.filter(url__icontains=host).only("pk", "url", "slug")
    for paper in candidates.order_by("pk").iterator():
        if request_key(paper.url) == key:
            return Paper.objects.get(pk=paper.pk)
    return None


def reading_request_hint(*, url: str, session_hash: str) -> dict | None:
    """What to tell a reader typing ``url``: the paper on the list (``paper``), or
    the request for it (``item``, with ``voted_ids``); None when there is nothing."""
    key = request_key(url) if url else ""
    if not key:
        return None
    paper = listed_paper_for_key(key)
    if paper is not None:
        return {"paper": paper}
    item = (
        ReadingRequest.objects.with_vote_count()
        .select_related("paper")
        .filter(key=key)
        .first()
    )
    if item is None:
        return None
    voted_ids = reading_request_voted_ids(
        session_hash=session_hash, request_ids=[item.pk]
    )
    return {"item": item, "voted_ids": voted_ids}


@dataclass
class SiteSearch:
    """One search of the whole site: papers (Paper objects, for the table) and the
    other groups (index entries with highlighted titles and snippets)."""

    query: str
    words: list[str]
    papers: list[Paper]
    videos: list
    moments: list
    paths: list
    suggestions: list

    @property
    def total(self) -> int:
        return len(self.papers) + len(self.videos) + len(self.moments) + len(self.paths)


def _decorate(entries, words):
    for entry in entries:
        entry.title_html = search_query.highlight(entry.title, words)
        entry.snippet_html = search_query.highlight(
            search_query.snippet(strip_links(entry.body), words), words
        )
    return entries


def site_search(
    *, query: str, sort: str = "relevance", recorded: bool | None = None
) -> SiteSearch:
    """Segmented full-text search (papers.search): grouped, ranked within each group,
    an exact name or arXiv id first. At most SEARCH_MAX_RESULTS + 1 papers (one more
    than shown, to know there were more)."""
    if not query.strip():
        return SiteSearch(query, [], [], [], [], [], [])
    found = search_query.search(query)
    words = found.parsed.all_words
    Kind = SearchEntry.Kind
    ids = found.paper_ids
    papers = Paper.objects.filter(pk__in=ids)
    if recorded is not None:
        papers = papers.filter(is_recorded=recorded)
    categories = Prefetch(
        "categories",
        queryset=Category.objects.order_by("position", "id"),
        to_attr="category_list",
    )
    if not ids:
        paper_list = []
    elif sort == "relevance":
        position = {pk: n for n, pk in enumerate(ids)}
        paper_list = sorted(
            papers.prefetch_related(categories), key=lambda p: position[p.pk]
        )
    else:
        paper_list = list(
            papers.order_by(*_paper_ordering(sort)).prefetch_related(categories)
        )
    paper_list = paper_list[: SEARCH_MAX_RESULTS + 1]
    others = {
        kind: _decorate(found.groups.get(kind, []), words)
        for kind in (Kind.VIDEO, Kind.CHAPTER, Kind.PATH)
    }
    total = len(paper_list) + sum(len(v) for v in others.values())
    suggestions = search_query.suggestions(query) if not total else []
    return SiteSearch(
        query=query,
        words=words,
        papers=paper_list,
        videos=others[Kind.VIDEO],
        moments=others[Kind.CHAPTER],
        paths=others[Kind.PATH],
        suggestions=suggestions,
    )
