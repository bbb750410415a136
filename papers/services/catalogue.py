"""Papers: the one way a paper is created, with its identifiers and its slug.

The README import, accepting a 请求精读 and the admin's "add paper" all call
:func:`paper_create`, so a paper gets the same ids and slug whichever way it came.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction

from papers import identifiers
from papers.models import (
    ARXIV_ID_VALIDATOR,
    DOI_VALIDATOR,
    S2_ID_VALIDATOR,
    Paper,
)

__all__ = ["paper_create", "paper_id_parse", "paper_identifiers", "paper_slug"]

ID_FIELDS = ("s2_paper_id", "arxiv_id", "doi")


def _s2_id(text: str) -> str:
    return identifiers.s2_id_from_url(text) or (
        text.lower() if identifiers.is_s2_paper_id(text) else ""
    )


# Each id field: what turns an id or a pasted link into the id, and the validator
# whose message says what was expected.
_ID_PARSERS = {
    "s2_paper_id": (_s2_id, S2_ID_VALIDATOR),
    "arxiv_id": (identifiers.normalise_arxiv_id, ARXIV_ID_VALIDATOR),
    "doi": (identifiers.doi_from_text, DOI_VALIDATOR),
}
# The ids a paper's own link gives when the field itself is blank.
_IDS_FROM_URL = {
    "s2_paper_id": identifiers.s2_id_from_url,
    "arxiv_id": identifiers.arxiv_id_from_url,
    "doi": identifiers.doi_from_text,
}


def paper_id_parse(field: str, text: str) -> str:
    """The ``field`` id that ``text`` means: the id itself or a pasted link to the
    paper ("" when blank). Raises ValidationError with the field's message."""
    text = (text or "").strip()
    if not text:
        return ""
    parse, validator = _ID_PARSERS[field]
    if parsed := parse(text):
        return parsed
    raise ValidationError(validator.message, code="invalid")


def paper_identifiers(*, url: str = "", **ids: str) -> dict[str, str]:
    """All three ids, normalised, with the blank ones taken from the paper's link.

    Raises ValidationError keyed by field for an id that is not one.
    """
    found, errors = {}, {}
    for field in ID_FIELDS:
        try:
            found[field] = paper_id_parse(field, ids.get(field, ""))
        except ValidationError as exc:
            errors[field] = exc.messages
    if errors:
        raise ValidationError(errors)
    if url:
        for field, from_url in _IDS_FROM_URL.items():
            found[field] = found[field] or from_url(url)
    return found


def paper_slug(
    *, name: str, arxiv_id: str = "", s2_paper_id: str = "", exclude_pk=None
) -> str:
    """A slug no other paper has, from the name (or an id when the name gives none)."""
    # The slug functions live with the README import, which imports this module.
    from papers.services.readme import paper_slug_base, unique_slug

    return unique_slug(
        Paper,
        paper_slug_base(name=name, arxiv_id=arxiv_id, s2_paper_id=s2_paper_id),
        exclude_pk=exclude_pk,
    )


@transaction.atomic
def paper_create(
    *,
    name: str,
    url: str = "",
    s2_paper_id: str = "",
    arxiv_id: str = "",
    doi: str = "",
    slug: str = "",
    **fields,
) -> Paper:
    """Create a paper from what a curator, a README row or a request gives.

    Ids may be pasted links; blank ones come from ``url``; the slug is made from
    the name unless given. ``fields`` are other Paper fields (title, year,
    summary, is_recorded). Raises ValidationError, keyed by field, and writes
    nothing when the paper would be invalid.
    """
    ids = paper_identifiers(
        url=url, s2_paper_id=s2_paper_id, arxiv_id=arxiv_id, doi=doi
    )
    paper = Paper(name=name, url=url, **ids, **fields)
    paper.slug = slug or paper_slug(
        name=name, arxiv_id=ids["arxiv_id"], s2_paper_id=ids["s2_paper_id"]
    )
    paper.full_clean()
    paper.save()
    return paper
