"""Calls, time and memory of the nightly citation refresh at 10,000 and 100,000 papers.

Run from the repository root (``make bench`` does):

    .venv/bin/python tests/bench/bench_refresh.py

It starts the fake Semantic Scholar of tests/fake_s2.py on 127.0.0.1, builds throwaway
SQLite databases in a temporary directory and runs ``citations_refresh`` against them,
each run in a fresh process so its peak RSS is its own:

1. 10,000 papers, pacing off: batch calls, and the job's own time (the run's wall time
   minus the seconds the fake server spent answering);
2. the same 10,000 papers (all counts changed) at the default 1 request/second: the
   total time against the floor the rate sets (one second per call);
3. 100,000 papers, pacing off: the same figures, to show that memory does not grow
   with the number of papers.

It prints a markdown section for docs/benchmarks.md. ``--quick`` skips the paced run
and uses 2,000 and 20,000 papers. Nothing here talks to anything but 127.0.0.1.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SMALL, LARGE = 10_000, 100_000


def _database_url(db: str) -> str:
    """A database URL as it is, or a path for a SQLite file."""
    return db if "://" in db else f"sqlite:///{db}"


def _setup_django(db: str) -> None:
    os.environ["DATABASE_URL"] = _database_url(db)
    os.environ["DJANGO_SETTINGS_MODULE"] = "readinglist.settings"
    os.environ["DJANGO_DEBUG"] = "0"  # DEBUG keeps every query in memory
    os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only-secret-key-0123456789abcdef")
    sys.path.insert(0, str(ROOT))
    import logging

    import django

    django.setup()
    logging.disable(logging.WARNING)


def seed(db: str, papers: int) -> None:
    """A database of ``papers`` papers: most with an S2 id, some found by arXiv id
    or DOI only, a third with no count yet. A server database is emptied first."""
    _setup_django(db)
    from django.core.management import call_command

    from papers.models import Paper, RefreshRun

    call_command("migrate", verbosity=0, interactive=False)
    Paper.objects.all().delete()
    RefreshRun.objects.all().delete()
    chunk = []
    for n in range(papers):
        kind = n % 20
        chunk.append(
            Paper(
                name=f"Paper {n}",
                slug=f"paper-{n}",
                s2_paper_id=f"{n + 1:040x}" if kind > 1 else "",
                arxiv_id=f"{2001 + n // 100_000:04d}.{n % 100_000:05d}" if kind else "",
                doi=f"10.5555/bench.{n}" if kind == 0 else "",
                citation_count=None if n % 3 == 0 else n % 5000,
            )
        )
        if len(chunk) == 5000:
            Paper.objects.bulk_create(chunk)
            chunk = []
    Paper.objects.bulk_create(chunk)


def _write_with_bulk_update(papers, casts, *, also=None) -> None:
    """What the refresh would do with Django's bulk_update instead of its raw
    UPDATE ... CASE: the comparison that keeps the raw SQL (docs/benchmarks.md)."""
    from papers.models import Paper

    for name, value in (also or {}).items():
        for paper in papers:
            setattr(paper, name, value)
    if papers:
        Paper.objects.bulk_update(papers, [*casts, *(also or {})], batch_size=100)


def run(db: str, base_url: str, max_rps: float, var_dir: Path, writer: str) -> dict:
    """One refresh in this (fresh) process; its figures as a dict."""
    _setup_django(db)
    from django.conf import settings

    from papers.semantic_scholar import SemanticScholarClient
    from papers.services import citations
    from papers.services.citations import citations_refresh

    if writer == "bulk_update":
        citations._update_by_pk = _write_with_bulk_update
    settings.VAR_DIR = var_dir  # the run lock, away from a dev worker's
    client = SemanticScholarClient(base_url=base_url, max_rps=max_rps)
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    refresh = citations_refresh(client=client)
    wall = time.perf_counter() - started
    rss_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "wall": wall,
        "paced": client.rate_limiter.waited,
        "status": refresh.status,
        "asked": refresh.papers_asked,
        "updated": refresh.updated,
        "failed": refresh.failed,
        "http_calls": refresh.http_calls,
        "retries": refresh.retries,
        "rss_before_kib": rss_before,
        "rss_peak_kib": rss_peak,
    }


def _child(*args: str) -> str:
    result = subprocess.run(
        [sys.executable, __file__, *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode:
        sys.exit(f"{' '.join(args)} failed:\n{result.stderr[-4000:]}")
    return result.stdout


def measure(s2, db: str, max_rps: float, var_dir: Path, writer: str = "raw") -> dict:
    s2.reset()
    figures = json.loads(
        _child("--run", db, s2.base_url, str(max_rps), str(var_dir), writer)
    )
    figures["server"] = s2.server_seconds
    figures["server_calls"] = len(s2.calls)
    figures["own"] = figures["wall"] - figures["server"] - figures["paced"]
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller, no paced run")
    parser.add_argument(
        "--database-url",
        help="run on this (emptied!) database instead of throwaway SQLite files, "
        "e.g. postgres://postgres@127.0.0.1:5432/rl_bench",
    )
    parser.add_argument(
        "--seed", nargs=2, metavar=("DB", "PAPERS"), help=argparse.SUPPRESS
    )
    parser.add_argument(
        "--run",
        nargs=5,
        metavar=("DB", "URL", "RPS", "VAR", "WRITER"),
        help=argparse.SUPPRESS,
    )
    args = parser.parse_args(argv)
    if args.seed:
        seed(args.seed[0], int(args.seed[1]))
        return 0
    if args.run:
        db, url, rps, var_dir, writer = args.run
        figures = run(db, url, float(rps), Path(var_dir), writer)
        print(json.dumps(figures))
        return 0

    sys.path.insert(0, str(ROOT))
    from tests.fake_s2 import FakeSemanticScholar

    small, large = (2_000, 20_000) if args.quick else (SMALL, LARGE)
    rows = []
    with (
        tempfile.TemporaryDirectory(prefix="rl-bench-refresh-") as workdir,
        FakeSemanticScholar() as s2,
    ):
        var_dir = Path(workdir)

        def database(size: int) -> str:
            """A database of ``size`` papers (a server database is reseeded)."""
            db = args.database_url or str(var_dir / f"refresh-{size}.sqlite3")
            _child("--seed", db, str(size))
            return db

        db = database(small)
        rows.append(("pacing off", small, None, measure(s2, db, 0, var_dir)))
        if not args.quick:
            s2.bump = 1  # every count changes again: the same work as the first run
            rows.append(("1 request/s", small, 1.0, measure(s2, db, 1, var_dir)))
        s2.bump = 2  # and again, written with bulk_update
        bulk = measure(s2, db, 0, var_dir, "bulk_update")
        rows.append(("pacing off, `bulk_update`", small, None, bulk))
        db = database(large)
        rows.append(("pacing off", large, None, measure(s2, db, 0, var_dir)))

    print("## Citation refresh (tests/bench/bench_refresh.py)")
    print()
    print(
        "`citations_refresh` against the fake Semantic Scholar of tests/fake_s2.py on "
        "127.0.0.1 (threaded `http.server`), "
        f"{'PostgreSQL' if args.database_url else 'SQLite'}, DEBUG off, "
        "each run in a fresh process; every run writes new counts and snapshots for "
        "all papers. "
        "*Job's own* is the run's wall time minus the fake server's handling time and "
        "the pacing sleeps. Peak RSS is `ru_maxrss` of the run's process; *growth* is "
        "the peak minus the RSS after Django started. "
        f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs, "
        f"measured {dt.date.today():%Y-%m-%d}."
    )
    print()
    print(
        "| Pacing | Papers | Batch calls | Total (s) | Server (s) | Pacing sleeps (s) "
        "| Job's own (s) | Peak RSS (MiB) | Growth (MiB) | Status |"
    )
    print("| --- | --: | --: | --: | --: | --: | --: | --: | --: | --- |")
    for pacing, papers, _rps, f in rows:
        print(
            f"| {pacing} | {papers:,} | {f['http_calls']} | {f['wall']:.2f} | "
            f"{f['server']:.2f} | {f['paced']:.2f} | {f['own']:.2f} | "
            f"{f['rss_peak_kib'] / 1024:.1f} | "
            f"{(f['rss_peak_kib'] - f['rss_before_kib']) / 1024:.1f} | {f['status']} |"
        )
    print()
    first = rows[0][3]
    print(
        f"- {small:,} papers, pacing off: {first['http_calls']} batch calls "
        f"(at most {-(-small // 500)}), job's own time {first['own']:.2f} s "
        "(target: well under 10 s)."
    )
    if not args.quick:
        paced = rows[1][3]
        floor = paced["http_calls"] / 1.0
        print(
            f"- {small:,} papers at 1 request/s: {paced['wall']:.2f} s against a floor "
            f"of {floor:.0f} s ({paced['http_calls']} calls at 1/s; strictly "
            f"{paced['http_calls'] - 1} s, the first call does not wait): "
            f"{(paced['wall'] / floor - 1) * 100:+.1f} % (target: within 10 %)."
        )
    print(
        f"- Writing with `bulk_update(batch_size=100)` instead of the raw "
        f"`UPDATE … CASE`: job's own time {bulk['own']:.2f} s against "
        f"{first['own']:.2f} s at {small:,} papers "
        f"({bulk['own'] / first['own']:.1f} times): "
        + (
            "it misses the target (well under 10 s), so the raw SQL stays."
            if bulk["own"] >= 5
            else "it meets the target, so the raw SQL could go."
        )
    )
    big = rows[-1][3]
    print(
        f"- Memory: peak RSS {first['rss_peak_kib'] / 1024:.1f} MiB at {small:,} "
        f"papers, {big['rss_peak_kib'] / 1024:.1f} MiB at {large:,}; the job grows "
        f"the process by {(first['rss_peak_kib'] - first['rss_before_kib']) / 1024:.1f}"
        f" and {(big['rss_peak_kib'] - big['rss_before_kib']) / 1024:.1f} MiB: one "
        "batch of 500 papers at a time, whatever the number of papers."
    )
    print()
    print("Command:")
    print()
    print("```sh")
    print(".venv/bin/python tests/bench/bench_refresh.py")
    print("```")
    return 0


if __name__ == "__main__":
    sys.exit(main())
