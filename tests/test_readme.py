"""Parsing and rendering the README format (papers.readme). Plain functions, no DB."""

import datetime as dt
import re
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from papers.identifiers import youtube_id
from papers.plain_text import drop_controls
from papers.readme import (
    CategoryBlock,
    PaperRow,
    ReadmeDocument,
    ReadmeFormatError,
    VideoRow,
    parse_readme,
    render_readme,
)
from tests.helpers import (
    DATA,
    EXCERPT,
    FOUR_COLUMN_EXCERPT,
    SEED_LIST,
    read_full_readme,
    read_s2_ids,
)

# Ours, always here: the hand-written excerpts and the shipped seed list.
EXCERPT_TEXT = EXCERPT.read_text(encoding="utf-8")
FOUR_COLUMN_TEXT = FOUR_COLUMN_EXCERPT.read_text(encoding="utf-8")
SEED_TEXT = SEED_LIST.read_text(encoding="utf-8")

# readme-format.md §3: (papers, ✅) per category, in README order.
CATEGORY_COUNTS = [
    ("计算机视觉 - CNN", 7, 2),
    ("计算机视觉 - Transformer", 4, 3),
    ("生成模型", 13, 2),
    ("计算机视觉 - Object Detection", 10, 1),
    ("计算机视觉 - 对比学习", 13, 13),
    ("计算机视觉 - 视频理解", 11, 11),
    ("多模态学习", 11, 11),
    ("自然语言处理 - Transformer", 6, 6),
    ("系统", 5, 5),
    ("图神经网络", 1, 1),
    ("优化算法", 3, 0),
    ("新领域应用", 6, 4),
]
TRANSFORMER_S2 = "204e3073870fae3d05bcbc2f6a8e263d9b72e776"
NO_TABLE = "no paper or video table found"


@pytest.fixture(scope="module")
def full_text() -> str:
    """The real upstream README (../shared/fixtures); skips where it is absent."""
    return read_full_readme()


@pytest.fixture(scope="module")
def full(full_text) -> ReadmeDocument:
    return parse_readme(full_text)


@pytest.fixture(scope="module")
def excerpt() -> ReadmeDocument:
    return parse_readme(EXCERPT_TEXT)


@pytest.fixture(scope="module")
def seed() -> ReadmeDocument:
    return parse_readme(SEED_TEXT)


def papers_of(doc: ReadmeDocument) -> list[PaperRow]:
    return [paper for category in doc.categories for paper in category.papers]


def only_paper(text: str) -> PaperRow:
    (paper,) = papers_of(parse_readme(text))
    return paper


def collapse(text: str) -> str:
    return " ".join(text.split())


def visible(text: str) -> str:
    """What an export then an import keep of a cell: spaces collapsed (the
    separators \x1c-\x1f count as spaces), then no control or bidi characters."""
    return collapse(drop_controls(collapse(text)))


# --- the full README ------------------------------------------------------------------


def test_full_readme_has_the_twelve_categories_in_order(full):
    assert [c.name for c in full.categories] == [name for name, _, _ in CATEGORY_COUNTS]
    assert full.warnings == ()


def test_full_readme_counts_papers_and_ticks_per_category(full):
    counts = [
        (c.name, len(c.papers), sum(p.is_recorded is True for p in c.papers))
        for c in full.categories
    ]
    assert counts == CATEGORY_COUNTS
    assert len(papers_of(full)) == 90
    assert sum(p.is_recorded is True for p in papers_of(full)) == 59
    assert all(p.is_recorded is not None for p in papers_of(full))


def test_full_readme_s2_ids_match_the_id_list_in_order(full):
    assert [p.s2_paper_id for p in papers_of(full)] == read_s2_ids()


def test_full_readme_paper_fields(full):
    papers = papers_of(full)
    alexnet, transformer = papers[0], papers[69]
    assert alexnet == PaperRow(
        name="AlexNet",
        url="https://papers.nips.cc/paper/2012/file/"
        "c399862d3b9d6b76c8436e924a68c45b-Paper.pdf",
        year=2012,
        summary="深度学习热潮的奠基作",
        is_recorded=True,
        s2_paper_id="abd1c342495432171beb7ca8fd9551ef13cbd0ff",
    )
    assert (transformer.name, transformer.arxiv_id) == ("Transformer", "1706.03762")
    assert transformer.s2_paper_id == TRANSFORMER_S2
    # Full-width punctuation is kept, padding is not.
    resnet = papers[3]
    assert (resnet.name, resnet.summary) == ("ResNet", "构建深层网络都要有的残差连接。")
    assert Counter(p.year for p in papers)[2021] == 21
    assert sum(bool(p.arxiv_id) for p in papers) == 75
    assert papers[25].url == "http://arxiv.org/abs/1504.08083v2"  # Fast R-CNN
    assert papers[25].arxiv_id == "1504.08083"


def test_full_readme_has_twelve_empty_summaries(full):
    empty = [p.name for p in papers_of(full) if p.summary == ""]
    assert len(empty) == 12
    assert {"pix2pix", "YOLOv3", "为什么超大的模型泛化性不错"} <= set(empty)


def test_full_readme_videos(full):
    videos = full.videos
    assert len(videos) == 59
    first = videos[0]
    assert first == VideoRow(
        title="Llama 3.1论文精读 · 5. 模型训练过程",
        published_on=dt.date(2024, 9, 4),
        duration=dt.timedelta(minutes=10, seconds=41),
        cover="imgs/llama3-process.jpg",
        bilibili_url="https://www.bilibili.com/video/BV1c8HbeaEXi",
        youtube_url="",
        zhihu_url="",
        paper_urls=(),
    )
    assert videos[-1].published_on == dt.date(2021, 10, 6)
    assert videos[-1].duration == dt.timedelta(minutes=6, seconds=39)  # "06:39"
    total = sum((v.duration for v in videos), dt.timedelta())
    assert total.total_seconds() == 188_957
    assert len({v.cover for v in videos}) == 59
    assert all(v.cover.startswith("imgs/") for v in videos)
    assert Counter(v.published_on.year for v in videos) == {
        2021: 14,
        2022: 35,
        2023: 5,
        2024: 5,
    }


def test_full_readme_video_platform_links(full):
    videos = full.videos
    assert sum(bool(v.bilibili_url) for v in videos) == 59
    assert sum(bool(v.zhihu_url) for v in videos) == 20
    # readme-format.md says "46 YouTube links, 45 distinct ids" in its summary, but its
    # own platform mix (29 + 18) and Appendix B list 47 links; the fixture has 47
    # YouTube links with 46 distinct ids.
    youtube = [v.youtube_url for v in videos if v.youtube_url]
    assert len(youtube) == 47
    ids = Counter(youtube_id(url) for url in youtube)
    assert len(ids) == 46
    twice = [v.title for v in videos if "1pvxufGRuW4" in v.youtube_url]
    assert twice == [
        "[对比学习](#contrastive_learning)论文综述",
        "[MoCo](https://arxiv.org/pdf/1911.05722.pdf) 逐段精读",
    ]
    assert ids["1pvxufGRuW4"] == 2
    assert videos[-1].youtube_url == (
        "https://www.youtube.com/watch?v=txjl_Q4jCyQ"
        "&list=PLFXJ6jwg0qW-7UM8iUTj3qKqdhbQULP5I&index=1"
    )
    # The link target as written: with the trailing slash where the README has one.
    transformer = next(v for v in videos if v.published_on == dt.date(2021, 10, 27))
    assert transformer.bilibili_url == "https://www.bilibili.com/video/BV1pu411o7BE/"
    assert transformer.zhihu_url == "https://www.zhihu.com/zvideo/1437034536677404672"
    assert transformer.youtube_url == "https://youtu.be/nzqlFIcCSWQ"


def test_full_readme_video_titles_and_paper_links(full):
    by_date = {v.published_on: v for v in full.videos}
    gpt = by_date[dt.date(2022, 3, 3)]
    assert gpt.paper_urls == (
        "https://s3-us-west-2.amazonaws.com/openai-assets/research-covers/"
        "language-unsupervised/language_understanding_paper.pdf",
        "https://d4mucfpksywv.cloudfront.net/better-language-models/"
        "language_models_are_unsupervised_multitask_learners.pdf",
        "https://arxiv.org/abs/2005.14165",
    )
    assert gpt.title.startswith("[GPT](https://s3-us-west-2.amazonaws.com/")
    assert gpt.title.endswith(", [GPT-3](https://arxiv.org/abs/2005.14165) 精读")
    # <br> becomes a space; the footnote ref goes with the space before it.
    transformer = by_date[dt.date(2021, 10, 27)]
    assert transformer.title == (
        "[Transformer](https://arxiv.org/abs/1706.03762) 逐段精读 （视频中提到的文献)"
    )
    assert transformer.paper_urls == ("https://arxiv.org/abs/1706.03762",)
    # An in-page anchor stays in the title but is not a paper link.
    survey = by_date[dt.date(2021, 12, 20)]
    assert survey.paper_urls == ()
    # 44 titles with one link (one of them the anchor) and one with three.
    assert sum(len(v.paper_urls) for v in full.videos) == 43 + 3
    assert sum(not v.paper_urls for v in full.videos) == 14 + 1


def test_full_readme_crlf_bom_and_old_mac_line_endings_read_the_same(full, full_text):
    assert parse_readme("\ufeff" + full_text.replace("\n", "\r\n")) == full
    assert parse_readme(full_text.replace("\n", "\r")) == full


# --- our excerpt (tests/data/upstream-excerpt.md): every quirk of readme-format.md ----


def test_excerpt_categories_and_paper_cells(excerpt):
    assert [c.name for c in excerpt.categories] == [
        "计算机视觉 - CNN",
        "生成模型",
        "计算机视觉 - Object Detection",
        "计算机视觉 - 对比学习",  # after a raw <a name="contrastive_learning"></a>
        "自然语言处理 - Transformer",
        "系统",
        "图神经网络",
        "新领域应用",
    ]
    assert excerpt.warnings == ()
    papers = {p.name: p for p in papers_of(excerpt)}
    # Rows are counted; the stale "总论文数 67，录制完成数 32" line is not trusted.
    assert len(papers) == len(papers_of(excerpt)) == 17
    # 已录制: "✅" with any padding is True, "| |", "|  |" and "|        |" are False.
    assert {n for n, p in papers.items() if p.is_recorded is False} == {
        "VGG",
        "pix2pix",
        "R-CNN",
        "Fast R-CNN",
    }
    assert all(p.is_recorded is not None for p in papers.values())
    # Padded years ("|  2014 |") and names ("|  [ResNet](…)", "[R-CNN](…)    |").
    assert papers["参数服务器"].year == 2014
    assert papers["ResNet"].url == "https://arxiv.org/pdf/1512.03385.pdf"
    assert papers["R-CNN"].url == "https://arxiv.org/pdf/1311.2524v5.pdf"
    # Empty 简介 cells give "", full-width punctuation is kept.
    assert papers["pix2pix"].summary == papers["Fast R-CNN"].summary == ""
    assert papers["ResNet"].summary == "构建深层网络都要有的残差连接。"
    assert papers["DALL.E 2"].summary == "CLIP + Diffusion models，文本生成图像新高度"
    # arXiv ids from abs, pdf, .pdf, vN and http:// links; none from other hosts.
    assert papers["Fast R-CNN"].url == "http://arxiv.org/abs/1504.08083v2"
    assert papers["Fast R-CNN"].arxiv_id == "1504.08083"
    assert papers["R-CNN"].arxiv_id == "1311.2524"
    assert papers["AlexNet"].arxiv_id == papers["参数服务器"].arxiv_id == ""
    assert papers["图神经网络介绍"].url == "https://distill.pub/2021/gnn-intro/"


def test_excerpt_s2_ids_come_from_the_badge_not_a_naive_hex_search(excerpt):
    papers = {p.name: p for p in papers_of(excerpt)}
    # A link with a title slug, a bare /paper/<id> link, a slug with %-escapes.
    assert papers["AlexNet"].s2_paper_id == "abd1c342495432171beb7ca8fd9551ef13cbd0ff"
    assert papers["R-CNN"].s2_paper_id == "2f4df08d9072fc2ac181b7fced6a245315ce05c8"
    assert papers["BERT"].s2_paper_id == "df2b0e26d0599ce3e70df8a9da02e51594e0e992"
    assert (
        papers["图神经网络介绍"].s2_paper_id
        == "2c0e0440882a42be752268d0b64243243d752a74"
    )
    ids = [p.s2_paper_id for p in papers.values()]
    assert len(set(ids)) == 17
    # A naive search finds 2 per row: the link's id and a bogus "2F" + 38 characters
    # from the %-encoded badge URL. None of the bogus ones was taken.
    naive = re.findall(r"[0-9a-f]{40}", EXCERPT_TEXT, flags=re.IGNORECASE)
    assert len(naive) == 2 * 17
    bogus = {s2 for s2 in naive if s2.startswith("2F")}
    assert len(bogus) == 17 and not bogus & set(ids)


def test_excerpt_video_dates_durations_and_covers(excerpt):
    videos = excerpt.videos
    assert len(videos) == 13
    by_date = {v.published_on: v for v in videos}
    # M/D/YY with and without a zero-padded day.
    assert [v.published_on for v in videos[:2]] == [
        dt.date(2024, 9, 4),  # 9/04/24
        dt.date(2024, 8, 5),  # 8/05/24
    ]
    assert dt.date(2022, 7, 8) in by_date  # 7/8/22
    assert videos[-1].published_on == dt.date(2021, 10, 6)  # 10/06/21
    seconds = {v.published_on: v.duration.total_seconds() for v in videos}
    assert seconds[dt.date(2024, 9, 4)] == 10 * 60 + 41  # "10:41|"
    assert seconds[dt.date(2022, 1, 23)] == 3600 + 15 * 60 + 28  # "|  1:15:28 |"
    assert seconds[dt.date(2023, 3, 30)] == 3600 + 20 * 60 + 38  # H:MM:SS
    assert seconds[dt.date(2021, 10, 6)] == 6 * 60 + 39  # "06:39"
    # <img> covers, .jpg and .webp, after "|<img" and "|  <img".
    assert by_date[dt.date(2024, 8, 5)].cover == "imgs/llama3-data.webp"
    assert by_date[dt.date(2021, 10, 27)].cover == "imgs/transformer.jpg"
    assert by_date[dt.date(2022, 1, 23)].cover == "imgs/alphafold_2.jpg"
    assert len({v.cover for v in videos}) == 13


def test_excerpt_video_platform_links(excerpt):
    by_date = {v.published_on: v for v in excerpt.videos}
    # bilibili only, with a dangling trailing <br />.
    last = by_date[dt.date(2024, 9, 4)]
    assert (last.bilibili_url, last.youtube_url, last.zhihu_url) == (
        "https://www.bilibili.com/video/BV1c8HbeaEXi",
        "",
        "",
    )
    # bilibili and YouTube with no <br /> between the badges.
    data = by_date[dt.date(2024, 8, 5)]
    assert data.bilibili_url == "https://www.bilibili.com/video/BV1u142187S5"
    assert data.youtube_url == "https://youtu.be/wXFr3zIE8FM"
    # bilibili + zhihu (the badge's inner URL not %-encoded), no YouTube.
    fold = by_date[dt.date(2022, 1, 23)]
    assert fold.zhihu_url == "https://www.zhihu.com/zvideo/1469132410537717760"
    assert fold.youtube_url == ""
    # The link as written, with its trailing slash; a badge cell starting "|[![".
    assert by_date[dt.date(2022, 7, 22)].bilibili_url == (
        "https://www.bilibili.com/video/BV1SB4y1a75c/"
    )
    # youtu.be, youtube.com/watch?v= and a playlist link.
    assert by_date[dt.date(2022, 3, 3)].youtube_url == (
        "https://www.youtube.com/watch?v=t70Bl3w7bxY"
    )
    assert by_date[dt.date(2021, 10, 6)].youtube_url == (
        "https://www.youtube.com/watch?v=txjl_Q4jCyQ"
        "&list=PLFXJ6jwg0qW-7UM8iUTj3qKqdhbQULP5I&index=1"
    )
    # The README's data error: one YouTube id on two rows is kept on both.
    twice = [v.title for v in excerpt.videos if "1pvxufGRuW4" in v.youtube_url]
    assert twice == [
        "[对比学习](#contrastive_learning)论文综述",
        "[MoCo](https://arxiv.org/pdf/1911.05722.pdf) 逐段精读",
    ]
    assert sum(bool(v.bilibili_url) for v in excerpt.videos) == 13


def test_excerpt_video_titles_and_paper_links(excerpt):
    by_date = {v.published_on: v for v in excerpt.videos}
    # No link: a plain title and no paper.
    assert by_date[dt.date(2021, 10, 6)].title == "如何读论文"
    assert by_date[dt.date(2021, 10, 6)].paper_urls == ()
    # One row, three papers.
    assert len(by_date[dt.date(2022, 3, 3)].paper_urls) == 3
    # <br> becomes a space; the footnote reference is dropped.
    transformer = by_date[dt.date(2021, 10, 27)]
    assert transformer.title == (
        "[Transformer](https://arxiv.org/abs/1706.03762) 逐段精读 （视频中提到的文献)"
    )
    # The in-page anchor stays in the title but is not a paper link.
    assert by_date[dt.date(2021, 12, 20)].paper_urls == ()
    # Series markers and Chinese punctuation are kept as written.
    art = by_date[dt.date(2022, 7, 22)]
    assert art.title.startswith("理由、论据和担保【[研究的艺术](")
    assert art.title.endswith("·四】")
    # DALL·E 2 (U+00B7) in the video table, DALL.E 2 in the paper table.
    assert by_date[dt.date(2022, 7, 8)].title.startswith("[DALL·E 2](")


def test_excerpt_line_endings_and_bom_read_the_same(excerpt):
    assert parse_readme("\ufeff" + EXCERPT_TEXT.replace("\n", "\r\n")) == excerpt
    assert parse_readme(EXCERPT_TEXT.replace("\n", "\r")) == excerpt


def test_four_column_layout():
    """年份 | 名字 | 简介 | 引用: no 已录制 column, first table without outer pipes."""
    doc = parse_readme(FOUR_COLUMN_TEXT)
    assert doc.warnings == ()
    assert doc.videos == ()
    assert [c.name for c in doc.categories] == [
        "自然语言处理 - Transformer",
        "优化算法",
    ]
    papers = papers_of(doc)
    assert [p.name for p in papers] == [
        "Transformer",
        "GPT",
        "Adam",
        "为什么超大的模型泛化性不错",
        "为什么Momentum有效",
    ]
    assert [p.year for p in papers] == [2017, 2018, 2014, 2016, 2017]
    assert all(p.is_recorded is None for p in papers)  # unknown, not "no"
    assert papers[3].summary == ""
    assert papers[3].arxiv_id == "1611.03530"
    assert papers[4].s2_paper_id == "3e8ccf9d3d843c9855c5d76ab66d3e775384da72"


# --- the seed list: no 已录制 column, no leading pipes in its first table -------------


def test_seed_list(seed):
    assert [c.name for c in seed.categories] == [
        "自然语言处理 - Transformer",
        "图神经网络",
        "优化算法",
    ]
    papers = papers_of(seed)
    assert [p.name for p in papers] == [
        "Transformer",
        "GPT",
        "BERT",
        "GPT-2",
        "GPT-3",
        "图神经网络介绍",
        "Adam",
        "为什么超大的模型泛化性不错",
        "为什么Momentum有效",
    ]
    assert all(p.is_recorded is None for p in papers)
    assert all(p.summary is not None for p in papers)
    assert papers[0].summary == "继MLP、CNN、RNN后的第四大类架构"
    assert [p.year for p in papers] == [
        2017,
        2018,
        2018,
        2019,
        2020,
        2021,
        2014,
        2016,
    ] + [2017]
    assert all(len(p.s2_paper_id) == 40 for p in papers)
    assert papers[0].s2_paper_id == TRANSFORMER_S2
    assert seed.videos == ()
    assert seed.warnings == ()


# --- hand-written variants ------------------------------------------------------------


def test_nasty_paper_tables():
    doc = parse_readme((DATA / "nasty-papers.md").read_text(encoding="utf-8"))
    cnn, generative = doc.categories
    assert cnn.name == "计算机视觉 - CNN"
    assert cnn.description == (
        "First paragraph of the description, wrapped over two lines with a link."
        "\n\nSecond paragraph."
    )
    alexnet, vgg, resnet = cnn.papers
    assert alexnet.s2_paper_id == "abd1c342495432171beb7ca8fd9551ef13cbd0ff"
    assert alexnet.is_recorded is None  # no 已录制 column
    assert (vgg.name, vgg.year) == ("VGG", 2014)
    assert vgg.summary == "使用 3x3 卷积 | 更深的网络"  # escaped pipe
    assert vgg.s2_paper_id == ""  # empty citation cell
    # A ragged row (no citation cell); <br> and <br /> become spaces, footnote dropped.
    assert resnet.summary == "残差连接 第二行 第三行"
    assert resnet.arxiv_id == "1512.03385"

    # Columns in another order are found by their header.
    gan, resnet_again, unnamed_link = generative.papers
    assert gan.name == "GAN" and gan.year == 2014 and gan.is_recorded is True
    assert gan.s2_paper_id == "54e325aee6b2d476bbbb88615ac15e251c6e8214"  # our export
    assert resnet_again.is_recorded is True  # "yes"
    assert resnet_again.s2_paper_id == ""
    assert (unnamed_link.name, unnamed_link.url) == ("名称", "")
    assert unnamed_link.year is None
    # The same paper in two categories gives two rows; the service dedupes.
    assert [p.arxiv_id for p in (resnet, resnet_again)] == ["1512.03385"] * 2
    assert doc.warnings == (
        "line 26: paper row skipped: no name",
        "line 27: unreadable year '二〇一七' ignored",
    )


def test_video_table_only():
    doc = parse_readme((DATA / "videos-only.md").read_text(encoding="utf-8"))
    assert doc.categories == ()
    first, second = doc.videos
    assert first.published_on == second.published_on == dt.date(2024, 9, 4)
    assert first.cover == "imgs/a.jpg"  # a markdown image
    assert second.cover == "imgs/b.webp"  # <img> with single quotes, not self-closed
    assert second.duration == dt.timedelta(hours=1, minutes=2, seconds=3)
    assert second.paper_urls == ("https://arxiv.org/abs/2407.21783",)
    assert second.title == (
        "[Paper](https://arxiv.org/abs/2407.21783), [page](#anchor), [rel](imgs/x.pdf)"
    )
    assert second.bilibili_url == "https://b23.tv/BV1b4421f7fa"
    assert second.zhihu_url == "https://www.zhihu.com/zvideo/1437034536677404672"
    assert second.youtube_url == "https://www.youtube-nocookie.com/embed/6XidEHVjS1A"
    assert doc.warnings == (
        "line 7: video row skipped: unreadable date '13/45/22'",
        "line 8: video row skipped: unreadable duration '1:2'",
        "line 9: video row skipped: unreadable duration ''",
    )


def test_bad_date_row_is_skipped_with_its_line_number(excerpt):
    lines = EXCERPT_TEXT.split("\n")
    assert lines[13].startswith("| 3/3/22 |")
    lines[13] = lines[13].replace("3/3/22", "13/45/22", 1)
    doc = parse_readme("\n".join(lines))
    assert doc.warnings == ("line 14: video row skipped: unreadable date '13/45/22'",)
    assert len(doc.videos) == len(excerpt.videos) - 1
    assert doc.categories == excerpt.categories


def test_category_table_only():
    doc = parse_readme("| 名字 |\n|--|\n| [A](https://example.com/a) |\n")
    assert doc.videos == ()
    (category,) = doc.categories
    assert category.name == ""
    assert category.papers == (
        PaperRow(
            name="A",
            url="https://example.com/a",
            year=None,
            summary=None,
            is_recorded=None,
        ),
    )
    assert doc.warnings == (
        "line 1: paper table has no heading above it; its category name is empty",
    )


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   \n\n",
        "\ufeff",
        "# 深度学习论文精读\n\nJust some text.\n",
        "garbage ||| --- ::: [^x] <br>",
        "| a | b |\n|---|---|\n| 1 | 2 |\n",  # a table, but not ours
        "| 日期 | 时长 |\n|---|---|\n| 1/1/22 | 1:00 |\n",  # 日期 without 标题
        "名字\n---\nnot a table: a setext heading\n",
        "```\n| 名字 |\n|--|\n| A |\n```\n",  # a table inside a code block
    ],
)
def test_text_without_our_tables_is_a_format_error(text):
    with pytest.raises(ReadmeFormatError, match=re.escape(NO_TABLE)):
        parse_readme(text)


def test_unrelated_tables_are_reported_and_ignored():
    doc = parse_readme(
        "| x | y |\n|--|--|\n| 1 | 2 |\n\n### C\n\n| Name |\n|--|\n| [A](u) |\n"
    )
    assert [p.name for p in papers_of(doc)] == ["A"]
    assert doc.warnings == (
        "line 1: table ignored: no 名字 column and no 日期/标题 columns",
    )


@pytest.mark.parametrize(
    "header",
    [
        "| 已录制 | 年份 | 名字 | 简介 | 引用 |",
        "|  已录制   |   年份|名字   |  简介 |引用|",
        "| Recorded | Year | Name | Summary | Citation |",
        "| recorded | YEAR | Paper | summary | citations |",
        "| 已录制 | 年份 | 名称 | 简介 | 引用（Semantic Scholar） |",
        "已录制 | 年份 | 名字 | 简介 | 引用",
    ],
)
def test_paper_header_variants(header):
    row = (
        "| ✅ | 2017 | [T](https://arxiv.org/abs/1706.03762) | s | "
        f"[1](https://www.semanticscholar.org/paper/{TRANSFORMER_S2}) |"
    )
    paper = only_paper(f"### C\n\n{header}\n|--|--|--|--|--|\n{row}\n")
    assert (paper.name, paper.year, paper.summary, paper.is_recorded) == (
        "T",
        2017,
        "s",
        True,
    )
    assert paper.s2_paper_id == TRANSFORMER_S2


@pytest.mark.parametrize(
    "header",
    [
        "| 日期 | 标题 | 封面 | 时长 | 视频（播放数） |",
        "| 日期 | 标题 | 封面 | 时长 | 视频(播放数) |",
        "|日期|  标题  |封面|时长|视频（4K）|",
        "| Date | Title | Cover | Duration | Videos |",
        "| 视频 | 时长 | 封面 | 标题 | 日期 |",  # reversed, and so are the cells
    ],
)
def test_video_header_variants(header):
    cells = [
        "9/04/24",
        "[T](https://arxiv.org/abs/1706.03762)",
        '<img src="imgs/t.jpg" width="200px"/>',
        "10:41",
        "[bilibili](https://www.bilibili.com/video/BV1c8HbeaEXi/)",
    ]
    if header.startswith("| 视频"):
        cells.reverse()
    doc = parse_readme(f"{header}\n|--|--|--|--|--|\n| {' | '.join(cells)} |\n")
    (video,) = doc.videos
    assert video.published_on == dt.date(2024, 9, 4)
    assert video.duration == dt.timedelta(minutes=10, seconds=41)
    assert video.cover == "imgs/t.jpg"
    assert video.bilibili_url == "https://www.bilibili.com/video/BV1c8HbeaEXi/"
    assert video.paper_urls == ("https://arxiv.org/abs/1706.03762",)


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("✅", True),
        ("  ✅      ", True),
        ("✔", True),
        ("✔️", True),
        ("☑", True),
        ("yes", True),
        ("YES", True),
        ("y", True),
        ("X", True),
        (":white_check_mark:", True),
        ("", False),
        ("no", False),
        ("❌", False),
        ("xyz", False),
    ],
)
def test_recorded_cell(cell, expected):
    paper = only_paper(f"| 已录制 | 名字 |\n|--|--|\n| {cell} | A |\n")
    assert paper.is_recorded is expected


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("9/04/24", dt.date(2024, 9, 4)),
        ("9/4/24", dt.date(2024, 9, 4)),
        ("09/04/24", dt.date(2024, 9, 4)),
        ("10/06/21", dt.date(2021, 10, 6)),
        ("12/20/2021", dt.date(2021, 12, 20)),
        ("2024-09-04", dt.date(2024, 9, 4)),
        (" 2/6/22 ", dt.date(2022, 2, 6)),
    ],
)
def test_video_dates(cell, expected):
    doc = parse_readme(f"| 日期 | 标题 | 时长 |\n|--|--|--|\n| {cell} | T | 1:00 |\n")
    assert doc.videos[0].published_on == expected


@pytest.mark.parametrize(
    ("cell", "seconds"),
    [
        ("5:34", 334),
        ("06:39", 399),
        ("10:41", 641),
        ("1:20:38", 4838),
        ("01:02:03", 3723),
        ("90:00", 5400),
        ("0:00", 0),
    ],
)
def test_video_durations(cell, seconds):
    doc = parse_readme(f"| 日期 | 标题 | 时长 |\n|--|--|--|\n| 1/1/22 | T | {cell} |\n")
    assert doc.videos[0].duration.total_seconds() == seconds


@pytest.mark.parametrize(
    ("date", "duration", "warning"),
    [
        ("13/45/22", "1:00", "unreadable date '13/45/22'"),
        ("2/30/22", "1:00", "unreadable date '2/30/22'"),
        ("", "1:00", "unreadable date ''"),
        ("yesterday", "1:00", "unreadable date 'yesterday'"),
        ("1/1/22", "1:2", "unreadable duration '1:2'"),
        ("1/1/22", "1:60", "unreadable duration '1:60'"),
        ("1/1/22", "1:75:00", "unreadable duration '1:75:00'"),
        ("1/1/22", "", "unreadable duration ''"),
    ],
)
def test_unusable_video_rows_are_skipped_and_reported(date, duration, warning):
    doc = parse_readme(
        "intro\n\n| 日期 | 标题 | 时长 |\n|--|--|--|\n"
        f"| {date} | bad | {duration} |\n| 1/2/22 | good | 2:00 |\n"
    )
    assert [v.title for v in doc.videos] == ["good"]
    assert doc.warnings == (f"line 5: video row skipped: {warning}",)


def test_citation_cell_forms():
    badge = (
        "[![citation](https://img.shields.io/badge/dynamic/json?label=citation&query="
        "citationCount&url=https%3A%2F%2Fapi.semanticscholar.org%2Fgraph%2Fv1%2Fpaper"
        f"%2F{TRANSFORMER_S2}%3Ffields%3DcitationCount)]"
        f"(https://www.semanticscholar.org/paper/Attention-Vaswani/{TRANSFORMER_S2})"
    )
    forms = {
        badge: TRANSFORMER_S2,
        f"[12,345](https://www.semanticscholar.org/paper/{TRANSFORMER_S2}) "
        "(2026-11-20)": TRANSFORMER_S2,
        f"[–](https://www.semanticscholar.org/paper/{TRANSFORMER_S2.upper()})": (
            TRANSFORMER_S2
        ),
        "12,345": "",
        "": "",
        f"{TRANSFORMER_S2}": "",  # a bare id is not a link
        f"[x](https://example.com/{TRANSFORMER_S2})": "",
        # The percent-encoded API URL outside a badge: no "2F…" false id.
        f"%2Fpaper%2F{TRANSFORMER_S2}%3F": "",
    }
    for cell, expected in forms.items():
        paper = only_paper(f"| 名字 | 引用 |\n|--|--|\n| A | {cell} |\n")
        assert paper.s2_paper_id == expected, cell


def test_conflicting_s2_ids_are_reported():
    other = "0" * 40
    cell = (
        f"[![c](https://img.shields.io/x?url=https://api.semanticscholar.org/graph/v1/"
        f"paper/{TRANSFORMER_S2})](https://www.semanticscholar.org/paper/{other})"
    )
    doc = parse_readme(f"### C\n\n| 名字 | 引用 |\n|--|--|\n| A | {cell} |\n")
    assert papers_of(doc)[0].s2_paper_id == TRANSFORMER_S2
    assert doc.warnings == (
        "line 5: citation cell names several Semantic Scholar ids; "
        f"using {TRANSFORMER_S2}",
    )


def test_name_cell_forms():
    def paper(cell: str) -> PaperRow:
        return only_paper(f"| 名字 |\n|--|\n| {cell} |\n")

    assert paper("[A](https://arxiv.org/abs/1706.03762) [B](https://b.example)") == (
        PaperRow(
            name="A",
            url="https://arxiv.org/abs/1706.03762",
            year=None,
            summary=None,
            is_recorded=None,
            arxiv_id="1706.03762",
        )
    )
    assert paper("[**Bold** `code`](https://doi.org/10.1000/XYZ)").name == "Bold code"
    assert paper("[D](https://doi.org/10.1000/XYZ)").doi == "10.1000/xyz"
    assert paper("Plain \\[name\\]").name == "Plain [name]"
    assert paper("[A \\| B](https://example.com)").name == "A | B"
    assert paper("[A &amp; B](https://example.com)").name == "A & B"
    hostile = paper("[x](javascript:alert(1))")  # not a link for markdown-it either
    assert hostile.url == ""
    assert "javascript" not in hostile.url


def test_footnotes_and_html_in_cells():
    text = (
        "### C\n\n| 名字 | 简介 |\n|---|---|\n"
        "| [A](https://a.example)[^n] | "
        "one<br>two<br/>three<br />four [^n] <i>x</i> |\n"
        "\n[^n]: A note with [a link](https://note.example).\n"
    )
    paper = only_paper(text)
    assert paper.name == "A"
    assert paper.summary == "one two three four x"


@pytest.mark.parametrize(
    ("cell", "title"),
    [
        ("plain  title ", "plain title"),
        ("a \\| b", "a | b"),
        ("x_y and _x_ and *em* and **strong**", "x_y and _x_ and *em* and **strong**"),
        ("\\*not em\\* 1 < 2 <b>tag</b> &amp; &", "\\*not em\\* 1 < 2 tag & &"),
        ("`code \\| span` \\[not a link\\]", "`code | span` \\[not a link\\]"),
        ('![img](imgs/a.jpg) [a](https://a.example "t")', None),
        ("[x](<https://a.example/with space>)", "[x](<https://a.example/with space>)"),
        (
            "[p](https://a.example/(1)) 文献 [^n]）",
            "[p](https://a.example/\\(1\\)) 文献）",
        ),
        ("foo [^n] bar<br/>baz", "foo bar baz"),
    ],
)
def test_video_titles_are_inline_markdown_and_read_back(cell, title):
    header = "| 日期 | 标题 | 时长 |\n|--|--|--|\n"
    text = f"{header}| 1/1/22 | {cell} | 1:00 |\n\n[^n]: note\n"
    (video,) = parse_readme(text).videos
    if title is not None:
        assert video.title == title
    (again,) = parse_readme(render_readme(parse_readme(text))).videos
    assert again == video


def test_two_tables_under_one_heading_and_repeated_headings_merge():
    table = "| 名字 |\n|--|\n| {} |\n"
    text = (
        "### A\n\nabout A\n\n"
        + table.format("one")
        + "\n"
        + table.format("two")
        + "\n### B\n\n"
        + table.format("three")
        + "\n### A\n\n"
        + table.format("four")
    )
    doc = parse_readme(text)
    assert [(c.name, [p.name for p in c.papers]) for c in doc.categories] == [
        ("A", ["one", "two", "four"]),
        ("B", ["three"]),
    ]
    assert doc.categories[0].description == "about A"


def test_nearest_heading_names_the_category():
    text = (
        "## 所有论文\n\nintro text\n\n### CNN\n\n<a name='x'></a>\n\n"
        "| 名字 |\n|--|\n| A |\n\nafter the table\n\n"
        "## Other\n\n| Name |\n|--|\n| B |\n"
    )
    doc = parse_readme(text)
    assert [(c.name, c.description) for c in doc.categories] == [
        ("CNN", ""),
        ("Other", ""),
    ]


# --- arbitrary input ------------------------------------------------------------------

MARKDOWN_BITS = st.sampled_from(
    [
        "\n",
        "\n\n",
        "\r\n",
        "|",
        " | ",
        "\\|",
        "---",
        "|--|",
        ":--:",
        "#",
        "### ",
        "名字",
        "日期",
        "标题",
        "时长",
        "已录制",
        "年份",
        "引用",
        "视频",
        "✅",
        "[",
        "]",
        "(",
        ")",
        "[x](https://arxiv.org/abs/1706.03762)",
        "![i](imgs/a.jpg)",
        "<img src='a.jpg'>",
        "<br>",
        "[^a]",
        "[^a]: note\n",
        "`",
        "*",
        "_",
        "9/04/24",
        "13/45/22",
        "1:02:03",
        "10:41",
        "2017",
        "> ",
        "- ",
        "1. ",
        "    ",
        "\t",
        "\ufeff",
        "&amp;",
        "<!--",
        "https://www.bilibili.com/video/BV1c8HbeaEXi",
    ]
)
MARKDOWNISH = st.lists(MARKDOWN_BITS | st.text(max_size=8), max_size=40).map("".join)


@settings(max_examples=200, deadline=None)
@given(st.one_of(st.text(), MARKDOWNISH))
def test_parse_returns_a_document_or_raises_a_format_error(text):
    try:
        doc = parse_readme(text)
    except ReadmeFormatError:
        return
    assert isinstance(doc, ReadmeDocument)
    assert all(warning.startswith("line ") for warning in doc.warnings)
    for paper in papers_of(doc):
        assert paper.name and paper.name == collapse(paper.name)
        assert paper.s2_paper_id == "" or len(paper.s2_paper_id) == 40


# --- rendering ------------------------------------------------------------------------


def sample_document() -> ReadmeDocument:
    return ReadmeDocument(
        videos=(
            VideoRow(
                title="[Transformer](https://arxiv.org/abs/1706.03762) 逐段精读",
                published_on=dt.date(2021, 10, 27),
                duration=dt.timedelta(hours=1, minutes=27, seconds=5),
                cover="imgs/transformer.jpg",
                bilibili_url="https://www.bilibili.com/video/BV1pu411o7BE/",
                youtube_url="https://youtu.be/nzqlFIcCSWQ",
                zhihu_url="https://www.zhihu.com/zvideo/1437034536677404672",
                paper_urls=("https://arxiv.org/abs/1706.03762",),
            ),
            VideoRow(
                title="如何读论文",
                published_on=dt.date(2021, 10, 6),
                duration=dt.timedelta(minutes=6, seconds=39),
                cover="",
                bilibili_url="https://www.bilibili.com/video/BV1H44y1t75x",
                youtube_url="",
                zhihu_url="",
                paper_urls=(),
            ),
        ),
        categories=(
            CategoryBlock(
                name="自然语言处理 - Transformer",
                description="Papers about transformers.",
                papers=(
                    PaperRow(
                        name="Transformer",
                        url="https://arxiv.org/abs/1706.03762",
                        year=2017,
                        summary="继MLP、CNN、RNN后的第四大类架构",
                        is_recorded=True,
                        s2_paper_id=TRANSFORMER_S2,
                        citation_count=12345,
                        citations_updated_at=dt.datetime(2026, 11, 20, 3, 4, 5),
                    ),
                    PaperRow(
                        name="No count yet",
                        url="",
                        year=None,
                        summary=None,
                        is_recorded=None,
                        s2_paper_id=TRANSFORMER_S2.upper(),
                    ),
                    PaperRow(
                        name="No id",
                        url="https://example.com/p",
                        year=2020,
                        summary="a | b\nc",
                        is_recorded=False,
                        citation_count=7,
                    ),
                ),
            ),
        ),
    )


def test_render_writes_the_readme_format():
    text = render_readme(
        sample_document(), title="My list", intro="Intro with a [link](https://x.y)."
    )
    s2_url = f"https://www.semanticscholar.org/paper/{TRANSFORMER_S2}"
    assert text == "\n".join(
        [
            "# My list",
            "",
            "Intro with a [link](https://x.y).",
            "",
            "## 录制完成的论文",
            "",
            "| 日期 | 标题 | 封面 | 时长 | 视频（播放数） |",
            "| --: | -- | -- | --: | -- |",
            "| 10/27/21 | [Transformer](https://arxiv.org/abs/1706.03762) 逐段精读 | "
            '<img src="imgs/transformer.jpg" width="200px"/> | 1:27:05 | '
            "[bilibili](https://www.bilibili.com/video/BV1pu411o7BE/)<br />"
            "[知乎](https://www.zhihu.com/zvideo/1437034536677404672)<br />"
            "[YouTube](https://youtu.be/nzqlFIcCSWQ) |",
            "| 10/6/21 | 如何读论文 |  | 6:39 | "
            "[bilibili](https://www.bilibili.com/video/BV1H44y1t75x) |",
            "",
            "## 所有论文",
            "",
            "### 自然语言处理 - Transformer",
            "",
            "Papers about transformers.",
            "",
            "| 已录制 | 年份 | 名字 | 简介 | 引用 |",
            "| ------ | ---- | ---- | ---- | ---- |",
            "| ✅ | 2017 | [Transformer](https://arxiv.org/abs/1706.03762) | "
            f"继MLP、CNN、RNN后的第四大类架构 | [12,345]({s2_url}) (2026-11-20) |",
            f"|  |  | No count yet |  | [–]({s2_url}) |",
            "|  | 2020 | [No id](https://example.com/p) | a \\| b c | 7 |",
            "",
        ]
    )


def test_render_with_badges_uses_the_fixture_badges_verbatim():
    text = render_readme(sample_document(), badges=True)
    citation = (
        "[![citation](https://img.shields.io/badge/dynamic/json?label=citation&query="
        "citationCount&url=https%3A%2F%2Fapi.semanticscholar.org%2Fgraph%2Fv1%2Fpaper"
        f"%2F{TRANSFORMER_S2}%3Ffields%3DcitationCount)]"
        f"(https://www.semanticscholar.org/paper/{TRANSFORMER_S2})"
    )
    assert f"| {citation} |" in text
    # Each video badge appears character for character in the original README.
    video_line = next(line for line in text.splitlines() if "10/27/21" in line)
    badges = video_line.split(" | ")[-1].removesuffix(" |").split("<br />")
    assert len(badges) == 3
    for badge in badges:
        assert badge in EXCERPT_TEXT, badge
    assert "| 7 |" in text  # no S2 id: a plain count, no badge


def test_render_date_and_duration_forms():
    video = sample_document().videos[1]
    doc = ReadmeDocument(
        videos=(
            video,
            VideoRow(**{**video.__dict__, "published_on": dt.date(2024, 9, 4)}),
            VideoRow(**{**video.__dict__, "duration": dt.timedelta(seconds=5)}),
            VideoRow(**{**video.__dict__, "duration": dt.timedelta(hours=10)}),
            VideoRow(**{**video.__dict__, "published_on": dt.date(1999, 1, 2)}),
        ),
        categories=(),
    )
    rows = [
        line.split(" | ")[:4]
        for line in render_readme(doc).splitlines()
        if line.startswith("| ") and "如何读论文" in line
    ]
    assert [(row[0], row[3]) for row in rows] == [
        ("| 10/6/21", "6:39"),
        ("| 9/4/24", "6:39"),
        ("| 10/6/21", "0:05"),
        ("| 10/6/21", "10:00:00"),
        ("| 1999-01-02", "6:39"),  # a two-digit year would read back as 2099
    ]
    assert parse_readme(render_readme(doc)).videos == doc.videos


def test_render_of_an_empty_document_reads_back():
    doc = ReadmeDocument(videos=(), categories=())
    assert parse_readme(render_readme(doc)) == doc


def test_render_escapes_cell_content():
    paper = PaperRow(
        name="A [b] | c\\",
        url="https://example.com/x_(y)|z",
        year=2020,
        summary="<b>not bold</b> *not em* `not code` &amp; [^1] |\\|",
        is_recorded=True,
    )
    doc = ReadmeDocument(
        videos=(),
        categories=(CategoryBlock(name="C #1 | *x*", papers=(paper,)),),
    )
    text = render_readme(doc)
    assert "[A \\[b\\] \\| c\\\\](https://example.com/x_\\(y\\)\\|z)" in text
    back = parse_readme(text).categories[0]
    assert back.name == "C #1 | *x*"
    assert back.papers[0] == paper


def test_render_drops_link_targets_markdown_would_refuse():
    paper = PaperRow("Evil", "javascript:alert(1)", 2020, "s", True)
    doc = ReadmeDocument(videos=(), categories=(CategoryBlock("C", (paper,)),))
    text = render_readme(doc)
    assert "javascript" not in text
    assert parse_readme(text).categories[0].papers[0].name == "Evil"


@pytest.mark.parametrize(
    "description",
    [
        "# not a heading",
        "1. not a list",
        "2) not a list either",
        "- not a bullet",
        "+ nor this",
        "> not a quote",
        "=== not a setext underline",
        "~~~ not a fence",
        "``` not a fence",
        "<div>not html</div>",
        "[^1]: not a footnote",
        "[a]: https://not.a/reference",
        "| not | a | table |",
        "plain text, with full-width punctuation（）：",
    ],
)
def test_category_descriptions_round_trip(description):
    doc = ReadmeDocument(
        videos=(),
        categories=(
            CategoryBlock(
                name="C",
                description=f"{description}\n\nsecond paragraph",
                papers=(PaperRow("A", "", None, "", False),),
            ),
        ),
    )
    assert parse_readme(render_readme(doc)) == doc


@pytest.mark.parametrize("badges", [False, True])
@pytest.mark.parametrize("source", ["full", "excerpt"])
def test_readme_round_trip(request, source, badges):
    doc = request.getfixturevalue(source)
    back = parse_readme(render_readme(doc, badges=badges))
    assert back.warnings == ()
    assert back.categories == doc.categories
    assert back.videos == doc.videos


@pytest.mark.parametrize("badges", [False, True])
def test_seed_list_round_trip(seed, badges):
    back = parse_readme(render_readme(seed, badges=badges))
    assert [c.name for c in back.categories] == [c.name for c in seed.categories]
    # The seed list has no 已录制 column (is_recorded None). render_readme always writes
    # the column and None renders as an empty cell, which reads back as False ("the
    # column is there and says no"). Everything else comes back unchanged.
    expected = [
        CategoryBlock(
            name=c.name,
            description=c.description,
            papers=tuple(
                PaperRow(**{**p.__dict__, "is_recorded": False}) for p in c.papers
            ),
        )
        for c in seed.categories
    ]
    assert list(back.categories) == expected
    assert back.videos == ()


HOSTILE_TEXT = st.one_of(
    st.text(
        alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\0"),
        max_size=30,
    ),
    st.lists(
        st.sampled_from(
            [
                "|",
                "\\",
                "\\|",
                "[",
                "]",
                "(",
                ")",
                "![x](y)",
                "[a](http://b)",
                "<b>",
                "</b>",
                "<br>",
                "<br />",
                "<http://x.y>",
                "*",
                "**",
                "_",
                "__",
                "`",
                "``",
                "~",
                "&amp;",
                "&#123;",
                "&",
                "#",
                "!",
                "[^1]",
                "^[x]",
                "中文",
                "（）",
                "✅",
                " ",
                "  ",
                "\n",
                "\t",
                "a",
                "1.",
                "-",
                ">",
                "<",
                ":",
                "é",
            ]
        ),
        max_size=12,
    ).map("".join),
)
URLS = st.sampled_from(
    [
        "",
        "https://arxiv.org/abs/1706.03762",
        "http://arxiv.org/abs/1504.08083v2",
        "https://doi.org/10.1000/ABC",
        "https://example.com/a_(b)|c\\d",
        "https://example.com/with space",
        "https://example.com/?q=1&amp;r=2",
        "imgs/relative.pdf",
    ]
)


@st.composite
def paper_rows(draw) -> PaperRow:
    name = draw(HOSTILE_TEXT)
    return PaperRow(
        name=name if visible(name) else f"n{name}",  # a row needs a name
        url=draw(URLS),
        year=draw(st.none() | st.integers(1000, 9999)),
        summary=draw(HOSTILE_TEXT),
        is_recorded=draw(st.booleans()),
        s2_paper_id=draw(st.sampled_from(["", TRANSFORMER_S2])),
        citation_count=draw(st.none() | st.integers(0, 10**7)),
    )


@pytest.mark.parametrize("description", ["\x1b>", "\u202e# title", "\x01- item"])
def test_a_control_character_cannot_hide_markup_in_an_export(description):
    doc = ReadmeDocument(
        videos=(),
        categories=(CategoryBlock(name="CV", papers=(), description=description),),
    )
    (back,) = parse_readme(render_readme(doc)).categories
    assert back.description == visible(description)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(paper_rows(), min_size=1, max_size=3),
    HOSTILE_TEXT,
    HOSTILE_TEXT,
    st.booleans(),
)
def test_hostile_paper_rows_round_trip(papers, category, description, badges):
    doc = ReadmeDocument(
        videos=(),
        categories=(
            CategoryBlock(name=category, papers=tuple(papers), description=description),
        ),
    )
    (back,) = parse_readme(render_readme(doc, badges=badges)).categories
    assert back.name == visible(category)
    # Descriptions are paragraphs separated by a blank line ("\n\n").
    paragraphs = [visible(part) for part in description.split("\n\n")]
    assert back.description == "\n\n".join(part for part in paragraphs if part)
    assert len(back.papers) == len(papers)
    for got, sent in zip(back.papers, papers, strict=True):
        assert got.name == visible(sent.name)
        assert got.url == sent.url
        assert got.year == sent.year
        assert got.summary == visible(sent.summary or "")
        assert got.is_recorded is sent.is_recorded
        assert got.s2_paper_id == sent.s2_paper_id
