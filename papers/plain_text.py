"""Plain text from untrusted sources (reader forms, the upstream README), made safe
to store and to render: control characters and bidirectional overrides removed."""

from __future__ import annotations

import re

# Bidirectional overrides and isolates can make a title read differently from what
# is stored ("Trojan Source"); readers never need them in a paper title.
_BIDI_CONTROLS = dict.fromkeys(
    map(ord, "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"), None
)
# Control characters (Unicode category Cc) except tab and line feed, and the bidi
# overrides and isolates above.
_CONTROLS_RE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
# What XML 1.0 forbids (https://www.w3.org/TR/xml/#charsets): C0 controls other than
# tab and line breaks, lone surrogates and the two non-characters U+FFFE and U+FFFF.
_XML_INVALID_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def drop_controls(text: str) -> str:
    """``text`` without control characters (line breaks and tabs kept) and without
    bidirectional overrides."""
    return _CONTROLS_RE.sub("", text)


def has_controls(text: str) -> bool:
    return _CONTROLS_RE.search(text) is not None


def clean_line(text: str) -> str:
    """One line of plain text: control characters removed, whitespace collapsed."""
    return " ".join(drop_controls(text).split())


def clean_paragraphs(text: str) -> str:
    """Plain text that keeps its paragraphs: spaces collapsed inside each line, at
    most one blank line between paragraphs."""
    lines = [clean_line(line) for line in drop_controls(text).splitlines()]
    text = "\n".join(lines).strip()
    return re.sub(r"\n{3,}", "\n\n", text)


def xml_safe(text: str) -> str:
    """``text`` without the characters an XML 1.0 document cannot hold, and without
    bidirectional overrides."""
    return _XML_INVALID_RE.sub("", text.translate(_BIDI_CONTROLS))
