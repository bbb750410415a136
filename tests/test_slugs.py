"""Readable ASCII slugs for Chinese names, and old slugs that keep working."""

import importlib
from pathlib import Path

import pytest
from django.apps import apps as django_apps
from django.urls import reverse

from papers.models import Paper, PaperSlugRedirect
from papers.services import paper_slug_base, readme_import, unique_slug
from papers.services.readme import paper_slug_change
from tests.factories import PaperFactory
from tests.test_admin import paper_form


@pytest.mark.parametrize(
    ("name", "slug"),
    [
        ("参数服务器", "can-shu-fu-wu-qi"),
        ("两阶段检测器", "liang-jie-duan-jian-ce-qi"),
        ("GPT-4 技术报告", "gpt-4-ji-shu-bao-gao"),
        ("视频理解论文串讲（上）", "shi-pin-li-jie-lun-wen-chuan-jiang-shang"),
        ("Transformer", "transformer"),
        ("AlphaFold 2", "alphafold-2"),
    ],
)
def test_chinese_names_get_pinyin_slugs(name, slug):
    assert paper_slug_base(name=name, s2_paper_id="2c0e044088" + "0" * 30) == slug


def test_a_long_name_is_cut_at_a_syllable():
    slug = paper_slug_base(name="深度学习" * 20)
    assert len(slug) <= 80
    assert slug.endswith(("shen", "du", "xue", "xi"))


def test_a_name_with_nothing_to_spell_falls_back_to_an_id():
    assert paper_slug_base(name="？！", arxiv_id="1706.03762") == "arxiv-1706-03762"
    assert paper_slug_base(name="——") == "paper"


@pytest.mark.django_db
def test_the_importer_gives_chinese_names_pinyin_slugs():
    readme_import(
        text=(
            "## 系统\n\n"
            "| 已录制 | 年份 | 名字 | 简介 | 引用 |\n"
            "| --- | --- | --- | --- | --- |\n"
            "|  | 2014 | [参数服务器](https://www.usenix.org/conference/osdi14/"
            "technical-sessions/presentation/li_mu) | 支持千亿参数的传统机器学习模型"
            " | [![citation](https://img.shields.io/badge/dynamic/json?label=citation"
            "&query=citationCount&url=https%3A%2F%2Fapi.semanticscholar.org%2Fgraph"
            "%2Fv1%2Fpaper%2F2c0e044088ccb27b5b5e2ee3a7ea2ca9e5b4a0ae%3Ffields%3D"
            "citationCount)](https://www.semanticscholar.org/paper/2c0e044088ccb27b"
            "5b5e2ee3a7ea2ca9e5b4a0ae) |\n"
        )
    )
    assert Paper.objects.get(name="参数服务器").slug == "can-shu-fu-wu-qi"


@pytest.mark.django_db
def test_collisions_get_numbered_suffixes():
    PaperFactory(name="参数服务器", slug="can-shu-fu-wu-qi")
    PaperFactory(name="参数服务器 v2", slug="can-shu-fu-wu-qi-2")
    base = paper_slug_base(name="参数服务器")

    assert unique_slug(Paper, base) == "can-shu-fu-wu-qi-3"


@pytest.mark.django_db
def test_an_old_slug_is_not_given_to_another_paper():
    paper = PaperFactory(name="参数服务器", slug="can-shu-fu-wu-qi")
    paper_slug_change(paper=paper, slug="parameter-server")

    assert unique_slug(Paper, "can-shu-fu-wu-qi") == "can-shu-fu-wu-qi-2"
    assert unique_slug(Paper, "can-shu-fu-wu-qi", exclude_pk=paper.pk) == (
        "can-shu-fu-wu-qi"
    )


@pytest.mark.django_db
def test_an_old_slug_answers_301_to_the_new_url(client):
    paper = PaperFactory(name="参数服务器", slug="s2-2c0e044088")
    paper_slug_change(paper=paper, slug="can-shu-fu-wu-qi")

    response = client.get("/papers/s2-2c0e044088/")

    assert response.status_code == 301
    assert response["Location"] == "/papers/can-shu-fu-wu-qi/"
    assert client.get(response["Location"]).status_code == 200
    assert client.get("/papers/no-such-paper/").status_code == 404


@pytest.mark.django_db
def test_two_renames_both_redirect_to_the_latest(client):
    paper = PaperFactory(slug="first")
    paper_slug_change(paper=paper, slug="second")
    paper_slug_change(paper=paper, slug="third")

    for old in ("first", "second"):
        response = client.get(f"/papers/{old}/")
        assert (response.status_code, response["Location"]) == (301, "/papers/third/")


@pytest.mark.django_db
def test_taking_back_an_old_slug_drops_its_redirect(client):
    paper = PaperFactory(slug="first")
    paper_slug_change(paper=paper, slug="second")
    paper_slug_change(paper=paper, slug="first")

    assert client.get("/papers/first/").status_code == 200
    assert client.get("/papers/second/")["Location"] == "/papers/first/"
    assert not PaperSlugRedirect.objects.filter(old_slug="first").exists()


@pytest.mark.django_db
def test_a_slug_changed_in_the_admin_redirects(admin_client, client):
    paper = PaperFactory(
        name="Transformer", slug="old-transformer", url="", arxiv_id="1706.03762"
    )

    response = admin_client.post(
        reverse("admin:papers_paper_change", args=[paper.pk]),
        paper_form(slug="transformer", arxiv_id="1706.03762"),
    )

    assert response.status_code == 302, response.text
    assert client.get("/papers/old-transformer/")["Location"] == "/papers/transformer/"


@pytest.mark.django_db
def test_a_new_paper_in_the_admin_gets_a_pinyin_slug(admin_client):
    response = admin_client.post(
        reverse("admin:papers_paper_add"), paper_form(name="参数服务器", url="")
    )

    assert response.status_code == 302, response.text
    assert Paper.objects.get().slug == "can-shu-fu-wu-qi"
    assert not PaperSlugRedirect.objects.exists()


@pytest.mark.django_db
def test_the_migration_reslugs_id_slugs_of_chinese_names(client):
    [path] = (Path(__file__).parents[1] / "papers" / "migrations").glob(
        "*_paper_slug_redirects.py"
    )
    migration = importlib.import_module(f"papers.migrations.{path.stem}")
    chinese = PaperFactory(name="参数服务器", slug="s2-2c0e044088")
    chosen = PaperFactory(name="两阶段检测器", slug="two-stage-detectors")
    ascii_name = PaperFactory(name="Transformer", slug="s2-204e307387")
    PaperFactory(name="别的", slug="can-shu-fu-wu-qi")  # the pinyin is taken

    migration.reslug(django_apps, None)

    for paper in (chinese, chosen, ascii_name):
        paper.refresh_from_db()
    assert chinese.slug == "can-shu-fu-wu-qi-2"
    assert chosen.slug == "two-stage-detectors"
    assert ascii_name.slug == "s2-204e307387"
    response = client.get("/papers/s2-2c0e044088/")
    assert (response.status_code, response["Location"]) == (
        301,
        "/papers/can-shu-fu-wu-qi-2/",
    )
