"""The curators' admin, one module per area; importing them registers the models."""

from papers.admin import catalogue, paths, reading_requests, refresh, search  # noqa: F401
