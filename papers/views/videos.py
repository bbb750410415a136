"""The video page (issue 12): the video, one click-to-load player area, its chapters
(each a ``?t=`` link), its view counts and notes, JSON-LD and Open Graph."""

from __future__ import annotations

import json

from django.http import Http404
from django.shortcuts import render
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_safe

from papers.cache import cache_public_page
from papers.selectors_videos import video_for_page
from papers.templatetags.papers_tags import iso_duration
from papers.timecodes import MAX_SECONDS, format_timecode

# As django.utils.html.json_script escapes: a "</script>" in a title stays data.
_JSON_ESCAPES = {ord(">"): "\\u003E", ord("<"): "\\u003C", ord("&"): "\\u0026"}


def read_start(raw: str) -> str:
    """``?t=`` as whole seconds ("1234"); anything else (or 0) is the plain page."""
    raw = raw.strip()
    if not raw.isascii() or not raw.isdecimal() or len(raw) > 6:
        return ""
    seconds = int(raw)
    return str(seconds) if 0 < seconds <= MAX_SECONDS else ""


def json_ld(data: dict) -> str:
    """``data`` as the body of a ``<script type="application/ld+json">``."""
    return mark_safe(json.dumps(data, ensure_ascii=False).translate(_JSON_ESCAPES))


def _video_json_ld(request, video, chapters) -> dict:
    page_url = request.build_absolute_uri(video.get_absolute_url())
    cover = video.cover_thumb_large or video.cover_thumb
    data = {
        "@context": "https://schema.org",
        "@type": "VideoObject",
        "name": video.plain_title,
        "description": video.plain_title,
        "uploadDate": video.published_on.isoformat(),
        "duration": iso_duration(video.duration),
        "url": page_url,
    }
    if cover:
        data["thumbnailUrl"] = [request.build_absolute_uri(cover.url)]
    if video.bvid:
        data["embedUrl"] = f"https://player.bilibili.com/player.html?bvid={video.bvid}"
    elif video.youtube_id:
        data["embedUrl"] = f"https://www.youtube-nocookie.com/embed/{video.youtube_id}"
    total = int(video.duration.total_seconds()) if video.duration else None
    clips = []
    for index, chapter in enumerate(chapters):
        end = chapter.end
        if end is None:
            following = chapters[index + 1] if index + 1 < len(chapters) else None
            end = following.start if following else total
        clip = {
            "@type": "Clip",
            "name": chapter.title,
            "startOffset": chapter.start,
            "url": f"{page_url}?t={chapter.start}",
        }
        if end and end > chapter.start:
            clip["endOffset"] = end
        clips.append(clip)
    if clips:
        data["hasPart"] = clips
    return data


@require_safe
@cache_public_page(query={"t": read_start})
def video(request, slug):
    found = video_for_page(slug)
    if found is None:
        raise Http404("No such video")
    chapters = list(found.chapters.all())
    for chapter in chapters:
        chapter.timecode = format_timecode(chapter.start)
    start = int(read_start(request.GET.get("t", "")) or 0)
    counts = [
        (label, count)
        for label, count in (
            ("bilibili", found.bilibili_views),
            ("YouTube", found.youtube_views),
        )
        if count is not None
    ]
    cover = found.cover_thumb_large or found.cover_thumb
    context = {
        "video": found,
        "chapters": chapters,
        "start": start,
        "start_timecode": format_timecode(start) if start else "",
        "counts": counts,
        "page_url": request.build_absolute_uri(found.get_absolute_url()),
        "cover": cover,
        "cover_url": request.build_absolute_uri(cover.url) if cover else "",
        "json_ld": json_ld(_video_json_ld(request, found, chapters)),
    }
    return render(request, "papers/video.html", context)
