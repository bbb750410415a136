"""The curators' admin, one module per area; importing them registers the models."""

from papers.admin import (  # noqa: F401
    catalogue,
    login_protection,
    paths,
    reading_requests,
    refresh,
    search,
)
