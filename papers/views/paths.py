"""Learning paths: /paths/ and /paths/<slug>/ (read-only, page-cached)."""

from django.http import Http404
from django.shortcuts import render
from django.views.decorators.http import require_safe

from papers import selectors_paths
from papers.cache import cache_public_page


@require_safe
@cache_public_page
def path_list(request):
    return render(request, "papers/paths.html", {"paths": selectors_paths.path_list()})


@require_safe
@cache_public_page
def path_detail(request, slug):
    path = selectors_paths.path_detail(slug=slug)
    if path is None:
        raise Http404("No such path")
    return render(request, "papers/path.html", {"path": path})
