"""The curators' admin, one module per area; importing them registers the models."""

from papers.admin import catalogue, refresh, requests  # noqa: F401
