"""The README importer against hostile upstream text: control characters, bidi
overrides, oversized cells and unsafe cover paths never reach the database whole,
and never abort the import."""

import pytest

from papers import readme
from papers.models import Category, Paper, VideoNote
from papers.readme import is_safe_cover, parse_readme
from papers.services import readme_import

pytestmark = pytest.mark.django_db

TABLE = "| 名字 | 简介 |\n| --- | --- |\n"


def test_limits_match_the_model_fields():
    assert Paper._meta.get_field("name").max_length == readme.MAX_NAME_LENGTH
    assert (
        Category._meta.get_field("name").max_length == readme.MAX_CATEGORY_NAME_LENGTH
    )
    assert (
        VideoNote._meta.get_field("title").max_length == readme.MAX_VIDEO_TITLE_LENGTH
    )


def test_a_megabyte_summary_is_cut_and_the_import_goes_on():
    text = (
        "### CV\n\n"
        + TABLE
        + f"| Big | {'x' * 1_000_000} |\n"
        + f"| {'N' * 400} | fine |\n"
        + "| Small | ok |\n"
    )

    report = readme_import(text=text)

    assert report.warnings == [
        "line 5: summary cut to 1000 characters (it had 1000000)",
        "line 6: name cut to 300 characters (it had 400)",
    ]
    big = Paper.objects.get(name="Big")
    assert len(big.summary) == 1000 and big.summary.endswith("…")
    assert len(Paper.objects.get(name__startswith="NNN").name) == 300
    assert Paper.objects.get(name="Small").summary == "ok"


def test_bidi_overrides_and_controls_are_removed_with_the_line_number():
    doc = parse_readme("### CV\n\n" + TABLE + "| A\u202eB\u2066 | s\x00u\x7fm\x85 |\n")

    (paper,) = doc.categories[0].papers
    assert (paper.name, paper.summary) == ("AB", "sum")
    assert doc.warnings == ("line 5: control or bidi characters removed",)


def test_a_long_video_title_skips_only_its_row():
    header = "| 日期 | 标题 | 时长 |\n| --- | --- | --- |\n"
    doc = parse_readme(
        header + f"| 3/3/22 | {'t' * 501} | 1:00 |\n| 3/4/22 | ok | 1:00 |\n"
    )

    assert [video.title for video in doc.videos] == ["ok"]
    assert doc.warnings == (
        "line 3: video row skipped: title longer than 500 characters (501)",
    )


@pytest.mark.parametrize(
    "src, safe",
    [
        ("imgs/gpt4.jpg", True),
        ("/imgs/gpt4.jpg", True),
        ("https://i0.hdslb.com/a.jpg", True),
        ("http://example.org/a.png", True),
        ("javascript:alert(1)", False),
        ("JavaScript:alert(1)", False),
        ("data:image/png;base64,AAAA", False),
        ("//evil.example/a.png", False),
        ("vbscript:x", False),
        ("https:///nohost.png", False),
        ("", False),
    ],
)
def test_cover_paths(src, safe):
    assert is_safe_cover(src) is safe


def test_an_unsafe_cover_is_not_imported():
    header = "| 日期 | 标题 | 封面 | 时长 |\n| --- | --- | --- | --- |\n"
    row = '| 3/3/22 | T | <img src="javascript:alert(1)" /> | 1:00 |\n'

    doc = parse_readme(header + row)

    assert doc.videos[0].cover == ""
    assert doc.warnings == (
        "line 3: cover 'javascript:alert(1)' ignored: "
        "not a relative path or an http(s) URL",
    )
