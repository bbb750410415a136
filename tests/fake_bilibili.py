"""A fake bilibili web API on 127.0.0.1, for the client tests and the video refresh's
integration tests and benchmark: ``/x/web-interface/view``, ``/x/player/wbi/v2`` (it
checks the WBI signature and answers -352 to a wrong one, as bilibili does) and
``/x/web-interface/nav``, answering in the documented shape (tests/data/bilibili/),
with canned replies for failures.

    with FakeBilibili() as bili:
        bili.add_video("BV1pu411o7BE", view=812345, view_points=[...])
        client = BilibiliClient(bili.base_url, max_rps=0)

Every request is recorded (path, query, headers). ``LoopbackServer`` and ``Reply``
also serve ``tests/fake_youtube.py``.
"""

from __future__ import annotations

import copy
import hashlib
import json
import sys
import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl, quote, urlsplit

DATA = Path(__file__).parent / "data" / "bilibili"
VIEW_PATH = "/x/web-interface/view"
PLAYER_PATH = "/x/player/wbi/v2"
NAV_PATH = "/x/web-interface/nav"
# The worked example of docs/misc/sign/wbi.md: these keys give this mixin key.
DOC_IMG_KEY = "7cd084941338484aae1ad9425b84077c"
DOC_SUB_KEY = "4932caff0ff746eab6f01bf08b70ac45"
DOC_MIXIN_KEY = "ea1db124af3c7062474693fa704f4ff8"


def load(name: str) -> dict:
    """A payload from tests/data/bilibili/ (a fresh copy each time)."""
    return json.loads((DATA / name).read_text(encoding="utf-8"))


@dataclass
class Reply:
    """A canned reply, played before the normal answers (one per request)."""

    status: int = 200
    body: object = b""  # bytes are sent as they are, anything else as JSON
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds to wait before answering (client read timeouts)


@dataclass
class Call:
    path: str
    query: dict[str, str]
    raw_query: str
    headers: dict[str, str]


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        # A client that gave up (read timeout) resets the connection: not an error.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class LoopbackServer:
    """A threaded HTTP server on 127.0.0.1 port 0 answering GETs through
    :meth:`answer`, after any reply queued for that path with :meth:`queue`."""

    name = "fake"

    def __init__(self):
        self.calls: list[Call] = []
        self._script: dict[str, deque[Reply]] = defaultdict(deque)
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def start(self):
        self._server = _Server(("127.0.0.1", 0), self._handler_class())
        # A short poll so that stop() (shutdown) takes milliseconds, not 0.5 s.
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.02},
            name=self.name,
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join(timeout=5)
            self._server = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    @property
    def root_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def queue(self, path: str, *replies: Reply) -> None:
        """Replies for the next requests to ``path``, in order."""
        with self._lock:
            self._script[path].extend(replies)

    def calls_to(self, path: str) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.path == path]

    def answer(self, call: Call) -> Reply:
        raise NotImplementedError

    def _reply_to(self, call: Call) -> Reply:
        with self._lock:
            self.calls.append(call)
            if self._script[call.path]:
                return self._script[call.path].popleft()
        return self.answer(call)

    def _handler_class(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as the real APIs
            # Headers and body go out in two writes: without this, Nagle and the
            # client's delayed ACK hold every answer ~40 ms (the benchmark).
            disable_nagle_algorithm = True

            def log_message(self, format, *args):  # quiet
                pass

            def do_GET(self):
                parts = urlsplit(self.path)
                call = Call(
                    path=parts.path,
                    query=dict(parse_qsl(parts.query, keep_blank_values=True)),
                    raw_query=parts.query,
                    headers=dict(self.headers),
                )
                reply = fake._reply_to(call)
                time.sleep(reply.delay)
                body = reply.body
                data = body if isinstance(body, bytes) else json.dumps(body).encode()
                try:
                    self.send_response(reply.status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(data)
                except ConnectionError:
                    pass  # the client gave up (read timeout)

        return Handler


class FakeBilibili(LoopbackServer):
    name = "fake-bilibili"

    def __init__(self, *, check_signature: bool = True):
        super().__init__()
        self.videos: dict[str, dict] = {}  # bvid -> the view endpoint's data object
        self.codes: dict[str, dict] = {}  # bvid -> a whole error body (code != 0)
        self.view_points: dict[tuple[int, int], list[dict]] = {}
        self.check_signature = check_signature
        self.img_key, self.sub_key, self.mixin_key = (
            DOC_IMG_KEY,
            DOC_SUB_KEY,
            DOC_MIXIN_KEY,
        )
        self.signed_keys: list[str] = []  # the mixin key each accepted call used

    @property
    def base_url(self) -> str:
        return self.root_url

    # --- data ---

    def add_video(
        self,
        bvid: str,
        *,
        aid: int | None = None,
        cid: int | None = None,
        view: int = 1000,
        view_points: list[dict] | None = None,
        **fields,
    ) -> dict:
        """A video answered like the fixture view.json, with these values."""
        number = len(self.videos) + 1
        aid = aid or 465000000 + number
        cid = cid or 430000000 + number
        data = load("view.json")["data"]
        data.update(bvid=bvid, aid=aid, cid=cid, **fields)
        data["stat"].update(aid=aid, view=view)
        data["pages"][0]["cid"] = cid
        self.videos[bvid] = data
        if view_points is not None:
            self.view_points[(aid, cid)] = view_points
        return data

    def rotate_keys(self, img_key: str, sub_key: str, mixin_key: str) -> None:
        """New keys from nav (bilibili changes them daily); the old ones stop
        signing. ``mixin_key`` is what the two give, worked out by the test."""
        self.img_key, self.sub_key, self.mixin_key = img_key, sub_key, mixin_key

    # --- answers ---

    def answer(self, call: Call) -> Reply:
        if call.path == VIEW_PATH:
            return self._view(call.query.get("bvid", ""))
        if call.path == PLAYER_PATH:
            return self._player(call)
        if call.path == NAV_PATH:
            body = load("nav.json")
            body["data"]["wbi_img"] = {
                "img_url": f"https://i0.hdslb.com/bfs/wbi/{self.img_key}.png",
                "sub_url": f"https://i0.hdslb.com/bfs/wbi/{self.sub_key}.png",
            }
            return Reply(200, body)
        return Reply(404, b"<html><body>404 Not Found</body></html>")

    def _view(self, bvid: str) -> Reply:
        if bvid in self.codes:
            return Reply(200, self.codes[bvid])
        if bvid in self.videos:
            data = copy.deepcopy(self.videos[bvid])
            return Reply(200, {"code": 0, "message": "0", "ttl": 1, "data": data})
        return Reply(200, load("view-404.json"))

    def _player(self, call: Call) -> Reply:
        if self.check_signature and not self._signed(call.raw_query):
            return Reply(
                200,
                {
                    "code": -352,
                    "message": "风控校验失败",
                    "ttl": 1,
                    "data": {"v_voucher": "voucher_00000000-fake"},
                },
            )
        try:
            key = (int(call.query["aid"]), int(call.query["cid"]))
        except (KeyError, ValueError):
            return Reply(200, {"code": -400, "message": "请求错误", "ttl": 1})
        if key not in self.view_points and not any(
            (v["aid"], v["cid"]) == key for v in self.videos.values()
        ):
            return Reply(200, {"code": -404, "message": "啥都木有", "ttl": 1})
        points = copy.deepcopy(self.view_points.get(key, []))
        data = {"aid": key[0], "cid": key[1], "view_points": points}
        return Reply(200, {"code": 0, "message": "0", "ttl": 1, "data": data})

    def _signed(self, raw_query: str) -> bool:
        """The server's side of WBI: the MD5 of the sorted, encoded parameters
        (w_rid left out) followed by the mixin key must be w_rid."""
        pairs = parse_qsl(raw_query, keep_blank_values=True)
        given = dict(pairs).get("w_rid", "")
        rest = sorted((k, v) for k, v in pairs if k != "w_rid")
        if not given or "wts" not in dict(rest):
            return False
        text = "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in rest)
        expected = hashlib.md5((text + self.mixin_key).encode()).hexdigest()
        if given == expected:
            with self._lock:
                self.signed_keys.append(self.mixin_key)
            return True
        return False


class FakeClock:
    """A monotonic clock that only moves when something sleeps: pass ``clock`` and
    ``sleep`` to a client, then read ``sleeps`` (every wait, backoff and pacing alike,
    in order) and ``now``."""

    def __init__(self, start: float = 1000.0):
        self.now = start
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(round(seconds, 6))
        self.now += seconds
