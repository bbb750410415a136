"""The bilibili client: a video's view count, cover, duration and date, and its
chapters ("view_points"), for the nightly video refresh.

It knows HTTP and nothing of the ORM: it takes BV ids (and aid/cid) and returns
plain dataclasses, or a :class:`~papers.video_http.VideoProblem` for that one video.
The endpoints, their codes, the WBI signature and what we do on each failure are in
``docs/video-sources.md``; they are bilibili's web API, not a published one, as
documented by the community (SocialSisterYi/bilibili-API-collect).

- ``GET /x/web-interface/view?bvid=…``: unsigned.
- ``GET /x/player/wbi/v2?aid=…&cid=…``: WBI-signed with keys read once per client
  from ``GET /x/web-interface/nav``.

Retries (412, 429, 5xx, timeouts) are urllib3's, with ``Retry-After`` honoured and
a backoff from the first retry; every request, retries included, is paced to
``max_rps``. Once bilibili still answers 412 after the retries (its anti-crawl
block), the client stops asking for the rest of the run: every further call is a
``SKIPPED`` problem, so a blocked night costs a handful of requests, not thousands.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import quote, urlsplit

import requests

from papers.video_http import (
    CallStats,
    ProblemKind,
    RateLimiter,
    VideoProblem,
    build_session,
    describe_exception,
)

__all__ = [
    "DEFAULT_BASE_URL",
    "BilibiliClient",
    "Chapter",
    "Page",
    "VideoInfo",
    "is_bvid",
    "mixin_key",
    "wbi_sign",
]

DEFAULT_BASE_URL = "https://api.bilibili.com"
VIEW_PATH = "/x/web-interface/view"
PLAYER_PATH = "/x/player/wbi/v2"
NAV_PATH = "/x/web-interface/nav"
RETRY_STATUSES = (412, 429, 500, 502, 503, 504)
# "-404: 无视频", "62002: 稿件不可见": the video is gone here; mark it, never delete.
UNAVAILABLE_CODES = frozenset({-404, 62002})
# Risk control: "-412 请求被拦截", "-352 风控校验失败", "-799 请求过于频繁".
BLOCKED_CODES = frozenset({-412, -352, -799})
NOT_LOGGED_IN = -101  # nav's answer without a cookie; wbi_img is there all the same
# An honest robot name with the usual "compatible" prefix; bilibili's risk control
# looks at the User-Agent and the Referer (docs/video-sources.md).
DEFAULT_USER_AGENT = "Mozilla/5.0 (compatible; readinglist-video-refresh/1.0)"
REFERER = "https://www.bilibili.com/"

_BVID = re.compile(r"BV1[1-9A-HJ-NP-Za-km-z]{9}")
# WBI: the order in which the 64 characters of img_key + sub_key are picked.
_MIXIN_ORDER = (
    46, 47, 18, 2, 53, 8, 23, 32, 15, 50, 10, 31, 58, 3, 45, 35,
    27, 43, 5, 49, 33, 9, 42, 19, 29, 28, 14, 39, 12, 38, 41, 13,
    37, 48, 7, 16, 24, 55, 40, 61, 26, 17, 0, 1, 60, 51, 30, 4,
    22, 25, 54, 21, 56, 59, 6, 63, 57, 62, 11, 36, 20, 34, 44, 52,
)  # fmt: skip
_WBI_DROPPED = str.maketrans("", "", "!'()*")
_WBI_KEY = re.compile(r"[0-9a-f]{32}")


# Plain data -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Page:
    """One part (分P) of a video."""

    cid: int
    number: int
    title: str
    duration: int  # seconds


@dataclass(frozen=True, slots=True)
class VideoInfo:
    """What ``/x/web-interface/view`` says about one video."""

    bvid: str
    aid: int
    cid: int  # the first part's; chapters are per part
    title: str
    view_count: int
    pic_url: str  # the cover; https, "" when there is none
    duration: int  # seconds, all parts together
    published: datetime  # aware, UTC
    pages: tuple[Page, ...] = ()


@dataclass(frozen=True, slots=True)
class Chapter:
    """One entry of the player's ``view_points``."""

    start: int  # seconds
    end: int | None  # seconds; None when bilibili gives none
    title: str
    image_url: str = ""


# Ids and signing --------------------------------------------------------------------


def is_bvid(value: object) -> bool:
    """A BV id: "BV1" then nine base58 characters (case matters)."""
    return isinstance(value, str) and _BVID.fullmatch(value) is not None


def mixin_key(img_key: str, sub_key: str) -> str:
    """The WBI mixing key: the characters of ``img_key + sub_key`` picked in the
    fixed order, the first 32 kept."""
    raw = img_key + sub_key
    if len(raw) != 64:
        raise ValueError(f"WBI keys are 32 characters each, got {len(raw)} in all")
    return "".join(raw[i] for i in _MIXIN_ORDER)[:32]


def wbi_sign(params: Mapping[str, object], key: str, *, wts: int) -> str:
    """The signed query string for ``params``: sorted by name, values without
    ``!'()*``, percent-encoded like JavaScript's encodeURIComponent (upper-case hex,
    space as %20), then ``&w_rid=`` the MD5 of that text followed by ``key`` (the
    mixin key), with ``wts`` (Unix seconds) among the signed parameters."""
    signed = {str(name): str(value) for name, value in params.items()}
    signed["wts"] = str(wts)
    query = "&".join(
        f"{quote(name, safe='')}={quote(value.translate(_WBI_DROPPED), safe='')}"
        for name, value in sorted(signed.items())
    )
    w_rid = hashlib.md5((query + key).encode(), usedforsecurity=False).hexdigest()
    return f"{query}&w_rid={w_rid}"


def _key_from_url(url: object) -> str:
    """nav gives the keys disguised as image URLs: the file name is the key."""
    if not isinstance(url, str):
        return ""
    name = urlsplit(url).path.rsplit("/", 1)[-1].split(".", 1)[0]
    return name if _WBI_KEY.fullmatch(name) else ""


# The client -------------------------------------------------------------------------


class BilibiliClient:
    """View counts, covers and chapters from bilibili's web API.

    ``max_rps`` paces every request (pass ``BILIBILI_MAX_RPS``); ``clock`` and
    ``sleep`` are the pacing and backoff clock, replaced in tests. ``max_retries``
    bounds the retries per call; the n-th consecutive retry waits ``backoff_factor *
    2**(n-1)`` seconds (plus up to ``backoff_jitter``), capped at ``backoff_max``,
    unless the answer has a ``Retry-After``, capped at ``retry_after_max``.
    """

    def __init__(
        self,
        base_url: str = DEFAULT_BASE_URL,
        max_rps: float | None = 1.0,
        session: requests.Session | None = None,
        *,
        connect_timeout: float = 5.0,
        read_timeout: float = 20.0,
        max_retries: int = 4,
        backoff_factor: float = 5.0,
        backoff_jitter: float = 1.0,
        backoff_max: float = 120.0,
        retry_after_max: int = 300,
        user_agent: str = DEFAULT_USER_AGENT,
        stop_when_blocked: bool = True,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        wall_clock: Callable[[], float] = time.time,
    ):
        self.base_url = base_url.rstrip("/")
        self.timeout = (connect_timeout, read_timeout)
        self.stop_when_blocked = stop_when_blocked
        self.rate_limiter = RateLimiter(max_rps, clock=clock, sleep=sleep)
        self.stats = CallStats()
        self.blocked: VideoProblem | None = None  # set once bilibili blocks us
        self._wall_clock = wall_clock
        self._mixin_key: str | None = None
        self.session = build_session(
            retry_statuses=RETRY_STATUSES,
            max_retries=max_retries,
            backoff_factor=backoff_factor,
            backoff_jitter=backoff_jitter,
            backoff_max=backoff_max,
            retry_after_max=retry_after_max,
            rate_limiter=self.rate_limiter,
            stats=self.stats,
            sleep=sleep,
            headers={
                "Accept": "application/json",
                "User-Agent": user_agent,
                "Referer": REFERER,
            },
            session=session,
        )

    def __repr__(self) -> str:
        return f"<BilibiliClient {self.base_url}>"

    def close(self) -> None:
        self.session.close()

    def __enter__(self) -> BilibiliClient:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    # --- calls ---

    def video(self, bvid: str) -> VideoInfo | VideoProblem:
        """``/x/web-interface/view`` for one BV id."""
        if not is_bvid(bvid):
            return VideoProblem(
                str(bvid)[:40], ProblemKind.INVALID, f"not a BV id: {bvid!r}"
            )
        body = self._get_json(bvid, VIEW_PATH, f"bvid={bvid}")
        if isinstance(body, VideoProblem):
            return self._block(body) if body.code == -352 else body
        return _parse_view(bvid, body)

    def chapters(self, aid: int, cid: int) -> list[Chapter] | VideoProblem:
        """The chapters of one part, from the player endpoint (WBI-signed), in time
        order; ``[]`` when the video has none. A problem is not "no chapters": the
        caller keeps the chapters it has."""
        ref = f"{aid}/{cid}"
        if not (_is_id(aid) and _is_id(cid)):
            return VideoProblem(ref, ProblemKind.INVALID, "aid and cid are positive")
        body: dict | VideoProblem | None = None
        for attempt in range(2):
            key = self._wbi_key(refresh=attempt > 0)
            if isinstance(key, VideoProblem):
                return VideoProblem(ref, key.kind, key.message, key.code, key.status)
            query = wbi_sign({"aid": aid, "cid": cid}, key, wts=self._wts())
            body = self._get_json(ref, PLAYER_PATH, query)
            # -352 on a signed call: the keys may have rotated (daily); fetch them
            # again and sign once more before calling it a block.
            if not (isinstance(body, VideoProblem) and body.code == -352):
                break
        if isinstance(body, VideoProblem):
            return self._block(body) if body.code == -352 else body
        return _parse_view_points(ref, body)

    # --- plumbing ---

    def _wts(self) -> int:
        return int(self._wall_clock())

    def _wbi_key(self, *, refresh: bool = False) -> str | VideoProblem:
        """The mixin key, from nav once per client (or again when ``refresh``)."""
        if self._mixin_key is not None and not refresh:
            return self._mixin_key
        body = self._get_json("nav", NAV_PATH, "", accept_codes={0, NOT_LOGGED_IN})
        if isinstance(body, VideoProblem):
            return body
        data = body.get("data")
        wbi = data.get("wbi_img") if isinstance(data, dict) else None
        img = _key_from_url(wbi.get("img_url")) if isinstance(wbi, dict) else ""
        sub = _key_from_url(wbi.get("sub_url")) if isinstance(wbi, dict) else ""
        if not (img and sub):
            return VideoProblem(
                "nav", ProblemKind.MALFORMED, "no WBI keys in data.wbi_img", status=200
            )
        self._mixin_key = mixin_key(img, sub)
        return self._mixin_key

    def _get_json(
        self,
        ref: str,
        path: str,
        query: str,
        *,
        accept_codes: frozenset[int] | set[int] = frozenset({0}),
    ) -> dict | VideoProblem:
        """One GET (retries inside): the decoded body, or the problem."""
        if self.blocked is not None and self.stop_when_blocked:
            return VideoProblem(
                ref,
                ProblemKind.SKIPPED,
                f"not asked: bilibili blocked this run ({self.blocked.message})",
            )
        url = f"{self.base_url}{path}" + (f"?{query}" if query else "")
        self.rate_limiter.wait()
        self.stats.requests += 1
        retries_before = self.stats.retries
        try:
            response = self.session.get(url, timeout=self.timeout)
        except requests.RequestException as exc:
            tries = self.stats.retries - retries_before + 1
            return VideoProblem(
                ref,
                ProblemKind.SERVER,
                f"{describe_exception(exc)} after {tries} tries",
            )
        tries = self.stats.retries - retries_before + 1
        problem = self._http_problem(ref, response, tries)
        if problem is not None:
            return problem
        try:
            body = json.loads(response.content)
        except ValueError as exc:
            return VideoProblem(
                ref,
                ProblemKind.MALFORMED,
                f"HTTP 200 with a body that is not JSON ({len(response.content)} "
                f"bytes): {exc}",
                status=200,
            )
        if not isinstance(body, dict):
            return VideoProblem(
                ref,
                ProblemKind.MALFORMED,
                f"HTTP 200 with a {type(body).__name__} instead of an object",
                status=200,
            )
        code = body.get("code")
        if not isinstance(code, int) or isinstance(code, bool):
            return VideoProblem(
                ref, ProblemKind.MALFORMED, f"no integer code: {code!r}", status=200
            )
        if code in accept_codes:
            return body
        return self._code_problem(ref, code, body.get("message"))

    def _http_problem(
        self, ref: str, response: requests.Response, tries: int
    ) -> VideoProblem | None:
        status = response.status_code
        if status == 200:
            return None
        said = _snippet(response)
        if status == 412:
            return self._block(
                VideoProblem(
                    ref,
                    ProblemKind.BLOCKED,
                    f"HTTP 412 (anti-crawl) after {tries} tries: {said}",
                    status=status,
                )
            )
        server = status in RETRY_STATUSES or status >= 500
        kind = ProblemKind.SERVER if server else ProblemKind.API_ERROR
        return VideoProblem(
            ref, kind, f"HTTP {status} after {tries} tries: {said}", status=status
        )

    def _code_problem(self, ref: str, code: int, message: object) -> VideoProblem:
        text = f"code {code}: {str(message or '')[:200]}"
        if code in UNAVAILABLE_CODES:
            return VideoProblem(ref, ProblemKind.UNAVAILABLE, text, code=code)
        if code in BLOCKED_CODES:
            problem = VideoProblem(ref, ProblemKind.BLOCKED, text, code=code)
            # -352 on a signed call may be stale keys: chapters() tries again once,
            # so only the other codes stop the run at once.
            return problem if code == -352 else self._block(problem)
        return VideoProblem(ref, ProblemKind.API_ERROR, text, code=code)

    def _block(self, problem: VideoProblem) -> VideoProblem:
        if self.blocked is None:
            self.blocked = problem
        return problem


# Parsing ----------------------------------------------------------------------------


def _parse_view(bvid: str, body: dict) -> VideoInfo | VideoProblem:
    def bad(what: str) -> VideoProblem:
        return VideoProblem(bvid, ProblemKind.MALFORMED, what, status=200)

    data = body.get("data")
    if not isinstance(data, dict):
        return bad("code 0 without a data object")
    if data.get("bvid", bvid) != bvid:
        return bad(f"asked for {bvid}, got {data.get('bvid')!r}")
    stat = data.get("stat")
    view = stat.get("view") if isinstance(stat, dict) else None
    aid, cid = data.get("aid"), data.get("cid")
    duration, pubdate = data.get("duration"), data.get("pubdate")
    for name, value, check in (
        ("data.stat.view", view, _is_count),
        ("data.aid", aid, _is_id),
        ("data.cid", cid, _is_id),
        ("data.duration", duration, _is_count),
        ("data.pubdate", pubdate, _is_id),
    ):
        if not check(value):
            return bad(f"bad {name}: {value!r}")
    title = data.get("title")
    return VideoInfo(
        bvid=bvid,
        aid=aid,
        cid=cid,
        title=title.strip()[:300] if isinstance(title, str) else "",
        view_count=view,
        pic_url=_https(data.get("pic")),
        duration=duration,
        published=datetime.fromtimestamp(pubdate, tz=UTC),
        pages=_parse_pages(data.get("pages")),
    )


def _parse_pages(pages: object) -> tuple[Page, ...]:
    if not isinstance(pages, list):
        return ()
    parsed = []
    for entry in pages:
        if not isinstance(entry, dict):
            continue
        cid, number = entry.get("cid"), entry.get("page")
        duration = entry.get("duration")
        if _is_id(cid) and _is_id(number) and _is_count(duration):
            part = entry.get("part")
            title = part.strip()[:300] if isinstance(part, str) else ""
            parsed.append(Page(cid=cid, number=number, title=title, duration=duration))
    return tuple(parsed)


def _parse_view_points(ref: str, body: dict) -> list[Chapter] | VideoProblem:
    def bad(what: str) -> VideoProblem:
        return VideoProblem(ref, ProblemKind.MALFORMED, what, status=200)

    data = body.get("data")
    if not isinstance(data, dict):
        return bad("code 0 without a data object")
    points = data.get("view_points")
    if points is None:
        return []
    if not isinstance(points, list):
        return bad(f"view_points is a {type(points).__name__}")
    chapters = []
    # One bad entry spoils the answer: a partial list would delete chapters.
    for index, point in enumerate(points):
        if not isinstance(point, dict):
            return bad(f"view_points[{index}] is not an object")
        start, end, content = point.get("from"), point.get("to"), point.get("content")
        if not _is_count(start):
            return bad(f"view_points[{index}].from: {start!r}")
        if end is not None and not (_is_count(end) and end >= start):
            return bad(f"view_points[{index}].to: {end!r}")
        if not isinstance(content, str) or not content.strip():
            return bad(f"view_points[{index}].content: {content!r}")
        chapters.append(
            Chapter(
                start=start,
                end=end,
                title=content.strip()[:200],
                image_url=_https(point.get("imgUrl")),
            )
        )
    return sorted(chapters, key=lambda c: c.start)


def _https(url: object) -> str:
    """bilibili still writes ``http://`` (and ``//``) image URLs; its CDN serves the
    same files over https."""
    if not isinstance(url, str) or not url.strip():
        return ""
    url = url.strip()
    if url.startswith("//"):
        return "https:" + url
    if url.startswith("http://"):
        return "https://" + url[len("http://") :]
    return url if url.startswith("https://") else ""


def _snippet(response: requests.Response) -> str:
    """bilibili's JSON ``code``/``message``, else the start of the body (its 412 is
    often an HTML page)."""
    try:
        body = response.json()
    except ValueError:
        text = " ".join(response.text[:120].split())
        return text or response.reason or ""
    if isinstance(body, dict) and "code" in body:
        return f"code {body.get('code')}: {str(body.get('message') or '')[:200]}"
    return str(body)[:200]


def _is_count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _is_id(value: object) -> bool:
    return _is_count(value) and value > 0
