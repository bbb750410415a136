"""Every write goes through a service: one module per area.

``catalogue`` creates papers; ``readme`` imports the README format;
``citations`` refreshes citation counts; ``reading_requests`` handles 请求精读.
"""

from papers.services.catalogue import paper_create
from papers.services.readme import (
    ImportReport,
    ReadmeSourceError,
    paper_slug_base,
    readme_import,
    readme_read_source,
    unique_slug,
)

__all__ = [
    "ImportReport",
    "ReadmeSourceError",
    "paper_create",
    "paper_slug_base",
    "readme_import",
    "readme_read_source",
    "unique_slug",
]
