"""Learning paths: adding steps, and loading the starter paths (papers/data/paths.toml).

The starter paths are ours, written from the upstream list. Loading them never
touches a path a curator has made or edited: a path whose slug exists is kept as it
is, and a step whose paper or video is not in the database is skipped with a line
saying so.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max

from papers.models import LearningPath, Paper, PathStep, VideoNote

STARTER_PATHS = Path(__file__).resolve().parents[1] / "data" / "paths.toml"


class PathsFileError(ValueError):
    """The paths file cannot be read as paths: the message says where and why."""


def path_next_position(*, path: LearningPath) -> int:
    """The position after the path's last step (0 for an empty path)."""
    last = path.steps.aggregate(last=Max("position"))["last"]
    return 0 if last is None else last + 1


@transaction.atomic
def path_step_add(
    *,
    path: LearningPath,
    paper: Paper | None = None,
    video: VideoNote | None = None,
    note: str = "",
    note_en: str = "",
    title: str = "",
    position: int | None = None,
) -> PathStep:
    """Add a step; without a ``position`` it goes to the end of the path."""
    if position is None:
        position = path_next_position(path=path)
    step = PathStep(
        path=path,
        paper=paper,
        video=video,
        note=note,
        note_en=note_en,
        title=title,
        position=position,
    )
    step.full_clean()
    step.save()
    return step


# --- The starter paths file ----------------------------------------------------


@dataclass(frozen=True)
class StepSpec:
    arxiv: str = ""
    name: str = ""
    video: str = ""
    note: str = ""
    note_en: str = ""

    def label(self) -> str:
        if self.video:
            return f"video {self.video!r}"
        parts = [f"arXiv {self.arxiv}" if self.arxiv else "", self.name]
        return " / ".join(p for p in parts if p)


@dataclass(frozen=True)
class PathSpec:
    slug: str
    title: str
    title_en: str = ""
    description: str = ""
    description_en: str = ""
    steps: tuple[StepSpec, ...] = ()


_PATH_KEYS = {"slug", "title", "title_en", "description", "description_en", "steps"}
_STEP_KEYS = {"arxiv", "name", "video", "note", "note_en"}


def _strings(table: dict, keys: set[str], where: str) -> dict[str, str]:
    unknown = set(table) - keys
    if unknown:
        raise PathsFileError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
    values = {}
    for key in keys - {"steps"}:
        value = table.get(key, "")
        if not isinstance(value, str):
            raise PathsFileError(f"{where}: {key} must be a string")
        values[key] = value.strip()
    return values


def paths_parse(text: str) -> list[PathSpec]:
    """The paths in a TOML text, checked; raises PathsFileError on anything odd."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PathsFileError(f"not valid TOML: {exc}") from exc
    tables = data.get("path", [])
    if set(data) - {"path"} or not isinstance(tables, list):
        raise PathsFileError("expected only [[path]] tables")
    specs, slugs = [], set()
    for number, table in enumerate(tables, 1):
        values = _strings(table, _PATH_KEYS, f"path {number}")
        if not values["slug"] or not values["title"]:
            raise PathsFileError(f"path {number}: slug and title are required")
        if values["slug"] in slugs:
            raise PathsFileError(f"path {number}: slug {values['slug']} repeated")
        slugs.add(values["slug"])
        steps = []
        raw_steps = table.get("steps", [])
        if not isinstance(raw_steps, list):
            raise PathsFileError(f"path {values['slug']}: steps must be [[path.steps]]")
        for index, raw in enumerate(raw_steps, 1):
            where = f"path {values['slug']}, step {index}"
            if not isinstance(raw, dict):
                raise PathsFileError(f"{where}: must be a table")
            step = StepSpec(**_strings(raw, _STEP_KEYS, where))
            if bool(step.video) == bool(step.arxiv or step.name):
                raise PathsFileError(
                    f"{where}: give a paper (arxiv and/or name) or a video, not both"
                )
            steps.append(step)
        specs.append(PathSpec(**values, steps=tuple(steps)))
    return specs


@dataclass
class PathsReport:
    created: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        return [
            *(f"created {line}" for line in self.created),
            *(f"kept {slug} (already exists, left as it is)" for slug in self.kept),
            *(f"warning: {line}" for line in self.warnings),
        ]


def _find_paper(step: StepSpec) -> Paper | None:
    if step.arxiv:
        paper = Paper.objects.filter(arxiv_id=step.arxiv).first()
        if paper is not None:
            return paper
    if step.name:
        return Paper.objects.filter(name__iexact=step.name).order_by("id").first()
    return None


def _find_video(step: StepSpec) -> VideoNote | None:
    """The one video whose title contains the text (None when none or several)."""
    matches = list(VideoNote.objects.filter(title__icontains=step.video)[:2])
    return matches[0] if len(matches) == 1 else None


@transaction.atomic
def paths_load(*, text: str) -> PathsReport:
    """Create the paths of ``text`` that do not exist yet (by slug).

    A path whose slug exists is kept untouched, whoever made it. A step whose paper
    or video is not in the database is skipped with a warning; a path with no step
    found is not created (a later run, once the list has its papers, creates it).
    """
    specs = paths_parse(text)
    report = PathsReport()
    existing = set(
        LearningPath.objects.filter(slug__in=[s.slug for s in specs]).values_list(
            "slug", flat=True
        )
    )
    last = LearningPath.objects.aggregate(last=Max("position"))["last"]
    position = -1 if last is None else last
    for spec in specs:
        if spec.slug in existing:
            report.kept.append(spec.slug)
            continue
        found = []
        for step in spec.steps:
            item = _find_video(step) if step.video else _find_paper(step)
            if item is None:
                report.warnings.append(
                    f"{spec.slug}: skipped step {step.label()}, not in the database"
                )
            elif item in [i for i, _ in found]:
                report.warnings.append(
                    f"{spec.slug}: skipped step {step.label()}, already on the path"
                )
            else:
                found.append((item, step))
        if not found:
            report.warnings.append(
                f"{spec.slug}: not created, none of its steps is in the database"
            )
            continue
        position += 1
        path = LearningPath(
            slug=spec.slug,
            title=spec.title,
            title_en=spec.title_en,
            description=spec.description,
            description_en=spec.description_en,
            position=position,
        )
        try:
            path.full_clean()
        except ValidationError as exc:
            raise PathsFileError(f"path {spec.slug}: {exc}") from exc
        path.save()
        for index, (item, step) in enumerate(found):
            kind = "video" if isinstance(item, VideoNote) else "paper"
            path_step_add(
                path=path,
                position=index,
                note=step.note,
                note_en=step.note_en,
                **{kind: item},
            )
        report.created.append(f"{spec.slug} ({len(found)} of {len(spec.steps)} steps)")
    return report
