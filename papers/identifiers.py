"""Recognise paper and video identifiers in the links of the README.

Pure functions over strings: no Django, no network. Every extractor returns "" when its
input is not the kind of link it knows, so callers can chain them without try/except.
Extractors parse the URL and look at the host before anything else, because a bare
pattern search finds ids in the wrong places (a 40-hex search over a percent-encoded
badge URL finds "2F" + 38 characters of the real id).
"""

from __future__ import annotations

import re
from urllib.parse import SplitResult, parse_qs, quote, unquote, urlsplit

__all__ = [
    "arxiv_id_from_url",
    "bilibili_bvid",
    "doi_from_text",
    "is_s2_paper_id",
    "normalise_arxiv_id",
    "normalise_url",
    "s2_id_from_url",
    "youtube_id",
    "zhihu_video_id",
]

# New-style arXiv ids (April 2007 on) are YYMM.NNNN, with five digits from 2015 on.
_ARXIV_NEW_RE = re.compile(
    r"(?P<yymm>[0-9]{2}(?:0[1-9]|1[0-2]))\.(?P<number>[0-9]{4,5})"
)
# Old-style ids are archive[.SUBJECT-CLASS]/YYMMNNN; the subject class is not part of
# the id (arxiv.org/abs/math.GT/0309136 is math/0309136).
_ARXIV_OLD_RE = re.compile(
    r"(?P<archive>[a-z]+(?:-[a-z]+)?)(?:\.[a-z]{2})?"
    r"/(?P<number>[0-9]{2}(?:0[1-9]|1[0-2])[0-9]{3})",
    re.IGNORECASE,
)
_ARXIV_VERSION_RE = re.compile(r"[vV][1-9][0-9]*\Z")
_ARXIV_PATH_RE = re.compile(r"/(?:abs|pdf|html)/(?P<id>.+?)(?:\.pdf)?/?")
_ARXIV_PREFIX_RE = re.compile(r"arxiv:\s*", re.IGNORECASE)

_S2_ID_RE = re.compile(r"[0-9a-fA-F]{40}")
# Registrant codes are at least four digits; the suffix is anything printable.
_DOI_RE = re.compile(r"10\.[0-9]{4,9}/[^\s\x00-\x1f\x7f]+")
_BVID_RE = re.compile(r"BV[0-9A-Za-z]{10}")
_YOUTUBE_ID_RE = re.compile(r"[0-9A-Za-z_-]{11}")
_DIGITS_RE = re.compile(r"[0-9]+")
_ESCAPE_RE = re.compile(r"%([0-9A-Fa-f]{2})")
_UNSAFE_RE = re.compile(r"[\s\x00-\x1f\x7f-\x9f]")
_UNRESERVED = frozenset(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~"
)
_DEFAULT_PORTS = {"http": 80, "https": 443}
# Characters that cannot appear in a host name (urlsplit accepts almost anything).
_BAD_HOST_RE = re.compile(r"[\s\x00-\x1f\x7f/\\?#@<>\"'`{|}^%]")
# RFC 3986 path characters, left as they are when a DOI is written into a URL.
_PATH_SAFE = "/:@!$&'()*+,;=-._~"


def _http_parts(url: str) -> SplitResult | None:
    """Split an absolute http(s) URL with a host; None for anything else."""
    if not isinstance(url, str):
        return None
    try:
        parts = urlsplit(url.strip())
        # .hostname and .port parse lazily and raise on garbage such as "[::1".
        host = parts.hostname
        if parts.scheme.lower() not in _DEFAULT_PORTS or not host:
            return None
        if _BAD_HOST_RE.search(host):
            return None
        _ = parts.port  # validate here rather than fail in a caller
    except ValueError:
        return None
    return parts


def _host(parts: SplitResult) -> str:
    """The lower-cased host name without leading "www."."""
    host = (parts.hostname or "").rstrip(".")
    while host.startswith("www."):
        host = host[4:]
    return host


def _host_is(host: str, domain: str) -> bool:
    return host == domain or host.endswith("." + domain)


def _segments(parts: SplitResult) -> list[str]:
    return [segment for segment in parts.path.split("/") if segment]


def _canonical_arxiv(text: str) -> str:
    """The id in ``text`` (which holds nothing else) without its version, or ""."""
    text = _ARXIV_VERSION_RE.sub("", text, count=1)
    new = _ARXIV_NEW_RE.fullmatch(text)
    if new:
        yymm, number = new["yymm"], new["number"]
        # The scheme started in 0704 and went from four to five digits in 1501.
        if yymm < "0704" or len(number) != (5 if yymm >= "1501" else 4):
            return ""
        return f"{yymm}.{number}"
    old = _ARXIV_OLD_RE.fullmatch(text)
    if old:
        return f"{old['archive'].lower()}/{old['number']}"
    return ""


def arxiv_id_from_url(url: str) -> str:
    """The arXiv id of a link to an arXiv paper, without version; else "".

    Knows ``arxiv.org/abs|pdf|html/<id>`` and the pages other sites keep for an
    arXiv paper under its id: ``huggingface.co/papers/<id>`` and
    ``alphaxiv.org/abs|overview|pdf/<id>``.
    """
    parts = _http_parts(url)
    if parts is None:
        return ""
    host = _host(parts)
    if host in {"arxiv.org", "export.arxiv.org"}:
        match = _ARXIV_PATH_RE.fullmatch(unquote(parts.path))
        return _canonical_arxiv(match["id"]) if match else ""
    segments = [unquote(segment) for segment in _segments(parts)]
    if host == "huggingface.co" and len(segments) == 2 and segments[0] == "papers":
        return _canonical_arxiv(segments[1])
    if (
        host == "alphaxiv.org"
        and len(segments) == 2
        and segments[0] in {"abs", "overview", "pdf"}
    ):
        return _canonical_arxiv(segments[1].removesuffix(".pdf"))
    return ""


def normalise_arxiv_id(text: str) -> str:
    """Normalise ``1706.03762v5``, ``arXiv:1706.03762`` or an arXiv URL to
    ``1706.03762``; "" when the text is not an arXiv id."""
    if not isinstance(text, str):
        return ""
    text = text.strip()
    if re.match(r"https?://", text, re.IGNORECASE):
        return arxiv_id_from_url(text)
    return _canonical_arxiv(_ARXIV_PREFIX_RE.sub("", text, count=1))


def is_s2_paper_id(text: str) -> bool:
    """True for a Semantic Scholar paper id: exactly 40 hex digits (either case)."""
    return isinstance(text, str) and _S2_ID_RE.fullmatch(text) is not None


def s2_id_from_url(url: str) -> str:
    """The lower-case S2 paper id of a Semantic Scholar link; else "".

    Knows ``semanticscholar.org/paper/[<slug>/]<id>``,
    ``api.semanticscholar.org/graph/v1/paper/<id>`` and the shields.io citation badge,
    whose ``url`` query parameter carries the (percent-encoded) API URL.
    """
    return _s2_id(url, through_badge=True)


def _s2_id(url: str, *, through_badge: bool) -> str:
    parts = _http_parts(url)
    if parts is None:
        return ""
    host, segments = _host(parts), _segments(parts)
    candidate = ""
    if host == "semanticscholar.org":
        if len(segments) in (2, 3) and segments[0] == "paper":
            candidate = segments[-1]
    elif host == "api.semanticscholar.org":
        for prefix in (["graph", "v1", "paper"], ["v1", "paper"]):
            if segments[: len(prefix)] == prefix and len(segments) > len(prefix):
                candidate = segments[len(prefix)]
                break
    elif host == "img.shields.io" and through_badge:
        # parse_qs decodes the parameter, so "%2Fpaper%2F<id>%3F" becomes a real URL.
        for inner in parse_qs(parts.query).get("url", []):
            found = _s2_id(inner, through_badge=False)
            if found:
                return found
    return candidate.lower() if is_s2_paper_id(candidate) else ""


def doi_from_text(text: str) -> str:
    """The lower-cased DOI of a doi.org link, ``doi:10.x/y`` or a bare DOI; else ""."""
    if not isinstance(text, str):
        return ""
    text = text.strip()
    parts = _http_parts(text)
    if parts is not None:
        if _host(parts) not in {"doi.org", "dx.doi.org"}:
            return ""
        candidate = unquote(parts.path.lstrip("/"))
    elif text[:4].lower() == "doi:":
        candidate = text[4:].strip()
    else:
        candidate = text
    return candidate.lower() if _DOI_RE.fullmatch(candidate) else ""


def _normalise_escapes(text: str) -> str:
    """Decode escapes of unreserved characters and upper-case the others (RFC 3986
    §6.2.2), so ``%7e`` / ``~`` and ``%3a`` / ``%3A`` compare equal; escape whitespace
    and control characters, so ``a b`` and ``a%20b`` do too."""

    def fix(match: re.Match[str]) -> str:
        char = chr(int(match[1], 16))
        return char if char in _UNRESERVED else "%" + match[1].upper()

    text = _ESCAPE_RE.sub(fix, text)
    return _UNSAFE_RE.sub(lambda match: quote(match[0], safe=""), text)


def normalise_url(url: str) -> str:
    """A canonical form of an http(s) link, for matching the same paper written
    differently; "" for anything that is not an absolute http(s) URL.

    Lower-case host, always https, no ``www.``, no fragment, no trailing slash, no
    default port, no credentials. arXiv links become ``https://arxiv.org/abs/<id>``
    and DOI links ``https://doi.org/<doi>`` (DOIs are case-insensitive).
    """
    parts = _http_parts(url)
    if parts is None:
        return ""
    arxiv_id = arxiv_id_from_url(url)
    if arxiv_id:
        return f"https://arxiv.org/abs/{arxiv_id}"
    doi = doi_from_text(url)
    if doi:
        return f"https://doi.org/{quote(doi, safe=_PATH_SAFE)}"
    netloc = _host(parts)
    if not netloc:
        return ""
    if ":" in netloc:
        netloc = f"[{netloc}]"  # IPv6
    # Both default ports go: the scheme becomes https either way.
    if parts.port not in (None, *_DEFAULT_PORTS.values()):
        netloc += f":{parts.port}"
    path = _normalise_escapes(parts.path).rstrip("/")
    query = _normalise_escapes(parts.query)
    return f"https://{netloc}{path}" + (f"?{query}" if query else "")


def bilibili_bvid(url: str) -> str:
    """The BV id of a bilibili video link (``bilibili.com/video/BV…``, ``b23.tv/BV…``,
    or an API URL with ``bvid=``); else ""."""
    parts = _http_parts(url)
    if parts is None:
        return ""
    host, segments = _host(parts), _segments(parts)
    candidate = ""
    if _host_is(host, "bilibili.com"):
        if len(segments) >= 2 and segments[0] == "video":
            candidate = segments[1]
        else:
            candidate = parse_qs(parts.query).get("bvid", [""])[0]
    elif host == "b23.tv" and segments:
        candidate = segments[0]
    return candidate if _BVID_RE.fullmatch(candidate) else ""


def youtube_id(url: str) -> str:
    """The 11-character id of a YouTube video link; else ""."""
    parts = _http_parts(url)
    if parts is None:
        return ""
    host, segments = _host(parts), _segments(parts)
    candidate = ""
    if host == "youtu.be":
        candidate = segments[0] if segments else ""
    elif _host_is(host, "youtube.com") or _host_is(host, "youtube-nocookie.com"):
        if segments == ["watch"]:
            candidate = parse_qs(parts.query).get("v", [""])[0]
        elif len(segments) >= 2 and segments[0] in {"embed", "shorts", "live", "v"}:
            candidate = segments[1]
    return candidate if _YOUTUBE_ID_RE.fullmatch(candidate) else ""


def zhihu_video_id(url: str) -> str:
    """The numeric id of a zhihu video link (``zhihu.com/zvideo/<id>``); else ""."""
    parts = _http_parts(url)
    if parts is None or not _host_is(_host(parts), "zhihu.com"):
        return ""
    segments = _segments(parts)
    candidate = ""
    if len(segments) >= 2 and segments[0] in {"zvideo", "video"}:
        candidate = segments[1]
    elif segments[:3] == ["api", "v4", "zvideos"] and len(segments) >= 4:
        candidate = segments[3]
    return candidate if _DIGITS_RE.fullmatch(candidate) else ""


def request_key(url: str) -> str:
    """The de-duplication key of a 请求精读 link: ``arxiv:<id>``, ``s2:<40 hex>``,
    ``doi:<lower-cased doi>`` or ``url:<normalised url>``; "" for a non-http(s) URL."""
    if arxiv_id := arxiv_id_from_url(url):
        return f"arxiv:{arxiv_id}"
    if s2_id := s2_id_from_url(url):
        return f"s2:{s2_id}"
    if doi := doi_from_text(url):
        return f"doi:{doi}"
    if normalised := normalise_url(url):
        return f"url:{normalised}"
    return ""
