"""The public pages: the list, categories, papers, videos and search.

Pages only read (views -> selectors -> models) and never call a third party. List
pages answer htmx requests with the page's fragment only (django-template-partials),
so sorting, filtering and live search swap in place while the same URL works
as a full page. They answer GET and HEAD (require_safe, not require_GET): crawlers
and uptime checks send HEAD.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from django.http import (
    Http404,
    HttpResponse,
    HttpResponsePermanentRedirect,
    HttpResponseRedirect,
)
from django.shortcuts import render
from django.templatetags.static import static
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_safe
from django.views.decorators.vary import vary_on_headers

from papers import (
    citation_formats,
    cite,
    identifiers,
    selectors,
    selectors_paths,
    selectors_videos,
)
from papers.cache import cache_public_page, choice, free_text
from papers.models import PaperSlugRedirect
from papers.search import query as search_query
from papers.timecodes import format_timecode

SEARCH_MAX_QUERY = search_query.MAX_QUERY

SORT_LABELS = {
    "curated": _("推荐顺序"),
    "relevance": _("相关度"),
    "-year": _("最新"),
    "year": _("最早"),
    "citations": _("引用最多"),
    "name": _("名字"),
}
RECORDED_LABELS = {"": _("全部"), "yes": _("已录制"), "no": _("未录制")}
RECORDED_VALUES = {"": None, "yes": True, "no": False}
NOT_FETCHED = _("尚未获取")


def clean_query(raw: str) -> str:
    # Control characters (NUL included: PostgreSQL refuses it) become spaces; at
    # most 200 characters.
    return search_query.clean(raw)


# The query parameters each cached view reads, as it reads them: the page cache keys
# on these and nothing else of the URL (papers/cache.py).
LIST_QUERY = {
    "sort": choice(*selectors.PAPER_SORTS),
    "recorded": choice(*RECORDED_VALUES),
}
SEARCH_QUERY = {
    "sort": choice(*selectors.SEARCH_SORTS),
    "recorded": choice(*RECORDED_VALUES),
    "q": free_text(clean_query),
}


@dataclass(frozen=True)
class ListOptions:
    """The sort and filter of a list page, read from the query string.

    Anything unexpected falls back to the default: a hand-edited URL never errors.
    """

    sort: str
    recorded: str
    query: str = ""

    @classmethod
    def from_request(cls, request, *, sorts, query: str = "") -> ListOptions:
        sort = request.GET.get("sort", "")
        recorded = request.GET.get("recorded", "")
        return cls(
            sort=sort if sort in sorts else sorts[0],
            recorded=recorded if recorded in RECORDED_VALUES else "",
            query=query,
        )

    @property
    def recorded_filter(self) -> bool | None:
        return RECORDED_VALUES[self.recorded]


def _list_url(request, *, sorts, options: ListOptions, **changes) -> str:
    """This page's URL with ``changes`` applied; defaults are left out, so the
    plain page keeps its plain URL."""
    values = {"q": options.query, "sort": options.sort, "recorded": options.recorded}
    values.update(changes)
    params = {
        key: value
        for key, value in values.items()
        if value and not (key == "sort" and value == sorts[0])
    }
    return f"{request.path}?{urlencode(params)}" if params else request.path


def _list_controls(
    request, *, sorts, options: ListOptions, papers, fallback_order=""
) -> dict:
    """Sort and filter links: plain links that htmx upgrades to in-place swaps.

    When no paper in view has a citation count yet (before the first refresh), the
    citation sort says so, and so does the list when it is sorted that way: it
    names the order the papers are actually in instead of looking sorted.
    """

    def url(**changes):
        return _list_url(request, sorts=sorts, options=options, **changes)

    papers = list(papers)
    citations_missing = bool(papers) and all(
        paper.citation_count is None for paper in papers
    )
    sort_links = [
        {
            "label": SORT_LABELS[s],
            "url": url(sort=s),
            "current": s == options.sort,
            "note": NOT_FETCHED if s == "citations" and citations_missing else "",
        }
        for s in sorts
    ]
    filter_links = [
        {"label": label, "url": url(recorded=r), "current": r == options.recorded}
        for r, label in RECORDED_LABELS.items()
    ]
    return {
        "options": options,
        "sort_links": sort_links,
        "filter_links": filter_links,
        "citations_missing": citations_missing,
        "citation_sort_fallback": (
            fallback_order if citations_missing and options.sort == "citations" else ""
        ),
    }


def _wants_fragment(request) -> bool:
    # htmx asks for the whole page when it restores history after a cache miss.
    return bool(request.htmx) and not request.htmx.history_restore_request


def _render(request, template_name: str, context: dict, *, fragment: str):
    if _wants_fragment(request):
        template_name = f"{template_name}#{fragment}"
    return render(request, template_name, context)


@require_safe
@cache_public_page(query=LIST_QUERY)
@vary_on_headers("HX-Request")
def home(request):
    options = ListOptions.from_request(request, sorts=selectors.PAPER_SORTS)
    categories = selectors.category_tables(
        sort=options.sort, recorded=options.recorded_filter
    )
    context = {
        "categories": categories,
        **_list_controls(
            request,
            sorts=selectors.PAPER_SORTS,
            options=options,
            papers=(
                paper for category in categories for paper in category.listed_papers
            ),
            fallback_order=SORT_LABELS["curated"],
        ),
    }
    if not _wants_fragment(request):
        context["totals"] = selectors.list_totals()  # shown above the fragment
    return _render(request, "papers/home.html", context, fragment="paper-list")


@require_safe
@cache_public_page(query=LIST_QUERY)
@vary_on_headers("HX-Request")
def category(request, slug):
    options = ListOptions.from_request(request, sorts=selectors.PAPER_SORTS)
    category = selectors.category_detail(
        slug=slug, sort=options.sort, recorded=options.recorded_filter
    )
    if category is None:
        raise Http404("No such category")
    context = {
        "category": category,
        **_list_controls(
            request,
            sorts=selectors.PAPER_SORTS,
            options=options,
            papers=category.listed_papers,
            fallback_order=SORT_LABELS["curated"],
        ),
    }
    return _render(request, "papers/category.html", context, fragment="paper-list")


@require_safe
@cache_public_page
def paper(request, slug):
    paper = selectors.paper_detail(slug=slug)
    if paper is None:
        # A slug the paper had before (renamed, or re-slugged to pinyin): 301.
        if (
            old := PaperSlugRedirect.objects.select_related("paper")
            .filter(old_slug=slug)
            .first()
        ):
            return HttpResponsePermanentRedirect(old.paper.get_absolute_url())
        raise Http404("No such paper")
    return render(request, "papers/paper.html", _paper_context(request, paper))


def _paper_context(request, paper) -> dict:
    # "论文原文" is often the arXiv page itself (or its PDF): then one link says both.
    same_link = bool(paper.url and paper.arxiv_url) and identifiers.normalise_url(
        paper.url
    ) == identifiers.normalise_url(paper.arxiv_url)
    request_url = ""
    if not paper.is_recorded:
        # The request form reads ?url= and ?title= to fill itself in.
        params = {
            "url": paper.url or paper.arxiv_url,
            "title": paper.title or paper.name,
        }
        query = urlencode({key: value for key, value in params.items() if value})
        request_url = f"{reverse('papers:requests')}?{query}#request-form"
    return {
        "paper": paper,
        "arxiv_is_original": same_link,
        "request_url": request_url,
        "read_next": selectors_paths.read_next(paper=paper),
        "moments": _moments(paper),
        **_citation_context(request, paper),
    }


def _citation_context(request, paper) -> dict:
    """The 引用 box and the scholar, Open Graph and JSON-LD tags of the head."""
    work = cite.page_citation(paper)
    page_url = request.build_absolute_uri(paper.get_absolute_url())
    pdf_url = paper.open_access_pdf_url or (
        f"https://arxiv.org/pdf/{paper.arxiv_id}" if paper.arxiv_id else ""
    )
    description = paper.tldr or paper.summary or paper.abstract or work.title
    return {
        "citation": work,
        "citation_text": {
            "txt": citation_formats.gbt7714(work).strip(),
            "bib": citation_formats.bibtex(work).strip(),
        },
        "citation_pdf_url": pdf_url,
        "page_url": page_url,
        "site_name": _("论文精读"),
        "og_description": description[:300],
        "json_ld": citation_formats.scholarly_article(
            work, url=page_url, name=paper.name
        ),
    }


def _moments(paper) -> list:
    """The chapters, in any video, that name this paper, each with its "1:02:03"."""
    moments = list(selectors_videos.chapters_for_paper(paper))
    for chapter in moments:
        chapter.timecode = format_timecode(chapter.start)
    return moments


@require_safe
@cache_public_page
def videos(request):
    # One page for all of them: a few new videos a month, and each keeps the
    # /videos/#video-<id> anchor the feeds and paper pages link to.
    videos = list(selectors_videos.videos_for_gallery())
    context = {"videos": videos, "years": selectors_videos.gallery_by_year(videos)}
    return render(request, "papers/videos.html", context)


@require_safe
@cache_public_page(query=SEARCH_QUERY)
@vary_on_headers("HX-Request")
def search(request):
    query = clean_query(request.GET.get("q", ""))
    options = ListOptions.from_request(
        request, sorts=selectors.SEARCH_SORTS, query=query
    )
    limit = selectors.SEARCH_MAX_RESULTS
    found = selectors.site_search(
        query=query, sort=options.sort, recorded=options.recorded_filter
    )
    papers = found.papers
    request_url = ""
    if query and not found.total:
        request_url = (
            f"{reverse('papers:requests')}?{urlencode({'title': query})}#request-form"
        )
    context = {
        "query": query,
        "query_max_length": SEARCH_MAX_QUERY,
        "results": papers[:limit],
        "results_capped": len(papers) > limit,
        "max_results": limit,
        "found": found,
        "request_url": request_url,
        **_list_controls(
            request,
            sorts=selectors.SEARCH_SORTS,
            options=options,
            papers=papers[:limit],
            fallback_order=SORT_LABELS["name"],
        ),
    }
    return _render(request, "papers/search.html", context, fragment="results")


@require_safe
@cache_public_page
def progress(request):
    """The reader's marks: the page is the same for everyone (and cached); the
    list is built in the browser from localStorage by static/js/progress.js."""
    return render(
        request,
        "papers/progress.html",
        {"catalogue": selectors.progress_catalogue()},
    )


@require_safe
@cache_public_page
def readme(request):
    """The list as README markdown, the same text `manage.py export_readme` writes."""
    return HttpResponse(
        selectors.readme_markdown(), content_type="text/markdown; charset=utf-8"
    )


@require_safe
@cache_control(max_age=86400, public=True)
def favicon(request):
    """/favicon.ico: the site's SVG icon, for the pages that name none (the admin).

    A temporary redirect to the static file's hashed name, which changes with the
    icon; the day's max-age spares browsers the round trip.
    """
    return HttpResponseRedirect(static("img/favicon.svg"))
