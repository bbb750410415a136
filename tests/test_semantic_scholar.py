"""The Semantic Scholar client, against the recorded payloads (F1–F18) of
``shared/reference/semantic-scholar-api.md``.

Most tests mock HTTP with ``responses``. ``responses`` replaces the transport below
requests, so it emulates urllib3's status retries but never sleeps (no backoff, no
Retry-After) and never retries exceptions; the tests of those run the real urllib3
stack against the fake server of ``tests/fake_s2.py`` on 127.0.0.1.
"""

import json
import socket
import time
from types import SimpleNamespace

import pytest
import requests
import responses
import urllib3.util.retry
from responses import matchers

from papers.semantic_scholar import (
    BATCH_FIELDS,
    ApiKeyRefused,
    MalformedResponse,
    RateLimiter,
    RequestRejected,
    SemanticScholarClient,
    Unavailable,
    paper_ref,
)
from tests.fake_s2 import FakeSemanticScholar, Reply

BASE = "https://api.semanticscholar.org/graph/v1"
BATCH_URL = f"{BASE}/paper/batch"

# F10: a batch with an unknown id giving null in position (DERIVED, values verbatim).
F10_IDS = [
    "CorpusId:211530585",
    "CorpusId:470667",
    "10.2139/ssrn.2250500",
    "0f40b1f08821e22e859c6050916cec3667778613",
]
F10_BODY = [
    None,
    {
        "paperId": "c31c87c591a25c64fbaa82e8ac6a81831b6ac7ce",
        "externalIds": {"MAG": "2096684396", "DOI": "10.2139/ssrn.288970", "CorpusId": 470667},  # noqa: E501
        "url": "https://www.semanticscholar.org/paper/c31c87c591a25c64fbaa82e8ac6a81831b6ac7ce",
        "title": "How Much Should We Trust Differences-in-Differences Estimates?",
        "year": 2001,
        "citationCount": 10670,
        "influentialCitationCount": 578,
    },
    {
        "paperId": "cb1ebd913c3724c599f6b276b14b5c6253da68f3",
        "externalIds": {"MAG": "2148197077", "DOI": "10.2139/ssrn.2250500", "CorpusId": 3142471},  # noqa: E501
        "url": "https://www.semanticscholar.org/paper/cb1ebd913c3724c599f6b276b14b5c6253da68f3",
        "title": "The Miracle of Microfinance? Evidence from a Randomized Evaluation",
        "year": 2013,
        "citationCount": 2185,
        "influentialCitationCount": 245,
    },
    {
        "paperId": "0f40b1f08821e22e859c6050916cec3667778613",
        "externalIds": {"DOI": "10.1257/rct.1355", "CorpusId": 255313304},
        "url": "https://www.semanticscholar.org/paper/0f40b1f08821e22e859c6050916cec3667778613",
        "title": "Improving Third-Party Audits and Regulatory Compliance in India",
        "year": 2023,
        "citationCount": 0,
        "influentialCitationCount": 0,
    },
]  # fmt: skip
# F2: one paper with our fields (DERIVED from a recorded full-fields response).
F2_PAPER = {
    "paperId": "2d5673caa9e6af3a7b82a43f19ee920992db07ad",
    "externalIds": {"DBLP": "journals/x/Turing50", "MAG": "2145482038", "DOI": "10.1093/MIND/LIX.236.433", "CorpusId": 14636783},  # noqa: E501
    "url": "https://www.semanticscholar.org/paper/2d5673caa9e6af3a7b82a43f19ee920992db07ad",
    "title": "Computing Machinery and Intelligence",
    "year": 1950,
    "citationCount": 10059,
    "influentialCitationCount": 530,
}  # fmt: skip
F5_BODY = {"error": "Unrecognized or unsupported fields: [unknown]"}
F6_BODY = {"message": "Forbidden"}
F7_BODY = {
    "message": "Too Many Requests. Please wait and try again or apply for a key for "
    "higher rate limits. https://www.semanticscholar.org/product/api#api-key-form",
    "code": "429",
}
F11_BODY = {"error": "No valid paper ids given"}
# F12: the merge case (RECONSTRUCTED from s2-folks #157), asked with ?fields=paperId.
F12_ASKED = "e87b03add4f6fc193054023b173624bd98566f64"
F12_BODY = [{"paperId": "93d2312a1cade9041d78b28e519266b606b5b366"}]


@pytest.fixture
def s2():
    with responses.RequestsMock() as mock:
        yield mock


@pytest.fixture
def client():
    with SemanticScholarClient(
        base_url=BASE, max_rps=0, max_retries=3, backoff_factor=0, backoff_jitter=0
    ) as client:
        yield client


class FakeClock:
    """A monotonic clock and sleep for the rate limiter: time passes only when told."""

    def __init__(self):
        self.now = 100.0
        self.sleeps = []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(round(seconds, 6))
        self.now += seconds


# Answers ----------------------------------------------------------------------------


def test_batch_maps_answers_by_position_and_null_is_not_found(s2, client):
    s2.post(
        BATCH_URL,
        json=F10_BODY,
        match=[
            matchers.query_param_matcher({"fields": BATCH_FIELDS}),
            matchers.json_params_matcher({"ids": F10_IDS}),
        ],
    )

    answers = client.fetch_batch(F10_IDS)

    assert [a.requested for a in answers] == F10_IDS
    assert answers[0].not_found and answers[0].citations is None
    assert answers[1].citations.paper_id == "c31c87c591a25c64fbaa82e8ac6a81831b6ac7ce"
    assert answers[1].citations.citation_count == 10670
    assert answers[1].citations.influential_citation_count == 578
    assert answers[1].citations.doi == "10.2139/ssrn.288970"
    assert answers[2].citations.citation_count == 2185
    # A real 0 is an answer (unlike a missing count).
    assert answers[3].citations.citation_count == 0
    assert client.stats.requests == 1 and client.stats.retries == 0


def test_fields_and_dois_are_parsed_from_f2(s2, client):
    s2.post(BATCH_URL, json=[F2_PAPER])

    (answer,) = client.fetch_batch(["DOI:10.1093/mind/lix.236.433"])

    assert answer.citations.citation_count == 10059
    assert answer.citations.doi == "10.1093/mind/lix.236.433"  # compared lower-case


def test_api_key_header_is_sent_when_configured(s2):
    s2.post(
        BATCH_URL,
        json=[F2_PAPER],
        match=[matchers.header_matcher({"x-api-key": "k3y"})],
    )
    with SemanticScholarClient(base_url=BASE, api_key="k3y", max_rps=0) as client:
        client.fetch_batch([F2_PAPER["paperId"]])
        assert "k3y" not in repr(client)


def test_no_api_key_header_without_a_key(s2, client):
    s2.post(BATCH_URL, json=[F2_PAPER])
    client.fetch_batch([F2_PAPER["paperId"]])
    assert "x-api-key" not in {k.lower() for k in s2.calls[0].request.headers}


def test_400_no_valid_ids_means_the_whole_batch_is_unknown(s2, client):
    s2.post(BATCH_URL, status=400, json=F11_BODY)

    answers = client.fetch_batch(["ARXIV:2604.00001", "ARXIV:2604.00002"])

    assert [a.not_found for a in answers] == [True, True]
    assert len(s2.calls) == 1


def test_other_400_is_rejected_and_not_retried(s2, client):
    s2.post(BATCH_URL, status=400, json=F5_BODY)

    with pytest.raises(RequestRejected, match="Unrecognized or unsupported fields"):
        client.fetch_batch([F2_PAPER["paperId"]])
    assert len(s2.calls) == 1


def test_404_is_not_retried(s2, client):
    s2.post(BATCH_URL, status=404, json={"error": "Paper with id 0 not found"})

    with pytest.raises(RequestRejected, match="HTTP 404"):
        client.fetch_batch(["0" * 40])
    assert len(s2.calls) == 1


def test_merged_paper_comes_back_with_its_new_id(s2, client):
    merged = {**F12_BODY[0], "citationCount": 57, "influentialCitationCount": 3}
    s2.post(BATCH_URL, json=[merged])

    (answer,) = client.fetch_batch([F12_ASKED])

    assert answer.requested == F12_ASKED
    assert answer.citations.paper_id == "93d2312a1cade9041d78b28e519266b606b5b366"
    assert answer.citations.citation_count == 57


def test_an_entry_without_a_count_is_unusable_not_zero(s2, client):
    s2.post(BATCH_URL, json=F12_BODY)  # recorded with ?fields=paperId: no count

    (answer,) = client.fetch_batch([F12_ASKED])

    assert answer.citations is None and not answer.not_found
    assert "citationCount" in answer.problem


@pytest.mark.parametrize(
    "entry",
    [
        {"paperId": F2_PAPER["paperId"], "citationCount": None},
        {"paperId": F2_PAPER["paperId"], "citationCount": -1},
        {"paperId": F2_PAPER["paperId"], "citationCount": "10059"},
        {"paperId": F2_PAPER["paperId"], "citationCount": True},
        {"paperId": F2_PAPER["paperId"], "citationCount": 1.5},
        {"paperId": "not-an-id", "citationCount": 3},
        {"citationCount": 3},
        ["a list"],
        "a string",
    ],
)
def test_malformed_entries_are_flagged_one_by_one(s2, client, entry):
    s2.post(BATCH_URL, json=[entry, F2_PAPER])

    bad, good = client.fetch_batch(["ARXIV:1706.03762", F2_PAPER["paperId"]])

    assert bad.problem and bad.citations is None and not bad.not_found
    assert good.citations.citation_count == 10059


# Retries ----------------------------------------------------------------------------


def test_429_then_success(s2, client):
    s2.post(BATCH_URL, status=429, json=F7_BODY)
    s2.post(BATCH_URL, json=[F2_PAPER])

    (answer,) = client.fetch_batch([F2_PAPER["paperId"]])

    assert answer.citations.citation_count == 10059
    assert client.stats.requests == 2 and client.stats.retries == 1


@pytest.mark.parametrize("status", [429, 500, 502, 503, 504])
def test_retryable_statuses_give_up_after_bounded_tries(s2, client, status):
    s2.post(BATCH_URL, status=status, json={"message": "Internal Server Error"})

    with pytest.raises(Unavailable, match=f"HTTP {status} after 4 tries") as caught:
        client.fetch_batch([F2_PAPER["paperId"]])

    assert caught.value.status == status
    assert len(s2.calls) == 4  # max_retries=3
    assert client.stats.requests == 4 and client.stats.retries == 3


def test_403_bad_key_is_fatal_and_not_retried(s2, client):
    s2.post(
        BATCH_URL,
        status=403,
        json=F6_BODY,
        headers={"x-amzn-ErrorType": "ForbiddenException"},
    )

    with pytest.raises(ApiKeyRefused, match="API key was refused"):
        client.fetch_batch([F2_PAPER["paperId"]])
    assert len(s2.calls) == 1


def test_timeout_is_unavailable(s2, client):
    s2.post(BATCH_URL, body=requests.exceptions.ReadTimeout("read timed out"))

    with pytest.raises(Unavailable, match="timed out"):
        client.fetch_batch([F2_PAPER["paperId"]])


def test_connection_error_is_unavailable(s2, client):
    s2.post(BATCH_URL, body=requests.exceptions.ConnectionError("connection reset"))

    with pytest.raises(Unavailable, match="no answer"):
        client.fetch_batch([F2_PAPER["paperId"]])


def test_truncated_json_is_malformed(s2, client):
    s2.post(BATCH_URL, body=json.dumps(F10_BODY)[:300], content_type="application/json")

    with pytest.raises(MalformedResponse, match="not JSON"):
        client.fetch_batch(F10_IDS)


def test_a_list_of_the_wrong_length_is_malformed(s2, client):
    s2.post(BATCH_URL, json=F10_BODY[1:])

    with pytest.raises(MalformedResponse, match="asked for 4 ids, got 3"):
        client.fetch_batch(F10_IDS)


def test_an_object_instead_of_a_list_is_malformed(s2, client):
    s2.post(BATCH_URL, json={"data": F10_BODY})

    with pytest.raises(MalformedResponse, match="instead of a list"):
        client.fetch_batch(F10_IDS)


# Batching ---------------------------------------------------------------------------


@pytest.mark.parametrize("ids", [[], ["a"] * 501, ["ARXIV:1706.03762", ""]])
def test_fetch_batch_refuses_what_s2_would_reject(client, ids):
    with pytest.raises(ValueError):
        client.fetch_batch(ids)


@pytest.mark.parametrize(
    ("ids", "expected"),
    [
        ({"s2_paper_id": "204E3073870FAE3D05BCBC2F6A8E263D9B72E776"},
         "204e3073870fae3d05bcbc2f6a8e263d9b72e776"),
        ({"s2_paper_id": "204e3073870fae3d05bcbc2f6a8e263d9b72e776",
          "arxiv_id": "1706.03762"}, "204e3073870fae3d05bcbc2f6a8e263d9b72e776"),
        ({"arxiv_id": "1706.03762v5", "doi": "10.1/x"}, "ARXIV:1706.03762"),
        ({"arxiv_id": "cs/0112017"}, "ARXIV:cs/0112017"),
        ({"doi": "https://doi.org/10.1093/MIND/LIX.236.433"},
         "DOI:10.1093/mind/lix.236.433"),
        ({"doi": "10.18653/v1/N18-3011"}, "DOI:10.18653/v1/n18-3011"),
        ({}, ""),
        ({"s2_paper_id": "nope", "arxiv_id": "nope", "doi": "nope"}, ""),
    ],
)  # fmt: skip
def test_paper_ref_prefers_the_s2_id_then_arxiv_then_doi(ids, expected):
    assert paper_ref(**ids) == expected


# Pacing -----------------------------------------------------------------------------


def test_rate_limiter_spaces_calls_by_the_interval():
    clock = FakeClock()
    limiter = RateLimiter(1, clock=clock, sleep=clock.sleep)

    limiter.wait()  # the first call goes at once
    limiter.wait()  # right after: a full second
    clock.now += 0.3
    limiter.wait()  # 0.3 s later: the rest of the second
    clock.now += 5
    limiter.wait()  # long after: at once

    assert clock.sleeps == [1.0, 0.7]
    assert limiter.waited == pytest.approx(1.7)


def test_rate_limiter_allows_fractional_and_higher_rates():
    clock = FakeClock()
    limiter = RateLimiter(4, clock=clock, sleep=clock.sleep)
    for _ in range(5):
        limiter.wait()
    assert clock.sleeps == [0.25] * 4


@pytest.mark.parametrize("max_rps", [0, None])
def test_rate_limiter_can_be_turned_off(max_rps):
    clock = FakeClock()
    limiter = RateLimiter(max_rps, clock=clock, sleep=clock.sleep)
    for _ in range(10):
        limiter.wait()
    assert clock.sleeps == []


def test_client_paces_every_call_across_the_job(s2):
    s2.post(BATCH_URL, json=[F2_PAPER])
    clock = FakeClock()
    limiter = RateLimiter(1, clock=clock, sleep=clock.sleep)
    with SemanticScholarClient(base_url=BASE, rate_limiter=limiter) as client:
        for _ in range(3):
            client.fetch_batch([F2_PAPER["paperId"]])
    assert clock.sleeps == [1.0, 1.0]


# The real urllib3 stack, against the fake server on 127.0.0.1 -------------------------


@pytest.fixture
def fake_s2():
    with FakeSemanticScholar() as server:
        yield server


@pytest.fixture
def retry_sleeps(monkeypatch):
    """urllib3's backoff and Retry-After sleeps, recorded instead of slept."""
    sleeps = []
    monkeypatch.setattr(
        urllib3.util.retry,
        "time",
        SimpleNamespace(sleep=sleeps.append, time=urllib3.util.retry.time.time),
    )
    return sleeps


def live_client(server, **options):
    options = {"max_rps": 0, "max_retries": 3, "backoff_jitter": 0, **options}
    return SemanticScholarClient(base_url=server.base_url, **options)


def test_retry_after_is_honoured(fake_s2, retry_sleeps):
    fake_s2.script.append(Reply(429, F7_BODY, headers={"Retry-After": "7"}))
    with live_client(fake_s2) as client:
        (answer,) = client.fetch_batch(["ARXIV:1706.03762"])
    assert answer.citations is not None
    assert retry_sleeps == [7]
    assert len(fake_s2.calls) == 2


def test_retry_after_is_capped(fake_s2, retry_sleeps):
    fake_s2.script.append(Reply(503, b"", headers={"Retry-After": "3600"}))
    with live_client(fake_s2, retry_after_max=90) as client:
        client.fetch_batch(["ARXIV:1706.03762"])
    assert retry_sleeps == [90]


def test_backoff_is_exponential_with_jitter(fake_s2, retry_sleeps):
    fake_s2.script.extend([Reply(503, b"")] * 3)
    with live_client(fake_s2, backoff_factor=2, backoff_jitter=0.5) as client:
        (answer,) = client.fetch_batch(["ARXIV:1706.03762"])
    assert answer.citations is not None
    # urllib3 sends the first retry at once, then waits factor * 2**(n-1) + jitter.
    assert len(retry_sleeps) == 2
    assert 4 <= retry_sleeps[0] < 4.5 and 8 <= retry_sleeps[1] < 8.5


def test_retries_are_paced_like_every_request(fake_s2):
    fake_s2.script.append(Reply(429, F7_BODY))
    clock = FakeClock()
    limiter = RateLimiter(1, clock=clock, sleep=clock.sleep)
    with live_client(fake_s2, rate_limiter=limiter, backoff_factor=0) as client:
        client.fetch_batch(["ARXIV:1706.03762"])
    assert clock.sleeps == [1.0]  # the retry waited for its turn
    assert client.stats.retries == 1


def test_read_timeout_is_retried(fake_s2):
    fake_s2.script.append(Reply(200, b"[]", delay=0.5))
    with live_client(fake_s2, read_timeout=0.1, backoff_factor=0) as client:
        (answer,) = client.fetch_batch(["ARXIV:1706.03762"])
        assert answer.citations is not None
        assert client.stats.retries == 1


def test_timeouts_give_up_after_bounded_tries(fake_s2):
    fake_s2.script.extend([Reply(200, b"[]", delay=0.4)] * 3)
    with live_client(fake_s2, read_timeout=0.1, backoff_factor=0, max_retries=2) as c:
        with pytest.raises(Unavailable, match="timed out after 3 tries"):
            c.fetch_batch(["ARXIV:1706.03762"])
        assert c.stats.requests == 3 and c.stats.retries == 2


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # closed again when this returns


def test_connection_refused_is_not_retried():
    """Offline or a wrong URL: fail at once instead of backing off for minutes, so
    the solo worker of `make run` is free again (issue 9)."""
    with SemanticScholarClient(
        base_url=f"http://127.0.0.1:{closed_port()}/graph/v1",
        max_rps=0,
        max_retries=6,
        backoff_factor=60,  # would wait minutes if it retried
    ) as client:
        started = time.monotonic()
        with pytest.raises(Unavailable, match="unreachable, not retried"):
            client.fetch_batch(["ARXIV:1706.03762"])
        assert time.monotonic() - started < 5
        assert (client.stats.requests, client.stats.retries) == (1, 0)


def test_name_resolution_failure_is_not_retried(monkeypatch):
    lookups = []

    def no_dns(host, *args, **kwargs):
        lookups.append(host)
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", no_dns)
    with SemanticScholarClient(
        base_url="https://api.semanticscholar.example/graph/v1",
        max_rps=0,
        max_retries=6,
        backoff_factor=60,
    ) as client:
        with pytest.raises(Unavailable, match="unreachable, not retried"):
            client.fetch_batch(["ARXIV:1706.03762"])
        assert client.stats.retries == 0
    assert lookups == ["api.semanticscholar.example"]
