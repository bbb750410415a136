"""The citation files: one paper, a category or the whole list, in BibTeX, RIS,
CSL-JSON or GB/T 7714-2015 text. Public, cacheable pages like the others."""

from __future__ import annotations

from django.http import Http404, HttpResponse
from django.views.decorators.http import require_safe

from papers import citation_formats, cite
from papers.cache import cache_public_page

LIST_FILENAME = "paper-reading"


def _file(works, fmt: str, filename: str) -> HttpResponse:
    content_type, disposition = citation_formats.FORMATS[fmt]
    response = HttpResponse(
        citation_formats.render(works, fmt), content_type=content_type
    )
    # The names are slugs and keys: ASCII letters, digits and hyphens only.
    response["Content-Disposition"] = f'{disposition}; filename="{filename}.{fmt}"'
    response["Access-Control-Allow-Origin"] = "*"
    return response


@require_safe
@cache_public_page
def paper_cite(request, slug, fmt):
    work = cite.paper_citation(slug=slug)
    if work is None:
        raise Http404("No such paper")
    return _file([work], fmt, work.key)


@require_safe
@cache_public_page
def category_cite(request, slug, fmt):
    found = cite.category_citations(slug=slug)
    if found is None:
        raise Http404("No such category")
    category, works = found
    return _file(works, fmt, f"{LIST_FILENAME}-{category.slug}")


@require_safe
@cache_public_page
def list_cite(request, fmt):
    return _file(cite.list_citations(), fmt, LIST_FILENAME)
