"""What readers paste into 请求精读: links from the sites that mirror arXiv, bare
arXiv ids and links without https://, all recognised as the paper they name."""

import pytest

from papers.forms import ReadingRequestForm, paper_url_from_input
from papers.identifiers import arxiv_id_from_url, normalise_url
from papers.services.reading_requests import request_key
from tests.factories import PaperFactory

HINT = "/requests/hint/"
HTMX = {"HX-Request": "true"}


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://huggingface.co/papers/2401.12345", "2401.12345"),
        ("https://huggingface.co/papers/2401.12345/", "2401.12345"),
        ("https://www.huggingface.co/papers/1706.03762", "1706.03762"),
        ("https://www.alphaxiv.org/abs/2401.12345", "2401.12345"),
        ("https://alphaxiv.org/abs/2401.12345v2", "2401.12345"),
        ("https://www.alphaxiv.org/overview/2401.12345", "2401.12345"),
        ("https://alphaxiv.org/overview/2401.12345v3", "2401.12345"),
        ("https://alphaxiv.org/pdf/2401.12345v1.pdf", "2401.12345"),
        ("https://alphaxiv.org/abs/cs/0112017", ""),  # no old ids there: not a path
        ("https://huggingface.co/papers", ""),
        ("https://huggingface.co/papers/trending", ""),
        ("https://huggingface.co/2401.12345", ""),
        ("https://huggingface.co/datasets/2401.12345", ""),
        ("https://alphaxiv.org/explore/2401.12345", ""),
        ("https://nothuggingface.co/papers/2401.12345", ""),
        ("https://huggingface.co.evil.example/papers/2401.12345", ""),
        ("https://huggingface.co/papers/9999.12345", ""),
    ],
)
def test_arxiv_id_from_mirror_links(url, expected):
    assert arxiv_id_from_url(url) == expected


def test_mirror_links_normalise_to_the_arxiv_page():
    assert normalise_url("https://huggingface.co/papers/1706.03762") == (
        "https://arxiv.org/abs/1706.03762"
    )
    assert normalise_url("https://www.alphaxiv.org/overview/1706.03762v7") == (
        "https://arxiv.org/abs/1706.03762"
    )


@pytest.mark.parametrize(
    ("pasted", "url"),
    [
        ("2401.12345", "https://arxiv.org/abs/2401.12345"),
        ("2401.12345v2", "https://arxiv.org/abs/2401.12345"),
        ("  1706.03762v7 ", "https://arxiv.org/abs/1706.03762"),
        ("cs/0112017", "https://arxiv.org/abs/cs/0112017"),
        ("cs/0112017v1", "https://arxiv.org/abs/cs/0112017"),
        ("math.GT/0309136", "https://arxiv.org/abs/math/0309136"),
        ("arxiv.org/abs/1706.03762", "https://arxiv.org/abs/1706.03762"),
        ("www.arxiv.org/pdf/1706.03762v5", "https://www.arxiv.org/pdf/1706.03762v5"),
        (
            "huggingface.co/papers/2401.12345",
            "https://huggingface.co/papers/2401.12345",
        ),
        ("alphaxiv.org/abs/2401.12345", "https://alphaxiv.org/abs/2401.12345"),
        ("example.org", "https://example.org"),
        ("Example.org/paper?id=3", "https://Example.org/paper?id=3"),
        ("10.1145/3292500.3330701", "https://doi.org/10.1145/3292500.3330701"),
    ],
)
def test_pasted_ids_and_schemeless_links_become_urls(pasted, url):
    assert paper_url_from_input(pasted) == url


@pytest.mark.parametrize(
    "pasted",
    [
        "transformer",
        "attention is all you need",
        "1706.037",  # too short for an arXiv id
        "0612.12345",  # five digits before 2015
        "localhost/paper",  # no top-level domain
        "example.org/a b",  # a space is never in a link
        "example.org/<script>",
        "a..b/x",
        "-example.org/x",
        "javascript:alert(1)",
        "example.123/x",
    ],
)
def test_other_text_is_not_a_link(pasted):
    assert paper_url_from_input(pasted) == ""


@pytest.mark.parametrize(
    "pasted",
    [
        "https://huggingface.co/papers/1512.03385",
        "huggingface.co/papers/1512.03385",
        "https://www.alphaxiv.org/abs/1512.03385v1",
        "alphaxiv.org/overview/1512.03385",
        "1512.03385",
        "1512.03385v2",
        "arxiv.org/abs/1512.03385",
    ],
)
def test_every_form_gives_the_same_request_key(pasted):
    assert request_key(paper_url_from_input(pasted)) == "arxiv:1512.03385"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "pasted",
    [
        "huggingface.co/papers/1512.03385",
        "https://www.alphaxiv.org/overview/1512.03385",
        "1512.03385v1",
        "arxiv.org/abs/1512.03385",
    ],
)
def test_hint_recognises_a_listed_paper_however_it_is_pasted(client, pasted):
    paper = PaperFactory(name="ResNet", arxiv_id="1512.03385")

    response = client.get(HINT, {"url": pasted}, headers=HTMX)

    assert response.status_code == 200
    assert "这篇论文已经在列表里了" in response.text
    assert f'href="{paper.get_absolute_url()}"' in response.text


@pytest.mark.django_db
def test_old_style_bare_id_is_recognised_by_the_hint(client):
    PaperFactory(name="Old", arxiv_id="cs/0112017")

    response = client.get(HINT, {"url": "cs/0112017"}, headers=HTMX)

    assert "这篇论文已经在列表里了" in response.text


def test_the_request_form_takes_a_link_without_https():
    form = ReadingRequestForm(
        data={"url": "huggingface.co/papers/1512.03385", "title": "ResNet"}
    )

    form.is_valid()
    assert "url" not in form.errors
