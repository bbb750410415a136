"""Receivers that invalidate the public page cache when the data behind it changes.

Only cache invalidation lives here (no business logic). Writes that bypass signals
(``bulk_create``, ``bulk_update``, ``QuerySet.update``) call
``papers.cache.bump_content_version()`` themselves.
"""

from django.db.models.signals import m2m_changed, post_delete, post_save

from papers.cache import bump_content_version
from papers.models import (
    Category,
    Chapter,
    CitationSnapshot,
    LearningPath,
    Paper,
    PathStep,
    Placement,
    RefreshRun,
    VideoNote,
    ViewSnapshot,
)

# Everything a public page shows: the list, its papers and videos, citation counts and
# their history, when they were last refreshed, and the learning paths.
PUBLIC_MODELS = (
    Category,
    Paper,
    Placement,
    VideoNote,
    Chapter,
    CitationSnapshot,
    ViewSnapshot,
    RefreshRun,
    LearningPath,
    PathStep,
)


def invalidate_public_pages(sender, **kwargs):
    bump_content_version()


def invalidate_public_pages_on_m2m(sender, action, **kwargs):
    if action in ("post_add", "post_remove", "post_clear"):
        bump_content_version()


def connect_cache_invalidation():
    for model in PUBLIC_MODELS:
        uid = f"papers.cache.{model.__name__}"
        post_save.connect(invalidate_public_pages, sender=model, dispatch_uid=uid)
        post_delete.connect(invalidate_public_pages, sender=model, dispatch_uid=uid)
    # paper.categories.add() and video.papers.set() write the through tables in bulk.
    for through in (Paper.categories.through, VideoNote.papers.through):
        m2m_changed.connect(
            invalidate_public_pages_on_m2m,
            sender=through,
            dispatch_uid=f"papers.cache.m2m.{through._meta.label}",
        )
