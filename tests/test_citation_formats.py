"""Golden tests of the citation formats on three papers of the list, each file
parsed back by a reader of its format (bibtexparser, rispy, json)."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

import bibtexparser
import pytest
import rispy

from papers import citation_formats as cf
from papers.citation_formats import CitableWork

GOLDEN = Path(__file__).parent / "data" / "cite"

TRANSFORMER = CitableWork(
    key="vaswani2017attention",
    title="Attention Is All You Need",
    authors=(
        "Ashish Vaswani",
        "Noam M. Shazeer",
        "Niki Parmar",
        "Jakob Uszkoreit",
        "Llion Jones",
        "Aidan N. Gomez",
        "Lukasz Kaiser",
        "Illia Polosukhin",
    ),
    year=2017,
    date=dt.date(2017, 6, 12),
    venue="Advances in Neural Information Processing Systems",
    venue_type="conference",
    arxiv_id="1706.03762",
    url="https://arxiv.org/abs/1706.03762",
)
# 参数服务器 in the list; the first author's name as written in Chinese.
PARAMETER_SERVER = CitableWork(
    key="li2014scaling",
    title="Scaling Distributed Machine Learning with the Parameter Server",
    authors=(
        "李沐",
        "David G. Andersen",
        "Jun Woo Park",
        "Alexander J. Smola",
        "Amr Ahmed",
        "Vanja Josifovski",
        "James Long",
        "Eugene J. Shekita",
        "Bor-Yiing Su",
    ),
    year=2014,
    venue="USENIX Symposium on Operating Systems Design and Implementation",
    url="https://www.usenix.org/system/files/conference/osdi14/osdi14-paper-li_mu.pdf",
)
_GPT3_AUTHORS = (
    "Tom B. Brown, Benjamin Mann, Nick Ryder, Melanie Subbiah, Jared Kaplan, "
    "Prafulla Dhariwal, Arvind Neelakantan, Pranav Shyam, Girish Sastry, "
    "Amanda Askell, Sandhini Agarwal, Ariel Herbert-Voss, Gretchen Krueger, "
    "Tom Henighan, Rewon Child, Aditya Ramesh, Daniel M. Ziegler, Jeff Wu, "
    "Clemens Winter, Christopher Hesse, Mark Chen, Eric Sigler, Mateusz Litwin, "
    "Scott Gray, Benjamin Chess, Jack Clark, Christopher Berner, Sam McCandlish, "
    "Alec Radford, Ilya Sutskever, Dario Amodei"
)
GPT3_AUTHORS = _GPT3_AUTHORS.split(", ")
GPT3 = CitableWork(
    key="brown2020language",
    title="Language Models are Few-Shot Learners",
    authors=tuple(GPT3_AUTHORS),
    year=2020,
    date=dt.date(2020, 5, 28),
    arxiv_id="2005.14165",
    url="https://arxiv.org/abs/2005.14165",
    abstract="Recent work has demonstrated substantial gains on many NLP tasks.",
)
WORKS = {"transformer": TRANSFORMER, "parameter-server": PARAMETER_SERVER, "gpt3": GPT3}


def _golden(name: str, fmt: str, text: str) -> str:
    path = GOLDEN / f"{name}.{fmt}"
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_text(text, encoding="utf-8")
    return path.read_text(encoding="utf-8")


@pytest.mark.parametrize("name", WORKS)
@pytest.mark.parametrize("fmt", cf.FORMATS)
def test_format_matches_golden_file(name, fmt):
    text = cf.render([WORKS[name]], fmt)
    assert text == _golden(name, fmt, text)


def test_gpt3_has_31_authors():
    assert len(GPT3_AUTHORS) == 31


@pytest.mark.parametrize("name", WORKS)
def test_bibtex_parses_back(name):
    work = WORKS[name]
    library = bibtexparser.parse_string(cf.bibtex(work))
    assert not library.failed_blocks
    (entry,) = library.entries
    assert entry.key == work.key
    assert entry["title"] == work.title
    assert entry["year"] == str(work.year)
    assert entry["author"].count(" and ") == len(work.authors) - 1


def test_bibtex_entry_types_and_arxiv_fields():
    transformer = bibtexparser.parse_string(cf.bibtex(TRANSFORMER)).entries[0]
    assert transformer.entry_type == "inproceedings"
    assert transformer["booktitle"] == TRANSFORMER.venue
    assert transformer["eprint"] == "1706.03762"
    assert transformer["archivePrefix"] == "arXiv"
    gpt3 = bibtexparser.parse_string(cf.bibtex(GPT3)).entries[0]
    assert gpt3.entry_type == "misc"


def test_non_ascii_names_survive():
    text = cf.render([PARAMETER_SERVER], "bib")
    assert "author = {{李沐} and Andersen, David G. and" in text
    entry = bibtexparser.parse_string(text).entries[0]
    assert entry["author"].startswith("{李沐}")
    assert "AU  - 李沐" in cf.ris(PARAMETER_SERVER)
    assert json.loads(cf.csl_json([PARAMETER_SERVER]))[0]["author"][0] == {
        "literal": "李沐"
    }
    gbt = cf.gbt7714(PARAMETER_SERVER)
    assert gbt.startswith("李沐, ANDERSEN D G, PARK J W, et al. ")


@pytest.mark.parametrize("name", WORKS)
def test_ris_parses_back(name):
    work = WORKS[name]
    (record,) = rispy.loads(cf.ris(work))
    assert record["title"] == work.title
    assert len(record["authors"]) == len(work.authors)
    assert record["year"] == str(work.year)
    assert record["type_of_reference"] in ("CONF", "JOUR", "UNPB", "GEN")


@pytest.mark.parametrize("name", WORKS)
def test_csl_json_has_required_fields(name):
    work = WORKS[name]
    (item,) = json.loads(cf.csl_json([work]))
    # CSL-JSON requires id and type; a citation needs a title, authors and a date.
    assert item["id"] == work.key
    assert item["type"] in ("paper-conference", "article-journal", "article")
    assert item["title"] == work.title
    assert len(item["author"]) == len(work.authors)
    assert item["issued"]["date-parts"][0][0] == work.year


def test_gbt7714_conference_and_preprint():
    assert cf.gbt7714(TRANSFORMER) == (
        "VASWANI A, SHAZEER N M, PARMAR N, et al. Attention Is All You Need[C]//"
        "Advances in Neural Information Processing Systems. 2017.\n"
    )
    assert cf.gbt7714(GPT3) == (
        "BROWN T B, MANN B, RYDER N, et al. Language Models are Few-Shot Learners"
        "[EB/OL]. (2020-05-28). https://arxiv.org/abs/2005.14165.\n"
    )


def test_gbt7714_chinese_work_uses_deng_and_lists_three():
    work = CitableWork(
        key="k",
        title="深度学习",
        authors=("张三", "李四", "王五", "赵六"),
        year=2020,
        venue="计算机学报",
        venue_type="journal",
        language="zh",
    )
    assert cf.gbt7714(work) == "张三, 李四, 王五，等. 深度学习[J]. 计算机学报, 2020.\n"
    three = CitableWork(key="k", title="T", authors=("A B", "C D", "E F"), year=2020)
    assert cf.gbt7714(three).startswith("B A, D C, F E. T[Z]. 2020.")


def test_latex_special_characters_are_escaped():
    work = CitableWork(
        key="k",
        title=r"R&D at 100% for $5: a_b #1 {x} ~y^ \z",
        authors=("Jane O'Neil",),
        year=2020,
    )
    text = cf.bibtex(work)
    assert (
        r"title = {R\&D at 100\% for \$5: a\_b \#1 \{x\} \textasciitilde{}y"
        r"\textasciicircum{} \textbackslash{}z}"
    ) in text
    library = bibtexparser.parse_string(text)
    assert not library.failed_blocks
    assert library.entries[0]["title"].startswith(r"R\&D at 100\%")


def test_keys_are_ascii_and_use_surname_year_and_first_significant_word():
    key = cf.base_key(authors=TRANSFORMER.authors, year=2017, title=TRANSFORMER.title)
    assert key == "vaswani2017attention"
    key = cf.base_key(authors=("李沐",), year=2014, title="Scaling X")
    assert key == "li2014scaling"
    assert (
        cf.base_key(authors=("Kaiming Hé",), year=2016, title="On the Deep Residual")
        == "he2016deep"
    )
    assert cf.base_key(authors=(), year=None, title="The 2 Ways") == "anonndways"
    assert (
        cf.base_key(authors=("Laurens van der Maaten",), year=2008, title="Visualizing")
        == "vandermaaten2008visualizing"
    )


def test_keys_are_unique_and_stable_by_paper_id():
    keys = cf.unique_keys(
        [(7, "he2016deep"), (3, "he2016deep"), (5, "x"), (9, "he2016deep")]
    )
    assert keys == {3: "he2016deep", 7: "he2016deepb", 9: "he2016deepc", 5: "x"}
    many = cf.unique_keys((i, "k") for i in range(30))
    assert len(set(many.values())) == 30
