"""The YouTube client against the fake ``videos.list`` of ``tests/fake_youtube.py``
on 127.0.0.1, with the pacing and backoff clock injected. Payloads are
tests/data/youtube/*.json, in the documented shape of the Data API v3."""

import logging

import pytest
import responses

from papers.video_http import ProblemKind, VideoProblem
from papers.youtube import YouTubeClient, YouTubeStats, iso_duration_seconds
from tests.fake_bilibili import FakeClock, Reply
from tests.fake_youtube import VIDEOS_PATH, FakeYouTube, load

KEY = "AIzaSy-test-key-0000000000000000000000"


@pytest.fixture
def yt():
    with FakeYouTube(api_key=KEY) as fake:
        yield fake


@pytest.fixture
def clock():
    return FakeClock()


def make_client(yt, clock, key=KEY, **kwargs):
    options = dict(max_rps=0, backoff_jitter=0.0, clock=clock.clock, sleep=clock.sleep)
    options.update(kwargs)
    return YouTubeClient(key, base_url=yt.base_url, **options)


def test_statistics_reads_views_and_durations(yt, clock):
    with make_client(yt, clock) as client:
        answers = client.statistics(["nzqlFIcCSWQ", "luP3-Fs0QCo", "deleted0000"])

    transformer = answers["nzqlFIcCSWQ"]
    assert isinstance(transformer, YouTubeStats)
    assert transformer.view_count == 412345  # a string in the JSON
    assert transformer.duration_seconds == 5225  # PT1H27M5S
    assert transformer.published.year == 2021
    # The owner hid the count: no count, not zero.
    assert answers["luP3-Fs0QCo"].view_count is None
    assert answers["luP3-Fs0QCo"].duration_seconds == 3621
    # Left out of the answer: deleted or private.
    assert answers["deleted0000"].unavailable
    (call,) = yt.calls_to(VIDEOS_PATH)
    assert call.query["part"] == "statistics,contentDetails,snippet"
    assert list(answers) == ["nzqlFIcCSWQ", "luP3-Fs0QCo", "deleted0000"]


def test_ids_go_fifty_to_a_call(yt, clock):
    ids = [f"video{n:06d}" for n in range(120)]
    for video_id in ids:
        yt.add_video(video_id, views=7)
    with make_client(yt, clock) as client:
        answers = client.statistics(ids + ids[:3])  # repeats are asked once

    assert [len(chunk) for chunk in yt.ids_per_call()] == [50, 50, 20]
    assert sum(yt.ids_per_call(), []) == ids
    assert all(a.view_count == 7 for a in answers.values())
    assert len(answers) == 120


def test_the_key_goes_in_a_header_never_in_a_url_a_repr_or_a_log(yt, clock, caplog):
    caplog.set_level(logging.DEBUG)
    yt.queue(VIDEOS_PATH, Reply(503, b""))
    with make_client(yt, clock) as client:
        client.statistics(["nzqlFIcCSWQ"])
        shown = repr(client)

    call = yt.calls_to(VIDEOS_PATH)[-1]
    assert call.headers["X-Goog-Api-Key"] == KEY
    assert "key" not in call.query and KEY not in call.raw_query
    assert KEY not in shown
    assert KEY not in caplog.text  # urllib3 logs retried URLs at DEBUG


def test_without_a_key_nothing_is_sent_and_one_line_is_logged(yt, clock, caplog):
    caplog.set_level(logging.INFO, logger="papers.youtube")
    with make_client(yt, clock, key="") as client:
        answers = client.statistics(["nzqlFIcCSWQ", "luP3-Fs0QCo"])

    assert not client.enabled
    assert yt.calls == []
    assert {a.kind for a in answers.values()} == {ProblemKind.SKIPPED}
    assert [r.getMessage() for r in caplog.records] == [
        "YOUTUBE_API_KEY is not set: YouTube statistics skipped for 2 videos"
    ]


def test_a_wrong_key_is_refused_and_stops_the_run(yt, clock):
    ids = [f"video{n:06d}" for n in range(60)]
    with make_client(yt, clock, key="AIzaSy-wrong") as client:
        answers = client.statistics(ids)

    assert len(yt.calls) == 1  # the second chunk would be refused too
    assert {answers[i].kind for i in ids[:50]} == {ProblemKind.KEY_REFUSED}
    assert {answers[i].kind for i in ids[50:]} == {ProblemKind.SKIPPED}
    assert answers[ids[0]].status == 400
    assert "API key not valid" in answers[ids[0]].message


def test_a_spent_quota_stops_the_run(yt, clock):
    yt.queue(VIDEOS_PATH, Reply(403, load("quota-exceeded.json")))
    ids = [f"video{n:06d}" for n in range(60)]
    with make_client(yt, clock) as client:
        answers = client.statistics(ids)

    assert len(yt.calls) == 1
    first = answers[ids[0]]
    assert first.kind is ProblemKind.QUOTA and first.status == 403
    assert "quotaExceeded" in first.message and "<a" not in first.message
    assert answers[ids[-1]].kind is ProblemKind.SKIPPED


def test_429_with_retry_after_is_honoured(yt, clock):
    yt.queue(VIDEOS_PATH, Reply(429, b"", {"Retry-After": "3"}))
    with make_client(yt, clock) as client:
        answers = client.statistics(["nzqlFIcCSWQ"])

    assert answers["nzqlFIcCSWQ"].view_count == 412345
    assert clock.sleeps == [3.0]
    assert client.stats.retries == 1


def test_a_5xx_chunk_is_reported_and_the_next_chunk_still_asked(yt, clock):
    ids = [f"video{n:06d}" for n in range(60)]
    for video_id in ids:
        yt.add_video(video_id)
    yt.queue(VIDEOS_PATH, *[Reply(500, b"oops")] * 2)
    with make_client(yt, clock, max_retries=1, backoff_factor=2.0) as client:
        answers = client.statistics(ids)

    assert {answers[i].kind for i in ids[:50]} == {ProblemKind.SERVER}
    assert all(isinstance(answers[i], YouTubeStats) for i in ids[50:])
    assert clock.sleeps == [2.0]


def test_truncated_json_is_a_problem_for_its_chunk(yt, clock):
    yt.queue(VIDEOS_PATH, Reply(200, b'{"kind": "youtube#videoListResponse", "ite'))
    with make_client(yt, clock) as client:
        answers = client.statistics(["nzqlFIcCSWQ"])

    assert answers["nzqlFIcCSWQ"].kind is ProblemKind.MALFORMED


def test_calls_are_paced(yt, clock):
    ids = [f"video{n:06d}" for n in range(150)]
    with make_client(yt, clock, max_rps=4) as client:
        client.statistics(ids)

    assert clock.sleeps == [0.25, 0.25]


def test_ids_that_are_not_youtube_ids_are_not_sent(yt, clock):
    with make_client(yt, clock) as client:
        answers = client.statistics(["nzqlFIcCSWQ", "https://youtu.be/x", ""])

    assert answers["https://youtu.be/x"].kind is ProblemKind.INVALID
    assert answers[""].kind is ProblemKind.INVALID
    assert yt.ids_per_call() == [["nzqlFIcCSWQ"]]


def test_no_ids_no_call(yt, clock):
    with make_client(yt, clock) as client:
        assert client.statistics([]) == {}
    assert yt.calls == []


@responses.activate
def test_a_bad_view_count_is_malformed_for_that_video_only():
    body = load("videos.json")
    body["items"][0]["statistics"]["viewCount"] = "many"
    responses.get("https://www.googleapis.com/youtube/v3/videos", json=body)
    answers = YouTubeClient(KEY, max_rps=0).statistics(["nzqlFIcCSWQ", "luP3-Fs0QCo"])

    assert isinstance(answers["nzqlFIcCSWQ"], VideoProblem)
    assert answers["nzqlFIcCSWQ"].kind is ProblemKind.MALFORMED
    assert isinstance(answers["luP3-Fs0QCo"], YouTubeStats)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("PT1H27M5S", 5225),
        ("PT4M13S", 253),
        ("PT45S", 45),
        ("PT2H", 7200),
        ("P1DT2H3M4S", 93784),
        ("P0D", 0),  # a live stream
        ("PT", None),
        ("1:02:03", None),
        (None, None),
    ],
)
def test_iso_durations(text, seconds):
    assert iso_duration_seconds(text) == seconds
