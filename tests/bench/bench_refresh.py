"""Calls, time and memory of the nightly citation refresh at 10,000 and 100,000 papers,
with the paper details (issue 13) in every answer and reference lists to fetch.

Run from the repository root (``make bench`` does):

    .venv/bin/python tests/bench/bench_refresh.py

It starts the fake Semantic Scholar of tests/fake_s2.py on 127.0.0.1, builds throwaway
SQLite databases in a temporary directory and runs ``citations_refresh`` against them,
each run in a fresh process so its peak RSS is its own:

1. 10,000 papers, pacing off, the first night: every answer carries authors, venue,
   abstract, TLDR... (all written), and reference lists are fetched up to the run's
   budget (SEMANTIC_SCHOLAR_REFERENCE_CALLS_PER_RUN, 1,000); batch and reference
   calls, and the job's own time (wall time minus the fake server's and the pacing);
2. the same papers with the budget raised, to fetch every remaining reference list;
3. the same 10,000 papers (all counts changed, details and reference counts not) at
   the default 1 request/second, a steady night: the total time against the floor
   the rate sets (one second per call);
4. 100,000 papers, pacing off, first night: the same figures, to show that memory
   does not grow with the number of papers.

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


IN_LIST_REFS, OUTSIDE_REFS = 8, 30


def bench_references(paper_id: str) -> list[str] | None:
    """Made-up reference lists: a paper with S2 id n cites the 8 papers before it
    (all in the list) and 30 papers outside it."""
    n = int(paper_id, 16) if paper_id.startswith("0000000000") else 0
    if not n:
        return None
    inside = [f"{m:040x}" for m in range(max(1, n - IN_LIST_REFS), n)]
    outside = [f"{(1 << 150) + n * 100 + k:040x}" for k in range(OUTSIDE_REFS)]
    return inside + outside


def run(db: str, base_url: str, max_rps: float, var_dir: Path, writer: str) -> dict:
    """One refresh in this (fresh) process; its figures as a dict."""
    _setup_django(db)
    from django.conf import settings

    from papers.models import PaperLink, ReferenceList
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
        "reference_lists": ReferenceList.objects.count(),
        "links": PaperLink.objects.count(),
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
    s2.reference_calls.clear()
    figures = json.loads(
        _child("--run", db, s2.base_url, str(max_rps), str(var_dir), writer)
    )
    figures["server"] = s2.server_seconds
    figures["server_calls"] = len(s2.calls)
    figures["batch_calls"] = len(s2.calls)
    figures["reference_calls"] = len(s2.reference_calls)
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
        FakeSemanticScholar(details=True, reference_maker=bench_references) as s2,
    ):
        var_dir = Path(workdir)

        def database(size: int) -> str:
            """A database of ``size`` papers (a server database is reseeded)."""
            db = args.database_url or str(var_dir / f"refresh-{size}.sqlite3")
            _child("--seed", db, str(size))
            return db

        db = database(small)
        first_night = measure(s2, db, 0, var_dir)
        rows.append(("pacing off, first night", small, None, first_night))
        os.environ["SEMANTIC_SCHOLAR_REFERENCE_CALLS_PER_RUN"] = str(10 * large)
        s2.bump = 1
        catch_up = measure(s2, db, 0, var_dir)
        rows.append(("pacing off, every reference list", small, None, catch_up))
        del os.environ["SEMANTIC_SCHOLAR_REFERENCE_CALLS_PER_RUN"]
        if not args.quick:
            s2.bump = 2  # every count changes again; details and references do not
            paced_night = measure(s2, db, 1, var_dir)
            rows.append(("1 request/s, a later night", small, 1.0, paced_night))
        s2.bump = 3  # and again, written with bulk_update
        bulk = measure(s2, db, 0, var_dir, "bulk_update")
        rows.append(("pacing off, `bulk_update`", small, None, bulk))
        db = database(large)
        big_night = measure(s2, db, 0, var_dir)
        rows.append(("pacing off, first night", large, None, big_night))

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
        "| Run | Papers | Batch calls | Reference calls | Total (s) | Server (s) "
        "| Pacing sleeps (s) | Job's own (s) | Peak RSS (MiB) | Growth (MiB) "
        "| Reference lists / in-list links | Status |"
    )
    print("| --- | --: | --: | --: | --: | --: | --: | --: | --: | --: | --: | --- |")
    for pacing, papers, _rps, f in rows:
        print(
            f"| {pacing} | {papers:,} | {f['batch_calls']} | {f['reference_calls']} | "
            f"{f['wall']:.2f} | "
            f"{f['server']:.2f} | {f['paced']:.2f} | {f['own']:.2f} | "
            f"{f['rss_peak_kib'] / 1024:.1f} | "
            f"{(f['rss_peak_kib'] - f['rss_before_kib']) / 1024:.1f} | "
            f"{f['reference_lists']:,} / {f['links']:,} | {f['status']} |"
        )
    print()
    first = rows[0][3]
    print(
        f"- {small:,} papers, pacing off, first night: {first['batch_calls']} batch "
        f"calls (at most {-(-small // 500)}) with every detail field, plus "
        f"{first['reference_calls']} reference calls (the run's budget); job's own "
        f"time {first['own']:.2f} s, most of it writing {small:,} papers' details "
        "once (target: well under 10 s for the counts)."
    )
    print(
        f"- Every reference list at once: {catch_up['reference_calls']} calls; at "
        f"1 request/s that is {catch_up['reference_calls'] / 60:.0f} minutes, which "
        "is why a night spends at most 1,000 (about 17 minutes) and the first fill "
        f"of {small:,} papers takes {-(-catch_up['reference_calls'] // 1000) + 1} "
        "nights. After that a paper's list is fetched again only when its "
        "referenceCount moves."
    )
    if not args.quick:
        paced = rows[2][3]
        floor = paced["http_calls"] / 1.0
        print(
            f"- {small:,} papers at 1 request/s: {paced['wall']:.2f} s against a floor "
            f"of {floor:.0f} s ({paced['http_calls']} calls at 1/s; strictly "
            f"{paced['http_calls'] - 1} s, the first call does not wait): "
            f"{(paced['wall'] / floor - 1) * 100:+.1f} % (target: within 10 %); "
            f"{paced['reference_calls']} reference calls on a night when no "
            "referenceCount moved."
        )
    # The same work with the raw UPDATE: a night whose counts all change and whose
    # details and reference counts do not (the paced night; else the catch-up).
    base = rows[2][3] if not args.quick else catch_up
    print(
        f"- Writing with `bulk_update(batch_size=100)` instead of the raw "
        f"`UPDATE … CASE`: job's own time {bulk['own']:.2f} s against "
        f"{base['own']:.2f} s at {small:,} papers "
        f"({bulk['own'] / base['own']:.1f} times): "
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
        f" and {(big['rss_peak_kib'] - big['rss_before_kib']) / 1024:.1f} MiB. The "
        "batches hold 500 papers and the reference budget bounds the papers kept "
        "for the reference pass; what still grows with the list is the in-list "
        "links rebuild, which holds every paper's S2 id and the wanted links."
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
