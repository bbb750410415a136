"""Reads for the learning paths: /paths/, /paths/<slug>/, a paper's place on paths.

Every function runs a fixed number of queries, whatever the number of paths or steps.

"Total video time" of a path is the summed duration of the distinct videos on it:
the videos that are steps, and the videos that cover a paper that is a step. A video
that is both (or covers two papers of the path) counts once.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Prefetch

from papers.models import LearningPath, Paper, PathStep, VideoNote


def _steps(*, with_covering_videos: bool = True) -> Prefetch:
    steps = PathStep.objects.select_related("paper", "video").order_by("position", "id")
    if with_covering_videos:
        steps = steps.prefetch_related(
            Prefetch(
                "paper__videos",
                queryset=VideoNote.objects.order_by("-published_on", "-id"),
                to_attr="video_list",
            )
        )
    return Prefetch("steps", queryset=steps, to_attr="step_list")


def _with_totals(path: LearningPath) -> LearningPath:
    """``total``, ``videos`` (each once, in step order) and ``total_duration``."""
    videos: dict[int, VideoNote] = {}
    for step in path.step_list:
        if step.video_id:
            videos.setdefault(step.video_id, step.video)
        elif step.paper_id:
            for video in step.paper.video_list:
                videos.setdefault(video.pk, video)
    path.total = len(path.step_list)
    path.videos = list(videos.values())
    path.total_duration = sum((v.duration for v in path.videos), dt.timedelta())
    return path


def path_list() -> list[LearningPath]:
    """Every path in curator order, with its steps and totals (four queries)."""
    paths = LearningPath.objects.order_by("position", "id").prefetch_related(_steps())
    return [_with_totals(path) for path in paths]


def path_detail(*, slug: str) -> LearningPath | None:
    """One path with its steps in order and its totals (four queries)."""
    path = LearningPath.objects.filter(slug=slug).prefetch_related(_steps()).first()
    return _with_totals(path) if path else None


@dataclass(frozen=True)
class PathPlace:
    """Where a paper lies on one path: step ``number`` of ``total``."""

    path: LearningPath
    number: int
    total: int
    previous: PathStep | None
    next: PathStep | None


def paper_path_places(*, paper: Paper) -> list[PathPlace]:
    """The paths the paper is on, in path order, with its neighbours (one query)."""
    steps = (
        PathStep.objects.filter(path__steps__paper=paper)
        .select_related("path", "paper", "video")
        .order_by("path__position", "path_id", "position", "id")
    )
    by_path: dict[int, list[PathStep]] = {}
    for step in steps:
        by_path.setdefault(step.path_id, []).append(step)
    places = []
    for path_steps in by_path.values():
        index = next(i for i, s in enumerate(path_steps) if s.paper_id == paper.pk)
        places.append(
            PathPlace(
                path=path_steps[index].path,
                number=index + 1,
                total=len(path_steps),
                previous=path_steps[index - 1] if index > 0 else None,
                next=path_steps[index + 1] if index + 1 < len(path_steps) else None,
            )
        )
    return places


def latest_path_steps(*, path: LearningPath):
    """A path's steps for its feed, in path order (one query)."""
    return path.steps.select_related("paper", "video").order_by("position", "id")


@dataclass(frozen=True)
class ReadNext:
    """ "What to read next" on a paper page: its places on paths, and the papers of
    our list that cite it or that it cites, in year order. (The next paper in its
    category is the page's pager, from ``selectors.paper_detail``.)"""

    places: list[PathPlace]
    cited_by: list[Paper]
    cites: list[Paper]

    def __bool__(self) -> bool:
        return bool(self.places or self.cited_by or self.cites)


def read_next(*, paper: Paper) -> ReadNext:
    """One query, the paths. The papers of our list citing it or cited by it are the
    ones ``selectors.paper_detail`` already read (year order), shown here once."""
    return ReadNext(
        places=paper_path_places(paper=paper),
        cited_by=list(getattr(paper, "built_upon_by", ())),
        cites=list(getattr(paper, "builds_on", ())),
    )
