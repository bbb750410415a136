import datetime as dt
from io import StringIO

import pytest
import responses
from django.core.management import CommandError, call_command

from papers.models import Category, Paper, Placement, VideoNote
from papers.readme import ReadmeFormatError
from papers.services import readme_import
from tests.helpers import (
    EXCERPT,
    SEED_LIST,
    UPSTREAM_SEED_LIST,
    read_s2_ids,
    shared_fixture,
)

pytestmark = pytest.mark.django_db

# tests/data/upstream-excerpt.md: our hand-written excerpt of the upstream format.
EXCERPT_COUNTS = {"categories": 8, "papers": 17, "videos": 13}


def run_import(*args):
    out, err = StringIO(), StringIO()
    call_command("import_readme", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def db_state():
    """Everything the importer writes, as comparable plain data."""
    return {
        "categories": list(
            Category.objects.values_list("name", "name_en", "slug", "position")
        ),
        "papers": sorted(
            Paper.objects.values_list(
                "name",
                "url",
                "year",
                "summary",
                "is_recorded",
                "s2_paper_id",
                "arxiv_id",
                "doi",
                "slug",
                "updated_at",
            )
        ),  # fmt: skip
        "placements": sorted(
            Placement.objects.values_list("category__name", "paper__name", "position")
        ),
        "videos": sorted(
            VideoNote.objects.values_list(
                "title",
                "published_on",
                "duration",
                "bilibili_url",
                "youtube_url",
                "zhihu_url",
                "paper_url",
                "cover_path",
                "updated_at",
            )
        ),  # fmt: skip
        "links": sorted(
            VideoNote.papers.through.objects.values_list(
                "videonote__bilibili_url", "paper__name"
            )
        ),
    }


def test_full_readme_gives_the_whole_list(full_readme_text):
    report = readme_import(text=full_readme_text)

    assert Category.objects.count() == 12
    assert Paper.objects.count() == 90
    assert VideoNote.objects.count() == 59
    assert Placement.objects.count() == 90
    assert report.categories.created == 12
    assert report.papers.created == 90
    assert report.videos.created == 59
    assert list(Category.objects.values_list("name", flat=True)[:3]) == [
        "计算机视觉 - CNN",
        "计算机视觉 - Transformer",
        "生成模型",
    ]
    assert Paper.objects.exclude(s2_paper_id="").count() == 90
    assert set(Paper.objects.values_list("s2_paper_id", flat=True)) == set(
        read_s2_ids()
    )
    assert Paper.objects.recorded().count() == 59


def test_excerpt_gives_its_list(excerpt_text):
    report = readme_import(text=excerpt_text)
    assert Category.objects.count() == report.categories.created == 8
    assert Paper.objects.count() == report.papers.created == 17
    assert VideoNote.objects.count() == report.videos.created == 13
    assert Placement.objects.count() == 17
    assert Paper.objects.recorded().count() == 13
    assert Paper.objects.exclude(s2_paper_id="").count() == 17
    assert report.warnings == []


def test_placements_follow_curator_order(excerpt_text):
    readme_import(text=excerpt_text)
    assert list(Category.objects.values_list("name", flat=True)[:3]) == [
        "计算机视觉 - CNN",
        "生成模型",
        "计算机视觉 - Object Detection",
    ]
    nlp = Category.objects.get(name="自然语言处理 - Transformer")
    names = list(
        Placement.objects.filter(category=nlp)
        .order_by("position")
        .values_list("paper__name", flat=True)
    )
    assert names == ["Transformer", "GPT", "BERT", "GPT-3", "Llama 3.1"]


def test_paper_fields_and_ids_are_extracted(excerpt_text):
    readme_import(text=excerpt_text)
    transformer = Paper.objects.get(name="Transformer")
    assert transformer.year == 2017
    assert transformer.arxiv_id == "1706.03762"
    assert transformer.s2_paper_id == "204e3073870fae3d05bcbc2f6a8e263d9b72e776"
    assert transformer.is_recorded is True
    assert transformer.summary == "继MLP、CNN、RNN后的第四大类架构"
    # http://arxiv.org/abs/...v2 and .pdf links normalise to the bare id.
    r_cnn = Paper.objects.get(name="R-CNN")
    assert r_cnn.arxiv_id == "1311.2524"
    pix2pix = Paper.objects.get(name="pix2pix")
    assert pix2pix.summary == ""
    assert pix2pix.is_recorded is False


def test_slugs_are_ascii_and_unique_for_chinese_names(full_readme_text):
    readme_import(text=full_readme_text)
    slugs = list(Paper.objects.values_list("slug", flat=True))
    assert len(slugs) == len(set(slugs)) == 90
    assert all(slug.isascii() and slug for slug in slugs)
    assert Paper.objects.get(name="参数服务器").slug == "can-shu-fu-wu-qi"
    assert not any(slug.startswith("s2-") for slug in slugs)
    category_slugs = list(Category.objects.values_list("slug", flat=True))
    assert len(set(category_slugs)) == 12
    assert "computer-vision-cnn" in category_slugs
    nlp = Category.objects.get(name="自然语言处理 - Transformer")
    assert nlp.name_en == "Natural Language Processing - Transformer"


def test_videos_link_to_papers_by_url_not_name(excerpt_text):
    readme_import(text=excerpt_text)
    gpt = VideoNote.objects.get(bilibili_url__contains="BV1AF411b7xQ")
    # GPT-2 is not on the excerpt's list: two of the three links find a paper.
    assert sorted(gpt.papers.values_list("name", flat=True)) == ["GPT", "GPT-3"]
    assert gpt.published_on == dt.date(2022, 3, 3)
    assert gpt.duration == dt.timedelta(hours=1, minutes=29, seconds=58)
    # Spelled "MoCo" in the video table and "MoCov1" in the list: linked by URL.
    assert Paper.objects.get(name="MoCov1").videos.count() == 1
    # The list links the pdf, the videos the abs page: the same arXiv id.
    resnet_videos = Paper.objects.get(name="ResNet").videos.count()
    assert resnet_videos == 2
    # "DALL·E 2" in the video table, "DALL.E 2" in the list.
    assert Paper.objects.get(name="DALL.E 2").videos.count() == 1
    # A book, an in-page anchor and a video with no link link no paper.
    unlinked = VideoNote.objects.filter(papers__isnull=True)
    assert sorted(unlinked.values_list("published_on", flat=True)) == [
        dt.date(2021, 10, 6),
        dt.date(2021, 12, 20),
        dt.date(2022, 7, 22),
        dt.date(2023, 3, 30),
        dt.date(2024, 9, 4),
    ]


def test_full_readme_links_28_papers_to_videos(full_readme_text):
    readme_import(text=full_readme_text)
    linked = Paper.objects.filter(videos__isnull=False).distinct().count()
    assert linked == 28  # readme-format.md §3.1


def test_video_on_no_list_keeps_its_link_and_creates_no_paper(excerpt_text):
    readme_import(text=excerpt_text)
    gpt4 = VideoNote.objects.get(bilibili_url__contains="BV1vM4y1U7b5")
    assert gpt4.paper_url == "https://openai.com/research/gpt-4"
    assert gpt4.papers.count() == 0
    assert not Paper.objects.filter(name__icontains="GPT-4").exists()
    assert Paper.objects.count() == 17


def test_seed_list_gives_three_categories_and_nine_papers(seed_text):
    report = readme_import(text=seed_text)
    assert Category.objects.count() == 3
    assert Paper.objects.count() == 9
    assert VideoNote.objects.count() == 0
    assert report.papers.created == 9
    # The seed list has no 已录制 column: nothing is ticked.
    assert Paper.objects.recorded().count() == 0


@pytest.mark.parametrize("source", ["excerpt", "full"])
def test_import_is_idempotent(source, excerpt_text, request):
    text = (
        excerpt_text
        if source == "excerpt"
        else request.getfixturevalue("full_readme_text")
    )
    first = readme_import(text=text)
    before = db_state()
    report = readme_import(text=text)
    assert db_state() == before
    assert not report.changed
    assert report.papers.unchanged == first.papers.created
    assert report.videos.unchanged == first.videos.created
    assert report.placements.unchanged == first.placements.created
    assert report.categories.unchanged == first.categories.created
    if source == "full":
        assert (report.papers.unchanged, report.videos.unchanged) == (90, 59)


def test_second_import_says_nothing_changed():
    out, _ = run_import(str(EXCERPT))
    assert "papers: 17 created" in out
    out, _ = run_import(str(EXCERPT))
    assert "papers: 0 created, 0 updated, 17 unchanged" in out
    assert "nothing changed" in out


def test_missing_column_changes_nothing(excerpt_text, seed_text):
    """The seed list has no 已录制: importing it must not untick the list."""
    readme_import(text=excerpt_text)
    recorded = set(Paper.objects.recorded().values_list("pk", flat=True))
    readme_import(text=seed_text)
    assert set(Paper.objects.recorded().values_list("pk", flat=True)) >= recorded
    transformer = Paper.objects.get(
        s2_paper_id="204e3073870fae3d05bcbc2f6a8e263d9b72e776"
    )
    assert transformer.is_recorded is True


def test_changed_source_updates_changed_fields(excerpt_text):
    readme_import(text=excerpt_text)
    changed = excerpt_text.replace(
        "继MLP、CNN、RNN后的第四大类架构", "注意力就是一切"
    ).replace("|  ✅  | 2022 | [DALL.E 2]", "|  | 2022 | [DALL.E 2]")
    report = readme_import(text=changed)
    assert report.papers.updated == 2
    assert report.papers.created == 0
    assert Paper.objects.get(name="Transformer").summary == "注意力就是一切"
    assert Paper.objects.get(name="DALL.E 2").is_recorded is False


def test_nothing_is_deleted_without_prune(excerpt_text, seed_text):
    readme_import(text=excerpt_text)
    readme_import(text=seed_text)
    # The seed adds GPT-2, Adam and two more to the excerpt's 17 papers.
    assert Paper.objects.count() == 17 + 4
    assert Category.objects.count() == 8 + 1  # 优化算法
    assert VideoNote.objects.count() == 13


def test_prune_deletes_what_the_source_does_not_have(excerpt_text, seed_text):
    readme_import(text=excerpt_text)
    report = readme_import(text=seed_text, prune=True)
    assert Paper.objects.count() == 9
    assert Category.objects.count() == 3
    assert VideoNote.objects.count() == 0
    assert report.papers.deleted == 17 - 5  # 5 papers are on both lists
    assert report.videos.deleted == 13


def test_paper_in_two_categories_is_one_paper_with_two_placements():
    text = """
## 所有论文

### 第一类

| 已录制 | 年份 | 名字 | 简介 | 引用 |
| --- | --- | --- | --- | --- |
| ✅ | 2017 | [Transformer](https://arxiv.org/abs/1706.03762) | 架构 | |
| | 2018 | [BERT](https://arxiv.org/abs/1810.04805) | 预训练 | |

### 第二类

| 已录制 | 年份 | 名字 | 简介 | 引用 |
| --- | --- | --- | --- | --- |
| ✅ | 2017 | [Transformer](https://arxiv.org/pdf/1706.03762v5.pdf) | 架构 | |
"""
    report = readme_import(text=text)
    assert Paper.objects.count() == 2
    assert Placement.objects.count() == 3
    transformer = Paper.objects.get(name="Transformer")
    assert sorted(transformer.categories.values_list("name", flat=True)) == [
        "第一类",
        "第二类",
    ]
    assert transformer.s2_paper_id == ""  # no badge: a paper without an S2 id
    assert report.placements.created == 3


def test_dry_run_writes_nothing():
    out, _ = run_import(str(EXCERPT), "--dry-run")
    assert "papers: 17 created" in out
    assert "dry run" in out
    assert Paper.objects.count() == 0
    assert Category.objects.count() == 0


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("/nonexistent/README.md", "cannot read /nonexistent/README.md"),
        ("__DIR__", "cannot read"),
    ],
)
def test_unreadable_source_is_a_one_line_error(tmp_path, source, message):
    source = source.replace("__DIR__", str(tmp_path))
    with pytest.raises(CommandError, match=message) as excinfo:
        run_import(source)
    assert "\n" not in str(excinfo.value)
    assert Paper.objects.count() == 0


def test_source_without_table_is_rejected_and_changes_nothing(tmp_path, seed_text):
    readme_import(text=seed_text)
    before = db_state()
    path = tmp_path / "notes.md"
    path.write_text("# 只是一段文字\n\n没有表格。\n", encoding="utf-8")
    with pytest.raises(CommandError, match="no paper or video table"):
        run_import(str(path))
    assert db_state() == before


def test_binary_source_is_rejected(tmp_path):
    path = tmp_path / "cover.jpg"
    path.write_bytes(b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\xff\xfe")
    with pytest.raises(CommandError, match="not UTF-8"):
        run_import(str(path))


def test_failure_half_way_rolls_everything_back(excerpt_text, monkeypatch):
    from papers.services import readme as services

    def explode(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(services, "_import_videos", explode)
    with pytest.raises(RuntimeError):
        readme_import(text=excerpt_text)
    assert Paper.objects.count() == 0
    assert Category.objects.count() == 0


@responses.activate
def test_import_from_url(excerpt_text):
    url = "https://raw.example.org/mli/paper-reading/main/README.md"
    responses.get(url, body=excerpt_text.encode(), content_type="text/plain")
    out, _ = run_import(url)
    assert "papers: 17 created" in out
    assert Paper.objects.count() == 17


@responses.activate
def test_url_that_fails_is_a_clear_error():
    url = "https://raw.example.org/missing/README.md"
    responses.get(url, status=404)
    with pytest.raises(CommandError, match="cannot fetch .*404"):
        run_import(url)
    assert Paper.objects.count() == 0


def test_crlf_source_imports_the_same(excerpt_text):
    readme_import(text=excerpt_text.replace("\n", "\r\n"))
    assert Paper.objects.count() == 17
    assert VideoNote.objects.count() == 13
    report = readme_import(text=excerpt_text)
    assert not report.changed


def test_bad_rows_are_reported_and_the_rest_imported():
    text = """
### 分类

| 年份 | 名字 | 简介 | 引用 |
| --- | --- | --- | --- |
| 2017 | [Good](https://arxiv.org/abs/1706.03762) | fine | |
| 2018 | [Bad link](javascript:alert(1)) | hostile | |
"""
    report = readme_import(text=text)
    assert Paper.objects.filter(name="Good").exists()
    bad = Paper.objects.filter(name="Bad link").first()
    assert bad is None or not bad.url.startswith("javascript")
    assert report.papers.created >= 1


def test_seed_command_loads_shipped_list_only_into_an_empty_database():
    out = StringIO()
    call_command("load_seed", stdout=out)
    assert Paper.objects.count() == 9
    assert "imported" in out.getvalue()
    out = StringIO()
    call_command("load_seed", stdout=out)
    assert "already has data" in out.getvalue()
    assert Paper.objects.count() == 9


def test_shipped_seed_is_the_upstream_seed_list():
    from papers.management.commands.load_seed import SEED

    upstream = shared_fixture(UPSTREAM_SEED_LIST).read_text(encoding="utf-8")
    assert SEED == SEED_LIST
    assert SEED.read_text(encoding="utf-8") == upstream


def test_import_rejects_garbage_text():
    with pytest.raises(ReadmeFormatError):
        readme_import(text="")
