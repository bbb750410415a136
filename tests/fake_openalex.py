"""A fake OpenAlex API on 127.0.0.1: ``GET /works?filter=doi:a|b|c`` answering like
the real one (F17 of shared/reference/semantic-scholar-api.md): results in no
particular order, unknown DOIs simply missing, ``doi`` as a lower-case doi.org URL.

    with FakeOpenAlex(works={"10.48550/arxiv.1706.03762": [(2024, 30000)]}) as oa:
        client = OpenAlexClient(base_url=oa.base_url, max_rps=0)
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import deque
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlsplit

from tests.fake_server import FakeServer, Reply


def made_up_counts(doi: str) -> list[tuple[int, int]]:
    n = int(hashlib.sha1(doi.encode()).hexdigest()[:4], 16)
    return [(year, (n * (year - 2015)) % 5000) for year in range(2016, 2027)]


class FakeOpenAlex(FakeServer):
    thread_name = "fake-openalex"

    def __init__(
        self,
        *,
        works: dict[str, list[tuple[int, int]]] | None = None,
        everything: bool = False,
    ):
        self.works = dict(works or {})  # DOI -> [(year, count)]
        self.everything = everything  # made-up counts for any DOI asked
        self.script: deque[Reply] = deque()
        self.calls: list[dict[str, list[str]]] = []  # query of every request
        self._lock = threading.Lock()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def work(self, doi: str) -> dict | None:
        counts = self.works.get(doi)
        if counts is None and self.everything:
            counts = made_up_counts(doi)
        if counts is None:
            return None
        return {
            "id": "https://openalex.org/W"
            + str(int(hashlib.sha1(doi.encode()).hexdigest()[:8], 16)),
            "doi": f"https://doi.org/{doi}",
            "cited_by_count": sum(c for _, c in counts),
            "counts_by_year": [
                {"year": y, "cited_by_count": c} for y, c in reversed(counts) if c
            ],
        }

    def reply_to(self, path: str, query: dict[str, list[str]]) -> Reply:
        with self._lock:
            self.calls.append(query)
            if self.script:
                return self.script.popleft()
        if path != "/works":
            return Reply(404, {"error": "Not found"})
        filters = (query.get("filter") or [""])[0]
        if not filters.startswith("doi:"):
            return Reply(400, {"error": "Invalid query parameters error."})
        dois = filters[4:].split("|")
        if len(dois) > 100:
            return Reply(400, {"error": "Maximum number of values exceeded for doi."})
        found = [w for d in reversed(dois) if (w := self.work(d.lower()))]
        body = {
            "meta": {"count": len(found), "page": 1, "per_page": 100},
            "results": found,
            "group_by": [],
        }
        return Reply(200, body)

    def _handler_class(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body go out in two writes: without TCP_NODELAY the second
            # waits for the client's delayed ACK, ~40 ms a call on Linux.
            disable_nagle_algorithm = True

            def log_message(self, format, *args):
                pass

            def do_GET(self):
                url = urlsplit(self.path)
                reply = fake.reply_to(url.path, parse_qs(url.query))
                data = (
                    reply.body
                    if isinstance(reply.body, bytes)
                    else json.dumps(reply.body).encode()
                )
                self.send_response(reply.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

        return Handler
