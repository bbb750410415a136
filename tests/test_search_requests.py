"""A search that finds nothing offers 请求精读, with the query already in the form."""

import html
import re

import pytest

from tests.factories import PaperFactory

pytestmark = pytest.mark.django_db
HTMX = {"HX-Request": "true"}


def request_link(page: str) -> str:
    match = re.search(r'<a class="request-link" href="([^"]+)"', page)
    assert match, "no 请求精读 link"
    return html.unescape(match[1])


def field_value(page: str, name: str) -> str | None:
    tag = re.search(rf'<input[^>]*name="{name}"[^>]*>', page)
    assert tag, f"no {name} field"
    value = re.search(r'value="([^"]*)"', tag[0])
    return html.unescape(value[1]) if value else None


@pytest.mark.parametrize("headers", [{}, HTMX], ids=["page", "htmx"])
def test_a_search_with_no_results_offers_a_request(client, headers):
    PaperFactory(name="Transformer")

    response = client.get("/search/", {"q": "扩散模型 & <综述>"}, headers=headers)

    assert "请求精读" in response.text
    link = request_link(response.text)
    assert link.startswith("/requests/?title=")
    form_page = client.get(link)
    assert form_page.status_code == 200
    assert field_value(form_page.text, "title") == "扩散模型 & <综述>"
    assert "<综述>" not in form_page.text  # escaped in the value


def test_a_search_with_results_does_not(client):
    PaperFactory(name="Transformer")

    response = client.get("/search/", {"q": "Transformer"})

    assert 'class="request-link"' not in response.text


def test_an_empty_search_does_not(client):
    assert 'class="request-link"' not in client.get("/search/").text


def test_a_searched_arxiv_id_is_prefilled_as_the_link(client):
    response = client.get("/search/", {"q": "2401.12345"})

    form_page = client.get(request_link(response.text))

    assert field_value(form_page.text, "url") == "2401.12345"
    assert field_value(form_page.text, "title") is None


def test_prefill_is_bounded_and_plain(client):
    form_page = client.get("/requests/", {"title": "a\x00b\u202e  c" + "x" * 2000})

    value = field_value(form_page.text, "title")
    assert value.startswith("ab c")
    assert len(value) <= 300


def test_a_plain_request_page_has_an_empty_form(client):
    form_page = client.get("/requests/")

    assert field_value(form_page.text, "title") is None
    assert field_value(form_page.text, "url") is None
