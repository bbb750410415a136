"""The README import: reads the upstream list and writes its categories, papers
and videos to match it (new papers through :func:`paper_create`)."""

from __future__ import annotations

import logging
import re
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.text import slugify
from pypinyin import lazy_pinyin

from papers import identifiers, readme
from papers.cache import bump_content_version
from papers.models import Category, Paper, PaperSlugRedirect, Placement, VideoNote
from papers.readme import PaperRow, ReadmeDocument, VideoRow
from papers.services.catalogue import paper_create
from papers.video_titles import series_and_part, video_slug_base

logger = logging.getLogger(__name__)

README_FETCH_TIMEOUT = (5, 30)  # (connect, read) seconds
README_MAX_BYTES = 5 * 1024 * 1024
README_CHUNK_BYTES = 64 * 1024

# Words of the upstream category headings, for the English names and ASCII slugs.
CATEGORY_TERMS = {
    "计算机视觉": "Computer Vision",
    "生成模型": "Generative Models",
    "对比学习": "Contrastive Learning",
    "视频理解": "Video Understanding",
    "多模态学习": "Multimodal Learning",
    "自然语言处理": "Natural Language Processing",
    "系统": "Systems",
    "图神经网络": "Graph Neural Networks",
    "优化算法": "Optimization",
    "新领域应用": "New Applications",
    "强化学习": "Reinforcement Learning",
    "语音": "Speech",
    "大模型": "Large Language Models",
}


class ReadmeSourceError(Exception):
    """The README source could not be read."""


@dataclass
class Tally:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0

    def __str__(self):
        text = (
            f"{self.created} created, {self.updated} updated, "
            f"{self.unchanged} unchanged"
        )
        return f"{text}, {self.deleted} deleted" if self.deleted else text


@dataclass
class ImportReport:
    categories: Tally = field(default_factory=Tally)
    papers: Tally = field(default_factory=Tally)
    placements: Tally = field(default_factory=Tally)
    videos: Tally = field(default_factory=Tally)
    warnings: list[str] = field(default_factory=list)
    dry_run: bool = False

    @property
    def changed(self) -> bool:
        return any(
            t.created or t.updated or t.deleted
            for t in (self.categories, self.papers, self.placements, self.videos)
        )

    def lines(self) -> list[str]:
        return [
            f"categories: {self.categories}",
            f"papers: {self.papers}",
            f"placements: {self.placements}",
            f"videos: {self.videos}",
        ]


def readme_read_source(source: str, *, deadline: float | None = None) -> str:
    """The text of a README given as a file path or an http(s) URL.

    ``deadline`` bounds the whole fetch of a URL in seconds: name lookup, connection
    and every read together, not each socket operation. Past it the fetch is given
    up (:class:`ReadmeSourceError`), even if a resolver or a server that trickles
    bytes is still holding it.
    """
    if source.startswith(("http://", "https://")):
        if deadline is None:
            return _fetch(source, timeout=README_FETCH_TIMEOUT)
        return _fetch_within(source, deadline)
    path = Path(source)
    try:
        if path.stat().st_size > README_MAX_BYTES:
            raise ReadmeSourceError(f"{source} is larger than {README_MAX_BYTES} bytes")
        data = path.read_bytes()
    except OSError as exc:
        raise ReadmeSourceError(f"cannot read {source}: {exc.strerror or exc}") from exc
    return _decode(data, source)


def _fetch(source: str, *, timeout, stop_at: float | None = None) -> str:
    chunks, size = [], 0
    try:
        with requests.get(
            source, timeout=timeout, headers={"Accept": "text/plain"}, stream=True
        ) as response:
            response.raise_for_status()
            for chunk in response.iter_content(README_CHUNK_BYTES):
                size += len(chunk)
                if size > README_MAX_BYTES:
                    raise ReadmeSourceError(
                        f"{source} is larger than {README_MAX_BYTES} bytes"
                    )
                if stop_at is not None and time.monotonic() > stop_at:
                    raise ReadmeSourceError(f"cannot fetch {source}: too slow")
                chunks.append(chunk)
    except requests.RequestException as exc:
        raise ReadmeSourceError(f"cannot fetch {source}: {_reason(exc)}") from exc
    return _decode(b"".join(chunks), source)


def _reason(exc: requests.RequestException) -> str:
    """The root cause ("Failed to resolve …"), without urllib3's pool boilerplate."""
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    return re.sub(r"^<[^>]*>: ", "", str(reason or exc))


def _fetch_within(source: str, deadline: float) -> str:
    """:func:`_fetch` in a daemon thread that is abandoned at the deadline:
    ``getaddrinfo`` has no timeout and per-read timeouts add up."""
    stop_at = time.monotonic() + deadline
    outcome: dict = {}

    def fetch():
        try:
            outcome["text"] = _fetch(
                source, timeout=(deadline, deadline), stop_at=stop_at
            )
        except Exception as exc:  # handed to the caller below
            outcome["error"] = exc

    worker = threading.Thread(target=fetch, name="readme-fetch", daemon=True)
    worker.start()
    worker.join(deadline)
    if worker.is_alive():
        raise ReadmeSourceError(
            f"cannot fetch {source}: no complete answer within {deadline:g} s"
        )
    if "error" in outcome:
        raise outcome["error"]
    return outcome["text"]


def _decode(data: bytes, source: str) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ReadmeSourceError(f"{source} is not UTF-8 text") from exc


def category_english_name(name: str) -> str:
    """``计算机视觉 - CNN`` → ``Computer Vision - CNN``; "" when a part is unknown."""
    parts = [part.strip() for part in name.split("-")]
    english = []
    for part in parts:
        if part in CATEGORY_TERMS:
            english.append(CATEGORY_TERMS[part])
        elif part.isascii():
            english.append(part)
        else:
            return ""
    return " - ".join(english)


def unique_slug(model, base: str, *, exclude_pk=None) -> str:
    """``base``, or ``base-2``, ``base-3``… : the first one no other row has.

    A paper's old slugs count as taken, so an old link keeps leading to its paper.
    """
    base = (base or "item")[:180].strip("-") or "item"
    taken = model.objects.filter(slug__startswith=base)
    if exclude_pk is not None:
        taken = taken.exclude(pk=exclude_pk)
    taken = set(taken.values_list("slug", flat=True))
    if model is Paper:
        old = PaperSlugRedirect.objects.filter(old_slug__startswith=base)
        if exclude_pk is not None:
            old = old.exclude(paper_id=exclude_pk)
        taken.update(old.values_list("old_slug", flat=True))
    slug, n = base, 2
    while slug in taken:
        slug, n = f"{base}-{n}", n + 1
    return slug


PAPER_SLUG_MAX_LENGTH = 80


def paper_slug_base(*, name: str, arxiv_id: str = "", s2_paper_id: str = "") -> str:
    """A readable ASCII slug for a paper's name: Chinese is written in pinyin.

    参数服务器 → ``can-shu-fu-wu-qi``, ``GPT-4 技术报告`` → ``gpt-4-ji-shu-bao-gao``.
    An id is the fallback for a name with nothing to spell (only punctuation).
    """
    # pypinyin passes non-Chinese runs through as they are; slugify then keeps
    # ASCII letters, digits and hyphens and joins the syllables with hyphens.
    base = slugify(" ".join(lazy_pinyin(name)))
    if len(base) > PAPER_SLUG_MAX_LENGTH:
        base = base[: PAPER_SLUG_MAX_LENGTH + 1].rsplit("-", 1)[0].strip("-")
    if not base:
        if arxiv_id:
            base = "arxiv-" + slugify(arxiv_id.replace(".", "-").replace("/", "-"))
        elif s2_paper_id:
            base = "s2-" + s2_paper_id[:10]
        else:
            base = "paper"
    return base


@transaction.atomic
def paper_slug_change(*, paper: Paper, slug: str) -> Paper:
    """Give a paper a new slug and keep the old one as a redirect (301) to it."""
    old_slug = paper.slug
    if slug == old_slug:
        return paper
    paper.slug = slug
    paper.full_clean()
    paper.save(update_fields=["slug", "updated_at"])
    paper_slug_remember(paper=paper, old_slug=old_slug)
    return paper


def paper_slug_remember(*, paper: Paper, old_slug: str) -> None:
    """Record ``old_slug`` (the paper's slug before a change) as a redirect to it.

    A paper that takes back one of its old slugs no longer redirects from it.
    """
    PaperSlugRedirect.objects.filter(old_slug=paper.slug).delete()
    if old_slug and old_slug != paper.slug:
        PaperSlugRedirect.objects.update_or_create(
            old_slug=old_slug, defaults={"paper": paper}
        )


class _PaperIndex:
    """Existing papers by each of their identities, for matching without queries."""

    def __init__(self, papers):
        self.by_s2, self.by_arxiv, self.by_url, self.by_name = {}, {}, {}, {}
        for paper in papers:
            self.add(paper)

    def add(self, paper):
        if paper.s2_paper_id:
            self.by_s2[paper.s2_paper_id] = paper
        if paper.arxiv_id:
            self.by_arxiv[paper.arxiv_id] = paper
        if url := identifiers.normalise_url(paper.url):
            self.by_url.setdefault(url, paper)
        self.by_name.setdefault(paper.name.casefold(), paper)

    def match_row(self, row: PaperRow):
        for index, key in (
            (self.by_s2, row.s2_paper_id),
            (self.by_arxiv, row.arxiv_id),
            (self.by_url, identifiers.normalise_url(row.url)),
        ):
            if key and key in index:
                return index[key]
        if not (row.s2_paper_id or row.arxiv_id or row.url):
            return self.by_name.get(row.name.casefold())
        return None

    def match_url(self, url: str):
        arxiv_id = identifiers.arxiv_id_from_url(url)
        if arxiv_id and arxiv_id in self.by_arxiv:
            return self.by_arxiv[arxiv_id]
        s2_id = identifiers.s2_id_from_url(url)
        if s2_id and s2_id in self.by_s2:
            return self.by_s2[s2_id]
        return self.by_url.get(identifiers.normalise_url(url))


def _row_changes(paper: Paper, row: PaperRow) -> dict:
    """The fields the row sets to a new value. Absent columns (None) change nothing."""
    wanted = {"name": row.name, "url": row.url}
    if row.year is not None:
        wanted["year"] = row.year
    if row.summary is not None:
        wanted["summary"] = row.summary
    if row.is_recorded is not None:
        wanted["is_recorded"] = row.is_recorded
    # Ids are only ever added or corrected, never blanked by a row that lacks them.
    for name in ("s2_paper_id", "arxiv_id", "doi"):
        if value := getattr(row, name):
            wanted[name] = value
    return {k: v for k, v in wanted.items() if getattr(paper, k) != v}


@transaction.atomic
def readme_import(
    *, text: str, prune: bool = False, dry_run: bool = False
) -> ImportReport:
    """Bring the database in line with a README text.

    Idempotent; one transaction; nothing is deleted unless ``prune``. Raises
    ``ReadmeFormatError`` (and changes nothing) when the text holds no known table.
    """
    document = readme.parse_readme(text)
    report = ImportReport(dry_run=dry_run, warnings=list(document.warnings))
    index = _PaperIndex(Paper.objects.all())

    categories = _import_categories(document, report)
    papers_by_row = _import_papers(document, index, report)
    _import_placements(document, categories, papers_by_row, report, prune=prune)
    seen_videos = _import_videos(document.videos, index, report)

    if prune:
        _prune(document, categories, papers_by_row, seen_videos, report)
    if dry_run:
        transaction.set_rollback(True)
    else:
        # The public pages follow the import even where a write skipped the signals.
        bump_content_version()
    # DEBUG: the caller (import_readme, load_seed) prints the summary to its user;
    # an INFO line here printed it a second time on every import.
    logger.debug(
        "readme import%s: %s",
        " (dry run)" if dry_run else "",
        "; ".join(report.lines()),
    )
    return report


def _import_categories(document: ReadmeDocument, report: ImportReport):
    existing = {c.name: c for c in Category.objects.all()}
    categories = {}
    for position, block in enumerate(document.categories):
        if block.name in categories:
            report.warnings.append(f"category {block.name!r} appears twice: merged")
            continue
        category = existing.get(block.name)
        if category is None:
            name_en = category_english_name(block.name)
            category = Category(
                name=block.name,
                name_en=name_en,
                slug=unique_slug(Category, slugify(name_en or block.name)),
                position=position,
                description=block.description,
            )
            category.full_clean()
            category.save()
            report.categories.created += 1
        else:
            changes = {}
            if category.position != position:
                changes["position"] = position
            if block.description and category.description != block.description:
                changes["description"] = block.description
            if changes:
                for name, value in changes.items():
                    setattr(category, name, value)
                category.save(update_fields=list(changes))
                report.categories.updated += 1
            else:
                report.categories.unchanged += 1
        categories[block.name] = category
    return categories


def _import_papers(document: ReadmeDocument, index: _PaperIndex, report: ImportReport):
    """Create or update one Paper per distinct row; returns {id(row): paper}."""
    papers_by_row: dict[int, Paper] = {}
    touched: set[int] = set()
    for block in document.categories:
        for row in block.papers:
            paper = index.match_row(row)
            if paper is not None and paper.pk in touched:
                papers_by_row[id(row)] = paper  # listed again in another category
                continue
            paper = _save_paper(paper, row, index, report)
            if paper is not None:
                touched.add(paper.pk)
                papers_by_row[id(row)] = paper
    return papers_by_row


def _save_paper(paper, row: PaperRow, index: _PaperIndex, report: ImportReport):
    creating = paper is None
    changes = _row_changes(paper or Paper(), row)
    # An id that already belongs to another paper would break uniqueness: keep ours.
    for name, lookup in (("s2_paper_id", index.by_s2), ("arxiv_id", index.by_arxiv)):
        other = lookup.get(changes.get(name, ""))
        if other is not None and other is not paper:
            report.warnings.append(
                f"paper {row.name!r}: {name} {changes.pop(name)} belongs to "
                f"{other.name!r}, left unchanged"
            )
    if creating:
        try:
            paper = paper_create(**{**changes, "name": row.name})
        except ValidationError as exc:
            report.warnings.append(f"paper {row.name!r} skipped: {_messages(exc)}")
            return None
        index.add(paper)
        report.papers.created += 1
        return paper
    if not changes:
        report.papers.unchanged += 1
        return paper
    snapshot = {name: getattr(paper, name) for name in changes}
    for name, value in changes.items():
        setattr(paper, name, value)
    try:
        paper.full_clean()
    except ValidationError as exc:
        for name, value in snapshot.items():
            setattr(paper, name, value)
        report.warnings.append(f"paper {row.name!r} skipped: {_messages(exc)}")
        return paper
    paper.save()
    index.add(paper)
    report.papers.updated += 1
    return paper


def _messages(exc: ValidationError) -> str:
    if hasattr(exc, "message_dict"):
        return "; ".join(
            f"{name}: {' '.join(str(m) for m in messages)}"
            for name, messages in exc.message_dict.items()
        )
    return " ".join(str(m) for m in exc.messages)


def _import_placements(document, categories, papers_by_row, report, *, prune):
    existing = {
        (p.category_id, p.paper_id): p
        for p in Placement.objects.filter(
            category__in=[c.pk for c in categories.values()]
        )
    }
    done = set()
    for block in document.categories:
        category = categories[block.name]
        position = 0
        for row in block.papers:
            paper = papers_by_row.get(id(row))
            if paper is None or (category.pk, paper.pk) in done:
                continue
            done.add((category.pk, paper.pk))
            placement = existing.get((category.pk, paper.pk))
            if placement is None:
                Placement.objects.create(
                    category=category, paper=paper, position=position
                )
                report.placements.created += 1
            elif placement.position != position:
                placement.position = position
                placement.save(update_fields=["position"])
                report.placements.updated += 1
            else:
                report.placements.unchanged += 1
            position += 1
    if prune:
        stale = [p.pk for key, p in existing.items() if key not in done]
        if stale:
            Placement.objects.filter(pk__in=stale).delete()
            report.placements.deleted += len(stale)


def _video_key(*, bilibili_url: str, published_on, title: str):
    if bvid := identifiers.bilibili_bvid(bilibili_url):
        return ("bilibili", bvid)
    return ("date-title", published_on, title)


def _video_slug(row: VideoRow) -> str:
    base = video_slug_base(
        title=row.title,
        published_on=row.published_on,
        bvid=identifiers.bilibili_bvid(row.bilibili_url),
        youtube_id=identifiers.youtube_id(row.youtube_url),
    )
    return unique_slug(VideoNote, base)


def _import_videos(rows: tuple[VideoRow, ...], index: _PaperIndex, report):
    existing = {}
    for video in VideoNote.objects.prefetch_related("papers"):
        existing.setdefault(
            _video_key(
                bilibili_url=video.bilibili_url,
                published_on=video.published_on,
                title=video.title,
            ),
            video,
        )
    seen = set()
    for row in rows:
        key = _video_key(
            bilibili_url=row.bilibili_url,
            published_on=row.published_on,
            title=row.title,
        )
        if key in seen:
            report.warnings.append(f"video {row.title!r} listed twice: second skipped")
            continue
        seen.add(key)
        wanted = {
            "title": row.title,
            "published_on": row.published_on,
            "duration": row.duration,
            "cover_path": row.cover,
            "bilibili_url": row.bilibili_url,
            "youtube_url": row.youtube_url,
            "zhihu_url": row.zhihu_url,
            "paper_url": row.paper_urls[0] if row.paper_urls else "",
        }
        wanted["series"], wanted["part"] = series_and_part(row.title)
        video = existing.get(key)
        creating = video is None
        if creating:
            video = VideoNote(slug=_video_slug(row))
            changes = wanted
        else:
            changes = {k: v for k, v in wanted.items() if getattr(video, k) != v}
        for name, value in changes.items():
            setattr(video, name, value)
        if changes:
            try:
                video.full_clean()
            except ValidationError as exc:
                report.warnings.append(f"video {row.title!r} skipped: {_messages(exc)}")
                if not creating:
                    video.refresh_from_db()
                continue
            video.save()
        # Links are only added: curators link 串讲 videos to their papers by hand.
        linked = {p.pk for p in video.papers.all()} if not creating else set()
        covered = [index.match_url(url) for url in row.paper_urls]
        new_links = {p.pk for p in covered if p is not None} - linked
        if new_links:
            video.papers.add(*new_links)
        if creating:
            report.videos.created += 1
        elif changes or new_links:
            report.videos.updated += 1
        else:
            report.videos.unchanged += 1
    return seen


def _prune(document, categories, papers_by_row, seen_videos, report):
    kept_papers = {paper.pk for paper in papers_by_row.values()}
    papers = Paper.objects.exclude(pk__in=kept_papers)
    report.papers.deleted += papers.count()
    papers.delete()
    gone = Category.objects.exclude(pk__in=[c.pk for c in categories.values()])
    report.categories.deleted += gone.count()
    gone.delete()
    stale_videos = [
        video.pk
        for video in VideoNote.objects.all()
        if _video_key(
            bilibili_url=video.bilibili_url,
            published_on=video.published_on,
            title=video.title,
        )
        not in seen_videos
    ]
    if stale_videos:
        VideoNote.objects.filter(pk__in=stale_videos).delete()
        report.videos.deleted += len(stale_videos)
