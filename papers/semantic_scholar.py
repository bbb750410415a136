"""The Semantic Scholar Graph API client: citation counts and details for batches of
paper ids, and the ids a paper cites.

It knows HTTP and nothing of the ORM: it takes id strings and returns plain
dataclasses; ``papers.services.citations`` maps them onto models. The API contract,
its limits and recorded payloads are in ``shared/reference/semantic-scholar-api.md``.

Retries (429, 5xx, timeouts, connection errors) are urllib3's ``Retry`` mounted on
the session: exponential backoff with jitter, ``Retry-After`` honoured, bounded
tries; 400, 403 and 404 are never retried, nor is an API that cannot be reached at
all (no name resolution, connection refused, no route): offline, the backoff would
only hold the worker for minutes. Requests, retries included, are paced to
``max_rps`` per second for the life of the client, which is one refresh run.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import requests
from requests.adapters import HTTPAdapter
from urllib3 import exceptions as urllib3_exceptions
from urllib3.util.retry import Retry

from papers import identifiers

__all__ = [
    "BATCH_LIMIT",
    "Answer",
    "ApiKeyRefused",
    "Author",
    "CallStats",
    "Citations",
    "Details",
    "MalformedResponse",
    "RateLimiter",
    "RequestRejected",
    "ResponseTooLarge",
    "SemanticScholarClient",
    "SemanticScholarError",
    "Unavailable",
    "paper_ref",
]

DEFAULT_BASE_URL = "https://api.semanticscholar.org/graph/v1"
BATCH_LIMIT = 500  # "Can only process 500 paper ids at a time."
# title and year fill in papers added from a 请求精读 link, which only has an id
# until Semantic Scholar names it; the rest are the paper page's details (issue 13).
# Nested lists of references/citations are NOT asked here: the batch endpoint caps
# them ("Can only return up to 9999 citations at a time") and timed out with nested
# references (s2-folks #58); they come from GET /paper/{id}/references instead.
# Size: an abstract is ~1-2 KB and a publicationVenue a few hundred bytes, so a
# batch of 500 is ~1.5 MB, under the documented 10 MB cap; a batch that still
# exceeds it (a few papers with thousands of authors) is answered with the 400
# "Response would exceed maximum size", and is then asked again in halves.
BATCH_FIELDS = (
    "citationCount,influentialCitationCount,externalIds,title,year,"
    "authors,venue,publicationVenue,publicationDate,abstract,tldr,openAccessPdf,"
    "referenceCount,fieldsOfStudy,publicationTypes,journal"
)
TOO_LARGE = "Response would exceed maximum size"
REFERENCES_PAGE = 1000  # the references endpoint's largest `limit`
# offset + limit may not pass 10,000 on the paginated endpoints; no paper of a
# reading list has that many references.
REFERENCES_MAX = 10_000
RETRY_STATUSES = (429, 500, 502, 503, 504)
# Seconds to wait for a connection and for an answer, per try.
CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 30.0
# Retries of 429, 5xx, timeouts and connection errors per call, with exponential
# backoff (factor x 2**n seconds, capped at 60) and jitter, as S2 requires.
MAX_RETRIES = 6
BACKOFF_FACTOR = 2.0
# The 400 that means "none of these ids exist", not "your request is wrong".
NO_VALID_IDS = "No valid paper ids given"


# Plain data -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Author:
    name: str
    author_id: str | None = None


@dataclass(frozen=True, slots=True)
class Details:
    """A paper's details. Empty ("", (), None) means "not given": never a value
    that should replace a stored one."""

    authors: tuple[Author, ...] = ()
    venue: str = ""
    venue_type: str = ""  # "journal", "conference"
    publication_types: tuple[str, ...] = ()
    journal_volume: str = ""
    journal_pages: str = ""
    publication_date: dt.date | None = None
    abstract: str = ""
    tldr: str = ""
    open_access_pdf_url: str = ""
    reference_count: int | None = None
    fields_of_study: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Citations:
    """What Semantic Scholar says about one paper."""

    paper_id: str  # S2's id now; differs from the one asked for after a merge
    citation_count: int
    influential_citation_count: int | None = None
    arxiv_id: str = ""
    doi: str = ""
    title: str = ""
    year: int | None = None
    details: Details = Details()


@dataclass(frozen=True, slots=True)
class Answer:
    """The answer for one requested id: found, not found, or unusable."""

    requested: str
    citations: Citations | None = None
    problem: str = ""  # set when the entry was malformed; the count must be kept

    @property
    def not_found(self) -> bool:
        return self.citations is None and not self.problem


@dataclass(slots=True)
class CallStats:
    """HTTP requests sent (retries included) and how many of them were retries."""

    requests: int = 0
    retries: int = 0


# Errors -----------------------------------------------------------------------------


class SemanticScholarError(Exception):
    """A batch call gave no usable answer. Stored counts must be kept."""

    def __init__(self, message: str, *, status: int | None = None):
        super().__init__(message)
        self.status = status


class ApiKeyRefused(SemanticScholarError):
    """403: the key is wrong or revoked; every further call would fail too."""


class RequestRejected(SemanticScholarError):
    """A 4xx other than 403 and "No valid paper ids given": not worth retrying."""


class ResponseTooLarge(RequestRejected):
    """400 "Response would exceed maximum size" (over 10 MB): ask in halves."""


class Unavailable(SemanticScholarError):
    """429, 5xx, timeouts or connection errors, still failing after the retries."""


class MalformedResponse(SemanticScholarError):
    """A 200 whose body is not the list the batch contract promises."""


# Ids --------------------------------------------------------------------------------


def paper_ref(*, s2_paper_id: str = "", arxiv_id: str = "", doi: str = "") -> str:
    """The id to ask Semantic Scholar for: its own id, else ``ARXIV:``, else ``DOI:``.

    "" when the paper has none of them. Ids are normalised (arXiv without version,
    bare DOI) because one malformed id can make S2 reject a whole batch.
    """
    if identifiers.is_s2_paper_id(s2_paper_id):
        return s2_paper_id.lower()
    arxiv = identifiers.normalise_arxiv_id(arxiv_id) if arxiv_id else ""
    if arxiv:
        return f"ARXIV:{arxiv}"
    bare_doi = identifiers.doi_from_text(doi) if doi else ""
    if bare_doi:
        return f"DOI:{bare_doi}"
    return ""


# Pacing -----------------------------------------------------------------------------


class RateLimiter:
    """Spaces calls at least ``1 / max_rps`` seconds apart (monotonic clock).

    One limiter per client, and one client per run, so the whole job stays under
    the rate the API grants a key; the run lock makes that the global rate too.
    ``max_rps`` of 0 or None disables pacing.
    """

    def __init__(
        self,
        max_rps: float | None,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.interval = 1.0 / max_rps if max_rps else 0.0
        self._clock = clock
        self._sleep = sleep
        self._next_at: float | None = None
        self._lock = threading.Lock()
        self.waited = 0.0  # seconds spent sleeping, for the benchmark

    def wait(self) -> float:
        """Block until the next call may go out; return the seconds slept."""
        if not self.interval:
            return 0.0
        with self._lock:
            now = self._clock()
            delay = 0.0
            if self._next_at is not None and now < self._next_at:
                delay = self._next_at - now
                self._sleep(delay)
                now = self._next_at
            self._next_at = now + self.interval
            self.waited += delay
            return delay


# Retries ----------------------------------------------------------------------------


class _ObservedRetry(Retry):
    """urllib3's Retry that tells the client about each retry it decides on.

    ``on_retry`` runs when a retry is decided (so retries are counted even when the
    last one fails, which ``response.raw.retries`` cannot show), ``before_resend``
    right before the retried request goes out, after the backoff, so retries are
    paced like every other request.
    """

    on_retry: Callable[[], None] | None = None
    before_resend: Callable[[], None] | None = None

    def new(self, **kw):
        retry = super().new(**kw)
        retry.on_retry = self.on_retry
        retry.before_resend = self.before_resend
        return retry

    def increment(self, method=None, url=None, *args, error=None, _pool=None, **kwargs):
        if isinstance(error, urllib3_exceptions.NewConnectionError):
            # DNS failure, refusal, no route (a connect *timeout* is not one of
            # these): the machine is offline or the URL is wrong; give up at once.
            raise urllib3_exceptions.MaxRetryError(_pool, url, error) from error
        # Raises when out of tries.
        retry = super().increment(
            method, url, *args, error=error, _pool=_pool, **kwargs
        )
        if self.on_retry is not None:
            self.on_retry()
        return retry

    def sleep(self, response=None):
        super().sleep(response)
        if self.before_resend is not None:
            self.before_resend()


# The client -------------------------------------------------------------------------


class SemanticScholarClient:
    """Citation counts from ``POST /paper/batch``, up to 500 ids per call.

    ``max_retries`` bounds the retries per call (so at most ``max_retries + 1``
    tries); the n-th consecutive retry waits ``backoff_factor * 2**(n-1)`` seconds
    plus up to ``backoff_jitter`` (urllib3 sends the first retry at once), capped at
    ``backoff_max``; a ``Retry-After`` header replaces the backoff, capped at
    ``retry_after_max``. ``stats`` counts the requests sent and the retries.
    """

    def __init__(
        self,
        *,
        base_url: str = DEFAULT_BASE_URL,
        api_key: str = "",
        connect_timeout: float = CONNECT_TIMEOUT,
        read_timeout: float = READ_TIMEOUT,
        max_retries: int = MAX_RETRIES,
        backoff_factor: float = BACKOFF_FACTOR,
        backoff_jitter: float = 1.0,
        backoff_max: float = 60.0,
        retry_after_max: int = 120,
        max_rps: float | None = 1.0,
        rate_limiter: RateLimiter | None = None,
    ):
        self.base_url = base_url.rstrip("/")
        self.timeout = (connect_timeout, read_timeout)
        self.max_retries = max_retries
        self.rate_limiter = rate_limiter or RateLimiter(max_rps)
        self.stats = CallStats()
        retry = _ObservedRetry(
            total=max_retries,
            connect=max_retries,
            read=max_retries,
            status=max_retries,
            other=0,
            redirect=0,
            # The batch POST only reads, so sending it again is safe.
            allowed_methods=frozenset({"GET", "POST"}),
            status_forcelist=RETRY_STATUSES,
            backoff_factor=backoff_factor,
            backoff_jitter=backoff_jitter,
            backoff_max=backoff_max,
            respect_retry_after_header=True,
            retry_after_max=retry_after_max,
            # Hand back the last 429/5xx response instead of raising, so its body
            # can go into the run's error.
            raise_on_status=False,
        )
        retry.on_retry = self._count_retry
        retry.before_resend = self.rate_limiter.wait
        adapter = HTTPAdapter(max_retries=retry)
        self.session = requests.Session()
        self.session.mount("https://", adapter)
        self.session.mount("http://", adapter)
        self.session.headers["Accept"] = "application/json"
        if api_key:
            self.session.headers["x-api-key"] = api_key  # the name is case-sensitive

    def __repr__(self) -> str:
        return f"<SemanticScholarClient {self.base_url}>"  # never the key

    def close(self) -> None:
        self.session.close()

    def __enter__(self) -> SemanticScholarClient:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def _count_retry(self) -> None:
        self.stats.retries += 1
        self.stats.requests += 1

    # --- calls ---

    def fetch_batch(self, ids: Sequence[str]) -> list[Answer]:
        """One batch call: an :class:`Answer` per id, in the order asked.

        A batch whose answer would pass the 10 MB cap is asked again in halves.
        Raises :class:`SemanticScholarError` (a subclass saying which kind) when the
        call as a whole gave no usable answer.
        """
        ids = list(ids)
        if not 1 <= len(ids) <= BATCH_LIMIT:
            raise ValueError(f"a batch holds 1 to {BATCH_LIMIT} ids, got {len(ids)}")
        if not all(isinstance(i, str) and i.strip() for i in ids):
            raise ValueError("empty ids make Semantic Scholar reject the whole batch")
        try:
            response, tries = self._send(
                "POST", "/paper/batch", {"fields": BATCH_FIELDS}, {"ids": ids}
            )
            return self._answers(ids, response, tries=tries)
        except ResponseTooLarge:
            if len(ids) == 1:
                raise
            half = len(ids) // 2
            return self.fetch_batch(ids[:half]) + self.fetch_batch(ids[half:])

    def fetch_references(self, paper_id: str) -> list[str]:
        """The Semantic Scholar ids of the papers ``paper_id`` cites, from
        ``GET /paper/{id}/references`` a page of 1,000 at a time (each page is a
        paced call). References S2 could not resolve (no paperId) are left out.
        """
        if not identifiers.is_s2_paper_id(paper_id):
            raise ValueError(f"not a Semantic Scholar paper id: {paper_id!r}")
        found: list[str] = []
        offset = 0
        while offset < REFERENCES_MAX:
            limit = min(REFERENCES_PAGE, REFERENCES_MAX - offset)
            params = {"fields": "paperId", "offset": offset, "limit": limit}
            response, tries = self._send(
                "GET", f"/paper/{paper_id.lower()}/references", params
            )
            if response.status_code != 200:
                self._raise_for(response, tries=tries)
            page = _parse_json_object(response)
            data = page.get("data")
            if not isinstance(data, list):
                raise MalformedResponse("references: no data list", status=200)
            for item in data:
                cited = item.get("citedPaper") if isinstance(item, dict) else None
                ref = cited.get("paperId") if isinstance(cited, dict) else None
                if isinstance(ref, str) and identifiers.is_s2_paper_id(ref):
                    found.append(ref.lower())
            next_offset = page.get("next")
            if not _is_count(next_offset) or next_offset <= offset or not data:
                break
            offset = next_offset
        return list(dict.fromkeys(found))  # S2 lists some references twice

    def _send(
        self, method: str, path: str, params: dict, body: dict | None = None
    ) -> tuple[requests.Response, int]:
        """One paced request (retries included); returns it and the tries made."""
        self.rate_limiter.wait()
        self.stats.requests += 1
        retries_before = self.stats.retries
        try:
            response = self.session.request(
                method,
                f"{self.base_url}{path}",
                params=params,
                json=body,
                timeout=self.timeout,
            )
        except requests.RequestException as exc:
            tries = self.stats.retries - retries_before + 1
            if _is_unreachable(exc):
                raise Unavailable(f"unreachable, not retried: {_reason(exc)}") from exc
            kind = "timed out" if _is_timeout(exc) else "no answer"
            raise Unavailable(f"{kind} after {tries} tries: {_reason(exc)}") from exc
        return response, self.stats.retries - retries_before + 1

    # --- parsing ---

    def _answers(
        self, ids: list[str], response: requests.Response, *, tries: int
    ) -> list[Answer]:
        status = response.status_code
        if status == 200:
            return _parse_batch(ids, response)
        if status == 400 and _error_message(response) == NO_VALID_IDS:
            return [Answer(requested=i) for i in ids]
        self._raise_for(response, tries=tries)

    def _raise_for(self, response: requests.Response, *, tries: int):
        status = response.status_code
        message = _error_message(response)
        if status == 400 and message.startswith(TOO_LARGE):
            raise ResponseTooLarge(f"HTTP 400: {message}", status=status)
        if status == 404:
            raise RequestRejected(f"HTTP 404: {message}", status=status)
        if status == 403:
            raise ApiKeyRefused(
                f"HTTP 403, the API key was refused: {message}", status=status
            )
        if status in RETRY_STATUSES:
            raise Unavailable(
                f"HTTP {status} after {tries} tries: {message}", status=status
            )
        if 400 <= status < 500:
            raise RequestRejected(f"HTTP {status}: {message}", status=status)
        raise Unavailable(f"unexpected HTTP {status}: {message}", status=status)


def _is_unreachable(exc: requests.RequestException) -> bool:
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    return isinstance(reason, urllib3_exceptions.NewConnectionError)


def _is_timeout(exc: requests.RequestException) -> bool:
    """requests reports a read timeout that outlived the retries as a
    ConnectionError wrapping urllib3's MaxRetryError(ReadTimeoutError)."""
    if isinstance(exc, requests.Timeout):
        return True
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    if isinstance(reason, urllib3_exceptions.NewConnectionError):
        return False  # a subclass of ConnectTimeoutError, but a refusal
    return isinstance(reason, TimeoutError | urllib3_exceptions.TimeoutError)


def _reason(exc: requests.RequestException) -> str:
    """The root cause, without urllib3's pool and URL boilerplate."""
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    return str(reason or exc)[:300]


def _error_message(response: requests.Response) -> str:
    """The application says ``{"error": …}``, the AWS gateway ``{"message": …}``."""
    try:
        body = response.json()
    except ValueError:
        return response.text[:200].strip() or response.reason or ""
    if isinstance(body, dict):
        return str(body.get("error") or body.get("message") or body)[:500]
    return str(body)[:200]


def _parse_json_object(response: requests.Response) -> dict:
    try:
        body = json.loads(response.content)
    except ValueError as exc:
        raise MalformedResponse(
            f"HTTP 200 with a body that is not JSON: {exc}", status=200
        ) from exc
    if not isinstance(body, dict):
        raise MalformedResponse(
            f"HTTP 200 with a {type(body).__name__} instead of an object", status=200
        )
    return body


def _parse_batch(ids: list[str], response: requests.Response) -> list[Answer]:
    try:
        body = json.loads(response.content)
    except ValueError as exc:
        raise MalformedResponse(
            f"HTTP 200 with a body that is not JSON ({len(response.content)} bytes): "
            f"{exc}",
            status=200,
        ) from exc
    if not isinstance(body, list):
        raise MalformedResponse(
            f"HTTP 200 with a {type(body).__name__} instead of a list", status=200
        )
    if len(body) != len(ids):
        # Answers are matched by position; a list of another length cannot be.
        raise MalformedResponse(
            f"asked for {len(ids)} ids, got {len(body)} answers", status=200
        )
    pairs = zip(ids, body, strict=True)
    return [_parse_entry(requested, entry) for requested, entry in pairs]


def _parse_entry(requested: str, entry: object) -> Answer:
    if entry is None:
        return Answer(requested=requested)
    if not isinstance(entry, dict):
        return Answer(requested=requested, problem=f"{requested}: not an object")
    paper_id = entry.get("paperId")
    count = entry.get("citationCount")
    if not isinstance(paper_id, str) or not identifiers.is_s2_paper_id(paper_id):
        return Answer(requested=requested, problem=f"{requested}: bad paperId")
    if not _is_count(count):
        return Answer(
            requested=requested, problem=f"{requested}: bad citationCount {count!r}"
        )
    influential = entry.get("influentialCitationCount")
    title, year = entry.get("title"), entry.get("year")
    external = entry.get("externalIds") or {}
    if not isinstance(external, dict):
        external = {}
    return Answer(
        requested=requested,
        citations=Citations(
            paper_id=paper_id.lower(),
            citation_count=count,
            influential_citation_count=influential if _is_count(influential) else None,
            arxiv_id=str(external.get("ArXiv") or ""),
            doi=str(external.get("DOI") or "").lower(),
            title=title.strip()[:500] if isinstance(title, str) else "",
            year=year if _is_count(year) and 1900 <= year <= 2100 else None,
            details=_parse_details(entry),
        ),
    )


def _text(value: object, limit: int) -> str:
    return " ".join(value.split())[:limit] if isinstance(value, str) else ""


def _texts(value: object, limit: int = 100) -> tuple[str, ...]:
    if not isinstance(value, list):
        return ()
    return tuple(t for item in value if (t := _text(item, limit)))


def _parse_details(entry: dict) -> Details:
    """Everything optional: a missing, null or ill-typed field is "not given"."""
    authors = []
    for item in entry.get("authors") or []:
        if isinstance(item, dict) and (name := _text(item.get("name"), 300)):
            author_id = item.get("authorId")
            authors.append(
                Author(name, author_id if isinstance(author_id, str) else None)
            )
    venue = entry.get("publicationVenue")
    venue = venue if isinstance(venue, dict) else {}
    journal = entry.get("journal")
    journal = journal if isinstance(journal, dict) else {}
    tldr = entry.get("tldr")
    tldr = tldr if isinstance(tldr, dict) else {}
    pdf = entry.get("openAccessPdf")
    pdf_url = pdf.get("url") if isinstance(pdf, dict) else None
    abstract = entry.get("abstract")
    references = entry.get("referenceCount")
    return Details(
        authors=tuple(authors),
        venue=_text(venue.get("name"), 300) or _text(entry.get("venue"), 300),
        venue_type=_text(venue.get("type"), 40),
        publication_types=_texts(entry.get("publicationTypes"), 40),
        journal_volume=_text(journal.get("volume"), 50),
        journal_pages=_text(journal.get("pages"), 50),
        publication_date=_date(entry.get("publicationDate")),
        # Paragraphs matter in an abstract: only trim it.
        abstract=abstract.strip()[:20_000] if isinstance(abstract, str) else "",
        tldr=_text(tldr.get("text"), 2000),
        open_access_pdf_url=pdf_url
        if isinstance(pdf_url, str)
        and pdf_url.startswith(("https://", "http://"))
        and len(pdf_url) <= 1000
        else "",
        reference_count=references if _is_count(references) else None,
        fields_of_study=_texts(entry.get("fieldsOfStudy")),
    )


def _date(value: object) -> dt.date | None:
    if not isinstance(value, str):
        return None
    try:
        date = dt.date.fromisoformat(value[:10])
    except ValueError:
        return None
    return date if 1900 <= date.year <= 2100 else None


def _is_count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0
