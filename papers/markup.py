"""Markdown written by curators, rendered safely.

markdown-it-py renders CommonMark (raw HTML disabled), nh3 then keeps only a small
allow-list of tags, so nothing a curator pastes can run script on the public site.
"""

import re
from functools import lru_cache

import nh3
from markdown_it import MarkdownIt

_CLOSERS_FOR = {"(": ")", "（": "）"}
_OPENERS = frozenset(_CLOSERS_FOR)
_CLOSERS = frozenset(_CLOSERS_FOR.values())
_LINK = re.compile(r"\[((?:\\.|[^\]\\])*)\]\((?:[^()\s]|\([^()]*\))*\)")

ALLOWED_TAGS = {
    "a", "p", "br", "hr", "em", "strong", "code", "pre", "blockquote",
    "ul", "ol", "li", "h3", "h4", "h5", "h6", "table", "thead", "tbody", "tr",
    "th", "td", "del", "sup", "sub",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "th": {"align"}, "td": {"align"}}


@lru_cache(maxsize=1)
def _markdown():
    return MarkdownIt("commonmark", {"html": False, "linkify": False}).enable(
        ["table", "strikethrough"]
    )


def _sanitise(html: str) -> str:
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    )


def render_markdown(text: str) -> str:
    """Block markdown (curator notes) to sanitised HTML."""
    if not text:
        return ""
    return _sanitise(_markdown().render(text))


def balance_brackets(text: str) -> str:
    """Close each parenthesis with the width it was opened with.

    The upstream README writes "（视频中提到的文献 [^transformer])": a full-width
    opening closed by an ASCII one, which shows once the footnote ref is dropped.
    Only a closer that meets an opener of the other width changes; a stray one,
    or one in a link destination (always ASCII on both sides), stays as it is.
    """
    if "（" not in text and "）" not in text:
        return text
    chars = list(text)
    openers: list[str] = []
    for index, char in enumerate(chars):
        if char in _OPENERS:
            openers.append(char)
        elif char in _CLOSERS and openers:
            chars[index] = _CLOSERS_FOR[openers.pop()]
    return "".join(chars)


def render_inline(text: str) -> str:
    """One line of markdown (a video title with links) to sanitised inline HTML."""
    if not text:
        return ""
    return _sanitise(_markdown().renderInline(balance_brackets(text)))


def strip_links(text: str) -> str:
    """``[GPT-3](https://…) 精读`` → ``GPT-3 精读``."""
    text = _LINK.sub(lambda m: re.sub(r"\\(.)", r"\1", m.group(1)), text)
    return balance_brackets(text).strip()
