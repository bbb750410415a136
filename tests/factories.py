import datetime as dt

import factory
from django.utils import timezone

from papers import identifiers
from papers.models import (
    Category,
    Chapter,
    CitationSnapshot,
    LearningPath,
    Paper,
    PathStep,
    Placement,
    Platform,
    VideoNote,
    ViewSnapshot,
)


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Category

    name = factory.Sequence(lambda n: f"分类 {n}")
    name_en = factory.Sequence(lambda n: f"Category {n}")
    slug = factory.Sequence(lambda n: f"category-{n}")
    position = factory.Sequence(lambda n: n)


class PaperFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Paper

    name = factory.Sequence(lambda n: f"Paper {n}")
    title = factory.LazyAttribute(lambda o: f"{o.name}: a full title")
    url = factory.Sequence(lambda n: f"https://arxiv.org/abs/2101.{n:05d}")
    arxiv_id = factory.Sequence(lambda n: f"2101.{n:05d}")
    s2_paper_id = factory.Sequence(lambda n: f"{n:040x}")
    year = 2021
    summary = factory.Sequence(lambda n: f"简介 {n}")
    slug = factory.Sequence(lambda n: f"paper-{n}")


class PlacementFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Placement

    paper = factory.SubFactory(PaperFactory)
    category = factory.SubFactory(CategoryFactory)
    position = factory.Sequence(lambda n: n)


class VideoNoteFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = VideoNote

    title = factory.Sequence(lambda n: f"视频 {n} 逐段精读")
    published_on = factory.Sequence(
        lambda n: dt.date(2022, 1, 1) + dt.timedelta(days=n)
    )
    duration = dt.timedelta(minutes=45, seconds=12)
    # Well-formed BV ids ("BV1" and nine base58 characters, no 0).
    bilibili_url = factory.Sequence(
        lambda n: f"https://www.bilibili.com/video/BV1{n + 1:09d}".replace("0", "z")
    )
    slug = factory.Sequence(lambda n: f"video-{n}")
    bvid = factory.LazyAttribute(lambda o: identifiers.bilibili_bvid(o.bilibili_url))
    youtube_url = ""
    youtube_id = factory.LazyAttribute(lambda o: identifiers.youtube_id(o.youtube_url))


class ChapterFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Chapter

    video = factory.SubFactory(VideoNoteFactory)
    start = factory.Sequence(lambda n: 60 * n)
    title = factory.Sequence(lambda n: f"第 {n} 段")
    source = Chapter.Source.BILIBILI


class ViewSnapshotFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ViewSnapshot

    video = factory.SubFactory(VideoNoteFactory)
    platform = Platform.BILIBILI
    count = 1000
    fetched_at = factory.LazyFunction(timezone.now)


class CitationSnapshotFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CitationSnapshot

    paper = factory.SubFactory(PaperFactory)
    count = 100
    fetched_at = factory.LazyFunction(timezone.now)


class LearningPathFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = LearningPath

    title = factory.Sequence(lambda n: f"路线 {n}")
    title_en = factory.Sequence(lambda n: f"Path {n}")
    slug = factory.Sequence(lambda n: f"path-{n}")
    position = factory.Sequence(lambda n: n)


class PathStepFactory(factory.django.DjangoModelFactory):
    """A paper step; pass ``paper=None, video=...`` for a video step."""

    class Meta:
        model = PathStep

    path = factory.SubFactory(LearningPathFactory)
    position = factory.Sequence(lambda n: n)
    paper = factory.SubFactory(PaperFactory)
    video = None
    note = factory.Sequence(lambda n: f"为什么读第 {n} 步")
