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
    SearchAlias,
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
    SearchAlias,  # search results follow the aliases
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


# The search index follows single saves and deletes (admin, readme import). Bulk
# writers call papers.search.index themselves. Models that other issues add (Chapter,
# LearningPath) are connected once they exist (papers.search.index.registry).


def reindex_on_save(sender, instance, raw=False, **kwargs):
    if raw:  # loaddata: rebuild_search_index afterwards
        return
    from papers.search import index

    index.index_objects([instance])
    if sender is Paper:
        index.index_videos_of_paper(instance)


def unindex_on_delete(sender, instance, **kwargs):
    from papers.search import index

    index.remove_objects(sender, [instance.pk])


def connect_search_index():
    from papers.search.index import registry

    for model in registry():
        uid = f"papers.search.{model.__name__}"
        post_save.connect(reindex_on_save, sender=model, dispatch_uid=uid)
        post_delete.connect(unindex_on_delete, sender=model, dispatch_uid=uid)
