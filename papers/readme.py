"""The README format of mli/paper-reading: parse markdown into plain data and render it
back.

This module knows nothing of the ORM. Services map these dataclasses to models.

Parsing walks markdown-it tokens (CommonMark, GFM tables, footnotes), so escaped
pipes, HTML in cells, rows without outer pipes and ragged rows are read the way GitHub
renders them. Tables are recognised by their header cells, never by position.
"""

from __future__ import annotations

import datetime as dt
import functools
import html
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urlsplit

from markdown_it import MarkdownIt
from markdown_it.token import Token
from mdit_py_plugins.footnote import footnote_plugin

from papers import identifiers
from papers.plain_text import drop_controls

__all__ = [
    "CategoryBlock",
    "PaperRow",
    "ReadmeDocument",
    "ReadmeFormatError",
    "VideoRow",
    "parse_readme",
    "render_readme",
]


# Longest text kept from one cell; the model fields allow as much (tests/test_import.py
# checks they agree). Longer plain text is cut with a warning; a longer video title
# (markdown, which a cut could break) skips its row.
MAX_CATEGORY_NAME_LENGTH = 200
MAX_DESCRIPTION_LENGTH = 5_000
MAX_NAME_LENGTH = 300
MAX_SUMMARY_LENGTH = 1_000
MAX_VIDEO_TITLE_LENGTH = 500


class ReadmeFormatError(ValueError):
    """The text holds no recognisable paper or video table, or cannot be read."""


@dataclass(frozen=True)
class PaperRow:
    """One row of a category table.

    ``None`` means "the source table has no such column": the importer leaves the field
    alone. An empty string means the column is there and the cell is empty.
    """

    name: str
    url: str  # "" when the name cell has no link
    year: int | None
    summary: str | None
    is_recorded: bool | None
    s2_paper_id: str = ""  # 40 lowercase hex, "" when the row has no S2 badge or link
    arxiv_id: str = ""  # normalised, e.g. "1706.03762", "" when the url is not arXiv
    doi: str = ""  # from a doi.org url, lower-cased, "" otherwise
    # Only used when rendering (export); the parser leaves them at their defaults.
    citation_count: int | None = None
    citations_updated_at: dt.datetime | None = None


@dataclass(frozen=True)
class CategoryBlock:
    name: str  # the ### heading text, stripped
    papers: tuple[PaperRow, ...]
    description: str = ""  # paragraphs between the heading and its table, as plain text


@dataclass(frozen=True)
class VideoRow:
    # Inline markdown of the title cell: links kept, HTML and footnote refs removed.
    title: str
    published_on: dt.date
    duration: dt.timedelta
    cover: str  # the <img src> of the cover cell, e.g. "imgs/gpt4.jpg"; "" when none
    bilibili_url: str
    youtube_url: str
    zhihu_url: str
    paper_urls: tuple[str, ...]  # absolute http(s) links of the title cell, in order


@dataclass(frozen=True)
class ReadmeDocument:
    videos: tuple[VideoRow, ...]
    categories: tuple[CategoryBlock, ...]
    warnings: tuple[str, ...] = field(default=())  # rows skipped, with line numbers


# --------------------------------------------------------------------------------------
# Column headers

# Header cells are compared after NFKC (full-width "（" becomes "("), case folding and
# removing all whitespace. A header matches an alias exactly or with a parenthesised
# remark, e.g. "引用(semantic scholar)".
_PAPER_COLUMNS: dict[str, tuple[str, ...]] = {
    "recorded": ("已录制", "录制", "recorded"),
    "year": ("年份", "年", "year"),
    "name": ("名字", "名称", "name", "paper"),
    "summary": ("简介", "summary", "description"),
    "citation": ("引用", "citation", "citations"),
}
_VIDEO_COLUMNS: dict[str, tuple[str, ...]] = {
    "date": ("日期", "date"),
    "title": ("标题", "title"),
    "cover": ("封面", "cover"),
    "duration": ("时长", "duration"),
}
_VIDEO_LINKS_PREFIXES = ("视频", "video")  # "视频（播放数）", "视频（4K）", "Videos"

_TICKS = ("✅", "✔", "☑", "✓", ":white_check_mark:", ":heavy_check_mark:")
_TICK_WORDS = frozenset({"yes", "y", "x", "true", "是"})

_PAPER_HEADER = "| 已录制 | 年份 | 名字 | 简介 | 引用 |"
_PAPER_SEPARATOR = "| ------ | ---- | ---- | ---- | ---- |"
_VIDEO_HEADER = "| 日期 | 标题 | 封面 | 时长 | 视频（播放数） |"
_VIDEO_SEPARATOR = "| --: | -- | -- | --: | -- |"
_VIDEOS_HEADING = "## 录制完成的论文"
_PAPERS_HEADING = "## 所有论文"

_S2_BADGE = (
    "https://img.shields.io/badge/dynamic/json?label=citation&query=citationCount"
    "&url=https%3A%2F%2Fapi.semanticscholar.org%2Fgraph%2Fv1%2Fpaper%2F{id}"
    "%3Ffields%3DcitationCount"
)
_S2_PAPER_URL = "https://www.semanticscholar.org/paper/{id}"
_BILIBILI_BADGE = (
    "https://img.shields.io/badge/dynamic/json?label=views&style=social&logo=bilibili"
    "&query=data.stat.view&url=https%3A%2F%2Fapi.bilibili.com%2Fx%2Fweb-interface"
    "%2Fview%3Fbvid%3D{id}"
)
_ZHIHU_BADGE = (
    "https://img.shields.io/badge/dynamic/json?label=views&style=social&logo=zhihu"
    "&query=video.play_count&url=https://www.zhihu.com/api/v4/zvideos/{id}"
)
_YOUTUBE_BADGE = "https://img.shields.io/youtube/views/{id}?style=social"

_BR_RE = re.compile(r"<br\s*/?>", re.IGNORECASE)
_YEAR_RE = re.compile(r"([0-9]{4})\s*年?")
_US_DATE_RE = re.compile(r"([0-9]{1,2})/([0-9]{1,2})/([0-9]{2}|[0-9]{4})")
_ISO_DATE_RE = re.compile(r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})")
_MINUTES_RE = re.compile(r"([0-9]{1,3}):([0-5][0-9])")
_HOURS_RE = re.compile(r"([0-9]{1,2}):([0-5]?[0-9]):([0-5][0-9])")
_HTTP_RE = re.compile(r"https?://", re.IGNORECASE)

# Characters that would change the meaning of inline markdown. "_" is safe between two
# letters or digits (it can then neither open nor close emphasis), "<" before a space
# starts no tag or autolink and "&" is only special when it spells an entity.
_INLINE_SPECIAL_RE = re.compile(
    r"[\\`*\[\]]|(?<![^\W_])_|_(?![^\W_])|<(?=\S)|&(?=#?[0-9A-Za-z]+;)"
)
_DESTINATION_SPECIAL_RE = re.compile(r"[\\()<>]|&(?=#?[0-9A-Za-z]+;)")
# Paragraph starts that would turn a description into a heading, quote, list or fence.
_BLOCK_START_RE = re.compile(r"[#>+\-=~]|[0-9]{1,9}(?=[.)])")
# A footnote ref is dropped with the space before it when closing punctuation follows:
# "文献 [^transformer])" becomes "文献)".
_CLOSING_PUNCTUATION = frozenset(".,;:!?)]}。，、；：！？）】」』")


@functools.cache
def _markdown() -> MarkdownIt:
    md = MarkdownIt("commonmark").enable("table").use(footnote_plugin)
    # markdown-it percent-encodes every href and src for HTML output. We want the link
    # targets as written (after markdown unescaping), and skipping the encoder also
    # makes parsing the README about 40% faster. validateLink still rejects
    # "javascript:" and the like, which then stay plain text.
    md.normalizeLink = _keep_link  # type: ignore[method-assign]
    return md


def _keep_link(url: str) -> str:
    return url


# --------------------------------------------------------------------------------------
# Parsing


def parse_readme(text: str) -> ReadmeDocument:
    """Read the category tables and the video table of a README.

    Unusable rows are skipped and reported in ``warnings`` with their line number.
    Raises ReadmeFormatError when the text holds neither kind of table.
    """
    text = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    warnings: list[str] = []
    text = _drop_controls(text, warnings)
    try:
        tokens = _markdown().parse(text)
    except Exception as exc:
        # A crash inside the markdown library on hostile input should reach the user
        # as "cannot read this", not as a server error.
        raise ReadmeFormatError(f"cannot read the markdown: {exc}") from exc

    videos: list[VideoRow] = []
    # Categories keyed by name, so a heading repeated further down (or two tables under
    # one heading) extends the same block instead of making a duplicate name.
    categories: dict[str, tuple[list[PaperRow], list[str]]] = {}
    found_table = False
    heading: str | None = None
    paragraphs: list[str] = []

    index = 0
    while index < len(tokens):
        token = tokens[index]
        if token.type == "heading_open":
            heading = _block_text(
                tokens, index, MAX_CATEGORY_NAME_LENGTH, "heading", warnings
            )
            paragraphs = []
        elif token.type == "paragraph_open" and token.level == 0:
            paragraph = _block_text(
                tokens, index, MAX_DESCRIPTION_LENGTH, "paragraph", warnings
            )
            if paragraph:
                paragraphs.append(paragraph)
        elif token.type == "table_open":
            end = _closing_index(tokens, index)
            table = _read_table(tokens[index:end])
            header = [_header_key(_plain_text(cell)) for cell in table.header]
            video_columns = _video_columns(header)
            paper_columns = _paper_columns(header)
            if video_columns is not None:
                found_table = True
                for line, cells in table.rows:
                    video = _video_row(cells, video_columns, line, warnings)
                    if video is not None:
                        videos.append(video)
            elif paper_columns is not None:
                found_table = True
                if heading is None:
                    warnings.append(
                        f"line {table.line}: paper table has no heading above it; "
                        "its category name is empty"
                    )
                papers, descriptions = categories.setdefault(heading or "", ([], []))
                if not descriptions:
                    descriptions.extend(paragraphs)
                for line, cells in table.rows:
                    paper = _paper_row(cells, paper_columns, line, warnings)
                    if paper is not None:
                        papers.append(paper)
            else:
                warnings.append(
                    f"line {table.line}: table ignored: "
                    "no 名字 column and no 日期/标题 columns"
                )
            paragraphs = []
            index = end
        index += 1

    if not found_table:
        raise ReadmeFormatError(
            "no paper or video table found "
            "(expected a table with a 名字 or 日期/标题 header)"
        )
    return ReadmeDocument(
        videos=tuple(videos),
        categories=tuple(
            CategoryBlock(
                name=name,
                papers=tuple(papers),
                description="\n\n".join(descriptions),
            )
            for name, (papers, descriptions) in categories.items()
        ),
        warnings=tuple(warnings),
    )


def _drop_controls(text: str, warnings: list[str]) -> str:
    """The text without control characters and bidi overrides (the README comes
    from upstream: one stray byte must not reach the pages and feeds), with a
    warning for each line that had some."""
    clean = drop_controls(text)
    if clean != text:
        for number, line in enumerate(text.split("\n"), start=1):
            if drop_controls(line) != line:
                warnings.append(f"line {number}: control or bidi characters removed")
    return clean


def _block_text(tokens, index: int, limit: int, what: str, warnings: list[str]) -> str:
    """The plain text of the heading or paragraph opening at tokens[index], capped."""
    return _cap(
        _plain_text(_children(tokens[index + 1])),
        limit,
        what=what,
        line=_line(tokens[index]),
        warnings=warnings,
    )


def _cap(text: str, limit: int, *, what: str, line: int, warnings: list[str]) -> str:
    if len(text) <= limit:
        return text
    warnings.append(
        f"line {line}: {what} cut to {limit} characters (it had {len(text)})"
    )
    return text[: limit - 1].rstrip() + "…"


@dataclass
class _Table:
    line: int  # 1-based line of the header row
    header: list[list[Token]]  # inline children of each header cell
    rows: list[tuple[int, list[list[Token]]]]  # (1-based line, cells)


def _children(token: Token) -> list[Token]:
    return token.children or []


def _closing_index(tokens: Sequence[Token], start: int) -> int:
    """The index of the token that closes ``tokens[start]``."""
    opening = tokens[start]
    closing_type = opening.type.replace("_open", "_close")
    for index in range(start + 1, len(tokens)):
        token = tokens[index]
        if token.type == closing_type and token.level == opening.level:
            return index
    return len(tokens) - 1


def _read_table(tokens: Sequence[Token]) -> _Table:
    table = _Table(line=_line(tokens[0]), header=[], rows=[])
    in_head = False
    line = table.line
    cells: list[list[Token]] = []
    for token in tokens:
        if token.type == "thead_open":
            in_head = True
        elif token.type == "thead_close":
            in_head = False
        elif token.type == "tr_open":
            line, cells = _line(token), []
        elif token.type == "inline":
            cells.append(_children(token))
        elif token.type == "tr_close":
            if in_head:
                table.header = cells
            else:
                table.rows.append((line, cells))
    return table


def _line(token: Token) -> int:
    return token.map[0] + 1 if token.map else 0


def _header_key(text: str) -> str:
    return "".join(unicodedata.normalize("NFKC", text).casefold().split())


def _find_column(header: Sequence[str], aliases: Sequence[str]) -> int | None:
    for index, key in enumerate(header):
        if any(key == alias or key.startswith(alias + "(") for alias in aliases):
            return index
    return None


def _paper_columns(header: Sequence[str]) -> dict[str, int] | None:
    columns = {
        role: index
        for role, aliases in _PAPER_COLUMNS.items()
        if (index := _find_column(header, aliases)) is not None
    }
    return columns if "name" in columns else None


def _video_columns(header: Sequence[str]) -> dict[str, int] | None:
    columns = {
        role: index
        for role, aliases in _VIDEO_COLUMNS.items()
        if (index := _find_column(header, aliases)) is not None
    }
    if "date" not in columns or "title" not in columns:
        return None
    for index, key in enumerate(header):
        if key.startswith(_VIDEO_LINKS_PREFIXES):
            columns["links"] = index
            break
    return columns


def _cell(
    cells: Sequence[list[Token]], columns: dict[str, int], role: str
) -> list[Token]:
    """The inline tokens of a row's cell for ``role``; [] for a missing column."""
    index = columns.get(role)
    if index is None or index >= len(cells):
        return []
    return cells[index]


def _paper_row(
    cells: Sequence[list[Token]],
    columns: dict[str, int],
    line: int,
    warnings: list[str],
) -> PaperRow | None:
    name_cell = _cell(cells, columns, "name")
    links = _links(name_cell)
    url = links[0][0] if links else ""
    name = _plain_text(links[0][1]) if links else ""
    if not name:
        name = _plain_text(name_cell)
    if not name:
        warnings.append(f"line {line}: paper row skipped: no name")
        return None
    name = _cap(name, MAX_NAME_LENGTH, what="name", line=line, warnings=warnings)

    year = None
    if "year" in columns:
        year_text = _plain_text(_cell(cells, columns, "year"))
        year = _parse_year(year_text)
        if year is None and year_text:
            warnings.append(f"line {line}: unreadable year {year_text!r} ignored")

    summary = None
    if "summary" in columns:
        summary = _cap(
            _plain_text(_cell(cells, columns, "summary")),
            MAX_SUMMARY_LENGTH,
            what="summary",
            line=line,
            warnings=warnings,
        )

    is_recorded = None
    if "recorded" in columns:
        is_recorded = _is_ticked(_plain_text(_cell(cells, columns, "recorded")))

    s2_ids: list[str] = []
    citation_cell = _cell(cells, columns, "citation")
    for target in [*_image_sources(citation_cell), *_hrefs(citation_cell)]:
        s2_id = identifiers.s2_id_from_url(target)
        if s2_id and s2_id not in s2_ids:
            s2_ids.append(s2_id)
    if len(s2_ids) > 1:
        warnings.append(
            f"line {line}: citation cell names several Semantic Scholar ids; "
            f"using {s2_ids[0]}"
        )

    return PaperRow(
        name=name,
        url=url,
        year=year,
        summary=summary,
        is_recorded=is_recorded,
        s2_paper_id=s2_ids[0] if s2_ids else "",
        arxiv_id=identifiers.arxiv_id_from_url(url),
        doi=identifiers.doi_from_text(url) if _HTTP_RE.match(url) else "",
    )


def _video_cell(cells, columns, name, parse, line: int, warnings: list[str]):
    """A video row's date or duration, parsed; None (and a warning) if unreadable."""
    text = _plain_text(_cell(cells, columns, name))
    value = parse(text)
    if value is None:
        warnings.append(f"line {line}: video row skipped: unreadable {name} {text!r}")
    return value


def _video_row(
    cells: Sequence[list[Token]],
    columns: dict[str, int],
    line: int,
    warnings: list[str],
) -> VideoRow | None:
    published_on = _video_cell(cells, columns, "date", _parse_date, line, warnings)
    if published_on is None:
        return None
    duration = _video_cell(cells, columns, "duration", _parse_duration, line, warnings)
    if duration is None:
        return None

    title_cell = _cell(cells, columns, "title")
    title = _inline_markdown(title_cell)
    if len(title) > MAX_VIDEO_TITLE_LENGTH:
        warnings.append(
            f"line {line}: video row skipped: title longer than "
            f"{MAX_VIDEO_TITLE_LENGTH} characters ({len(title)})"
        )
        return None
    paper_urls: list[str] = []
    for href in _hrefs(title_cell):
        if _HTTP_RE.match(href) and href not in paper_urls:
            paper_urls.append(href)
    covers = _image_sources(_cell(cells, columns, "cover"))
    if covers and not is_safe_cover(covers[0]):
        warnings.append(
            f"line {line}: cover {covers[0][:80]!r} ignored: "
            "not a relative path or an http(s) URL"
        )
        covers = []

    if "links" in columns:
        link_cells = [_cell(cells, columns, "links")]
    else:
        # No 视频 column: take the platform links from wherever they are.
        link_cells = [cell for i, cell in enumerate(cells) if i != columns["title"]]
    platforms: dict[str, str] = {}
    for cell in link_cells:
        for href in [*_hrefs(cell), *_html_attributes(cell, "a", "href")]:
            platform = _platform(href)
            if platform:
                platforms.setdefault(platform, href)

    return VideoRow(
        title=title,
        published_on=published_on,
        duration=duration,
        cover=covers[0] if covers else "",
        bilibili_url=platforms.get("bilibili", ""),
        youtube_url=platforms.get("youtube", ""),
        zhihu_url=platforms.get("zhihu", ""),
        paper_urls=tuple(paper_urls),
    )


def _parse_year(text: str) -> int | None:
    match = _YEAR_RE.fullmatch(unicodedata.normalize("NFKC", text))
    return int(match[1]) if match else None


def _parse_date(text: str) -> dt.date | None:
    """``M/D/YY`` (US order, as in the README), ``M/D/YYYY`` or ``YYYY-MM-DD``."""
    text = unicodedata.normalize("NFKC", text)
    if match := _US_DATE_RE.fullmatch(text):
        month, day, year = int(match[1]), int(match[2]), int(match[3])
        if len(match[3]) == 2:
            year += 2000  # the videos start in 2021
    elif match := _ISO_DATE_RE.fullmatch(text):
        year, month, day = int(match[1]), int(match[2]), int(match[3])
    else:
        return None
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def _parse_duration(text: str) -> dt.timedelta | None:
    """``M:SS``, ``MM:SS`` or ``H:MM:SS``."""
    text = unicodedata.normalize("NFKC", text)
    if match := _MINUTES_RE.fullmatch(text):
        return dt.timedelta(minutes=int(match[1]), seconds=int(match[2]))
    if match := _HOURS_RE.fullmatch(text):
        return dt.timedelta(
            hours=int(match[1]), minutes=int(match[2]), seconds=int(match[3])
        )
    return None


def _is_ticked(text: str) -> bool:
    return any(tick in text for tick in _TICKS) or text.casefold() in _TICK_WORDS


def _platform(url: str) -> str:
    """The site ("bilibili", "youtube", "zhihu") a video link points to; else ""."""
    if not _HTTP_RE.match(url):
        return ""
    try:
        host = (urlsplit(url).hostname or "").rstrip(".")
    except ValueError:
        return ""

    def on(domain: str) -> bool:
        return host == domain or host.endswith("." + domain)

    if on("bilibili.com") or on("b23.tv"):
        return "bilibili"
    if on("youtube.com") or on("youtu.be") or on("youtube-nocookie.com"):
        return "youtube"
    if on("zhihu.com"):
        return "zhihu"
    return ""


# --------------------------------------------------------------------------------------
# Reading inline tokens


def _collapse(text: str) -> str:
    """Spaces collapsed, and no control or bidi characters: the importer drops them,
    so the export must not let one hide markup ("\x1b>" would read back as a quote)."""
    return " ".join(drop_controls(" ".join(text.split())).split())


def _plain_text(tokens: Sequence[Token]) -> str:
    """The visible text: markup, HTML, images and footnote refs dropped; ``<br>``
    becomes a space; whitespace collapsed."""
    parts: list[str] = []
    for token in tokens:
        if token.type in ("text", "text_special", "code_inline"):
            parts.append(token.content)
        elif token.type in ("softbreak", "hardbreak") or _is_br(token):
            parts.append(" ")
    return _collapse("".join(parts))


def _is_br(token: Token) -> bool:
    return token.type == "html_inline" and bool(_BR_RE.fullmatch(token.content.strip()))


def _links(tokens: Sequence[Token]) -> list[tuple[str, list[Token]]]:
    """(href, tokens of the link text) for each markdown link, in order."""
    links: list[tuple[str, list[Token]]] = []
    current: list[Token] | None = None
    for token in tokens:
        if token.type == "link_open":
            current = []
            links.append((str(token.attrGet("href") or ""), current))
        elif token.type == "link_close":
            current = None
        elif current is not None:
            current.append(token)
    return links


def _hrefs(tokens: Sequence[Token]) -> list[str]:
    return [
        str(token.attrGet("href") or "")
        for token in tokens
        if token.type == "link_open"
    ]


def _image_sources(tokens: Sequence[Token]) -> list[str]:
    """Sources of markdown images and of ``<img>`` tags, in order."""
    sources: list[str] = []
    for token in tokens:
        if token.type == "image":
            sources.append(str(token.attrGet("src") or ""))
        elif token.type == "html_inline":
            sources.extend(_html_attributes([token], "img", "src"))
    return [source for source in sources if source]


class _TagCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def _html_attributes(tokens: Sequence[Token], tag: str, attribute: str) -> list[str]:
    """The values of ``attribute`` on raw HTML ``tag`` elements among ``tokens``."""
    values: list[str] = []
    for token in tokens:
        if token.type != "html_inline" or f"<{tag}" not in token.content.lower():
            continue
        collector = _TagCollector()
        collector.feed(token.content)
        collector.close()
        values.extend(
            value
            for name, attrs in collector.tags
            if name == tag and (value := (attrs.get(attribute) or "").strip())
        )
    return values


def _inline_markdown(tokens: Sequence[Token]) -> str:
    """Write inline tokens back as markdown: links, images, emphasis and code kept,
    raw HTML dropped (``<br>`` becomes a space), footnote refs dropped."""
    parts: list[str] = []
    href = ""  # of the link being written; links do not nest
    after_footnote = False
    for token in tokens:
        kind = token.type
        if kind == "footnote_ref":
            after_footnote = True
            continue
        if after_footnote:
            after_footnote = False
            if kind == "text" and token.content[:1] in _CLOSING_PUNCTUATION:
                parts = ["".join(parts).rstrip()]
        if kind in ("text", "text_special"):
            parts.append(_escape_inline(token.content))
        elif kind == "code_inline":
            parts.append(_code_span(token.content, token.markup))
        elif kind in ("softbreak", "hardbreak") or _is_br(token):
            parts.append(" ")
        elif kind == "link_open":
            href = str(token.attrGet("href") or "")
            parts.append("[")
        elif kind == "link_close":
            parts.append(f"]({_link_destination(href)})")
        elif kind == "image":
            alt = _escape_inline(_plain_text(_children(token)))
            src = _link_destination(str(token.attrGet("src") or ""))
            parts.append(f"![{alt}]({src})")
        elif kind in ("em_open", "em_close", "strong_open", "strong_close"):
            parts.append(token.markup)
    return _collapse("".join(parts))


def _code_span(content: str, fence: str) -> str:
    fence = fence or "`"
    # A code span strips one space from each side, so pad when the content itself
    # starts or ends with a space or a backtick.
    if content[:1] in (" ", "`") or content[-1:] in (" ", "`"):
        return f"{fence} {content} {fence}"
    return f"{fence}{content}{fence}"


# --------------------------------------------------------------------------------------
# Rendering


def render_readme(
    doc: ReadmeDocument,
    *,
    badges: bool = False,
    title: str = "深度学习论文精读",
    intro: str = "",
) -> str:
    """Write ``doc`` in the README's own format, which ``parse_readme`` reads back.

    With ``badges`` the citation and view counts are the live shields.io badges of the
    original README; without, citations are plain numbers linking to Semantic Scholar
    and videos are plain links. ``intro`` is markdown, written as given.
    """
    lines = [f"# {_escape_heading(title)}", ""]
    if intro.strip():
        lines += [intro.strip(), ""]
    lines += [_VIDEOS_HEADING, "", _VIDEO_HEADER, _VIDEO_SEPARATOR]
    lines += [_video_line(video, badges=badges) for video in doc.videos]
    lines += ["", _PAPERS_HEADING, ""]
    for category in doc.categories:
        lines += [f"### {_escape_heading(category.name)}".rstrip(), ""]
        for paragraph in category.description.split("\n\n"):
            if paragraph.strip():
                lines += [_escape_paragraph(paragraph), ""]
        lines += [_PAPER_HEADER, _PAPER_SEPARATOR]
        lines += [_paper_line(paper, badges=badges) for paper in category.papers]
        lines.append("")
    return "\n".join(lines).rstrip("\n") + "\n"


def _table_line(cells: Sequence[str]) -> str:
    return "| " + " | ".join(_table_cell(cell) for cell in cells) + " |"


def _table_cell(text: str) -> str:
    # A pipe always ends a cell, even inside a link or code span, unless escaped.
    return _collapse(text).replace("|", "\\|")


def _paper_line(paper: PaperRow, *, badges: bool) -> str:
    name = _escape_inline(_collapse(paper.name))
    # A target markdown would refuse ("javascript:…") would turn the whole link into
    # visible text; write the bare name instead.
    if paper.url and _markdown().validateLink(paper.url):
        name = f"[{name}]({_link_destination(paper.url)})"
    return _table_line(
        [
            "✅" if paper.is_recorded else "",
            "" if paper.year is None else str(paper.year),
            name,
            _escape_inline(_collapse(paper.summary or "")),
            _citation_cell(paper, badges=badges),
        ]
    )


def _citation_cell(paper: PaperRow, *, badges: bool) -> str:
    count = "" if paper.citation_count is None else f"{paper.citation_count:,}"
    s2_id = paper.s2_paper_id.lower()
    if not identifiers.is_s2_paper_id(s2_id):
        return count
    paper_url = _S2_PAPER_URL.format(id=s2_id)
    if badges:
        return f"[![citation]({_S2_BADGE.format(id=s2_id)})]({paper_url})"
    cell = f"[{count or '–'}]({paper_url})"
    updated = paper.citations_updated_at
    if updated is not None:
        day = updated.date() if isinstance(updated, dt.datetime) else updated
        cell += f" ({day.isoformat()})"
    return cell


def _video_line(video: VideoRow, *, badges: bool) -> str:
    cover = ""
    if is_safe_cover(video.cover):
        cover = f'<img src="{html.escape(video.cover)}" width="200px"/>'
    return _table_line(
        [
            _format_date(video.published_on),
            video.title,
            cover,
            _format_duration(video.duration),
            "<br />".join(_video_links(video, badges=badges)),
        ]
    )


def _video_links(video: VideoRow, *, badges: bool) -> list[str]:
    links = []
    for url, label, badge, video_id in (
        (
            video.bilibili_url,
            "bilibili",
            f"[![bilibili]({_BILIBILI_BADGE})]",
            identifiers.bilibili_bvid(video.bilibili_url),
        ),
        (
            video.zhihu_url,
            "知乎",
            f"[![zhihu]({_ZHIHU_BADGE})]",
            identifiers.zhihu_video_id(video.zhihu_url),
        ),
        (
            video.youtube_url,
            "YouTube",
            f"[![]({_YOUTUBE_BADGE})]",
            identifiers.youtube_id(video.youtube_url),
        ),
    ):
        if not url:
            continue
        destination = _link_destination(url)
        if badges and video_id:
            links.append(f"{badge.format(id=video_id)}({destination})")
        else:
            links.append(f"[{label}]({destination})")
    return links


def is_safe_cover(src: str) -> bool:
    """Whether ``src`` may be written as a cover image: a relative path such as
    ``imgs/gpt4.jpg`` or an http(s) URL; never ``javascript:``, ``data:`` or ``//host``.
    """
    src = src.strip()
    if not src or any(char.isspace() or ord(char) < 32 for char in src):
        return False
    try:
        parts = urlsplit(src)
    except ValueError:
        return False
    if parts.scheme:
        return parts.scheme.lower() in ("http", "https") and bool(parts.netloc)
    return not src.startswith(("//", "\\")) and ":" not in src.split("/", 1)[0]


def _format_date(day: dt.date) -> str:
    if not 2000 <= day.year <= 2099:
        return day.isoformat()  # a two-digit year would read back as 20YY
    return f"{day.month}/{day.day}/{day.year % 100:02d}"


def _format_duration(duration: dt.timedelta) -> str:
    hours, rest = divmod(max(int(duration.total_seconds()), 0), 3600)
    minutes, seconds = divmod(rest, 60)
    if hours:
        return f"{hours}:{minutes:02d}:{seconds:02d}"
    return f"{minutes}:{seconds:02d}"


def _escape_inline(text: str) -> str:
    """Backslash-escape what inline markdown would otherwise read as markup."""
    return _INLINE_SPECIAL_RE.sub(lambda match: "\\" + match[0], text)


def _escape_heading(text: str) -> str:
    # "#" anywhere could be read as part of a closing sequence.
    return _escape_inline(_collapse(text)).replace("#", "\\#")


def _escape_paragraph(text: str) -> str:
    text = _escape_inline(_collapse(text))
    match = _BLOCK_START_RE.match(text)
    if match is None:
        return text
    if match[0][0].isdigit():  # "1. text" would start an ordered list
        return text[: match.end()] + "\\" + text[match.end() :]
    return "\\" + text


def _link_destination(url: str) -> str:
    """Write ``url`` as a link destination that reads back as the same string."""
    url = url.replace("\n", "%0A").replace("\r", "%0D")
    escaped = _DESTINATION_SPECIAL_RE.sub(lambda match: "\\" + match[0], url)
    if not url or any(char.isspace() for char in url):
        return f"<{escaped}>"  # the only form that may contain spaces
    return escaped
