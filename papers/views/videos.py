"""The video page. A placeholder until the issue 12 front end replaces its body: it
gives ``VideoNote.get_absolute_url`` a page to reverse and shows the title."""

from __future__ import annotations

from django.http import Http404
from django.shortcuts import render
from django.views.decorators.http import require_safe

from papers.cache import cache_public_page
from papers.selectors_videos import video_for_page


@require_safe
@cache_public_page
def video(request, slug):
    found = video_for_page(slug)
    if found is None:
        raise Http404
    return render(request, "papers/video.html", {"video": found})
