"""The bilibili client against the fake bilibili of ``tests/fake_bilibili.py`` on
127.0.0.1 (the real urllib3 retry stack, so backoff and Retry-After are exercised),
with the pacing and backoff clock injected: no test waits for a backoff.

Payloads are tests/data/bilibili/*.json, written in the shape documented by
SocialSisterYi/bilibili-API-collect (see docs/video-sources.md).
"""

import json
import socket
from datetime import UTC, datetime

import pytest

from papers.bilibili import (
    BilibiliClient,
    Chapter,
    VideoInfo,
    is_bvid,
    mixin_key,
    wbi_sign,
)
from papers.video_http import ProblemKind, VideoProblem
from tests.fake_bilibili import (
    DATA,
    DOC_IMG_KEY,
    DOC_MIXIN_KEY,
    DOC_SUB_KEY,
    NAV_PATH,
    PLAYER_PATH,
    VIEW_PATH,
    FakeBilibili,
    FakeClock,
    Reply,
    load,
)

BVID = "BV1pu411o7BE"  # the Transformer 精读, as in the README
AID, CID = 465000001, 430000001
WTS = 1702204169
HTML_412 = (
    b"<!DOCTYPE html><html><head><title>412</title></head><body>...</body></html>"
)


@pytest.fixture
def bili():
    with FakeBilibili() as fake:
        points = load("player.json")["data"]["view_points"]
        fake.add_video(BVID, aid=AID, cid=CID, view=812345, view_points=points)
        yield fake


@pytest.fixture
def clock():
    return FakeClock()


def make_client(bili, clock, **kwargs):
    options = dict(
        max_rps=0,
        backoff_factor=5.0,
        backoff_jitter=0.0,
        clock=clock.clock,
        sleep=clock.sleep,
        wall_clock=lambda: WTS,
    )
    options.update(kwargs)
    return BilibiliClient(bili.base_url, **options)


# --- the view endpoint ---


def test_video_reads_views_cover_duration_date_and_ids(bili, clock):
    with make_client(bili, clock) as client:
        info = client.video(BVID)

    assert isinstance(info, VideoInfo)
    assert info.view_count == 812345
    assert info.aid == AID and info.cid == CID
    assert info.duration == 5225  # 1:27:05 in the README
    assert info.published == datetime(2021, 10, 27, 8, 0, tzinfo=UTC)
    assert info.title == "Transformer论文逐段精读【论文精读】"
    # bilibili writes http:// cover URLs; the nightly job fetches them over https.
    assert info.pic_url.startswith("https://i0.hdslb.com/bfs/archive/")
    assert [p.cid for p in info.pages] == [CID]
    (call,) = bili.calls_to(VIEW_PATH)
    assert call.query == {"bvid": BVID}
    assert call.headers["Referer"] == "https://www.bilibili.com/"
    assert "readinglist" in call.headers["User-Agent"]
    assert clock.sleeps == []


@pytest.mark.parametrize(
    ("fixture", "code"), [("view-404.json", -404), ("view-62002.json", 62002)]
)
def test_deleted_or_hidden_video_is_unavailable_not_an_error(
    bili, clock, fixture, code
):
    bili.codes["BV1xx411c7mD"] = load(fixture)
    with make_client(bili, clock) as client:
        problem = client.video("BV1xx411c7mD")
        after = client.video(BVID)

    assert isinstance(problem, VideoProblem)
    assert problem.unavailable and problem.code == code
    assert problem.ref == "BV1xx411c7mD"
    assert isinstance(after, VideoInfo)  # one missing video never stops the run


def test_video_under_review_keeps_its_code_but_is_not_unavailable(bili, clock):
    bili.codes["BV1xx411c7mD"] = load("view-62004.json")
    with make_client(bili, clock) as client:
        problem = client.video("BV1xx411c7mD")

    assert problem.kind is ProblemKind.API_ERROR
    assert problem.code == 62004 and not problem.unavailable
    assert "稿件审核中" in problem.message


def test_not_a_bvid_sends_nothing(bili, clock):
    with make_client(bili, clock) as client:
        problem = client.video("av170001")

    assert problem.kind is ProblemKind.INVALID
    assert bili.calls == []
    assert is_bvid(BVID) and not is_bvid("BV1pu411o7B0")  # 0 is not base58


# --- backoff, Retry-After, blocks ---


def test_412_then_success_backs_off_and_answers(bili, clock):
    bili.queue(VIEW_PATH, Reply(412, HTML_412), Reply(412, load("blocked-412.json")))
    with make_client(bili, clock) as client:
        info = client.video(BVID)
        stats = client.stats

    assert isinstance(info, VideoInfo) and info.view_count == 812345
    assert clock.sleeps == [5.0, 10.0]  # from the first retry, doubling
    assert len(bili.calls_to(VIEW_PATH)) == 3
    assert (stats.requests, stats.retries) == (3, 2)


def test_412_that_outlasts_the_retries_blocks_the_rest_of_the_run(bili, clock):
    bili.queue(VIEW_PATH, *[Reply(412, HTML_412)] * 3)
    with make_client(bili, clock, max_retries=2) as client:
        blocked = client.video(BVID)
        skipped = client.video(BVID)
        chapters = client.chapters(AID, CID)

    assert blocked.kind is ProblemKind.BLOCKED and blocked.status == 412
    assert "412" in blocked.message and "3 tries" in blocked.message
    assert skipped.kind is ProblemKind.SKIPPED
    assert chapters.kind is ProblemKind.SKIPPED
    assert len(bili.calls) == 3  # nothing sent after the block


def test_minus_412_code_in_a_200_blocks_too(bili, clock):
    bili.queue(VIEW_PATH, Reply(200, load("blocked-412.json")))
    with make_client(bili, clock) as client:
        blocked = client.video(BVID)
        skipped = client.video(BVID)

    assert blocked.kind is ProblemKind.BLOCKED and blocked.code == -412
    assert skipped.kind is ProblemKind.SKIPPED


def test_429_retry_after_is_honoured(bili, clock):
    bili.queue(VIEW_PATH, Reply(429, b"", {"Retry-After": "7"}))
    with make_client(bili, clock) as client:
        info = client.video(BVID)

    assert isinstance(info, VideoInfo)
    assert clock.sleeps == [7.0]  # the server's wait, not the 5 s backoff


def test_retry_after_is_capped(bili, clock):
    bili.queue(VIEW_PATH, Reply(503, b"", {"Retry-After": "86400"}))
    with make_client(bili, clock, retry_after_max=60) as client:
        info = client.video(BVID)

    assert isinstance(info, VideoInfo)
    assert clock.sleeps == [60.0]


def test_5xx_that_outlasts_the_retries_is_reported_and_the_run_goes_on(bili, clock):
    bili.queue(VIEW_PATH, *[Reply(502, b"Bad Gateway")] * 3)
    with make_client(bili, clock, max_retries=2) as client:
        problem = client.video(BVID)
        after = client.video(BVID)

    assert problem.kind is ProblemKind.SERVER and problem.status == 502
    assert "Bad Gateway" in problem.message
    assert isinstance(after, VideoInfo)  # a server error is not a block


def test_refused_connection_is_a_problem_not_an_exception(clock):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    client = BilibiliClient(
        f"http://127.0.0.1:{port}", max_rps=0, max_retries=1, backoff_jitter=0,
        clock=clock.clock, sleep=clock.sleep,
    )  # fmt: skip
    problem = client.video(BVID)

    assert problem.kind is ProblemKind.SERVER
    assert problem.message.startswith("no answer") and "2 tries" in problem.message


def test_read_timeout_is_a_problem(bili, clock):
    bili.queue(VIEW_PATH, Reply(delay=1.0))
    with make_client(bili, clock, max_retries=0, read_timeout=0.2) as client:
        problem = client.video(BVID)

    assert problem.kind is ProblemKind.SERVER
    assert problem.message.startswith("timed out")


# --- bad bodies ---


def test_truncated_json_is_a_problem_for_that_video_only(bili, clock):
    whole = (DATA / "view.json").read_bytes()
    bili.queue(VIEW_PATH, Reply(200, whole[: len(whole) // 2]))
    with make_client(bili, clock) as client:
        problem = client.video(BVID)
        after = client.video(BVID)

    assert problem.kind is ProblemKind.MALFORMED
    assert "not JSON" in problem.message
    assert isinstance(after, VideoInfo)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda d: d["stat"].update(view="lots"), "data.stat.view"),
        (lambda d: d["stat"].update(view=-1), "data.stat.view"),
        (lambda d: d.pop("cid"), "data.cid"),
        (lambda d: d.update(duration=None), "data.duration"),
        (lambda d: d.update(pubdate="2021-10-27"), "data.pubdate"),
        (lambda d: d.update(bvid="BV1xx411c7mD"), "BV1xx411c7mD"),
    ],
)
def test_a_bad_field_is_malformed_not_a_wrong_count(bili, clock, change, field):
    change(bili.videos[BVID])
    with make_client(bili, clock) as client:
        problem = client.video(BVID)

    assert problem.kind is ProblemKind.MALFORMED
    assert field in problem.message


@pytest.mark.parametrize(
    "body",
    [b"<html>busy</html>", b"[1, 2]", json.dumps({"message": "no code"}).encode()],
)
def test_a_200_that_is_not_the_documented_object_is_malformed(bili, clock, body):
    bili.queue(VIEW_PATH, Reply(200, body))
    with make_client(bili, clock) as client:
        problem = client.video(BVID)

    assert problem.kind is ProblemKind.MALFORMED


# --- chapters and WBI ---


def test_chapters_are_signed_parsed_and_in_time_order(bili, clock):
    points = bili.view_points[(AID, CID)]
    points.reverse()  # the answer's order is not trusted
    with make_client(bili, clock) as client:
        chapters = client.chapters(AID, CID)
        again = client.chapters(AID, CID)

    assert chapters == again
    assert [(c.start, c.end) for c in chapters] == [
        (0, 95),
        (95, 1130),
        (1130, 2890),
        (2890, 5225),
    ]
    assert chapters[2] == Chapter(
        start=1130,
        end=2890,
        title="3.2 Multi-Head Attention",
        image_url="https://i0.hdslb.com/bfs/vchapter/430000001_1130.jpg",
    )
    # The keys come from nav once per client; the fake accepted both signatures.
    assert len(bili.calls_to(NAV_PATH)) == 1
    assert bili.signed_keys == [DOC_MIXIN_KEY, DOC_MIXIN_KEY]
    call = bili.calls_to(PLAYER_PATH)[0]
    assert call.query["wts"] == str(WTS)
    assert call.query["aid"] == str(AID) and call.query["cid"] == str(CID)


def test_no_chapters_is_an_empty_list(bili, clock):
    info = bili.add_video("BV1xx411c7mD", view_points=[])
    with make_client(bili, clock) as client:
        assert client.chapters(info["aid"], info["cid"]) == []


def test_null_view_points_is_an_empty_list(bili, clock):
    bili.queue(PLAYER_PATH, Reply(200, {"code": 0, "data": {"view_points": None}}))
    with make_client(bili, clock) as client:
        assert client.chapters(AID, CID) == []


@pytest.mark.parametrize(
    "point",
    [
        {"from": "0", "to": 10, "content": "开场"},
        {"from": 20, "to": 10, "content": "开场"},
        {"from": 0, "to": 10, "content": "  "},
        "开场",
    ],
)
def test_one_bad_chapter_spoils_the_answer_so_stored_chapters_are_kept(
    bili, clock, point
):
    good = {"from": 10, "to": 20, "content": "正文"}
    body = {"code": 0, "data": {"view_points": [good, point]}}
    bili.queue(PLAYER_PATH, Reply(200, body))
    with make_client(bili, clock) as client:
        problem = client.chapters(AID, CID)

    assert isinstance(problem, VideoProblem)
    assert problem.kind is ProblemKind.MALFORMED
    assert "view_points[1]" in problem.message


def test_chapters_of_a_missing_part_are_unavailable(bili, clock):
    with make_client(bili, clock) as client:
        problem = client.chapters(1, 2)

    assert problem.unavailable and problem.code == -404


def test_rotated_keys_are_fetched_again_once(bili, clock):
    new_img, new_sub = "a" * 32, "b" * 32
    with make_client(bili, clock) as client:
        assert client.chapters(AID, CID) != []
        # bilibili changes the keys (daily): the cached ones now sign wrongly.
        bili.rotate_keys(new_img, new_sub, mixin_key(new_img, new_sub))
        chapters = client.chapters(AID, CID)

    assert len(chapters) == 4
    assert len(bili.calls_to(NAV_PATH)) == 2
    assert [c.query.get("w_rid") is not None for c in bili.calls_to(PLAYER_PATH)] == [
        True,
        True,
        True,
    ]


def test_a_signature_refused_twice_blocks_the_run(bili, clock):
    bili.rotate_keys(DOC_IMG_KEY, DOC_SUB_KEY, "0" * 32)  # nothing we send will do
    with make_client(bili, clock) as client:
        problem = client.chapters(AID, CID)
        skipped = client.video(BVID)

    assert problem.kind is ProblemKind.BLOCKED and problem.code == -352
    assert skipped.kind is ProblemKind.SKIPPED


def test_nav_without_keys_is_a_problem_for_chapters(bili, clock):
    bili.queue(NAV_PATH, Reply(200, {"code": -101, "data": {"isLogin": False}}))
    with make_client(bili, clock) as client:
        problem = client.chapters(AID, CID)

    assert problem.kind is ProblemKind.MALFORMED
    assert "WBI" in problem.message and problem.ref == f"{AID}/{CID}"
    assert bili.calls_to(PLAYER_PATH) == []


def test_mixin_key_of_the_documented_example():
    # docs/misc/sign/wbi.md: these two keys give this mixin key.
    assert mixin_key(DOC_IMG_KEY, DOC_SUB_KEY) == "ea1db124af3c7062474693fa704f4ff8"
    with pytest.raises(ValueError, match="32 characters"):
        mixin_key("abc", DOC_SUB_KEY)


def test_wbi_signature_of_the_documented_example():
    # The documented example: {foo: '114', bar: '514', zab: 1919810} at wts
    # 1702204169 signs "bar=514&foo=114&wts=1702204169&zab=1919810" + mixin key;
    # `printf %s '<that text>ea1db124…' | md5sum` gives 8f6f2b5b….
    signed = wbi_sign(
        {"foo": "114", "bar": "514", "zab": 1919810}, DOC_MIXIN_KEY, wts=WTS
    )

    assert signed == (
        "bar=514&foo=114&wts=1702204169&zab=1919810"
        "&w_rid=8f6f2b5b3d485fe1886cec6a0be8c5d4"
    )


def test_wbi_encodes_like_encode_uri_component_and_drops_reserved_marks():
    # The documented encoding: upper-case hex, space as %20 (not +).
    signed = wbi_sign(
        {"foo": "one one four", "bar": "五一四", "baz": 1919810}, DOC_MIXIN_KEY, wts=WTS
    )
    assert signed == (
        "bar=%E4%BA%94%E4%B8%80%E5%9B%9B&baz=1919810&foo=one%20one%20four"
        "&wts=1702204169&w_rid=04e50b58980e3e3cee8cbc0cc4c1c530"
    )
    # !'()* are removed from values before signing.
    assert wbi_sign({"q": "it's (ok)!*"}, DOC_MIXIN_KEY, wts=WTS) == (
        "q=its%20ok&wts=1702204169&w_rid=210297b10a71b8059c74ff466da7b911"
    )


# --- pacing ---


def test_calls_are_spaced_by_one_over_max_rps(bili, clock):
    with make_client(bili, clock, max_rps=2) as client:
        results = [client.video(BVID) for _ in range(3)]
        chapters = client.chapters(AID, CID)  # nav, then player: two more calls

    assert all(isinstance(r, VideoInfo) for r in results) and len(chapters) == 4
    # The first call goes at once; each of the other four waits 1/2 s.
    assert clock.sleeps == [0.5, 0.5, 0.5, 0.5]


def test_retries_are_paced_too(bili, clock):
    bili.queue(VIEW_PATH, Reply(503, b""))
    with make_client(bili, clock, max_rps=1, backoff_factor=0.0) as client:
        assert isinstance(client.video(BVID), VideoInfo)

    assert clock.sleeps == [1.0]  # no backoff asked for, but the pace holds


def test_the_default_pace_is_one_request_a_second(bili, clock):
    client = BilibiliClient(bili.base_url, clock=clock.clock, sleep=clock.sleep)
    client.video(BVID)
    client.video(BVID)

    assert clock.sleeps == [1.0]
