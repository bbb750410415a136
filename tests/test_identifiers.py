"""Identifier extraction from the links found in (and around) the README."""

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from papers.identifiers import (
    arxiv_id_from_url,
    bilibili_bvid,
    doi_from_text,
    is_s2_paper_id,
    normalise_arxiv_id,
    normalise_url,
    s2_id_from_url,
    youtube_id,
    zhihu_video_id,
)
from tests.helpers import EXCERPT, read_full_readme, read_s2_ids

TRANSFORMER = "204e3073870fae3d05bcbc2f6a8e263d9b72e776"
HOSTILE = [
    "",
    "   ",
    "javascript:alert(1)",
    "JaVaScRiPt:alert('https://arxiv.org/abs/1706.03762')",
    "data:text/html,<script>alert(1)</script>",
    "ftp://arxiv.org/abs/1706.03762",
    "//arxiv.org/abs/1706.03762",
    "https://",
    "http://[::1",
    "https://example.com:notaport/x",
    "not a url at all",
    "\x00\x01\x02",
]


# --- arXiv ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        # Forms found in the fixture.
        ("https://arxiv.org/abs/1706.03762", "1706.03762"),
        ("https://arxiv.org/pdf/1409.1556.pdf", "1409.1556"),
        ("https://arxiv.org/pdf/2407.21783", "2407.21783"),
        ("http://arxiv.org/abs/1504.08083v2", "1504.08083"),
        ("https://arxiv.org/pdf/1311.2524v5.pdf", "1311.2524"),
        ("https://arxiv.org/pdf/1911.07013.pdf", "1911.07013"),
        # Other ways to write the same link.
        ("https://www.arxiv.org/abs/1706.03762v5", "1706.03762"),
        ("HTTPS://ARXIV.ORG/abs/1706.03762", "1706.03762"),
        ("https://arxiv.org/abs/1706.03762/", "1706.03762"),
        ("https://arxiv.org/abs/1706.03762?context=cs#section", "1706.03762"),
        ("https://export.arxiv.org/abs/1706.03762", "1706.03762"),
        ("https://arxiv.org/abs/0704.0001", "0704.0001"),
        # Old-style ids, with the subject class dropped as arXiv itself does.
        ("https://arxiv.org/abs/cs/0112017", "cs/0112017"),
        ("http://arxiv.org/pdf/hep-th/9901001v3.pdf", "hep-th/9901001"),
        ("https://arxiv.org/abs/math.GT/0309136", "math/0309136"),
        ("https://arxiv.org/abs/hep-th%2F9901001", "hep-th/9901001"),
        # Not arXiv, or not an id.
        ("https://arxiv.org/list/cs.CL/recent", ""),
        ("https://arxiv.org/abs/1706.0376", ""),  # 4 digits after 2014
        ("https://arxiv.org/abs/1412.69800", ""),  # 5 digits before 2015
        ("https://arxiv.org/abs/1713.03762", ""),  # month 13
        ("https://arxiv.org/abs/0612.0001", ""),  # before the new scheme
        ("https://arxiv.org/abs/1706.03762v", ""),
        ("https://arxiv.org.evil.com/abs/1706.03762", ""),
        ("https://evil.com/arxiv.org/abs/1706.03762", ""),
        ("https://papers.nips.cc/paper/2012/file/c399862d3b-Paper.pdf", ""),
        *[(hostile, "") for hostile in HOSTILE],
    ],
)
def test_arxiv_id_from_url(url, expected):
    assert arxiv_id_from_url(url) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1706.03762", "1706.03762"),
        ("1706.03762v5", "1706.03762"),
        ("  1706.03762  ", "1706.03762"),
        ("arXiv:1706.03762", "1706.03762"),
        ("ARXIV:1706.03762v2", "1706.03762"),
        ("arxiv: 2407.21783", "2407.21783"),
        ("cs/0112017", "cs/0112017"),
        ("hep-th/9901001v1", "hep-th/9901001"),
        ("https://arxiv.org/pdf/1512.03385.pdf", "1512.03385"),
        ("http://arxiv.org/abs/1612.08242v1", "1612.08242"),
        ("1706.03762.pdf", ""),
        ("1706-03762", ""),
        ("abs/1706.03762", ""),
        ("arXiv:", ""),
        ("10.48550/arXiv.1706.03762", ""),
        ("１７０６.０３７６２", ""),  # full-width digits are not an id
        *[(hostile, "") for hostile in HOSTILE],
    ],
)
def test_normalise_arxiv_id(text, expected):
    assert normalise_arxiv_id(text) == expected


def arxiv_links(text: str) -> list[str]:
    return re.findall(r"\((https?://arxiv\.org/[^)\s]+)\)", text)


def test_every_arxiv_link_in_our_excerpt_gives_an_id():
    # abs and pdf, .pdf and vN, http and https: every form the README uses.
    urls = arxiv_links(EXCERPT.read_text(encoding="utf-8"))
    assert {arxiv_id_from_url(url) for url in urls} >= {
        "1311.2524",  # https://arxiv.org/pdf/1311.2524v5.pdf
        "1504.08083",  # http://arxiv.org/abs/1504.08083v2
        "1512.03385",  # abs and pdf
        "2108.07258",  # in the footnote definition
    }
    for url in urls:
        assert re.fullmatch(r"\d{4}\.\d{4,5}", arxiv_id_from_url(url)), url


def test_every_arxiv_link_in_the_upstream_readme_gives_an_id():
    urls = arxiv_links(read_full_readme())
    assert len(urls) > 75
    for url in urls:
        assert re.fullmatch(r"\d{4}\.\d{4,5}", arxiv_id_from_url(url)), url


# --- Semantic Scholar -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "https://www.semanticscholar.org/paper/Attention-is-All-you-Need-Vaswani-"
            f"Shazeer/{TRANSFORMER}",
            TRANSFORMER,
        ),
        (  # percent-escapes in the slug (fixture: S%C3%A1nchez-Lengeling)
            "https://www.semanticscholar.org/paper/A-Gentle-Introduction-to-Graph-"
            "Neural-Networks-S%C3%A1nchez-Lengeling-Reif/"
            "2c0e0440882a42be752268d0b64243243d752a74",
            "2c0e0440882a42be752268d0b64243243d752a74",
        ),
        (  # bare form, as for R-CNN in the fixture
            "https://www.semanticscholar.org/paper/2f4df08d9072fc2ac181b7fced6a245315ce05c8",
            "2f4df08d9072fc2ac181b7fced6a245315ce05c8",
        ),
        (f"https://semanticscholar.org/paper/{TRANSFORMER}?utm=x#y", TRANSFORMER),
        (f"http://www.semanticscholar.org/paper/{TRANSFORMER}/", TRANSFORMER),
        (f"https://www.semanticscholar.org/paper/{TRANSFORMER.upper()}", TRANSFORMER),
        (f"https://api.semanticscholar.org/graph/v1/paper/{TRANSFORMER}", TRANSFORMER),
        (
            f"https://api.semanticscholar.org/graph/v1/paper/{TRANSFORMER}"
            "?fields=citationCount",
            TRANSFORMER,
        ),
        (  # the fixture's citation badge: the API URL is percent-encoded
            "https://img.shields.io/badge/dynamic/json?label=citation&query="
            "citationCount&url=https%3A%2F%2Fapi.semanticscholar.org%2Fgraph%2Fv1"
            f"%2Fpaper%2F{TRANSFORMER}%3Ffields%3DcitationCount",
            TRANSFORMER,
        ),
        # 39 and 41 hex digits; an id glued to an escaped slash ("%2F" + id).
        (f"https://www.semanticscholar.org/paper/{TRANSFORMER[:-1]}", ""),
        (f"https://www.semanticscholar.org/paper/{TRANSFORMER}0", ""),
        (f"https://www.semanticscholar.org/paper/Foo%2F{TRANSFORMER}", ""),
        (
            "https%3A%2F%2Fapi.semanticscholar.org%2Fgraph%2Fv1%2Fpaper%2F"
            f"{TRANSFORMER}%3Ffields%3DcitationCount",
            "",
        ),
        (f"https://www.semanticscholar.org/author/{TRANSFORMER}", ""),
        (f"https://www.semanticscholar.org/paper/a/b/{TRANSFORMER}", ""),
        (f"https://evil.example/paper/{TRANSFORMER}", ""),
        (f"https://semanticscholar.org.evil.example/paper/{TRANSFORMER}", ""),
        (f"https://img.shields.io/badge/x?url=https://evil.example/{TRANSFORMER}", ""),
        (f"javascript:'https://www.semanticscholar.org/paper/{TRANSFORMER}'", ""),
        *[(hostile, "") for hostile in HOSTILE],
    ],
)
def test_s2_id_from_url(url, expected):
    assert s2_id_from_url(url) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (TRANSFORMER, True),
        (TRANSFORMER.upper(), True),
        (TRANSFORMER[:-1], False),
        (TRANSFORMER + "a", False),
        (TRANSFORMER + "\n", False),
        (" " + TRANSFORMER, False),
        ("g" * 40, False),
        ("", False),
        ("２" * 40, False),
    ],
)
def test_is_s2_paper_id(text, expected):
    assert is_s2_paper_id(text) is expected


def test_s2_ids_fixture_is_valid():
    ids = read_s2_ids()
    assert len(ids) == 90 == len(set(ids))
    assert all(is_s2_paper_id(s2_id) and s2_id == s2_id.lower() for s2_id in ids)


# --- DOI ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("https://doi.org/10.1038/nature14539", "10.1038/nature14539"),
        ("http://dx.doi.org/10.1038/Nature14539", "10.1038/nature14539"),
        ("https://www.doi.org/10.1145/3065386?x=1#y", "10.1145/3065386"),
        ("https://doi.org/10.1002%2F%28SICI%291097", "10.1002/(sici)1097"),
        ("doi:10.1038/s41586-021-03819-2", "10.1038/s41586-021-03819-2"),
        ("DOI: 10.1038/S41586-021-03819-2", "10.1038/s41586-021-03819-2"),
        ("10.1234/abc", "10.1234/abc"),
        ("  10.48550/arXiv.1706.03762 ", "10.48550/arxiv.1706.03762"),
        ("https://www.nature.com/articles/s41586-021-03819-2.pdf", ""),
        ("https://doi.org/", ""),
        ("https://doi.org/11.1234/abc", ""),
        ("10.12/abc", ""),  # registrant codes have at least four digits
        ("10.1234/", ""),
        ("10.1234/a b", ""),
        ("see 10.1234/abc", ""),
        ("https://evil.example/10.1234/abc", ""),
        *[(hostile, "") for hostile in HOSTILE],
    ],
)
def test_doi_from_text(text, expected):
    assert doi_from_text(text) == expected


# --- normalise_url --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://distill.pub/2021/gnn-intro/", "https://distill.pub/2021/gnn-intro"),
        ("HTTP://WWW.Example.COM/Path/", "https://example.com/Path"),
        ("https://example.com/a#frag", "https://example.com/a"),
        ("https://example.com/", "https://example.com"),
        ("https://example.com", "https://example.com"),
        ("http://example.com:80/a", "https://example.com/a"),
        ("https://example.com:443/a", "https://example.com/a"),
        ("https://example.com:8443/a", "https://example.com:8443/a"),
        ("https://user:pw@example.com/a", "https://example.com/a"),
        ("https://example.com/a?b=1&c=2", "https://example.com/a?b=1&c=2"),
        ("https://example.com/a?", "https://example.com/a"),
        ("https://example.com/%7euser/%3a", "https://example.com/~user/%3A"),
        ("  https://example.com/a  ", "https://example.com/a"),
        # bilibili with and without the trailing slash, as in the fixture
        (
            "https://www.bilibili.com/video/BV1pu411o7BE/",
            "https://bilibili.com/video/BV1pu411o7BE",
        ),
        # arXiv abs / pdf / .pdf / vN / http all meet
        ("http://arxiv.org/abs/1504.08083v2", "https://arxiv.org/abs/1504.08083"),
        ("https://arxiv.org/pdf/1504.08083.pdf", "https://arxiv.org/abs/1504.08083"),
        ("https://www.arxiv.org/pdf/1504.08083v1", "https://arxiv.org/abs/1504.08083"),
        ("https://doi.org/10.1038/Nature14539", "https://doi.org/10.1038/nature14539"),
        (
            "http://dx.doi.org/10.1038/nature14539",
            "https://doi.org/10.1038/nature14539",
        ),
        ("https://example.com/a b/\x85c", "https://example.com/a%20b/%C2%85c"),
        ("https://[::1]:8000/a", "https://[::1]:8000/a"),
        ("http://example.com:443/a", "https://example.com/a"),
        ("https://www.www.example.com", "https://example.com"),
        ("https://doi.org/10.1234/a%3Fb", "https://doi.org/10.1234/a%3Fb"),
        ("https://exa mple.com/a", ""),
        ("mailto:someone@example.com", ""),
        ("imgs/gpt4.jpg", ""),
        ("#contrastive_learning", ""),
        *[(hostile, "") for hostile in HOSTILE],
    ],
)
def test_normalise_url(url, expected):
    assert normalise_url(url) == expected


def test_normalise_url_matches_the_same_paper_written_differently():
    forms = [
        "https://arxiv.org/abs/1706.03762",
        "http://arxiv.org/abs/1706.03762v5",
        "https://arxiv.org/pdf/1706.03762.pdf",
        "https://www.arxiv.org/pdf/1706.03762v2.pdf#page=3",
    ]
    assert {normalise_url(form) for form in forms} == {
        "https://arxiv.org/abs/1706.03762"
    }


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_normalise_url_is_idempotent(text):
    once = normalise_url(text)
    assert normalise_url(once) == once
    assert once == "" or once.startswith("https://")


# --- video sites ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://www.bilibili.com/video/BV1c8HbeaEXi", "BV1c8HbeaEXi"),
        ("https://www.bilibili.com/video/BV1pu411o7BE/", "BV1pu411o7BE"),
        ("https://m.bilibili.com/video/BV1pu411o7BE?p=2", "BV1pu411o7BE"),
        ("http://bilibili.com/video/BV1pu411o7BE#t=10", "BV1pu411o7BE"),
        ("https://b23.tv/BV1pu411o7BE", "BV1pu411o7BE"),
        (
            "https://api.bilibili.com/x/web-interface/view?bvid=BV1pu411o7BE",
            "BV1pu411o7BE",
        ),
        ("https://www.bilibili.com/video/av170001", ""),
        ("https://www.bilibili.com/video/BV1pu411o7B", ""),
        ("https://www.bilibili.com/video/BV1pu411o7BEE", ""),
        ("https://www.bilibili.com/video/BV1pu411o7BE%2F", ""),
        ("https://b23.tv/aBcDeF1", ""),
        ("https://space.bilibili.com/1567748478", ""),
        ("https://evilbilibili.com/video/BV1pu411o7BE", ""),
        *[(hostile, "") for hostile in HOSTILE],
    ],
)
def test_bilibili_bvid(url, expected):
    assert bilibili_bvid(url) == expected


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://youtu.be/nzqlFIcCSWQ", "nzqlFIcCSWQ"),
        ("https://youtu.be/-PztagF3wQE?t=42", "-PztagF3wQE"),
        ("https://www.youtube.com/watch?v=6XidEHVjS1A", "6XidEHVjS1A"),
        (
            "https://www.youtube.com/watch?v=txjl_Q4jCyQ&list=PLFXJ6jwg0qW-7UM8iUTj3qKq"
            "dhbQULP5I&index=1",
            "txjl_Q4jCyQ",
        ),
        ("https://www.youtube.com/watch?feature=share&v=txjl_Q4jCyQ", "txjl_Q4jCyQ"),
        ("https://m.youtube.com/watch?v=txjl_Q4jCyQ", "txjl_Q4jCyQ"),
        ("https://www.youtube.com/embed/txjl_Q4jCyQ?start=3", "txjl_Q4jCyQ"),
        ("https://www.youtube-nocookie.com/embed/txjl_Q4jCyQ", "txjl_Q4jCyQ"),
        ("https://youtube.com/shorts/txjl_Q4jCyQ", "txjl_Q4jCyQ"),
        ("https://www.youtube.com/watch?v=txjl_Q4jCy", ""),
        ("https://www.youtube.com/watch?v=txjl_Q4jCyQQ", ""),
        ("https://www.youtube.com/watch?v=txjl%3CQ4jCyQ", ""),
        ("https://www.youtube.com/watch", ""),
        ("https://www.youtube.com/@mli65", ""),
        ("https://img.shields.io/youtube/views/nzqlFIcCSWQ?style=social", ""),
        ("https://notyoutube.com/watch?v=txjl_Q4jCyQ", ""),
        *[(hostile, "") for hostile in HOSTILE],
    ],
)
def test_youtube_id(url, expected):
    assert youtube_id(url) == expected


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://www.zhihu.com/zvideo/1437034536677404672", "1437034536677404672"),
        ("https://zhihu.com/zvideo/1437034536677404672/?x=1", "1437034536677404672"),
        (
            "https://www.zhihu.com/api/v4/zvideos/1437034536677404672",
            "1437034536677404672",
        ),
        ("https://www.zhihu.com/zvideo/14370345366774O4672", ""),
        ("https://www.zhihu.com/people/mli", ""),
        ("https://www.zhihu.com/zvideo/", ""),
        ("https://evil.example/zvideo/1437034536677404672", ""),
        *[(hostile, "") for hostile in HOSTILE],
    ],
)
def test_zhihu_video_id(url, expected):
    assert zhihu_video_id(url) == expected


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_extractors_never_raise(text):
    for extract in (
        arxiv_id_from_url,
        normalise_arxiv_id,
        s2_id_from_url,
        doi_from_text,
        normalise_url,
        bilibili_bvid,
        youtube_id,
        zhihu_video_id,
    ):
        assert isinstance(extract(text), str)
    assert isinstance(is_s2_paper_id(text), bool)
