"""Citations of our papers in BibTeX, RIS, CSL-JSON and GB/T 7714-2015, as text.

Pure functions of plain data: ``CitableWork`` holds what a citation needs, built from a
Paper by ``papers.citations_export`` (or by a test). Nothing here reads the database.

We write every format ourselves from the stored fields. Semantic Scholar's
``citationStyles.bibtex`` is malformed (unescaped characters, odd keys), and the
formats are small: BibTeX and RIS are line formats, CSL-JSON is plain JSON.

Why not citeproc-py with the CSL style ``china-national-standard-gb-t-7714-2015-
numeric``: that style switches between "et al." and "等" and between name forms by the
language of each item, which needs CSL 1.0.2 / CSL-M features citeproc-py does not
implement, and it would bring a style file and a locale file for one line of text.
The GB/T rules we need fit in ``gbt7714`` below, with each choice documented there.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date as Date

try:  # pinyin keys for Chinese names; requirements.txt pins it
    from pypinyin import lazy_pinyin
except ImportError:  # pragma: no cover - only without the runtime requirements
    lazy_pinyin = None

# Words that make a poor BibTeX key: the key takes the first word not in this set.
_STOP_WORDS = (
    "a an the on of in for to with and or by from at as is are be via toward "
    "towards how what why when do does can we our your its into"
)
STOP_WORDS = frozenset(_STOP_WORDS.split())
# Lower-case name particles that belong to the surname ("van der Maaten").
PARTICLES = frozenset(
    "van von der den de del della di da du la le ten ter dos".split()  # noqa: SIM905
)
CONFERENCE_WORDS = (
    "conference",
    "proceedings",
    "symposium",
    "workshop",
    "neural information processing systems",
    "neurips",
    "nips",
    "icml",
    "iclr",
    "cvpr",
    "iccv",
    "eccv",
    "acl",
    "emnlp",
    "naacl",
    "aaai",
    "ijcai",
    "kdd",
    "osdi",
    "sosp",
    "interspeech",
    "sigir",
    "www",
)

HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


@dataclass(frozen=True)
class CitableWork:
    """One paper as a citation needs it. ``authors`` are display names in order."""

    key: str
    title: str
    authors: Sequence[str] = ()
    year: int | None = None
    date: Date | None = None
    venue: str = ""
    # "conference", "journal" or "" (unknown: guessed from the venue's name)
    venue_type: str = ""
    doi: str = ""
    arxiv_id: str = ""
    url: str = ""
    abstract: str = ""
    # Chinese-language works take "等" rather than "et al." in GB/T 7714.
    language: str = "en"
    extra: dict = field(default_factory=dict, compare=False)

    @property
    def kind(self) -> str:
        """ "conference", "journal", "preprint" or "other"."""
        if self.venue:
            if self.venue_type in ("conference", "journal"):
                return self.venue_type
            lowered = self.venue.lower()
            words = set(re.findall(r"[a-z]+", lowered))
            for word in CONFERENCE_WORDS:
                if (" " in word and word in lowered) or word in words:
                    return "conference"
            if lowered in ("arxiv", "arxiv.org") or lowered.startswith("arxiv"):
                return "preprint" if self.arxiv_id else "other"
            return "journal"
        return "preprint" if self.arxiv_id else "other"

    @property
    def real_venue(self) -> str:
        """The venue, unless it only says arXiv (then the work is a preprint)."""
        return "" if self.kind in ("preprint", "other") else self.venue

    @property
    def arxiv_url(self) -> str:
        return f"https://arxiv.org/abs/{self.arxiv_id}" if self.arxiv_id else ""

    @property
    def link(self) -> str:
        return self.url or self.arxiv_url


# Names -------------------------------------------------------------------------


def is_han(name: str) -> bool:
    return bool(HAN.search(name))


def split_name(name: str) -> tuple[str, str]:
    """(family, given) of a display name.

    A name in Chinese characters is written family name first, without spaces: the
    first character is the family name (compound surnames are rare in our list).
    "Family, Given" is taken as written. Otherwise the last word is the family name,
    with the lower-case particles before it ("Laurens van der Maaten").
    """
    name = " ".join(name.split())
    if not name:
        return "", ""
    if is_han(name) and " " not in name:
        return name[:1], name[1:]
    if "," in name:
        family, _, given = name.partition(",")
        return family.strip(), given.strip()
    words = name.split(" ")
    if len(words) == 1:
        return words[0], ""
    start = len(words) - 1
    while start > 1 and words[start - 1] in PARTICLES:
        start -= 1
    return " ".join(words[start:]), " ".join(words[:start])


def ascii_fold(text: str) -> str:
    """Latin letters without accents; Chinese characters as pinyin when available."""
    if lazy_pinyin is not None and is_han(text):
        text = "".join(lazy_pinyin(text))
    text = unicodedata.normalize("NFKD", text)
    return "".join(c for c in text if c.isascii())


# Keys --------------------------------------------------------------------------


def base_key(*, authors: Sequence[str], year: int | None, title: str) -> str:
    """``vaswani2017attention``: first author's family name, year, first title word.

    ASCII only (letters and digits), so every BibTeX and LaTeX tool accepts it.
    """
    family = split_name(authors[0])[0] if authors else ""
    surname = re.sub(r"[^a-z]", "", ascii_fold(family).lower()) or "anon"
    word = ""
    for candidate in re.findall(r"[^\W_]+", ascii_fold(title).lower()):
        if candidate not in STOP_WORDS and not candidate.isdigit():
            word = candidate
            break
    return f"{surname}{year or 'nd'}{word}"


def unique_keys(items: Iterable[tuple[int, str]]) -> dict[int, str]:
    """Keys made unique over the whole list: ``{paper id: key}`` from (id, base key).

    The paper with the lowest id keeps the plain key and later ones get ``b``,
    ``c``, …: a paper added later never changes the key of one cited before.
    """
    by_key: dict[str, list[int]] = {}
    for pk, key in items:
        by_key.setdefault(key, []).append(pk)
    keys = {}
    for key, ids in by_key.items():
        for index, pk in enumerate(sorted(ids)):
            keys[pk] = key + _suffix(index)
    return keys


def _suffix(index: int) -> str:
    if index == 0:
        return ""
    letters = ""
    index += 1  # 1 -> "b"
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(ord("a") + rest) + letters
        if index == 0:
            break
    return letters


# BibTeX ------------------------------------------------------------------------

_LATEX_SPECIALS = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
}
_LATEX_RE = re.compile("|".join(re.escape(c) for c in _LATEX_SPECIALS))


def latex_escape(text: str) -> str:
    """Text with LaTeX's special characters escaped; other Unicode kept (UTF-8
    BibTeX, which biber and bibtexu read)."""
    text = " ".join(text.split())
    return _LATEX_RE.sub(lambda m: _LATEX_SPECIALS[m.group()], text)


def _bibtex_name(name: str) -> str:
    family, given = split_name(name)
    if is_han(name):
        # One unit in braces, so BibTeX never splits or abbreviates it.
        return "{" + latex_escape(name.replace(" ", "")) + "}"
    family = latex_escape(family)
    if " and " in f" {family} ":
        family = "{" + family + "}"
    return f"{family}, {latex_escape(given)}" if given else family


def bibtex(work: CitableWork) -> str:
    """One BibTeX entry: @inproceedings, @article or @misc (arXiv eprint fields)."""
    kind = work.kind
    entry_type = {"conference": "inproceedings", "journal": "article"}.get(kind, "misc")
    fields: list[tuple[str, str]] = [("title", latex_escape(work.title))]
    if work.authors:
        fields.append(("author", " and ".join(_bibtex_name(a) for a in work.authors)))
    if kind == "conference":
        fields.append(("booktitle", latex_escape(work.venue)))
    elif kind == "journal":
        fields.append(("journal", latex_escape(work.venue)))
    if work.year:
        fields.append(("year", str(work.year)))
    if work.date:
        fields.append(("month", str(work.date.month)))
    if work.doi:
        fields.append(("doi", latex_escape(work.doi)))
    if work.arxiv_id:
        fields += [
            ("eprint", work.arxiv_id),
            ("archivePrefix", "arXiv"),
        ]
    if work.link:
        # \url-safe: only the braces would break the field.
        fields.append(("url", work.link.replace("{", "%7B").replace("}", "%7D")))
    body = ",\n".join(f"  {name} = {{{value}}}" for name, value in fields)
    return f"@{entry_type}{{{work.key},\n{body}\n}}\n"


# RIS ---------------------------------------------------------------------------


def _ris_line(tag: str, value: str) -> str:
    return f"{tag}  - {' '.join(str(value).split())}"


def ris(work: CitableWork) -> str:
    """One RIS record (the tags Zotero, EndNote and Mendeley read)."""
    kind = work.kind
    lines = [
        _ris_line(
            "TY",
            {"conference": "CONF", "journal": "JOUR", "preprint": "UNPB"}.get(
                kind, "GEN"
            ),
        ),
        _ris_line("ID", work.key),
        _ris_line("TI", work.title),
    ]
    for author in work.authors:
        family, given = split_name(author)
        written = author if is_han(author) else f"{family}, {given}".strip(", ")
        lines.append(_ris_line("AU", written))
    if kind == "conference":
        lines.append(_ris_line("T2", work.venue))
    elif kind == "journal":
        lines += [_ris_line("T2", work.venue), _ris_line("JO", work.venue)]
    elif kind == "preprint":
        lines.append(_ris_line("PB", "arXiv"))
    if work.year:
        lines.append(_ris_line("PY", str(work.year)))
    if work.date:
        lines.append(_ris_line("DA", work.date.strftime("%Y/%m/%d")))
    if work.doi:
        lines.append(_ris_line("DO", work.doi))
    if work.arxiv_id:
        lines.append(_ris_line("M1", f"arXiv:{work.arxiv_id}"))
    if work.link:
        lines.append(_ris_line("UR", work.link))
    if work.abstract:
        lines.append(_ris_line("AB", work.abstract))
    lines.append("ER  - ")
    return "\n".join(lines) + "\n"


# CSL-JSON ----------------------------------------------------------------------


def csl_item(work: CitableWork) -> dict:
    """One CSL-JSON item (https://citeproc-js.readthedocs.io/en/latest/csl-json/)."""
    kind = work.kind
    item: dict = {
        "id": work.key,
        "type": {
            "conference": "paper-conference",
            "journal": "article-journal",
        }.get(kind, "article"),
        "title": work.title,
    }
    authors = []
    for author in work.authors:
        family, given = split_name(author)
        if is_han(author) or not given:
            authors.append({"literal": author})
        else:
            authors.append({"family": family, "given": given})
    if authors:
        item["author"] = authors
    if work.date:
        item["issued"] = {
            "date-parts": [[work.date.year, work.date.month, work.date.day]]
        }
    elif work.year:
        item["issued"] = {"date-parts": [[work.year]]}
    if work.real_venue:
        item["container-title"] = work.venue
    if kind == "preprint":
        item["publisher"] = "arXiv"
        item["number"] = f"arXiv:{work.arxiv_id}"
    if work.doi:
        item["DOI"] = work.doi
    if work.link:
        item["URL"] = work.link
    if work.abstract:
        item["abstract"] = work.abstract
    if work.language:
        item["language"] = work.language
    return item


def csl_json(works: Iterable[CitableWork]) -> str:
    return json.dumps([csl_item(w) for w in works], ensure_ascii=False, indent=2) + "\n"


# GB/T 7714-2015 ----------------------------------------------------------------
#
# GB/T 7714-2015 (信息与文献 参考文献著录规则), sequential-numbering style, without the
# leading "[n]" (the reader's document numbers its list). Choices:
# - Names: family name first (§8.1.1). Latin names: the family name in capitals, the
#   given names as initials without full stops ("VASWANI A", "SMOLA A J"); hyphenated
#   given names keep one initial per part ("ZHU J Y"). Chinese names in characters are
#   written in full ("李沐").
# - More than three authors: the first three, then ", et al." for works in a Western
#   language, "，等" for Chinese-language works (§8.1.2).
# - Titles are transcribed as given (§8.2): we do not force sentence case, which would
#   lower-case proper nouns such as Transformer or ImageNet.
# - Document type codes (Appendix B): [C] for a paper in conference proceedings, with
#   "//" before the proceedings (§4.2, "析出文献"): "...[C]//Venue. 2017.";
#   [J] for a journal article: "...[J]. Journal, 2017.";
#   a preprint (arXiv only, no venue) is an electronic bulletin, [EB/OL], with its
#   date in parentheses and its URL: "...[EB/OL]. (2017-06-12). https://arxiv.org/
#   abs/1706.03762." (the recommended way to record preprints; the access date
#   "[引用日期]" is left for the writer to add: it is the day they read it, not a
#   fact of the paper, and a cached page cannot know it);
#   anything else with a URL is [EB/OL], without one [Z] ("other").
# - A DOI, when known, closes the entry: "DOI: 10.xxx." (§8.8.2).
# - Place and publisher of proceedings, volume, issue and pages are not stored, so
#   they are left out rather than guessed.


def _gbt_name(name: str) -> str:
    if is_han(name):
        return name.replace(" ", "")
    family, given = split_name(name)
    initials = " ".join(
        part[0].upper()
        for part in re.split(r"[\s\-.]+", given)
        if part and part[0].isalpha()
    )
    family = family.upper()
    return f"{family} {initials}" if initials else family


def gbt7714(work: CitableWork) -> str:
    chinese = work.language.startswith("zh")
    names = [_gbt_name(a) for a in work.authors]
    if len(names) > 3:
        authors = ", ".join(names[:3]) + ("，等" if chinese else ", et al.")
    else:
        authors = ", ".join(names)
    title = " ".join(work.title.split()).rstrip(".")
    kind = work.kind
    year = str(work.year) if work.year else ""
    if kind == "conference":
        text = f"{title}[C]//{work.venue}."
        text += f" {year}." if year else ""
    elif kind == "journal":
        text = f"{title}[J]. {work.venue}"
        text += f", {year}." if year else "."
    elif work.link:
        text = f"{title}[EB/OL]."
        when = work.date.isoformat() if work.date else year
        if when:
            text += f" ({when})."
        text += f" {work.link}."
    else:
        text = f"{title}[Z]."
        text += f" {year}." if year else ""
    if work.doi:
        text += f" DOI: {work.doi}."
    if authors:
        # "et al." ends with its own full stop.
        stop = " " if authors.endswith("et al.") else ". "
        text = f"{authors}{stop}{text}"
    return text + "\n"


def scholarly_article(work: CitableWork, *, url: str, name: str = "") -> dict:
    """JSON-LD ``ScholarlyArticle`` (https://schema.org/ScholarlyArticle)."""
    data: dict = {
        "@context": "https://schema.org",
        "@type": "ScholarlyArticle",
        "headline": work.title[:110],
        "name": work.title,
        "url": url,
        "mainEntityOfPage": url,
    }
    if name and name != work.title:
        data["alternateName"] = name
    if work.authors:
        data["author"] = [{"@type": "Person", "name": a} for a in work.authors]
    if work.date:
        data["datePublished"] = work.date.isoformat()
    elif work.year:
        data["datePublished"] = str(work.year)
    if work.real_venue:
        data["isPartOf"] = {
            "@type": "Periodical" if work.kind == "journal" else "PublicationEvent",
            "name": work.venue,
        }
    if work.abstract:
        data["abstract"] = work.abstract
    same_as = [
        link
        for link in (
            f"https://doi.org/{work.doi}" if work.doi else "",
            work.arxiv_url,
            work.url,
        )
        if link
    ]
    if same_as:
        data["sameAs"] = list(dict.fromkeys(same_as))
    if work.doi:
        data["identifier"] = {
            "@type": "PropertyValue",
            "propertyID": "DOI",
            "value": work.doi,
        }
    return data


FORMATS = {
    "bib": ("application/x-bibtex; charset=utf-8", "attachment"),
    "ris": ("application/x-research-info-systems; charset=utf-8", "attachment"),
    "json": ("application/vnd.citationstyles.csl+json; charset=utf-8", "inline"),
    "txt": ("text/plain; charset=utf-8", "inline"),
}


def render(works: Sequence[CitableWork], fmt: str) -> str:
    """All ``works`` in one file of format ``fmt`` (a key of ``FORMATS``)."""
    if fmt == "json":
        return csl_json(works)
    one = {"bib": bibtex, "ris": ris, "txt": gbt7714}[fmt]
    separator = "" if fmt == "txt" else "\n"
    return separator.join(one(work) for work in works)
