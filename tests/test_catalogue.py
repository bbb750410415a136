"""paper_create: one way a paper is made, from the admin, a request or the README."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from papers.models import Paper
from papers.services import paper_create, readme_import
from papers.services.reading_requests import reading_request_accept
from tests.factories import PaperFactory
from tests.factories_requests import ReadingRequestFactory
from tests.helpers import paper_form

pytestmark = pytest.mark.django_db

S2_ID = "204e3073870fae3d05bcbc2f6a8e263d9b72e776"


def test_pasted_links_become_ids_and_the_name_a_slug():
    paper = paper_create(
        name="Transformer",
        url="https://arxiv.org/abs/1706.03762v5",
        s2_paper_id=f"https://www.semanticscholar.org/paper/Attention/{S2_ID}",
        doi="https://doi.org/10.48550/arXiv.1706.03762",
    )

    paper.refresh_from_db()
    assert paper.arxiv_id == "1706.03762"  # from the paper's own link
    assert paper.s2_paper_id == S2_ID
    assert paper.doi == "10.48550/arxiv.1706.03762"
    assert paper.slug == "transformer"


def test_a_taken_slug_gets_a_number():
    PaperFactory(slug="transformer")
    assert paper_create(name="Transformer").slug == "transformer-2"


@pytest.mark.parametrize(
    ("field", "value"),
    [("arxiv_id", "not an id"), ("s2_paper_id", "1234"), ("doi", "https://x.org/1")],
)
def test_an_id_that_is_not_one_is_refused_and_nothing_is_written(field, value):
    with pytest.raises(ValidationError) as caught:
        paper_create(name="Transformer", **{field: value})

    assert field in caught.value.message_dict
    assert not Paper.objects.exists()


def test_a_duplicate_id_is_refused_and_nothing_is_written():
    PaperFactory(arxiv_id="1706.03762")
    with pytest.raises(ValidationError):
        paper_create(name="Again", url="https://arxiv.org/abs/1706.03762")
    assert Paper.objects.count() == 1


def _from_admin(client):
    client.post(
        reverse("admin:papers_paper_add"),
        paper_form(
            name="Attention Is All You Need", url="https://arxiv.org/abs/1706.03762v5"
        ),
    )


def _from_request(client):
    item = ReadingRequestFactory(
        url="https://arxiv.org/abs/1706.03762v5",
        key="arxiv:1706.03762",
        title="Attention Is All You Need",
    )
    reading_request_accept(request_obj=item, by=None)


def _from_readme(client):
    readme_import(
        text="## 自然语言处理\n\n"
        "| 已录制 | 年份 | 名字 | 简介 | 引用 |\n| --- | --- | --- | --- | --- |\n"
        "| | 2017 | [Attention Is All You Need](https://arxiv.org/abs/1706.03762v5)"
        " | 注意力 | |\n"
    )


@pytest.mark.parametrize("create", [_from_admin, _from_request, _from_readme])
def test_every_way_in_gives_the_same_ids_and_slug(admin_client, create):
    create(admin_client)

    paper = Paper.objects.get()
    assert (paper.arxiv_id, paper.slug) == ("1706.03762", "attention-is-all-you-need")
