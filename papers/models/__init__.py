from papers.models.catalogue import (
    ARXIV_ID_VALIDATOR,
    DOI_VALIDATOR,
    S2_ID_VALIDATOR,
    Category,
    CitationSnapshot,
    Paper,
    PaperQuerySet,
    Placement,
    VideoNote,
)

__all__ = [
    "ARXIV_ID_VALIDATOR",
    "DOI_VALIDATOR",
    "S2_ID_VALIDATOR",
    "Category",
    "CitationSnapshot",
    "Paper",
    "PaperQuerySet",
    "Placement",
    "VideoNote",
]
