"""Search that understands Chinese (issue 15): segmentation, relevance, grouping,
highlighting, freshness and hostile input. Runs on SQLite and on PostgreSQL
(DATABASE_URL); only the typo test needs PostgreSQL's pg_trgm."""

from __future__ import annotations

import re
from html import unescape

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import connection
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from papers.models import Paper, SearchAlias, SearchEntry
from papers.search import query
from papers.search.aliases import load_starter_aliases, starter_aliases
from papers.search.segment import tokenizer, words
from tests.factories import PaperFactory, VideoNoteFactory

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}

DICTIONARY_TERMS = [
    "注意力机制",
    "残差连接",
    "自监督",
    "扩散模型",
    "位置编码",
    "对比学习",
    "多头注意力",
    "预训练",
    "微调",
    "大模型",
    "强化学习",
    "目标检测",
    "语义分割",
    "知识蒸馏",
    "生成对抗网络",
    "图神经网络",
    "自注意力",
    "交叉注意力",
    "自监督学习",
    "大语言模型",
    "语言模型",
    "实例分割",
    "卷积神经网络",
    "循环神经网络",
    "深度学习",
    "机器学习",
    "机器翻译",
    "词嵌入",
    "编码器",
    "解码器",
    "批量归一化",
    "层归一化",
    "梯度下降",
    "反向传播",
    "过拟合",
    "正则化",
    "损失函数",
    "激活函数",
    "优化器",
    "数据增强",
    "特征金字塔",
    "图像分类",
    "图像生成",
    "文本生成",
    "视觉问答",
    "多模态",
    "零样本",
    "少样本",
    "思维链",
    "指令微调",
    "人类反馈",
    "混合专家",
]


@pytest.mark.parametrize("term", DICTIONARY_TERMS)
def test_ml_terms_stay_whole(term):
    assert list(tokenizer().cut(term, HMM=False)) == [term]
    # Indexed text holds the whole term (and its parts, for shorter queries).
    assert term in words(f"本文提出{term}的方法")


def test_the_dictionary_loads_once_per_process():
    assert tokenizer() is tokenizer()


# The catalogue: our own words, not the upstream list.
CATALOGUE = [
    dict(
        name="Transformer",
        title="Attention Is All You Need",
        arxiv_id="1706.03762",
        summary="继 MLP、CNN、RNN 后的第四大类架构",
        abstract="The dominant sequence transduction models are based on recurrent "
        "networks. We propose a new simple network architecture based solely on "
        "attention mechanisms.",
        authors=[{"name": "Ashish Vaswani"}, {"name": "Noam Shazeer"}],
        citation_count=100000,
    ),
    dict(
        name="BERT",
        title="BERT: Pre-training of Deep Bidirectional Transformers for Language "
        "Understanding",
        arxiv_id="1810.04805",
        summary="Transformer 一统 NLP 的开始",
        citation_count=80000,
    ),
    dict(
        name="ResNet",
        title="Deep Residual Learning for Image Recognition",
        arxiv_id="1512.03385",
        summary="构建深层网络都要有的残差连接",
        citation_count=150000,
    ),
    dict(
        name="MoCo",
        title="Momentum Contrast for Unsupervised Visual Representation Learning",
        arxiv_id="1911.05722",
        summary="无监督训练效果也很好",
        tldr="Contrastive learning as a dictionary look-up with a momentum encoder.",
        citation_count=9000,
    ),
    dict(
        name="SimCLR",
        title="A Simple Framework for Contrastive Learning of Visual Representations",
        arxiv_id="2002.05709",
        summary="视觉对比学习的简单框架",
        citation_count=12000,
    ),
    dict(
        name="CLIP",
        title="Learning Transferable Visual Models From Natural Language Supervision",
        arxiv_id="2103.00020",
        summary="图片和文本之间的对比学习",
        citation_count=15000,
    ),
    dict(
        name="GAN",
        title="Generative Adversarial Networks",
        arxiv_id="1406.2661",
        summary="生成器和判别器互相博弈",
        citation_count=50000,
    ),
    dict(
        name="DDPM",
        title="Denoising Diffusion Probabilistic Models",
        arxiv_id="2006.11239",
        summary="把扩散模型用于高质量图像生成",
        citation_count=10000,
    ),
    dict(
        name="GPT-3",
        title="Language Models are Few-Shot Learners",
        arxiv_id="2005.14165",
        summary="大模型的少样本学习能力",
        citation_count=30000,
    ),
    dict(
        name="LLaMA",
        title="LLaMA: Open and Efficient Foundation Language Models",
        arxiv_id="2302.13971",
        summary="开源的大语言模型",
        citation_count=8000,
    ),
    dict(
        name="ViT",
        title="An Image is Worth 16x16 Words: Transformers for Image Recognition at "
        "Scale",
        arxiv_id="2010.11929",
        summary="Transformer 杀入 CV 界",
        citation_count=20000,
    ),
    dict(
        name="GNN",
        title="A Gentle Introduction to Graph Neural Networks",
        arxiv_id="",
        summary="图神经网络的可视化介绍",
        citation_count=500,
    ),
    dict(
        name="Distillation",
        title="Distilling the Knowledge in a Neural Network",
        arxiv_id="1503.02531",
        summary="知识蒸馏：让大网络教小网络",
        citation_count=15000,
    ),
    dict(
        name="AlphaGo",
        title="Mastering the game of Go with deep neural networks and tree search",
        arxiv_id="",
        summary="强化学习加蒙特卡洛树搜索下围棋",
        citation_count=14000,
    ),
    dict(
        name="Faster R-CNN",
        title="Faster R-CNN: Towards Real-Time Object Detection with Region Proposal "
        "Networks",
        arxiv_id="1506.01497",
        summary="两阶段目标检测的代表作",
        citation_count=60000,
    ),
    dict(
        name="MAE",
        title="Masked Autoencoders Are Scalable Vision Learners",
        arxiv_id="2111.06377",
        summary="自监督学习的 CV 版 BERT",
        citation_count=6000,
    ),
    dict(
        name="Swin Transformer",
        title="Swin Transformer: Hierarchical Vision Transformer using Shifted Windows",
        arxiv_id="2103.14030",
        summary="多层次的视觉 Transformer",
        citation_count=18000,
    ),
]


@pytest.fixture
def catalogue():
    load_starter_aliases()
    papers = {
        row["name"]: PaperFactory(slug=f"p-{n}", **row)
        for n, row in enumerate(CATALOGUE)
    }
    video = VideoNoteFactory(
        title="Transformer论文逐段精读【论文精读】",
        notes="从注意力机制讲到位置编码和多头注意力。",
    )
    video.papers.add(papers["Transformer"])
    return papers | {"video": video}


def paper_names(text: str) -> list[str]:
    found = query.search(text)
    names = dict(Paper.objects.filter(pk__in=found.paper_ids).values_list("pk", "name"))
    return [names[pk] for pk in found.paper_ids if pk in names]


# (query, a paper that must be among the first three). Half of them Chinese, every
# example of issue 15 included (the chapter and the typo are tested below).
RELEVANCE = [
    ("注意力", "Transformer"),
    ("注意力机制", "Transformer"),
    ("对比学习", "MoCo"),
    ("对比学习", "SimCLR"),
    ("对比学习", "CLIP"),
    ("残差连接", "ResNet"),
    ("残差", "ResNet"),
    ("扩散模型", "DDPM"),
    ("扩散", "DDPM"),
    ("生成对抗网络", "GAN"),
    ("大模型", "GPT-3"),
    ("大语言模型", "LLaMA"),
    ("自监督", "MAE"),
    ("图神经网络", "GNN"),
    ("知识蒸馏", "Distillation"),
    ("强化学习", "AlphaGo"),
    ("目标检测", "Faster R-CNN"),
    ("少样本", "GPT-3"),
    ("第四大类", "Transformer"),
    ("attention", "Transformer"),
    ("Transformer", "Transformer"),
    ("image recognition", "ViT"),
    ("contrastive learning", "SimCLR"),
    ("contrastive", "MoCo"),
    ("1706.03762", "Transformer"),
    ("arXiv:1810.04805", "BERT"),
    ("diffusion", "DDPM"),
    ("residual", "ResNet"),
    ("Vaswani", "Transformer"),
    ("few-shot learners", "GPT-3"),
    ("generative adversarial", "GAN"),
    ("bert", "BERT"),
    ("knowledge distillation", "Distillation"),
    ("graph neural networks", "GNN"),
    ("object detection", "Faster R-CNN"),
]


def test_the_relevance_table_is_half_chinese():
    chinese = [q for q, _ in RELEVANCE if re.search(r"[\u4e00-\u9fff]", q)]
    assert len(RELEVANCE) >= 30 and len(chinese) * 2 >= len(RELEVANCE)


@pytest.mark.parametrize(("text", "expected"), RELEVANCE)
def test_relevance(catalogue, text, expected):
    assert expected in paper_names(text)[:3], paper_names(text)


@pytest.mark.parametrize(
    ("text", "first"),
    [
        ("Transformer", "Transformer"),  # before Swin Transformer, ViT, BERT
        ("1706.03762", "Transformer"),
        ("2103.14030v2", "Swin Transformer"),
        ("bert", "BERT"),  # before MAE, whose summary says BERT
    ],
)
def test_an_exact_name_or_arxiv_id_comes_first(catalogue, text, first):
    assert paper_names(text)[0] == first


def test_a_typo_still_finds_the_paper(catalogue):
    if connection.vendor != "postgresql":
        pytest.skip("typo tolerance is pg_trgm similarity: PostgreSQL only")
    assert "Transformer" in paper_names("tranformer")[:3]


def test_chapters_link_to_the_moment_of_the_video(catalogue):
    Chapter = apps.get_model("papers", "Chapter") if _has("Chapter") else None
    if Chapter is None:
        pytest.skip("the Chapter model (issue 12, videoback) is not on main yet")
    chapter = Chapter.objects.create(
        video=catalogue["video"],
        start=2712,
        title="位置编码",
        section="3.5 Positional Encoding",
        paper=catalogue["Transformer"],
    )
    found = query.search("位置编码")
    moments = found.groups[SearchEntry.Kind.CHAPTER]
    assert [m.object_id for m in moments][:1] == [chapter.pk]
    assert "?t=2712" in moments[0].url


def _has(model: str) -> bool:
    try:
        apps.get_model("papers", model)
    except LookupError:
        return False
    return True


# The page -----------------------------------------------------------------------


def test_results_are_grouped_and_highlighted(client, catalogue):
    html = client.get("/search/", {"q": "注意力"}).content.decode()
    assert 'id="results-papers"' in html and 'id="results-videos"' in html
    videos = html.split('id="results-videos"')[1]
    assert "<mark>注意力</mark>" in videos
    assert catalogue["video"].get_absolute_url() in videos


def test_highlighting_escapes_before_marking(client, catalogue):
    load_starter_aliases()
    VideoNoteFactory(
        title="<script>alert(1)</script> & Tom's attention",
        notes="a & b <b>attention</b> amp",
    )
    html = client.get("/search/", {"q": "attention amp"}).content.decode()
    assert "<script>alert(1)" not in html
    assert (
        "&lt;script&gt;alert(1)&lt;/script&gt; &amp; Tom&#x27;s <mark>attention</mark>"
        in html
    )
    # "amp" is a word here, and never marked inside the entity &amp;
    assert "&<mark>amp" not in html and "<mark>amp</mark>" in html


def test_highlight_marks_whole_latin_words_and_any_chinese():
    marked = query.highlight(
        "Attention & intention: 注意力机制 <b>", ["attention", "注意力"]
    )
    assert str(marked) == (
        "<mark>Attention</mark> &amp; intention: <mark>注意力</mark>机制 &lt;b&gt;"
    )


def test_no_results_suggest_names_and_offer_a_request(client, catalogue):
    html = client.get("/search/", {"q": "Trnsfrmr"}).content.decode()
    assert "请求精读" in html
    assert 'href="/requests/?title=Trnsfrmr#request-form"' in html
    suggestion = re.search(r'class="no-results">(.*?)</div>', html, re.S).group(1)
    assert "Transformer" in suggestion


def test_aliases_are_curated_and_expand_both_ways(client, catalogue):
    SearchAlias.objects.all().delete()
    assert "Transformer" not in paper_names("注意力")
    SearchAlias.objects.create(term="注意力", expansion="attention")
    assert "Transformer" in paper_names("注意力")[:3]
    SearchAlias.objects.create(term="蒙特卡洛", expansion="tree search")
    assert paper_names("tree search")[0] == "AlphaGo"
    assert "AlphaGo" in paper_names("蒙特卡洛")  # its summary, and the alias


def test_the_starter_aliases():
    pairs = starter_aliases()
    assert len(pairs) >= 50
    assert ("注意力", "attention") in pairs and ("大模型", "LLM") in pairs
    assert load_starter_aliases() == len(set(pairs))
    assert load_starter_aliases() == 0  # idempotent


# Freshness ----------------------------------------------------------------------


def test_the_index_follows_saves_and_deletes(catalogue):
    paper = catalogue["DDPM"]
    paper.summary = "去噪的马尔可夫链"
    paper.save()
    assert paper_names("马尔可夫链") == ["DDPM"]
    paper.delete()
    assert paper_names("马尔可夫链") == []
    assert not SearchEntry.objects.filter(kind="paper", object_id=paper.pk).exists()


def test_the_readme_import_is_indexed():
    from papers.services import readme_import

    readme_import(
        text="## 计算机视觉\n\n| 已录制 | 年份 | 名字 | 简介 | 引用 |\n"
        "| --- | --- | --- | --- | --- |\n"
        "|  | 2021 | [Swin](https://arxiv.org/abs/2103.14030) | 多层次的视觉模型 | |\n"
    )
    assert "Swin" in paper_names("多层次")


def test_rebuild_search_index_rebuilds_everything(catalogue, capsys):
    SearchEntry.objects.all().delete()
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM papers_search_fts")
    assert paper_names("对比学习") == []
    call_command("rebuild_search_index", verbosity=0)
    assert {"MoCo", "SimCLR", "CLIP"} <= set(paper_names("对比学习"))
    assert SearchEntry.objects.count() == len(CATALOGUE) + 1
    call_command("rebuild_search_index", verbosity=0)  # again: same entries
    assert SearchEntry.objects.count() == len(CATALOGUE) + 1


# Hostile input ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        '"unclosed',
        "a & b | !c",
        "&|!:*",
        "attention:*",
        "NEAR(a b)",
        "a AND OR NOT",
        "💥🚀 注意力",
        "     ",
        "。，、！？",
        "'); DROP TABLE papers_paper; --",
        "x" * 5000,
        "\x00\x1b[31m注意\x07力",
    ],
)
def test_any_input_gives_a_page(client, catalogue, text):
    for headers in ({}, HTMX):
        response = client.get("/search/", {"q": text}, **headers)
        assert response.status_code == 200


def test_queries_are_capped_and_control_characters_stripped():
    assert query.clean("注意\x00\x07力\n机制") == "注意力 机制"
    assert len(query.clean("注" * 500)) == 200


FUZZ = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@FUZZ
@given(text=st.text(max_size=300))
def test_arbitrary_text_never_breaks_the_page_or_its_fragment(client, catalogue, text):
    for headers in ({}, HTMX):
        response = client.get("/search/", {"q": text}, **headers)
        assert response.status_code == 200
        if headers:
            assert (
                response.content.decode()
                .lstrip()
                .startswith('<div id="search-results"')
            )


def test_results_page_text(client, catalogue):
    html = client.get("/search/", {"q": "对比学习"}).content.decode()
    names = re.findall(
        r'<td class="col-name"><a href="/papers/[^"]+/">([^<]*)</a>', html
    )
    assert {"MoCo", "SimCLR", "CLIP"} <= {unescape(n) for n in names}
