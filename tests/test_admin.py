import pytest
from django.urls import reverse

from papers.models import Category, Paper
from papers.services import readme_import
from tests.factories import CategoryFactory, PaperFactory
from tests.helpers import paper_form

pytestmark = pytest.mark.django_db


@pytest.fixture
def curator(admin_client):
    return admin_client


def test_admin_is_in_chinese(curator):
    response = curator.get(reverse("admin:index"))
    assert response.status_code == 200
    assert "论文精读 · 管理" in response.text
    assert "论文" in response.text


def test_paper_list_shows_the_columns_curators_need(curator, full_readme_text):
    readme_import(text=full_readme_text)
    response = curator.get(reverse("admin:papers_paper_changelist"))
    assert response.status_code == 200
    for header in ("名字", "年份", "分类", "已录制", "引用数", "引用数更新于"):
        assert header in response.text
    assert "计算机视觉 - CNN" in response.text


def test_paper_list_query_count_does_not_grow(
    curator, full_readme_text, django_assert_max_num_queries
):
    readme_import(text=full_readme_text)
    with django_assert_max_num_queries(12):
        curator.get(reverse("admin:papers_paper_changelist"))


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("1706.03762", "Transformer"),
        ("204e3073870fae3d05bcbc2f6a8e263d9b72e776", "Transformer"),
        ("第四大类架构", "Transformer"),
    ],
)
def test_paper_search(curator, full_readme_text, query, expected):
    readme_import(text=full_readme_text)
    response = curator.get(reverse("admin:papers_paper_changelist"), {"q": query})
    assert f">{expected}<" in response.text
    assert ">BERT<" not in response.text


def test_paper_filters(curator, full_readme_text):
    readme_import(text=full_readme_text)
    cnn = Category.objects.get(name="计算机视觉 - CNN")
    url = reverse("admin:papers_paper_changelist")
    response = curator.get(
        url, {"categories__id__exact": cnn.pk, "is_recorded__exact": "1"}
    )
    assert ">AlexNet<" in response.text and ">ResNet<" in response.text
    assert ">VGG<" not in response.text
    response = curator.get(url, {"year": "2012"})
    assert ">AlexNet<" in response.text and ">ResNet<" not in response.text


def test_pasted_arxiv_url_fills_the_ids(curator):
    response = curator.post(
        reverse("admin:papers_paper_add"),
        paper_form(
            s2_paper_id="https://www.semanticscholar.org/paper/Attention-is-All-you-Need"
            "-Vaswani-Shazeer/204e3073870fae3d05bcbc2f6a8e263d9b72e776",
            arxiv_id="https://arxiv.org/pdf/1706.03762v7.pdf",
        ),
    )
    assert response.status_code == 302, response.text
    paper = Paper.objects.get()
    assert paper.arxiv_id == "1706.03762"
    assert paper.s2_paper_id == "204e3073870fae3d05bcbc2f6a8e263d9b72e776"
    assert paper.slug == "transformer"


def test_arxiv_id_filled_from_the_paper_url(curator):
    curator.post(reverse("admin:papers_paper_add"), paper_form())
    assert Paper.objects.get().arxiv_id == "1706.03762"


def test_chinese_name_gets_an_ascii_slug(curator):
    response = curator.post(
        reverse("admin:papers_paper_add"),
        paper_form(name="参数服务器", url="https://www.usenix.org/system/files/ps.pdf"),
    )
    assert response.status_code == 302, response.text
    assert Paper.objects.get().slug == "can-shu-fu-wu-qi"


@pytest.mark.parametrize(
    ("field", "value", "hint"),
    [
        ("s2_paper_id", "204e3073870fae3d05bcbc2f6a8e263d9b72e77", "40 位十六进制"),
        ("s2_paper_id", "https://example.org/paper/xyz", "40 位十六进制"),
        ("arxiv_id", "arxiv 1706", "1706.03762"),
        ("doi", "doi-is-not-this", "10.1093/mind/lix.236.433"),
    ],
)
def test_bad_ids_are_rejected_with_an_example(curator, field, value, hint):
    response = curator.post(
        reverse("admin:papers_paper_add"), paper_form(**{field: value})
    )
    assert response.status_code == 200
    assert hint in response.text
    assert Paper.objects.count() == 0


def test_duplicate_s2_id_is_rejected(curator):
    PaperFactory(s2_paper_id="204e3073870fae3d05bcbc2f6a8e263d9b72e776", arxiv_id="")
    response = curator.post(
        reverse("admin:papers_paper_add"),
        paper_form(s2_paper_id="204e3073870fae3d05bcbc2f6a8e263d9b72e776"),
    )
    assert response.status_code == 200
    assert "已有论文使用这个 Semantic Scholar ID" in response.text
    assert Paper.objects.count() == 1


def test_placements_editable_inline(curator):
    category = CategoryFactory(name="系统")
    response = curator.post(
        reverse("admin:papers_paper_add"),
        paper_form(
            **{
                "placements-TOTAL_FORMS": "1",
                "placements-0-category": str(category.pk),
                "placements-0-position": "3",
            }
        ),
    )
    assert response.status_code == 302, response.text
    assert list(Paper.objects.get().categories.all()) == [category]


def test_category_position_editable_in_list(curator):
    first, second = CategoryFactory(position=0), CategoryFactory(position=1)
    response = curator.post(
        reverse("admin:papers_category_changelist"),
        {
            "form-TOTAL_FORMS": "2",
            "form-INITIAL_FORMS": "2",
            "form-0-id": str(first.pk),
            "form-0-position": "5",
            "form-1-id": str(second.pk),
            "form-1-position": "1",
            "_save": "保存",
        },
    )
    assert response.status_code == 302
    assert list(Category.objects.all()) == [second, first]


def test_autocomplete_for_papers(curator, full_readme_text):
    readme_import(text=full_readme_text)
    response = curator.get(
        reverse("admin:autocomplete"),
        {
            "term": "GPT",
            "app_label": "papers",
            "model_name": "videonote",
            "field_name": "papers",
        },
    )
    assert response.status_code == 200
    names = {item["text"] for item in response.json()["results"]}
    assert {"GPT", "GPT-2", "GPT-3"} <= names


def test_citation_snapshots_are_read_only(curator):
    assert curator.get(reverse("admin:papers_citationsnapshot_add")).status_code == 403
    response = curator.get(reverse("admin:papers_citationsnapshot_changelist"))
    assert response.status_code == 200


def test_video_admin_lists_videos_with_papers(
    curator, full_readme_text, django_assert_max_num_queries
):
    readme_import(text=full_readme_text)
    with django_assert_max_num_queries(12):
        response = curator.get(reverse("admin:papers_videonote_changelist"))
    assert "GPT, GPT-2, GPT-3 精读" in response.text
    assert "GPT、GPT-2、GPT-3" in response.text or "GPT-2" in response.text


def test_anonymous_visitor_cannot_reach_admin(client):
    response = client.get(reverse("admin:papers_paper_changelist"))
    assert response.status_code == 302
    assert "/login/" in response["Location"]
