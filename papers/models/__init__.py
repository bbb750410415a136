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
from papers.models.rate_limits import RateLimitCounter
from papers.models.reading_requests import ReadingRequest, RequestVote
from papers.models.refresh import RefreshRun

__all__ = [
    "ARXIV_ID_VALIDATOR",
    "DOI_VALIDATOR",
    "S2_ID_VALIDATOR",
    "Category",
    "CitationSnapshot",
    "Paper",
    "PaperQuerySet",
    "Placement",
    "RateLimitCounter",
    "ReadingRequest",
    "RefreshRun",
    "RequestVote",
    "VideoNote",
]
