"""The read-only JSON API at /api/v1/: endpoints, filters, pagination, errors, CORS,
the rate limit, the page cache and the OpenAPI document."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from openapi_spec_validator import validate

from papers import rate_limits
from tests.bench.bench_pages import grow_catalogue
from tests.factories import (
    CategoryFactory,
    PlacementFactory,
    VideoNoteFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _generous_limit(settings):
    settings.API_RATE_LIMIT = 1000


@pytest.fixture
def catalogue(db):
    nlp = CategoryFactory(slug="nlp", name="自然语言处理", position=1)
    cv = CategoryFactory(slug="cv", name="计算机视觉", position=2)
    transformer = PlacementFactory(
        category=nlp,
        paper__slug="transformer",
        paper__name="Transformer",
        paper__title="Attention Is All You Need",
        paper__year=2017,
        paper__is_recorded=True,
        paper__authors=[{"name": "Ashish Vaswani", "authorId": "1"}],
        paper__venue="NeurIPS",
        paper__abstract="The dominant sequence transduction models…",
        paper__tldr="A new simple network architecture, the Transformer.",
    ).paper
    bert = PlacementFactory(
        category=nlp, paper__slug="bert", paper__year=2018, paper__is_recorded=True
    ).paper
    resnet = PlacementFactory(
        category=cv, paper__slug="resnet", paper__year=2016, paper__is_recorded=False
    ).paper
    video = VideoNoteFactory(title="Transformer 论文逐段精读")
    video.papers.add(transformer)
    return {"transformer": transformer, "bert": bert, "resnet": resnet}


def _slugs(response) -> list[str]:
    return [p["slug"] for p in response.json()["results"]]


def test_papers_list_in_a_stable_order(client, catalogue):
    response = client.get("/api/v1/papers")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["count"] == 3
    assert _slugs(response) == ["bert", "transformer", "resnet"]  # newest first
    first = body["results"][1]
    assert [(c["slug"], c["name"]) for c in first["categories"]] == [
        ("nlp", "自然语言处理")
    ]
    assert first["url"].endswith("/papers/transformer/")
    assert first["cite"]["bibtex"].endswith("/papers/transformer/cite.bib")


def test_papers_filters(client, catalogue):
    assert _slugs(client.get("/api/v1/papers?category=cv")) == ["resnet"]
    assert _slugs(client.get("/api/v1/papers?year=2017")) == ["transformer"]
    assert _slugs(client.get("/api/v1/papers?recorded=false")) == ["resnet"]
    assert _slugs(client.get("/api/v1/papers?recorded=true&category=nlp")) == [
        "bert",
        "transformer",
    ]


def test_papers_pagination(client, catalogue):
    first = client.get("/api/v1/papers?page_size=2").json()
    assert [p["slug"] for p in first["results"]] == ["bert", "transformer"]
    assert first["previous"] is None
    assert first["next"].endswith("/api/v1/papers?page_size=2&page=2")
    second = client.get("/api/v1/papers?page_size=2&page=2").json()
    assert [p["slug"] for p in second["results"]] == ["resnet"]
    assert second["next"] is None
    assert second["previous"].endswith("page=1")
    assert client.get("/api/v1/papers?page=9").json()["results"] == []


@pytest.mark.parametrize(
    "query, name",
    [
        ("page_size=101", "page_size"),
        ("page_size=0", "page_size"),
        ("page=0", "page"),
        ("page=abc", "page"),
        ("year=abc", "year"),
        ("year=99999", "year"),
        ("recorded=maybe", "recorded"),
    ],
)
def test_bad_parameters_are_422_naming_the_parameter(client, catalogue, query, name):
    # The plain list is cached first: a bad value must not be served from it.
    client.get("/api/v1/papers")
    response = client.get(f"/api/v1/papers?{query}")
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert any(name in error["loc"] for error in detail), detail


def test_unknown_category_and_paper_are_404(client, catalogue):
    response = client.get("/api/v1/papers?category=nope")
    assert response.status_code == 404
    assert response.json() == {"detail": "No category with slug 'nope'."}
    response = client.get("/api/v1/papers/nope")
    assert response.status_code == 404
    assert "nope" in response.json()["detail"]
    assert client.get("/api/v1/nothing").status_code == 404


def test_paper_detail_has_details_videos_and_links(client, catalogue):
    from papers.models import PaperLink

    PaperLink.objects.create(citing=catalogue["bert"], cited=catalogue["transformer"])
    body = client.get("/api/v1/papers/transformer").json()
    assert body["authors"] == [{"name": "Ashish Vaswani", "author_id": "1"}]
    assert body["venue"] == "NeurIPS"
    assert body["tldr"].startswith("A new simple")
    assert [v["title"] for v in body["videos"]] == ["Transformer 论文逐段精读"]
    assert body["videos"][0]["papers"] == ["transformer"]
    assert body["builds_on"] == []
    assert [p["slug"] for p in body["built_upon_by"]] == ["bert"]
    bert = client.get("/api/v1/papers/bert").json()
    assert [p["slug"] for p in bert["builds_on"]] == ["transformer"]


def test_categories_and_videos(client, catalogue):
    categories = client.get("/api/v1/categories").json()
    assert [(c["slug"], c["paper_count"]) for c in categories] == [
        ("nlp", 2),
        ("cv", 1),
    ]
    videos = client.get("/api/v1/videos").json()
    assert [v["papers"] for v in videos] == [["transformer"]]
    assert videos[0]["duration_seconds"] == 45 * 60 + 12


def test_cors_on_get_and_preflight_only(client, catalogue):
    response = client.get("/api/v1/papers")
    assert response["Access-Control-Allow-Origin"] == "*"
    assert "Access-Control-Allow-Credentials" not in response
    preflight = client.options(
        "/api/v1/papers",
        HTTP_ORIGIN="https://example.org",
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="GET",
    )
    assert preflight.status_code == 204
    assert preflight["Access-Control-Allow-Methods"] == "GET, HEAD, OPTIONS"
    post = client.post("/api/v1/papers")
    assert post.status_code == 405
    assert "Access-Control-Allow-Origin" not in post
    assert "Access-Control-Allow-Origin" not in client.get("/")


def test_rate_limited_per_address_with_retry_after(client, catalogue, settings):
    settings.API_RATE_LIMIT = 3
    for _ in range(3):
        assert client.get("/api/v1/categories").status_code == 200
    response = client.get("/api/v1/categories")
    assert response.status_code == 429
    assert 0 < int(response["Retry-After"]) <= rate_limits.WINDOW_SECONDS
    assert "3 an hour" in response.json()["detail"]
    assert response["Access-Control-Allow-Origin"] == "*"
    # Another address has its own count.
    other = client.get("/api/v1/categories", REMOTE_ADDR="192.0.2.9")
    assert other.status_code == 200


def test_cached_answer_is_refreshed_by_a_save(client, catalogue, settings):
    settings.PAGE_CACHE_SECONDS = 300
    assert client.get("/api/v1/papers/bert").json()["title"] != "New"
    with CaptureQueriesContext(connection) as hit:
        client.get("/api/v1/papers/bert")
    # Only the rate limit's counter: the answer came from the cache.
    assert not any("papers_paper" in q["sql"] for q in hit.captured_queries)
    bert = catalogue["bert"]
    bert.title = "New"
    bert.save()
    assert client.get("/api/v1/papers/bert").json()["title"] == "New"


def test_openapi_document_validates(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    schema = response.json()
    validate(schema)
    assert {
        "/api/v1/papers",
        "/api/v1/papers/{slug}",
        "/api/v1/categories",
        "/api/v1/videos",
    } <= set(schema["paths"])


def test_docs_page_loads_nothing_from_a_cdn(client):
    response = client.get("/api/v1/docs")
    assert response.status_code == 200
    html = response.content.decode()
    assert "cdn" not in html.lower()
    assert "/static/ninja/swagger-ui-bundle" in html
    assert "'unsafe-inline'" not in response["Content-Security-Policy"]


def _list_queries(client) -> int:
    client.get("/api/v1/papers?page_size=100")  # the rate-limit row exists after this
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/api/v1/papers?page_size=30&page=2")
    assert response.status_code == 200
    assert len(response.json()["results"]) == 30
    return len(queries.captured_queries)


def test_list_queries_do_not_grow_with_the_list(settings):
    settings.PAGE_CACHE_SECONDS = 0
    grow_catalogue(90, snapshots_per_paper=0)
    at_90 = _list_queries(Client())
    grow_catalogue(2000, snapshots_per_paper=0)
    at_2000 = _list_queries(Client())
    assert at_90 == at_2000
    # count, page, categories; the rest is the rate limit's counter
    assert at_2000 <= 8
