"""The read-only JSON API at /api/v1/ (django-ninja).

Why django-ninja rather than Django REST framework: the API is four read-only
endpoints. Ninja declares each one as a typed function with Pydantic schemas, which
validate the query parameters (a bad one is a 422 naming the parameter, never a 500)
and generate the OpenAPI document from the same types. DRF would bring serializers,
viewsets, routers and its own settings for the same result. Ninja also ships the
Swagger UI files in its package: with "ninja" in INSTALLED_APPS the docs page loads
them from our static files, so no CDN and no inline script (the CSP holds).

Every answer is a public page of the page cache (papers/cache.py): keyed on the
normalised query parameters and invalidated by any save. CORS and the per-address
rate limit are in ``ApiMiddleware``.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated

from django.conf import settings
from django.db.models import Count, Prefetch
from django.http import HttpResponse, JsonResponse
from django.urls import reverse
from ninja import Field, NinjaAPI, Query, Schema
from ninja.decorators import decorate_view
from ninja.responses import Status

from papers import rate_limits
from papers.cache import cache_public_page
from papers.client_ip import client_ip
from papers.models import Category, Paper, VideoNote

API_PREFIX = "/api/v1/"
MAX_PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = 20
MIN_YEAR, MAX_YEAR = 1900, 2100
_MODEL_FIELDS = {f.name for f in Paper._meta.get_fields()}
# The issue-13 details, when the model has them.
HAS_LINKS = "links_out" in _MODEL_FIELDS

api = NinjaAPI(
    title="论文精读 API",
    version="1",
    description=(
        "Read-only JSON for the papers, categories and videos of the reading list. "
        "Cached, CORS-enabled for GET, rate-limited per client address."
    ),
    urls_namespace="api",
)


# --- Cache keys: the query parameters as the endpoints read them -----------------

INVALID = "!invalid"  # one key for every unreadable value: the 422 is never stored


def _integer(low: int, high: int, default: int | None = None):
    def normalise(raw: str) -> str:
        if raw == "":
            return ""
        try:
            value = int(raw)
        except ValueError:
            return INVALID
        if not low <= value <= high:
            return INVALID
        return "" if value == default else str(value)

    return normalise


def _boolean(raw: str) -> str:
    lowered = raw.strip().lower()
    if lowered == "":
        return ""
    if lowered in ("true", "1", "yes", "on"):
        return "true"
    if lowered in ("false", "0", "no", "off"):
        return "false"
    return INVALID


def _slug(raw: str) -> str:
    # Unknown slugs answer 404, which is not stored: they cannot grow the cache.
    return raw if re.fullmatch(r"[-\w]{1,200}", raw) else (INVALID if raw else "")


PAPERS_QUERY = {
    "category": _slug,
    "year": _integer(MIN_YEAR, MAX_YEAR),
    "recorded": _boolean,
    "page": _integer(1, 10**6, default=1),
    "page_size": _integer(1, MAX_PAGE_SIZE, default=DEFAULT_PAGE_SIZE),
}


def _cached(query=None):
    return decorate_view(cache_public_page(query=query or {}))


# --- Schemas ----------------------------------------------------------------------


def _absolute(path: str) -> str:
    return settings.SITE_URL.rstrip("/") + path


class CategoryRef(Schema):
    slug: str
    name: str
    name_en: str


class CategoryOut(CategoryRef):
    description: str
    url: str
    paper_count: int


class PaperRef(Schema):
    slug: str
    name: str
    title: str
    year: int | None
    url: str = Field(description="The paper's page on this site.")


class CiteLinks(Schema):
    bibtex: str
    ris: str
    csl_json: str
    gbt7714: str


class PaperOut(Schema):
    slug: str
    name: str
    title: str
    year: int | None
    summary: str
    paper_url: str = Field(description="The paper itself (论文链接).")
    arxiv_id: str
    doi: str
    s2_paper_id: str
    is_recorded: bool
    citation_count: int | None
    influential_citation_count: int | None
    citations_updated_at: dt.datetime | None
    categories: list[CategoryRef]
    url: str = Field(description="The paper's page on this site.")
    cite: CiteLinks


class Author(Schema):
    name: str
    author_id: str | None = None


class VideoOut(Schema):
    id: int
    title: str
    published_on: dt.date
    duration_seconds: int
    bilibili_url: str
    youtube_url: str
    zhihu_url: str
    url: str
    papers: list[str] = Field(description="Slugs of the papers it reads.")


class PaperDetailOut(PaperOut):
    authors: list[Author]
    venue: str
    publication_date: dt.date | None
    abstract: str
    tldr: str
    open_access_pdf_url: str
    videos: list[VideoOut]
    builds_on: list[PaperRef] = Field(description="Papers of the list it cites.")
    built_upon_by: list[PaperRef] = Field(description="Papers of the list citing it.")


class PaperPage(Schema):
    count: int
    page: int
    page_size: int
    next: str | None
    previous: str | None
    results: list[PaperOut]


class Message(Schema):
    detail: str


class PaperFilters(Schema):
    category: str | None = Field(None, description="A category's slug.")
    year: int | None = Field(None, ge=MIN_YEAR, le=MAX_YEAR)
    recorded: bool | None = Field(None, description="Has a 精读 video.")
    page: int = Field(1, ge=1, le=10**6)
    page_size: int = Field(DEFAULT_PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE)


# --- Plain data from models ---------------------------------------------------------


def _category_ref(category) -> dict:
    return {"slug": category.slug, "name": category.name, "name_en": category.name_en}


def _paper_ref(paper) -> dict:
    return {
        "slug": paper.slug,
        "name": paper.name,
        "title": paper.title,
        "year": paper.year,
        "url": _absolute(paper.get_absolute_url()),
    }


def _paper(paper) -> dict:
    cite = {
        name: _absolute(reverse("papers:paper_cite", args=[paper.slug, fmt]))
        for name, fmt in (
            ("bibtex", "bib"),
            ("ris", "ris"),
            ("csl_json", "json"),
            ("gbt7714", "txt"),
        )
    }
    return {
        "slug": paper.slug,
        "name": paper.name,
        "title": paper.title,
        "year": paper.year,
        "summary": paper.summary,
        "paper_url": paper.url,
        "arxiv_id": paper.arxiv_id,
        "doi": paper.doi,
        "s2_paper_id": paper.s2_paper_id,
        "is_recorded": paper.is_recorded,
        "citation_count": paper.citation_count,
        "influential_citation_count": paper.influential_citation_count,
        "citations_updated_at": paper.citations_updated_at,
        "categories": [_category_ref(c) for c in paper.category_list],
        "url": _absolute(paper.get_absolute_url()),
        "cite": cite,
    }


def _video(video) -> dict:
    return {
        "id": video.pk,
        "title": video.title,
        "published_on": video.published_on,
        "duration_seconds": int(video.duration.total_seconds()),
        "bilibili_url": video.bilibili_url,
        "youtube_url": video.youtube_url,
        "zhihu_url": video.zhihu_url,
        "url": _absolute(video.get_absolute_url()),
        "papers": [p.slug for p in video.paper_list],
    }


def _authors(paper) -> list[dict]:
    authors = []
    for author in getattr(paper, "authors", None) or []:
        if isinstance(author, dict):
            name, author_id = author.get("name") or "", author.get("authorId")
        else:
            name, author_id = str(author), None
        if name:
            authors.append({"name": name, "author_id": author_id})
    return authors


_VIDEO_PAPERS = Prefetch(
    "papers", queryset=Paper.objects.only("slug"), to_attr="paper_list"
)
_CATEGORIES = Prefetch(
    "categories",
    queryset=Category.objects.order_by("position", "id"),
    to_attr="category_list",
)


def _ordered_links(papers) -> list[dict]:
    return [_paper_ref(p) for p in sorted(papers, key=lambda p: (p.year or 0, p.pk))]


# --- Endpoints ----------------------------------------------------------------------


@api.get(
    "/papers",
    response={200: PaperPage, 404: Message},
    summary="Papers, filtered and paginated",
    description="In a stable order: year (newest first, unknown last), then id.",
)
@_cached(PAPERS_QUERY)
def papers(request, filters: Annotated[PaperFilters, Query()]):
    queryset = Paper.objects.filter(placements__isnull=False).distinct()
    if filters.category:
        category = Category.objects.filter(slug=filters.category).first()
        if category is None:
            detail = f"No category with slug {filters.category!r}."
            return Status(404, {"detail": detail})
        queryset = queryset.filter(placements__category=category)
    if filters.year is not None:
        queryset = queryset.filter(year=filters.year)
    if filters.recorded is not None:
        queryset = queryset.filter(is_recorded=filters.recorded)
    count = queryset.count()
    start = (filters.page - 1) * filters.page_size
    page = list(
        queryset.order_by("-year", "id").prefetch_related(_CATEGORIES)[
            start : start + filters.page_size
        ]
    )

    def link(number: int) -> str:
        params = request.GET.copy()
        params["page"] = str(number)
        return _absolute(f"{request.path}?{params.urlencode()}")

    return {
        "count": count,
        "page": filters.page,
        "page_size": filters.page_size,
        "next": link(filters.page + 1) if start + filters.page_size < count else None,
        "previous": link(filters.page - 1) if filters.page > 1 and count else None,
        "results": [_paper(p) for p in page],
    }


@api.get(
    "/papers/{slug}",
    response={200: PaperDetailOut, 404: Message},
    summary="One paper with its details, videos and in-list citation links",
)
@_cached()
def paper_detail(request, slug: str):
    prefetches = [
        _CATEGORIES,
        Prefetch(
            "videos",
            queryset=VideoNote.objects.order_by(
                "-published_on", "-id"
            ).prefetch_related(_VIDEO_PAPERS),
            to_attr="video_list",
        ),
    ]
    if HAS_LINKS:
        prefetches += ["links_out__cited", "links_in__citing"]
    paper = Paper.objects.filter(slug=slug).prefetch_related(*prefetches).first()
    if paper is None:
        return Status(404, {"detail": f"No paper with slug {slug!r}."})
    data = _paper(paper)
    data.update(
        authors=_authors(paper),
        venue=getattr(paper, "venue", "") or "",
        publication_date=getattr(paper, "publication_date", None),
        abstract=getattr(paper, "abstract", "") or "",
        tldr=getattr(paper, "tldr", "") or "",
        open_access_pdf_url=getattr(paper, "open_access_pdf_url", "") or "",
        videos=[_video(v) for v in paper.video_list],
        builds_on=(
            _ordered_links(link.cited for link in paper.links_out.all())
            if HAS_LINKS
            else []
        ),
        built_upon_by=(
            _ordered_links(link.citing for link in paper.links_in.all())
            if HAS_LINKS
            else []
        ),
    )
    return data


@api.get("/categories", response=list[CategoryOut], summary="Every category")
@_cached()
def categories(request):
    return [
        {
            **_category_ref(c),
            "description": c.description,
            "url": _absolute(c.get_absolute_url()),
            "paper_count": c.paper_count,
        }
        for c in Category.objects.annotate(paper_count=Count("placements")).order_by(
            "position", "id"
        )
    ]


@api.get("/videos", response=list[VideoOut], summary="Every 精读 video, newest first")
@_cached()
def videos(request):
    queryset = VideoNote.objects.order_by("-published_on", "-id").prefetch_related(
        _VIDEO_PAPERS
    )
    return [_video(v) for v in queryset]


# --- CORS and the rate limit --------------------------------------------------------

CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "GET, HEAD, OPTIONS",
    "Access-Control-Max-Age": "86400",
}


class ApiMiddleware:
    """For /api/v1/ only: CORS for GET, HEAD and OPTIONS (no credentials), and a
    per-address rate limit (``API_RATE_LIMIT`` requests an hour) answered with 429
    and ``Retry-After``. Counted in the database like the other limits
    (papers/rate_limits.py), before the page cache, so cached answers count too."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not request.path.startswith(API_PREFIX):
            return self.get_response(request)
        safe = request.method in ("GET", "HEAD", "OPTIONS")
        if request.method == "OPTIONS":
            response = HttpResponse(status=204)
            response["Allow"] = "GET, HEAD, OPTIONS"
            response["Access-Control-Allow-Headers"] = "Accept, Content-Type"
        elif retry_after := self._over_limit(request):
            response = JsonResponse(
                {
                    "detail": "Too many requests from this address: "
                    f"{settings.API_RATE_LIMIT} an hour. "
                    f"Try again in {retry_after} seconds."
                },
                status=429,
            )
            response["Retry-After"] = str(retry_after)
        else:
            response = self.get_response(request)
        if safe:
            for name, value in CORS_HEADERS.items():
                response[name] = value
        return response

    def _over_limit(self, request) -> int:
        from papers.services.reading_requests import voter_identity

        limit = settings.API_RATE_LIMIT
        if limit <= 0:
            return 0
        identity = voter_identity(session_key="", ip=client_ip(request)).ip_hash
        return rate_limits.hit("api", identity, limit)
