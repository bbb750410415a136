"""Answering a query: words, aliases, the full-text match, grouping and ranking.

User text never reaches the database as query syntax: it is cut into words (letters,
digits, CJK; everything else is dropped) and the query is built from those words,
each quoted (FTS5) or passed as a plain parameter (``plainto_tsquery``).
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from dataclasses import dataclass, field

from django.contrib.postgres.search import SearchQuery, SearchRank
from django.db import connection
from django.db.models import F, Q
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from papers.cache import current_content_version
from papers.models import SearchAlias, SearchEntry
from papers.search.segment import CJK, HAS_CJK, TOKEN, tokenizer

Kind = SearchEntry.Kind
MAX_QUERY = 200
GROUP_LIMITS = {Kind.PAPER: 101, Kind.VIDEO: 20, Kind.CHAPTER: 20, Kind.PATH: 20}
TRIGRAM_THRESHOLD = 0.3
ARXIV = re.compile(r"^(?:arxiv:)?(\d{4}\.\d{4,5})(?:v\d+)?$", re.I)


def clean(raw: str) -> str:
    """At most 200 characters, without control characters, stripped."""
    text = "".join(
        (" " if c.isspace() else "")
        if unicodedata.category(c) in ("Cc", "Cs", "Zl", "Zp")
        else c
        for c in raw or ""
    )
    return text.strip()[:MAX_QUERY].strip()


def query_words(text: str) -> list[str]:
    """The words of a query: Chinese cut precisely (注意力机制 stays whole; the index
    also holds its parts), Latin lower-cased, duplicates dropped."""
    text = unicodedata.normalize("NFKC", text)
    out: dict[str, None] = {}
    for match in TOKEN.finditer(text):
        token = match.group(0)
        if HAS_CJK.match(token):
            for word in tokenizer().cut(token, HMM=False):
                if word.strip():
                    out.setdefault(word, None)
        else:
            out.setdefault(token.lower(), None)
    return list(out)


@dataclass
class Slot:
    """One position of the query: any one of ``alternatives`` (each a list of words
    that must all match) will do."""

    alternatives: list[list[str]]


@dataclass
class Parsed:
    text: str
    words: list[str]
    slots: list[Slot] = field(default_factory=list)

    @property
    def all_words(self) -> list[str]:
        seen: dict[str, None] = {}
        for slot in self.slots:
            for alternative in slot.alternatives:
                for word in alternative:
                    seen.setdefault(word, None)
        return list(seen)


_alias_memo: dict = {}


def current_aliases() -> list[tuple[str, str]]:
    """The curated aliases, read once per content version (an alias edit bumps it,
    as every public write does: papers.signals), not once per search."""
    version = current_content_version()
    if _alias_memo.get("version") != version:
        _alias_memo["aliases"] = list(
            SearchAlias.objects.values_list("term", "expansion")
        )
        _alias_memo["version"] = version
    return _alias_memo["aliases"]


def _find(words: list[str], part: list[str]) -> int:
    for i in range(len(words) - len(part) + 1):
        if words[i : i + len(part)] == part:
            return i
    return -1


def parse(text: str, aliases: list[tuple[str, str]] | None = None) -> Parsed:
    words = query_words(text)
    parsed = Parsed(text=text, words=words)
    if aliases is None:
        aliases = current_aliases()
    spans: dict[tuple[int, int], list[list[str]]] = {}
    for term, expansion in aliases:
        for a, b in ((term, expansion), (expansion, term)):
            a_words, b_words = query_words(a), query_words(b)
            if not a_words or not b_words:
                continue
            start = _find(words, a_words)
            if start >= 0:
                span = (start, start + len(a_words))
                spans.setdefault(span, [a_words])
                if b_words not in spans[span]:
                    spans[span].append(b_words)
    # Longest alias spans win; words outside them are slots of their own.
    taken: set[int] = set()
    chosen: dict[int, Slot] = {}
    for (start, end), alternatives in sorted(
        spans.items(), key=lambda s: s[0][0] - s[0][1]
    ):
        if taken.isdisjoint(range(start, end)):
            taken.update(range(start, end))
            chosen[start] = Slot(alternatives)
    i = 0
    while i < len(words):
        if i in chosen:
            parsed.slots.append(chosen[i])
            i += len(chosen[i].alternatives[0])
        else:
            parsed.slots.append(Slot([[words[i]]]))
            i += 1
    return parsed


# --- the backends ------------------------------------------------------------------


def _pg_word(word: str, prefix: bool) -> SearchQuery:
    query = SearchQuery(word, config="simple") | SearchQuery(word, config="english")
    if prefix and re.fullmatch(r"[0-9a-z]{2,}", word):
        query |= SearchQuery(f"{word}:*", config="simple", search_type="raw")
    return query


def _pg_query(parsed: Parsed) -> SearchQuery | None:
    combined = None
    last = len(parsed.slots) - 1
    for n, slot in enumerate(parsed.slots):
        either = None
        for alternative in slot.alternatives:
            every = None
            for word in alternative:
                part = _pg_word(word, prefix=n == last and len(slot.alternatives) == 1)
                every = part if every is None else every & part
            either = every if either is None else either | every
        combined = either if combined is None else combined & either
    return combined


def _fts_word(word: str, prefix: bool) -> str:
    quoted = '"' + word.replace('"', '""') + '"'
    return quoted + "*" if prefix and re.fullmatch(r"[0-9a-z]{2,}", word) else quoted


def _fts_query(parsed: Parsed) -> str:
    last = len(parsed.slots) - 1
    slots = []
    for n, slot in enumerate(parsed.slots):
        prefix = n == last and len(slot.alternatives) == 1
        alternatives = [
            "(" + " AND ".join(_fts_word(w, prefix) for w in alternative) + ")"
            for alternative in slot.alternatives
        ]
        slots.append("(" + " OR ".join(alternatives) + ")")
    return " AND ".join(slots)


def _limits_sql() -> tuple[str, list]:
    whens = " ".join(["WHEN %s THEN %s"] * len(GROUP_LIMITS))
    params = [v for kind, limit in GROUP_LIMITS.items() for v in (str(kind), limit)]
    return f"CASE kind {whens} ELSE 0 END", params


def _ranked_postgres(parsed: Parsed) -> list[tuple[int, int, str, float]]:
    query = _pg_query(parsed)
    if query is None:
        return []
    ranked = (
        SearchEntry.objects.filter(vector=query)
        .annotate(rank=SearchRank(F("vector"), query))
        .values_list("pk", "object_id", "kind", "rank", "popularity")
    )
    sql, params = ranked.query.sql_with_params()
    limits, limit_params = _limits_sql()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id, object_id, kind, rank FROM (SELECT *, ROW_NUMBER() OVER ("
            "PARTITION BY kind ORDER BY rank DESC, popularity DESC, id) AS n"
            f" FROM ({sql}) AS hits(id, object_id, kind, rank, popularity)) AS numbered"
            f" WHERE n <= {limits} ORDER BY kind, n",
            [*params, *limit_params],
        )
        return cursor.fetchall()


def _ranked_sqlite(parsed: Parsed) -> list[tuple[int, int, str, float]]:
    if not parsed.slots:
        return []
    limits, limit_params = _limits_sql()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id, object_id, kind, rank FROM (SELECT e.id, e.object_id,"
            " e.kind, hits.rank,"
            " ROW_NUMBER() OVER (PARTITION BY e.kind ORDER BY hits.rank DESC,"
            " e.popularity DESC, e.id) AS n FROM (SELECT rowid,"
            " -bm25(papers_search_fts, 10.0, 1.0) AS rank FROM papers_search_fts"
            " WHERE papers_search_fts MATCH %s) AS hits"
            " JOIN papers_searchentry e ON e.id = hits.rowid)"
            f" WHERE n <= {limits} ORDER BY kind, n",
            [_fts_query(parsed), *limit_params],
        )
        return cursor.fetchall()


def ranked(parsed: Parsed) -> list[tuple[int, int, str, float]]:
    """(entry id, object id, kind, rank): each kind's best entries, best first."""
    if connection.vendor == "postgresql":
        return _ranked_postgres(parsed)
    return _ranked_sqlite(parsed)


def _typo_matches(text: str, limit: int) -> list[int]:
    """Papers whose name is close to the query (PostgreSQL trigram similarity):
    "tranformer" finds Transformer. Object ids, closest first."""
    if connection.vendor != "postgresql" or len(text) < 3:
        return []
    from django.contrib.postgres.search import TrigramSimilarity

    return list(
        SearchEntry.objects.filter(kind=Kind.PAPER)
        .annotate(similarity=TrigramSimilarity("name_key", text.lower()))
        .filter(similarity__gte=TRIGRAM_THRESHOLD)
        .order_by("-similarity", "pk")
        .values_list("object_id", flat=True)[:limit]
    )


def suggestions(text: str, limit: int = 5) -> list[dict]:
    """The paper names closest to a query that found nothing ("did you mean"), as
    {"title", "url"}: trigram similarity on PostgreSQL, difflib over the names on
    SQLite (a few thousand at most). One query."""
    text = text.lower()
    if not text:
        return []
    entries = SearchEntry.objects.filter(kind=Kind.PAPER)
    if connection.vendor == "postgresql":
        from django.contrib.postgres.search import TrigramSimilarity

        return list(
            entries.annotate(similarity=TrigramSimilarity("name_key", text))
            .filter(similarity__gt=0.1)
            .order_by("-similarity", "pk")
            .values("title", "url")[:limit]
        )
    rows = {
        row["name_key"]: row
        for row in entries.values("name_key", "title", "url")[:5000]
    }
    close = difflib.get_close_matches(text, list(rows), n=limit, cutoff=0.5)
    return [{"title": rows[name]["title"], "url": rows[name]["url"]} for name in close]


# --- one search ----------------------------------------------------------------


@dataclass
class Results:
    parsed: Parsed
    paper_ids: list[int]  # best first; the caller loads the papers it shows
    groups: dict[str, list[SearchEntry]]  # videos, chapters, paths


def _name_matches(text: str) -> list[int]:
    """Papers named exactly so or with this arXiv id (first), then papers whose
    (Latin) name contains the query, as the old search did (bert finds RoBERTa).
    Object ids."""
    lowered = text.lower()
    condition = Q(name_key=lowered)
    arxiv = ARXIV.match(lowered)
    if arxiv:
        condition |= Q(arxiv_id=arxiv.group(1))
    if len(lowered) >= 2 and not HAS_CJK.search(lowered):
        condition |= Q(name_key__contains=lowered)
    rows = SearchEntry.objects.filter(condition, kind=Kind.PAPER).values_list(
        "object_id", "name_key", "arxiv_id", "popularity"
    )[: GROUP_LIMITS[Kind.PAPER]]
    exact, rest = [], []
    for object_id, name, arxiv_id, popularity in rows:
        if name == lowered or (arxiv and arxiv_id == arxiv.group(1)):
            exact.append(object_id)
        else:
            rest.append((-popularity, object_id))
    return exact + [object_id for _, object_id in sorted(rest)]


def search(text: str) -> Results:
    """Every group's best entries: the aliases (memoised), the names, the full text
    and, when other groups matched, their entries; on PostgreSQL one more query for
    typos when fewer than three papers matched."""
    text = clean(text)
    parsed = parse(text) if text else Parsed(text="", words=[])
    paper_ids: list[int] = _name_matches(text) if text else []
    others: dict[str, list[int]] = {kind: [] for kind in GROUP_LIMITS}
    for pk, object_id, kind, _rank in ranked(parsed):
        if kind == Kind.PAPER:
            paper_ids.append(object_id)
        else:
            others[kind].append(pk)
    paper_limit = GROUP_LIMITS[Kind.PAPER]
    if text and len(set(paper_ids)) < 3:
        paper_ids += _typo_matches(text, paper_limit)
    paper_ids = list(dict.fromkeys(paper_ids))[:paper_limit]
    wanted = [pk for kind, pks in others.items() for pk in pks]
    by_pk = SearchEntry.objects.in_bulk(wanted) if wanted else {}
    groups = {
        kind: [by_pk[pk] for pk in pks if pk in by_pk]
        for kind, pks in others.items()
        if kind != Kind.PAPER
    }
    return Results(parsed=parsed, paper_ids=paper_ids, groups=groups)


# --- highlighting --------------------------------------------------------------


def highlight(text: str, words: list[str]) -> SafeString:
    """``text`` escaped, then each occurrence of a query word wrapped in <mark>."""
    escaped = escape(text or "")
    terms = sorted({escape(w) for w in words if w}, key=len, reverse=True)
    if not terms:
        return mark_safe(escaped)
    # Latin words match at word starts only (attention, not "tension"); never inside
    # an entity such as &amp; (entities start with & and the terms have none).
    pattern = re.compile(
        "|".join(
            re.escape(t) if HAS_CJK.search(t) else rf"(?<![\w&#]){re.escape(t)}"
            for t in terms
        ),
        re.IGNORECASE,
    )
    return mark_safe(pattern.sub(lambda m: f"<mark>{m.group(0)}</mark>", escaped))


def snippet(text: str, words: list[str], length: int = 120) -> str:
    """Around the first match, at most ``length`` characters of plain text."""
    text = " ".join((text or "").split())
    if len(text) <= length:
        return text
    lowered = text.lower()
    hits = [lowered.find(w) for w in words if w and lowered.find(w) >= 0]
    start = max(0, min(hits) - length // 3) if hits else 0
    piece = text[start : start + length]
    return ("…" if start else "") + piece + ("…" if start + length < len(text) else "")


__all__ = ["CJK", "Results", "clean", "highlight", "parse", "search", "snippet"]
