"""Backfill the new video fields from what each video already holds: its slug from the
title (or its BV id / date), its platform ids from its links, its series from its title."""

from django.db import migrations

from papers import identifiers
from papers.video_titles import series_and_part, video_slug_base


def backfill(apps, schema_editor):
    VideoNote = apps.get_model("papers", "VideoNote")
    taken = set()
    videos = list(VideoNote.objects.order_by("published_on", "id"))
    for video in videos:
        video.bvid = identifiers.bilibili_bvid(video.bilibili_url)
        video.youtube_id = identifiers.youtube_id(video.youtube_url)
        video.series, video.part = series_and_part(video.title)
        base = video_slug_base(
            title=video.title,
            published_on=video.published_on,
            bvid=video.bvid,
            youtube_id=video.youtube_id,
        )
        slug, n = base, 2
        while slug in taken:
            slug, n = f"{base}-{n}", n + 1
        taken.add(slug)
        video.slug = slug
    VideoNote.objects.bulk_update(
        videos, ["slug", "bvid", "youtube_id", "series", "part"], batch_size=500
    )


class Migration(migrations.Migration):
    dependencies = [("papers", "0010_video_fields_chapters")]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
