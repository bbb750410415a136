from papers.models.catalogue import (
    ARXIV_ID_VALIDATOR,
    CURATABLE_FIELDS,
    DOI_VALIDATOR,
    S2_ID_VALIDATOR,
    Category,
    CitationSnapshot,
    Paper,
    PaperQuerySet,
    Placement,
    VideoNote,
)
from papers.models.paths import LearningPath, PathStep
from papers.models.rate_limits import RateLimitCounter
from papers.models.reading_requests import ReadingRequest, RequestVote
from papers.models.redirects import PaperSlugRedirect
from papers.models.refresh import RefreshRun
from papers.models.scholarly import PaperLink, ReferenceList
from papers.models.search import SearchAlias, SearchEntry
from papers.models.videos import Chapter, Platform, ViewSnapshot

__all__ = [
    "ARXIV_ID_VALIDATOR",
    "CURATABLE_FIELDS",
    "DOI_VALIDATOR",
    "S2_ID_VALIDATOR",
    "Category",
    "Chapter",
    "CitationSnapshot",
    "LearningPath",
    "Paper",
    "PaperLink",
    "PaperQuerySet",
    "PaperSlugRedirect",
    "PathStep",
    "Platform",
    "Placement",
    "RateLimitCounter",
    "ReadingRequest",
    "ReferenceList",
    "RefreshRun",
    "RequestVote",
    "SearchAlias",
    "SearchEntry",
    "VideoNote",
    "ViewSnapshot",
]
