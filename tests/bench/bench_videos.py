"""Calls, time against the pacing floor, and memory of the nightly video refresh for
250, 500 and 1,000 videos.

Run from the repository root (``make bench`` does):

    .venv/bin/python tests/bench/bench_videos.py [--rps 50]

It starts the fake bilibili of tests/fake_bilibili.py on 127.0.0.1 (each video with
four chapters), builds a throwaway SQLite database and runs ``videos_refresh`` with
the bilibili client paced at ``--rps`` (default 50, so 1,000 videos take ~40 s; the
production default is 1, where the same run takes ~33 minutes). Every video costs a
view call and a chapters call, plus one nav call per run for the WBI keys. The floor
is (calls - 1) / rps: the first call does not wait. Memory is tracemalloc's peak
during the run. It prints a markdown section for docs/benchmarks.md. Nothing here
talks to anything but 127.0.0.1.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SIZES = (250, 500, 1000)
POINTS = [
    {"type": 2, "from": 0, "to": 95, "content": "开场"},
    {"type": 2, "from": 95, "to": 1130, "content": "摘要与导言"},
    {"type": 2, "from": 1130, "to": 3000, "content": "模型"},
    {"type": 2, "from": 3000, "to": 5225, "content": "实验"},
]


BASE58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


def bvid(n: int) -> str:
    """A well-formed BV id per number: "BV1" and nine base58 characters."""
    digits = ""
    for _ in range(9):
        n, rest = divmod(n, 58)
        digits = BASE58[rest] + digits
    return f"BV1{digits}"


def setup(db: str) -> None:
    os.environ["DATABASE_URL"] = f"sqlite:///{db}"
    os.environ["DJANGO_SETTINGS_MODULE"] = "readinglist.settings"
    os.environ["DJANGO_DEBUG"] = "0"  # DEBUG keeps every query in memory
    os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only-secret-key-0123456789abcdef")
    os.environ["BILIBILI_API_URL"] = ""  # never the real one: clients are passed in
    os.environ["YOUTUBE_API_KEY"] = ""
    sys.path.insert(0, str(ROOT))
    import logging

    import django

    django.setup()
    logging.disable(logging.WARNING)
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


def seed(count: int) -> None:
    from papers.models import Chapter, RefreshRun, VideoNote, ViewSnapshot

    ViewSnapshot.objects.all().delete()
    Chapter.objects.all().delete()
    VideoNote.objects.all().delete()
    RefreshRun.objects.all().delete()
    day = dt.date(2021, 1, 1)
    VideoNote.objects.bulk_create(
        VideoNote(
            title=f"视频 {n}",
            slug=f"video-{n}",
            published_on=day + dt.timedelta(days=n),
            duration=dt.timedelta(minutes=87),
            bilibili_url=f"https://www.bilibili.com/video/{bvid(n)}",
            bvid=bvid(n),
        )
        for n in range(count)
    )


def serve(count: int, conn) -> None:
    """The fake bilibili in a process of its own: its threads and its record of
    calls are not the job's time or memory."""
    from tests.fake_bilibili import FakeBilibili

    with FakeBilibili() as bili:
        for n in range(count):
            bili.add_video(bvid(n), view=1000 + n, view_points=POINTS)
        conn.send(bili.base_url)
        conn.recv()  # until the bench is done


def refresh(base_url: str, count: int, rps: float, *, trace: bool) -> dict:
    from papers.bilibili import BilibiliClient
    from papers.models import Chapter, ViewSnapshot
    from papers.services.videos import videos_refresh

    seed(count)
    if trace:
        tracemalloc.start()
    started = time.perf_counter()
    with BilibiliClient(base_url, max_rps=rps) as client:
        run = videos_refresh(bilibili=client, youtube=None, fill_cover=None)
    seconds = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1] if trace else 0
    tracemalloc.stop()
    return {
        "videos": count,
        "rps": rps,
        "calls": run.http_calls,
        "seconds": seconds,
        "floor": (run.http_calls - 1) / rps if rps else 0.0,
        "peak_mib": peak / 2**20,
        "status": run.status,
        "chapters": Chapter.objects.count(),
        "snapshots": ViewSnapshot.objects.count(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rps", type=float, default=50.0)
    args = parser.parse_args()
    import multiprocessing

    sys.path.insert(0, str(ROOT))
    ours, theirs = multiprocessing.Pipe()
    server = multiprocessing.Process(target=serve, args=(max(SIZES), theirs))
    server.start()
    try:
        base_url = ours.recv()
        with tempfile.TemporaryDirectory() as tmp:
            setup(str(Path(tmp) / "bench.sqlite3"))
            # Memory: tracemalloc's peak, pacing off (tracing slows every call).
            memory = [refresh(base_url, n, 0, trace=True) for n in SIZES]
            # Time: 1,000 videos at the given rate, untraced.
            timed = refresh(base_url, max(SIZES), args.rps, trace=False)
    finally:
        ours.send("stop")
        server.join(timeout=10)
    print_section(memory, timed, args.rps)


def print_section(memory: list[dict], timed: dict, rps: float) -> None:
    print("## Video refresh (tests/bench/bench_videos.py)")
    print()
    print(
        "`videos_refresh` against the fake bilibili of tests/fake_bilibili.py on "
        "127.0.0.1 (in a process of its own), four chapters a video, SQLite, DEBUG "
        "off. Time: 1,000 videos with the bilibili client paced at "
        f"{rps:g} requests/s (production: `BILIBILI_MAX_RPS`=1); the *floor* is "
        "(calls - 1) / rate, the first call does not wait. Memory: tracemalloc's "
        "peak during a run with pacing off, at 250, 500 and 1,000 videos. "
        f"Python {platform.python_version()}, {os.cpu_count()} CPUs shared with "
        f"other work, measured {dt.date.today().isoformat()}."
    )
    print()
    over = (timed["seconds"] - timed["floor"]) / timed["floor"] * 100
    print(
        "| Videos | Rate | HTTP calls | Total (s) | Floor (s) | Over the floor "
        "| Status |"
    )
    print("| --: | --: | --: | --: | --: | --: | --- |")
    print(
        f"| {timed['videos']:,} | {rps:g}/s | {timed['calls']:,} | "
        f"{timed['seconds']:.2f} | {timed['floor']:.2f} | {over:+.1f} % | "
        f"{timed['status']} |"
    )
    print()
    print("| Videos | HTTP calls | Peak (MiB) | Chapters | Snapshots | Status |")
    print("| --: | --: | --: | --: | --: | --- |")
    for r in memory:
        print(
            f"| {r['videos']:,} | {r['calls']:,} | {r['peak_mib']:.2f} | "
            f"{r['chapters']:,} | {r['snapshots']:,} | {r['status']} |"
        )
    print()
    print(
        f"- 1,000 videos: {timed['calls']:,} calls (a view and a chapters call each, "
        f"one nav for the WBI keys), {timed['seconds']:.2f} s against a floor of "
        f"{timed['floor']:.2f} s at {rps:g}/s: {over:+.1f} % (target: within 10 %). "
        "At the production rate of 1/s the floor is "
        f"{(timed['calls'] - 1) / 60:.0f} minutes."
    )
    peaks = ", ".join(f"{r['peak_mib']:.2f} MiB at {r['videos']:,}" for r in memory)
    print(
        f"- Memory: tracemalloc peak {peaks}: the job holds one chunk of 100 videos "
        "at a time."
    )
    print()
    print("Command:")
    print()
    print("```sh")
    print(f".venv/bin/python tests/bench/bench_videos.py --rps {rps:g}")
    print("```")


if __name__ == "__main__":
    main()
