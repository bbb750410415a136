"""A fake Semantic Scholar Graph API on 127.0.0.1, for the integration test and the
benchmark: ``POST /graph/v1/paper/batch`` answering like the real one (a list in
request order, ``null`` for unknown ids, a 400 "No valid paper ids given" when no id
is known, another ``paperId`` for merged papers), with canned replies for failures;
``details`` adds the paper-page fields to every answer (or per id), and
``references`` answers ``GET /graph/v1/paper/{id}/references`` a page at a time.

    with FakeSemanticScholar(counts={"ARXIV:1706.03762": 120000}) as s2:
        client = SemanticScholarClient(base_url=s2.base_url, max_rps=0)

It records every call and the seconds it spent handling them (``server_seconds``),
so a benchmark can tell the job's own time from the server's.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections import deque
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlsplit

from tests.fake_server import FakeServer, Reply

BATCH_PATH = "/graph/v1/paper/batch"
PAPER_PATH = "/graph/v1/paper/"


def default_count(ref: str) -> int:
    """A stable made-up count for an id."""
    return int(hashlib.sha1(ref.encode()).hexdigest()[:5], 16)


def made_up_details(ref: str) -> dict:
    """Detail fields about the size of a real paper's (abstract ~1.2 KB, 8 authors,
    a publicationVenue with alternate names)."""
    n = default_count(ref)
    return {
        "authors": [
            {"authorId": str(n + i), "name": f"Author {i} of {ref[-6:]}"}
            for i in range(8)
        ],
        "venue": "Neural Information Processing Systems",
        "publicationVenue": {
            "id": "d9720b90-d60b-48bc-9df8-87a30b9a60dd",
            "name": "Neural Information Processing Systems",
            "type": "conference",
            "alternate_names": ["NeurIPS", "Neural Inf Process Syst", "NIPS"],
            "url": "http://neurips.cc/",
        },
        "publicationDate": f"20{n % 24:02d}-06-12",
        "publicationTypes": ["JournalArticle", "Conference"],
        "journal": {"name": "", "volume": str(n % 40), "pages": "5998-6008"},
        "abstract": ("The dominant sequence transduction models are based on... " * 20),
        "tldr": {"model": "tldr@v2.0.0", "text": "A new simple architecture. " * 5},
        "openAccessPdf": {"url": f"https://arxiv.org/pdf/{n}", "status": "GREEN"},
        "fieldsOfStudy": ["Computer Science"],
    }


def default_paper_id(ref: str) -> str:
    """S2's id for a requested id: itself when it is one, else a stable made-up one."""
    bare = ref.lower()
    if len(bare) == 40 and all(c in "0123456789abcdef" for c in bare):
        return bare
    return hashlib.sha1(ref.encode()).hexdigest()


class FakeSemanticScholar(FakeServer):
    thread_name = "fake-s2"

    def __init__(
        self,
        *,
        counts: dict[str, int] | None = None,
        unknown: set[str] | None = None,
        merged: dict[str, str] | None = None,
        bump: int = 0,
        details: bool | dict[str, dict] = False,
        references: dict[str, list[str]] | None = None,
        reference_maker=None,
    ):
        self.counts = dict(counts or {})  # requested id -> citationCount
        self.unknown = set(unknown or ())  # requested ids answered with null
        self.merged = dict(merged or {})  # requested id -> the paperId returned
        self.bump = bump  # added to every made-up count, to make counts change
        # True: made-up details for every paper; a dict: these fields per id.
        self.details = details
        # S2 paperId -> the paperIds it cites (also gives its referenceCount).
        self.references = dict(references or {})
        # paperId -> its references or None, for lists too large to hold (bench)
        self.reference_maker = reference_maker
        self.reference_calls: list[tuple[str, int]] = []  # (paperId, offset)
        self.script: deque[Reply] = deque()
        self.calls: list[list[str] | None] = []  # ids of every request, in order
        self.headers: list[dict[str, str]] = []
        self.server_seconds = 0.0
        self._lock = threading.Lock()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/graph/v1"

    def reset(self) -> None:
        with self._lock:
            self.calls.clear()
            self.headers.clear()
            self.server_seconds = 0.0

    # --- answers ---

    def paper(self, ref: str) -> dict | None:
        if ref in self.unknown:
            return None
        count = self.counts.get(ref, default_count(ref) + self.bump)
        external: dict[str, object] = {"CorpusId": int(default_count(ref + "#corpus"))}
        if ref.upper().startswith("ARXIV:"):
            external["ArXiv"] = ref[6:]
        if ref.upper().startswith("DOI:"):
            external["DOI"] = ref[4:].upper()
        paper_id = self.merged.get(ref, default_paper_id(ref))
        answer = {
            "paperId": paper_id,
            "externalIds": external,
            "citationCount": count,
            "influentialCitationCount": count // 20,
        }
        if self.details is True:
            answer.update(made_up_details(ref))
        elif self.details:
            answer.update(self.details.get(ref, {}))
        refs = self.references_of(paper_id)
        if refs is not None:
            answer["referenceCount"] = len(refs)
        return answer

    def references_of(self, paper_id: str) -> list[str] | None:
        if paper_id in self.references:
            return self.references[paper_id]
        return self.reference_maker(paper_id) if self.reference_maker else None

    def references_page(self, path: str, query: dict[str, list[str]]) -> Reply:
        """GET /paper/{id}/references?fields=paperId&offset=&limit= (max 1000)."""
        paper_id = path[len(PAPER_PATH) :].split("/", 1)[0]
        offset = int((query.get("offset") or ["0"])[0])
        limit = int((query.get("limit") or ["100"])[0])
        with self._lock:
            self.reference_calls.append((paper_id, offset))
            if self.script:
                return self.script.popleft()
        if limit > 1000:
            return Reply(400, {"error": "Limit must be <= 1000"})
        refs = self.references_of(paper_id)
        if refs is None:
            return Reply(404, {"error": f"Paper with id {paper_id} not found"})
        page = refs[offset : offset + limit]
        body = {
            "offset": offset,
            "data": [{"citedPaper": {"paperId": ref}} for ref in page],
        }
        if offset + limit < len(refs):
            body["next"] = offset + limit
        return Reply(200, body)

    def answer(self, ids: list[str]) -> tuple[int, object]:
        if not ids or len(ids) > 500:
            return 400, {"error": "paper ids must be a list of 1 to 500 ids"}
        papers = [self.paper(ref) for ref in ids]
        if all(p is None for p in papers):
            return 400, {"error": "No valid paper ids given"}
        return 200, papers

    def reply_to(self, raw: bytes, headers: dict[str, str] | None = None) -> Reply:
        """Record a batch request and choose its reply: the next canned one, if any."""
        try:
            ids = json.loads(raw)["ids"]
        except (ValueError, KeyError, TypeError):
            ids = None
        with self._lock:
            self.calls.append(ids)
            self.headers.append(dict(headers or {}))
            if self.script:
                return self.script.popleft()
        if not isinstance(ids, list):
            return Reply(400, {"error": "Unparsable request body"})
        status, body = self.answer(ids)
        return Reply(status, body)

    def responses_callback(self, request):
        """The same answers through the ``responses`` mock, with no server running:
        ``mock.add_callback(responses.POST, url, callback=fake.responses_callback)``.
        """
        reply = self.reply_to(request.body, dict(request.headers))
        body = reply.body if isinstance(reply.body, bytes) else json.dumps(reply.body)
        return reply.status, dict(reply.headers), body

    def responses_get_callback(self, request):
        """``GET /paper/{id}/references`` through the ``responses`` mock."""
        url = urlsplit(request.url)
        path = url.path[url.path.index("/graph/v1") :]
        reply = self.references_page(path, parse_qs(url.query))
        body = reply.body if isinstance(reply.body, bytes) else json.dumps(reply.body)
        return reply.status, dict(reply.headers), body

    def _handler_class(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as the real API
            # Headers and body go out in two writes: without TCP_NODELAY the second
            # waits for the client's delayed ACK, ~40 ms a call on Linux.
            disable_nagle_algorithm = True

            def log_message(self, format, *args):  # quiet
                pass

            def do_GET(self):
                started = time.perf_counter()
                url = urlsplit(self.path)
                if url.path.startswith(PAPER_PATH) and url.path.endswith("/references"):
                    reply = fake.references_page(url.path, parse_qs(url.query))
                else:
                    reply = Reply(404, {"error": "Not found"})
                self._send(reply, started)

            def do_POST(self):
                started = time.perf_counter()
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                if self.path.split("?", 1)[0] != BATCH_PATH:
                    reply = Reply(404, {"error": "Not found"})
                else:
                    reply = fake.reply_to(raw, dict(self.headers))
                self._send(reply, started)

            def _send(self, reply, started):
                time.sleep(reply.delay)
                status, body, headers = reply.status, reply.body, reply.headers
                data = body if isinstance(body, bytes) else json.dumps(body).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    for name, value in headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(data)
                except ConnectionError:
                    pass  # the client gave up (read timeout)
                finally:
                    with fake._lock:
                        fake.server_seconds += time.perf_counter() - started

        return Handler
