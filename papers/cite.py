"""Reads for the citation files: papers as ``CitableWork``, with keys unique over the
whole list, in constant queries (the formats themselves are in citation_formats.py).
"""

from __future__ import annotations

from django.db.models import Min

from papers.citation_formats import CitableWork, base_key, is_han, unique_keys
from papers.models import Category, Paper, Placement

# What a citation reads of a paper; the issue-13 details may be absent on older rows.
CITE_FIELDS = (
    "id",
    "name",
    "title",
    "url",
    "year",
    "arxiv_id",
    "doi",
    "slug",
)
DETAIL_FIELDS = ("authors", "venue", "venue_type", "publication_date", "abstract")
_MODEL_FIELDS = {f.name for f in Paper._meta.get_fields()}


def _fields() -> list[str]:
    return [*CITE_FIELDS, *(f for f in DETAIL_FIELDS if f in _MODEL_FIELDS)]


def author_names(paper) -> list[str]:
    """The authors' display names, in order (stored as names or {"name": ...})."""
    names = []
    for author in getattr(paper, "authors", None) or []:
        name = author.get("name", "") if isinstance(author, dict) else str(author)
        if name.strip():
            names.append(" ".join(name.split()))
    return names


def paper_title(paper) -> str:
    return paper.title or paper.name


def _base_key(paper) -> str:
    return base_key(
        authors=author_names(paper), year=paper.year, title=paper_title(paper)
    )


def citable_work(paper, key: str) -> CitableWork:
    title = paper_title(paper)
    venue_type = (getattr(paper, "venue_type", "") or "").lower()
    return CitableWork(
        key=key,
        title=title,
        authors=tuple(author_names(paper)),
        year=paper.year,
        date=getattr(paper, "publication_date", None),
        venue=getattr(paper, "venue", "") or "",
        venue_type=venue_type if venue_type in ("journal", "conference") else "",
        doi=paper.doi,
        arxiv_id=paper.arxiv_id,
        url=paper.url,
        abstract=getattr(paper, "abstract", "") or "",
        language="zh" if is_han(title) else "en",
    )


def _works(papers: list, everyone) -> list[CitableWork]:
    keys = unique_keys((p.pk, _base_key(p)) for p in everyone)
    return [citable_work(p, keys[p.pk]) for p in papers]


def paper_citation(*, slug: str) -> CitableWork | None:
    """One paper (two queries: the paper, then the earlier papers of its year, whose
    keys could collide with its own: a key holds the year)."""
    paper = Paper.objects.only(*_fields()).filter(slug=slug).first()
    if paper is None:
        return None
    same_year = (
        Paper.objects.only(*_fields()).filter(year=paper.year, pk__lt=paper.pk)
        if paper.year is not None
        else Paper.objects.only(*_fields()).filter(year__isnull=True, pk__lt=paper.pk)
    )
    return _works([paper], [*same_year, paper])[0]


def page_citation(paper) -> CitableWork:
    """The citation of a paper already loaded (one query: the earlier papers of its
    year, whose keys could collide with its own)."""
    same_year = (
        Paper.objects.only(*_fields()).filter(year=paper.year, pk__lt=paper.pk)
        if paper.year is not None
        else Paper.objects.only(*_fields()).filter(year__isnull=True, pk__lt=paper.pk)
    )
    return _works([paper], [*same_year, paper])[0]


def _all_papers() -> dict[int, Paper]:
    return {p.pk: p for p in Paper.objects.only(*_fields()).order_by("pk")}


def category_citations(*, slug: str) -> tuple[Category, list[CitableWork]] | None:
    """A category's papers in curator order (three queries)."""
    category = Category.objects.filter(slug=slug).first()
    if category is None:
        return None
    everyone = _all_papers()
    order = Placement.objects.filter(category=category).order_by("position", "id")
    papers = [everyone[pk] for pk in order.values_list("paper_id", flat=True)]
    return category, _works(papers, everyone.values())


def list_citations() -> list[CitableWork]:
    """Every listed paper once, in the order of the list (two queries)."""
    everyone = _all_papers()
    order = (
        Placement.objects.values("paper_id")
        .annotate(first=Min("category__position"), at=Min("position"))
        .order_by("first", "at", "paper_id")
    )
    papers = [everyone[row["paper_id"]] for row in order]
    return _works(papers, everyone.values())
