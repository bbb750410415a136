"""The starter aliases we ship (papers/data/search_aliases.txt)."""

from __future__ import annotations

from pathlib import Path

from papers.models import SearchAlias

STARTER_ALIASES = Path(__file__).resolve().parent.parent / "data" / "search_aliases.txt"


def starter_aliases(path: Path = STARTER_ALIASES) -> list[tuple[str, str]]:
    pairs = []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        term, _, expansion = line.partition("=")
        if term.strip() and expansion.strip():
            pairs.append((term.strip(), expansion.strip()))
    return pairs


def load_starter_aliases() -> int:
    """Add the shipped pairs that are missing; returns how many were added."""
    existing = set(SearchAlias.objects.values_list("term", "expansion"))
    new = [
        SearchAlias(term=term, expansion=expansion)
        for term, expansion in starter_aliases()
        if (term, expansion) not in existing
    ]
    SearchAlias.objects.bulk_create(new)
    if new:
        from papers.cache import bump_content_version

        bump_content_version()
    return len(new)
