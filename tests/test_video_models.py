"""Issue 12 models: video slugs, platform ids, series, chapters, and the selectors the
video pages read (constant query counts)."""

import datetime as dt
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from papers import selectors_videos
from papers.models import Chapter, VideoNote
from papers.services import readme_import
from papers.video_titles import series_and_part, video_slug_base
from tests.factories import (
    ChapterFactory,
    PaperFactory,
    VideoNoteFactory,
    ViewSnapshotFactory,
)

# The five 《Llama 3.1》 parts, as the upstream README titles them.
LLAMA_TITLES = [
    "Llama 3.1论文精读 · 1. 导言",
    "[Llama 3.1论文精读 · 2. 预训练数据](https://arxiv.org/pdf/2407.21783)",
    "Llama 3.1论文精读 · 3. 模型",
    "Llama 3.1论文精读 · 4. 训练infra",
    "Llama 3.1论文精读 · 5. 模型训练过程",
]

README = (Path(__file__).parent / "data" / "videos-series.md").read_text(
    encoding="utf-8"
)


@pytest.mark.parametrize("number, title", list(enumerate(LLAMA_TITLES, start=1)))
def test_llama_parts_are_one_series_in_order(number, title):
    assert series_and_part(title) == ("Llama 3.1论文精读", number)


@pytest.mark.parametrize(
    "title", ["GPT-4论文精读", "Transformer论文逐段精读【论文精读】", "", "A · B"]
)
def test_a_title_without_a_part_is_no_series(title):
    assert series_and_part(title) == ("", None)


def test_slug_base_is_ascii_from_the_title_or_the_ids():
    day = dt.date(2021, 11, 18)
    assert video_slug_base(title="GPT-4论文精读", published_on=day) == "gpt-4"
    assert (
        video_slug_base(title="对比学习论文综述", published_on=day, bvid="BV19S4y1M7hm")
        == "2021-11-18-bv19s4y1m7hm"
    )
    assert video_slug_base(title="对比学习", published_on=day) == "2021-11-18"


@pytest.mark.django_db
def test_import_gives_videos_slugs_ids_and_series():
    readme_import(text=README)
    videos = {v.plain_title: v for v in VideoNote.objects.all()}
    part5 = videos["Llama 3.1论文精读 · 5. 模型训练过程"]
    part1 = videos["Llama 3.1论文精读 · 1. 导言"]
    assert (part5.series, part5.part, part1.part) == ("Llama 3.1论文精读", 5, 1)
    assert part5.bvid == "BV1c8HbeaEXi"
    assert part1.youtube_id == "-PztagF3wQE"
    assert part5.slug != part1.slug
    assert all(v.slug.isascii() for v in videos.values())
    assert videos["GPT-4论文精读"].slug == "gpt-4"
    assert videos["对比学习论文综述"].slug == "2021-11-18-bv19s4y1m7hm"
    assert videos["GPT-4论文精读"].series == ""
    # A re-import keeps the slugs (links to the video pages stay valid).
    slugs = set(VideoNote.objects.values_list("slug", flat=True))
    readme_import(text=README)
    assert set(VideoNote.objects.values_list("slug", flat=True)) == slugs


@pytest.mark.django_db
def test_video_page_url_uses_the_slug(client):
    video = VideoNoteFactory(title="GPT-4论文精读", slug="gpt-4")
    assert video.get_absolute_url() == "/videos/gpt-4/"
    response = client.get("/videos/gpt-4/")
    assert response.status_code == 200
    assert "GPT-4论文精读" in response.text
    assert client.get("/videos/no-such-video/").status_code == 404


@pytest.mark.django_db
def test_platform_ids_follow_the_links_on_clean():
    video = VideoNoteFactory.build(
        slug="x",
        bilibili_url="https://b23.tv/BV1b4421f7fa",
        youtube_url="https://youtu.be/6XidEHVjS1A",
    )
    video.full_clean()
    assert (video.bvid, video.youtube_id) == ("BV1b4421f7fa", "6XidEHVjS1A")


@pytest.mark.django_db
def test_a_chapter_ends_after_it_starts():
    chapter = ChapterFactory.build(video=VideoNoteFactory(), start=90, end=60)
    with pytest.raises(ValidationError, match="结束时间"):
        chapter.full_clean()


@pytest.mark.django_db
def test_curator_and_edited_chapters_are_kept_by_the_refresh():
    video = VideoNoteFactory()
    assert not ChapterFactory(video=video).kept_by_refresh
    assert ChapterFactory(video=video, edited=True).kept_by_refresh
    assert ChapterFactory(video=video, source=Chapter.Source.CURATOR).kept_by_refresh


@pytest.mark.django_db
def test_cover_thumb_is_none_until_made():
    video = VideoNoteFactory()
    assert video.cover_thumb is None
    video.cover_small, video.cover_small_width, video.cover_small_height = (
        "covers/thumbs/x-480.webp", 480, 270,
    )  # fmt: skip
    assert video.cover_thumb == ("/media/covers/thumbs/x-480.webp", 480, 270)


def _videos(n):
    papers = PaperFactory.create_batch(5)
    videos = VideoNoteFactory.create_batch(n)
    for i, video in enumerate(videos):
        video.papers.add(papers[i % 5])
        ChapterFactory(video=video, start=0, paper=papers[(i + 1) % 5])
        ChapterFactory(video=video, start=300)
        ViewSnapshotFactory(video=video)
    return videos


@pytest.mark.django_db
@pytest.mark.parametrize("n", [59, 1000])
def test_gallery_reads_in_two_queries(n, django_assert_num_queries):
    _videos(n)
    with django_assert_num_queries(2):
        videos = list(selectors_videos.videos_for_gallery())
        names = [p.name for v in videos for p in v.papers.all()]
        thumbs = [v.cover_thumb for v in videos]
    assert len(videos) == n
    assert len(names) == n
    assert thumbs == [None] * n


@pytest.mark.django_db
@pytest.mark.parametrize("n", [59, 1000])
def test_video_page_reads_in_four_queries(n, django_assert_num_queries):
    videos = _videos(n)
    slug = videos[n // 2].slug
    with django_assert_num_queries(4):
        video = selectors_videos.video_for_page(slug)
        chapters = [(c.start, c.paper and c.paper.slug) for c in video.chapters.all()]
        papers = [p.slug for p in video.papers.all()]
        snapshots = [s.count for s in video.view_snapshots.all()]
    assert [start for start, _ in chapters] == [0, 300]
    assert chapters[0][1] is not None
    assert len(papers) == 1
    assert snapshots == [1000]
    assert selectors_videos.video_for_page("nope") is None


@pytest.mark.django_db
def test_a_paper_page_finds_its_moments_in_one_query(django_assert_num_queries):
    paper = PaperFactory()
    chapter = ChapterFactory(paper=paper, start=1234)
    ChapterFactory()  # another paper's
    with django_assert_num_queries(1):
        moments = selectors_videos.chapters_for_paper(paper)
        found = [(c.video.slug, c.start) for c in moments]
    assert found == [(chapter.video.slug, 1234)]


@pytest.mark.django_db(transaction=True)
def test_migration_backfills_slugs_ids_and_series():
    executor = MigrationExecutor(connection)
    executor.migrate([("papers", "0010_video_fields_chapters")])
    apps = executor.loader.project_state(
        [("papers", "0010_video_fields_chapters")]
    ).apps
    Old = apps.get_model("papers", "VideoNote")
    for title, bv in [
        ("Llama 3.1论文精读 · 3. 模型", "BV1Q4421Z7Tj"),
        ("对比学习论文综述", "BV19S4y1M7hm"),
        ("对比学习论文综述", ""),
    ]:
        Old.objects.create(
            title=title,
            published_on=dt.date(2021, 11, 18),
            duration=dt.timedelta(minutes=5),
            bilibili_url=f"https://www.bilibili.com/video/{bv}" if bv else "",
        )
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes("papers"))
    rows = list(
        VideoNote.objects.order_by("id").values_list("slug", "bvid", "series", "part")
    )
    assert rows == [
        ("llama-31-3", "BV1Q4421Z7Tj", "Llama 3.1论文精读", 3),
        ("2021-11-18-bv19s4y1m7hm", "BV19S4y1M7hm", "", None),
        ("2021-11-18", "", "", None),
    ]


@pytest.mark.django_db
def test_a_video_refresh_is_not_the_last_citation_refresh():
    from django.utils import timezone

    from papers.models import RefreshRun
    from papers.selectors import last_refresh

    done = {"status": RefreshRun.Status.SUCCEEDED, "finished_at": timezone.now()}
    RefreshRun.objects.create(kind=RefreshRun.Kind.VIDEOS, **done)
    assert last_refresh() is None
    citations = RefreshRun.objects.create(**done)
    assert last_refresh() == citations


@pytest.mark.django_db
def test_gallery_groups_years_and_shows_a_series_as_one_entry_in_part_order():
    from papers.selectors_videos import Series, gallery_by_year

    for n, day in [(2, "2024-08-05"), (1, "2024-07-31"), (3, "2024-08-13")]:
        VideoNoteFactory(
            title=f"Llama 3.1论文精读 · {n}. x",
            series="Llama 3.1论文精读",
            part=n,
            published_on=dt.date.fromisoformat(day),
        )
    gpt4 = VideoNoteFactory(title="GPT-4", published_on=dt.date(2024, 3, 15))
    old = VideoNoteFactory(title="Old", published_on=dt.date(2021, 11, 18))
    years = gallery_by_year(selectors_videos.videos_for_gallery())
    assert [year for year, _ in years] == [2024, 2021]
    series, second = years[0][1]
    assert isinstance(series, Series)
    assert [v.part for v in series.parts] == [1, 2, 3]
    assert second == gpt4
    assert years[1][1] == [old]
