"""Keeping the search index (``SearchEntry``) in step with the catalogue.

Every write goes through ``index_objects`` / ``remove_objects``: the signals in
``papers.signals`` call them for single saves and deletes (admin, readme import,
which saves paper by paper), and bulk writers call them with what they changed
(the citation refresh when it fills titles). ``rebuild`` rewrites everything.

On PostgreSQL the row's ``vector`` is computed by the database from the segmented
words ('simple' keeps every word as typed, 'english' adds the stems of English
words); on SQLite the same words go into the FTS5 table ``papers_search_fts``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from django.apps import apps
from django.contrib.postgres.search import SearchVector
from django.db import connection, transaction
from django.urls import NoReverseMatch, reverse

from papers.markup import strip_links
from papers.models import Paper, SearchEntry, VideoNote
from papers.search.segment import segmented

Kind = SearchEntry.Kind
FTS_TABLE = "papers_search_fts"


def _optional_model(name: str):
    """Models other issues add (Chapter, LearningPath): indexed once they exist."""
    try:
        return apps.get_model("papers", name)
    except LookupError:
        return None


def _join(*parts) -> str:
    return "\n".join(str(p) for p in parts if p)


def _author_names(paper: Paper) -> list[str]:
    names = []
    for author in paper.authors or []:
        name = author.get("name") if isinstance(author, dict) else author
        if isinstance(name, str) and name:
            names.append(name)
    return names


def _url(obj) -> str:
    # Stored with the entry; a URLconf without the papers routes (some tests) gives "".
    try:
        return obj.get_absolute_url()
    except NoReverseMatch:
        return ""


def paper_entry(paper: Paper) -> SearchEntry:
    authors = _author_names(paper)
    return SearchEntry(
        kind=Kind.PAPER,
        object_id=paper.pk,
        title=paper.name,
        subtitle=paper.title if paper.title != paper.name else "",
        body=_join(paper.summary, paper.tldr),
        url=_url(paper),
        name_key=paper.name.lower()[:300],
        arxiv_id=paper.arxiv_id or "",
        title_words=segmented(_join(paper.name, paper.title)),
        body_words=segmented(
            _join(paper.summary, paper.tldr, paper.abstract, *authors, paper.arxiv_id)
        ),
        popularity=paper.citation_count or 0,
    )


def video_entry(video: VideoNote) -> SearchEntry:
    title = video.plain_title
    return SearchEntry(
        kind=Kind.VIDEO,
        object_id=video.pk,
        title=title,
        body=video.notes,
        url=_url(video),
        name_key=title.lower()[:300],
        title_words=segmented(title),
        body_words=segmented(strip_links(video.notes)),
    )


def _video_url(video) -> str:
    slug = getattr(video, "slug", "")
    if slug:
        try:
            return reverse("papers:video", args=[slug])
        except NoReverseMatch:
            pass
    return _url(video)


def chapter_entry(chapter) -> SearchEntry:
    video = chapter.video
    start = int(getattr(chapter, "start", 0) or 0)
    section = getattr(chapter, "section", "") or ""
    paper = getattr(chapter, "paper", None)
    base = _video_url(video)
    path, _, anchor = base.partition("#")
    url = f"{path}?t={start}" + (f"#{anchor}" if anchor else "")
    return SearchEntry(
        kind=Kind.CHAPTER,
        object_id=chapter.pk,
        title=chapter.title,
        subtitle=video.plain_title,
        body=section,
        url=url,
        name_key=chapter.title.lower()[:300],
        title_words=segmented(chapter.title),
        body_words=segmented(_join(section, paper.name if paper else "")),
        start=start,
    )


def path_entry(path) -> SearchEntry:
    description = getattr(path, "description", "") or ""
    return SearchEntry(
        kind=Kind.PATH,
        object_id=path.pk,
        title=path.title,
        body=description,
        url=_url(path),
        name_key=path.title.lower()[:300],
        title_words=segmented(_join(path.title, getattr(path, "title_en", ""))),
        body_words=segmented(_join(description, getattr(path, "description_en", ""))),
    )


def registry() -> dict[type, tuple[str, callable]]:
    """The indexed models, each with its kind and how it becomes an entry."""
    models = {Paper: (Kind.PAPER, paper_entry), VideoNote: (Kind.VIDEO, video_entry)}
    if chapter := _optional_model("Chapter"):
        models[chapter] = (Kind.CHAPTER, chapter_entry)
    if path := _optional_model("LearningPath"):
        models[path] = (Kind.PATH, path_entry)
    return models


def _queryset(model):
    queryset = model._default_manager.all()
    if model.__name__ == "Chapter":
        queryset = queryset.select_related("video", "paper")
    return queryset


# --- writing -----------------------------------------------------------------------


def _write(entries: list[SearchEntry]) -> None:
    if not entries:
        return
    with transaction.atomic():
        for kind in {e.kind for e in entries}:
            ids = [e.object_id for e in entries if e.kind == kind]
            _delete(kind, ids)
        SearchEntry.objects.bulk_create(entries, batch_size=500)
        if connection.vendor == "postgresql":
            written = SearchEntry.objects.filter(pk__in=[e.pk for e in entries])
            written.update(vector=VECTOR)
        elif connection.vendor == "sqlite":
            with connection.cursor() as cursor:
                cursor.executemany(
                    f"INSERT INTO {FTS_TABLE}(rowid, title_words, body_words)"
                    " VALUES (%s, %s, %s)",
                    [(e.pk, e.title_words, e.body_words) for e in entries],
                )


# Titles weigh A, bodies B; each in 'simple' (words as typed) and 'english' (stems).
VECTOR = (
    SearchVector("title_words", config="simple", weight="A")
    + SearchVector("title_words", config="english", weight="A")
    + SearchVector("body_words", config="simple", weight="B")
    + SearchVector("body_words", config="english", weight="B")
)


def _delete(kind: str, object_ids: Iterable[int]) -> None:
    stale = SearchEntry.objects.filter(kind=kind, object_id__in=list(object_ids))
    if connection.vendor == "sqlite":
        pks = list(stale.values_list("pk", flat=True))
        if pks:
            with connection.cursor() as cursor:
                cursor.executemany(
                    f"DELETE FROM {FTS_TABLE} WHERE rowid = %s", [(pk,) for pk in pks]
                )
    stale.delete()


def index_objects(objects: Iterable) -> None:
    """(Re)index these papers, videos, chapters or paths."""
    known = registry()
    entries = []
    for obj in objects:
        if (found := known.get(type(obj))) is not None:
            entries.append(found[1](obj))
    _write(entries)


def remove_objects(model, object_ids: Iterable[int]) -> None:
    if (found := registry().get(model)) is not None:
        _delete(found[0], object_ids)


def index_videos_of_paper(paper: Paper) -> None:
    """Chapters name their paper: a renamed paper renames its chapters' words."""
    if chapter := _optional_model("Chapter"):
        index_objects(_queryset(chapter).filter(paper=paper))


def _batches(queryset, size: int = 500) -> Iterator[list]:
    batch = []
    for obj in queryset.iterator(chunk_size=size):
        batch.append(obj)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def rebuild(progress=None) -> int:
    """Rewrite the whole index; ``progress(n)`` is called after each batch. Returns
    the number of entries."""
    with transaction.atomic():
        SearchEntry.objects.all().delete()
        if connection.vendor == "sqlite":
            with connection.cursor() as cursor:
                cursor.execute(f"DELETE FROM {FTS_TABLE}")
        total = 0
        for model in registry():
            for batch in _batches(_queryset(model).order_by("pk")):
                index_objects(batch)
                total += len(batch)
                if progress:
                    progress(len(batch))
    return total


def total_to_index() -> int:
    return sum(model._default_manager.count() for model in registry())
