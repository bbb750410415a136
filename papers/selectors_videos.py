"""Reads for the video pages (issue 12): each in a constant number of queries,
however many videos, papers, chapters or snapshots there are."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Prefetch, QuerySet

from papers.models import Chapter, Paper, VideoNote, ViewSnapshot

# What a video card or a chapter needs of a paper: its name and its link.
PAPER_FIELDS = ("id", "name", "slug", "is_recorded", "year")


def _papers() -> QuerySet[Paper]:
    return Paper.objects.only(*PAPER_FIELDS).order_by("name", "id")


def videos_for_gallery() -> QuerySet[VideoNote]:
    """Every video, newest first, with its covered papers: 2 queries.

    Covers, counts, series and part are fields of the video itself
    (``cover_thumb``, ``bilibili_views``…), so they cost nothing more.
    """
    return VideoNote.objects.order_by("-published_on", "-id").prefetch_related(
        Prefetch("papers", queryset=_papers())
    )


def video_for_page(slug: str) -> VideoNote | None:
    """One video with its papers, its chapters (each with its paper) and its view
    history, oldest first: 4 queries. None when there is no such video."""
    chapters = Chapter.objects.select_related("paper").only(
        *(f for f in ("id", "video_id", "start", "end", "title", "section", "source")),
        "edited",
        *(f"paper__{f}" for f in PAPER_FIELDS),
    )
    return (
        VideoNote.objects.filter(slug=slug)
        .prefetch_related(
            Prefetch("papers", queryset=_papers()),
            Prefetch("chapters", queryset=chapters.order_by("start", "id")),
            Prefetch(
                "view_snapshots",
                queryset=ViewSnapshot.objects.order_by("platform", "fetched_at", "id"),
            ),
        )
        .first()
    )


def chapters_for_paper(paper: Paper) -> QuerySet[Chapter]:
    """The moments, in any video, that discuss ``paper``: one query. A paper page
    links each to ``/videos/<slug>/?t=<start>``."""
    return (
        Chapter.objects.filter(paper=paper)
        .select_related("video")
        .only(
            "id",
            "start",
            "end",
            "title",
            "section",
            "video__id",
            "video__slug",
            "video__title",
            "video__published_on",
        )  # fmt: skip
        .order_by("-video__published_on", "start")
    )


@dataclass(frozen=True)
class Series:
    """Several parts of one series, shown as one gallery entry, in part order."""

    name: str
    parts: tuple[VideoNote, ...]

    @property
    def published_on(self):
        return max(part.published_on for part in self.parts)


def gallery_by_year(videos) -> list[tuple[int, list[VideoNote | Series]]]:
    """Newest first, grouped by year; a series is one entry (where its newest part
    would be) holding its parts in part order. No query: works on the list given
    (``videos_for_gallery()``)."""
    videos = list(videos)
    series: dict[str, list[VideoNote]] = {}
    for video in videos:
        if video.series:
            series.setdefault(video.series, []).append(video)
    entries: list[VideoNote | Series] = []
    placed: set[str] = set()
    for video in videos:
        if not video.series:
            entries.append(video)
        elif video.series not in placed:
            placed.add(video.series)
            parts = sorted(series[video.series], key=lambda v: (v.part or 0, v.pk))
            entries.append(Series(video.series, tuple(parts)))
    entries.sort(key=lambda e: e.published_on, reverse=True)
    years: dict[int, list[VideoNote | Series]] = {}
    for entry in entries:
        years.setdefault(entry.published_on.year, []).append(entry)
    return list(years.items())
