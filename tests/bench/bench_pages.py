"""Server time and response size of the public pages at 90 and at 2,000 papers.

Run from the repository root (``make bench`` does):

    DJANGO_DEBUG=0 DJANGO_SECRET_KEY=bench .venv/bin/python tests/bench/bench_pages.py

It builds a throwaway SQLite database in a temporary directory, imports the real list
(90 papers), measures, grows the list to 2,000 papers and measures again, then prints
a markdown section for docs/benchmarks.md. ``--requests N`` sets the number of timed
requests per page (default 30). Nothing here talks to the network.

``grow_catalogue`` is also what tests/test_views.py uses to pin query counts at 2,000
papers, so this module imports Django models lazily and has no pytest dependency.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LARGE = 2000


def grow_catalogue(total_papers: int = LARGE, *, snapshots_per_paper: int = 3) -> None:
    """Add generated papers until the list holds ``total_papers``.

    The new papers are spread over the existing categories (plus one new category
    when there are none), one in ten also in a second category, with a few citation
    snapshots each and one video per fifty papers. Everything goes in with
    bulk_create, so 2,000 papers take about a second.
    """
    from django.utils import timezone

    from papers.cache import bump_content_version
    from papers.models import Category, CitationSnapshot, Paper, Placement, VideoNote
    from tests.factories import CategoryFactory, PaperFactory, VideoNoteFactory

    missing = total_papers - Paper.objects.count()
    if missing <= 0:
        return
    categories = list(Category.objects.order_by("position", "id"))
    if not categories:
        categories = Category.objects.bulk_create(
            [CategoryFactory.build() for _ in range(12)]
        )
    start = Paper.objects.count()
    now = timezone.now()
    papers = []
    for i in range(missing):
        n = start + i
        paper = PaperFactory.build(
            name=f"Generated paper {n}",
            slug=f"generated-paper-{n}",
            # arXiv ids the real list cannot hold yet (January 2099).
            arxiv_id=f"9901.{n:05d}",
            url=f"https://arxiv.org/abs/9901.{n:05d}",
            s2_paper_id=f"{n + 1:040x}",
            year=2000 + n % 25 if n % 17 else None,
            is_recorded=n % 7 == 0,
            citation_count=(n * 37) % 50000 if n % 11 else None,
            citations_updated_at=now - dt.timedelta(days=n % 30) if n % 11 else None,
        )
        papers.append(paper)
    papers = Paper.objects.bulk_create(papers)

    next_position = {c.pk: 0 for c in categories}
    for placement in Placement.objects.values("category_id", "position"):
        next_position[placement["category_id"]] = max(
            next_position[placement["category_id"]], placement["position"] + 1
        )
    placements = []
    for i, paper in enumerate(papers):
        homes = [categories[i % len(categories)]]
        if i % 10 == 0 and len(categories) > 1:
            homes.append(categories[(i + 1) % len(categories)])
        for category in homes:
            placements.append(
                Placement(
                    paper=paper, category=category, position=next_position[category.pk]
                )
            )
            next_position[category.pk] += 1
    Placement.objects.bulk_create(placements)

    CitationSnapshot.objects.bulk_create(
        CitationSnapshot(
            paper=paper,
            count=(paper.citation_count or 0) + 10 * k,
            fetched_at=now - dt.timedelta(days=7 * (snapshots_per_paper - k)),
        )
        for paper in papers
        for k in range(snapshots_per_paper)
    )

    videos = VideoNote.objects.bulk_create(
        [VideoNoteFactory.build() for _ in range(max(1, missing // 50))]
    )
    Through = VideoNote.papers.through
    Through.objects.bulk_create(
        Through(videonote_id=video.pk, paper_id=papers[(j * 50) % len(papers)].pk)
        for j, video in enumerate(videos)
    )
    # bulk_create sends no signals: invalidate the cached pages as bulk writes must.
    bump_content_version()


def _pages() -> dict[str, str]:
    from papers.models import Category, Paper

    category = Category.objects.order_by("position", "id").first()
    # A paper with videos and snapshots: the heaviest paper page.
    paper = (
        Paper.objects.filter(videos__isnull=False).order_by("id").first()
        or Paper.objects.order_by("id").first()
    )
    return {
        "/": "/",
        "category": category.get_absolute_url(),
        "paper": paper.get_absolute_url(),
        "search": "/search/?q=transformer",
    }


def _measure(client, url: str, requests: int) -> tuple[float, int]:
    response = client.get(url, secure=True)  # warm the template and query caches
    assert response.status_code == 200, (url, response.status_code)
    timings = []
    for _ in range(requests):
        started = time.perf_counter()
        response = client.get(url, secure=True)
        timings.append(time.perf_counter() - started)
        assert response.status_code == 200, (url, response.status_code)
    return statistics.median(timings) * 1000, len(response.content)


def _measure_cached(client, settings, requests: int):
    """`/` with the page cache on: hit times, and the bytes sent per encoding."""
    from papers import cache as page_cache

    settings.PAGE_CACHE_SECONDS = 600
    try:
        headers = {"Accept-Encoding": "gzip, br"}
        client.get("/", secure=True)  # rendered, compressed and stored
        timings = {"local": [], "file": []}
        for _ in range(requests):
            for where in ("local", "file"):
                if where == "file":
                    page_cache.local_pages.clear()
                started = time.perf_counter()
                response = client.get("/", secure=True, headers=headers)
                timings[where].append(time.perf_counter() - started)
                assert response["Content-Encoding"] == "br", response.headers
        sizes = {}
        for encoding in ("identity", "gzip", "br"):
            accept = {} if encoding == "identity" else {"Accept-Encoding": encoding}
            response = client.get("/", secure=True, headers=accept)
            assert response.get("Content-Encoding", "identity") == encoding
            sizes[encoding] = len(response.content)
    finally:
        settings.PAGE_CACHE_SECONDS = 0
    return (
        statistics.median(timings["local"]) * 1000,
        statistics.median(timings["file"]) * 1000,
        sizes,
    )


def _count_queries(connection, client, url: str) -> int:
    """SQL statements one request runs, counted at the cursor (the debug query log
    is a bounded deque and may already be full here)."""
    count = 0

    def counter(execute, sql, params, many, context):
        nonlocal count
        count += 1
        return execute(sql, params, many, context)

    with connection.execute_wrapper(counter):
        client.get(url, secure=True)
    return count


def _seed_snapshots() -> None:
    """Give the imported papers a short citation history, as the nightly job would."""
    from django.utils import timezone

    from papers.models import CitationSnapshot, Paper

    now = timezone.now()
    papers = list(Paper.objects.all())
    for i, paper in enumerate(papers):
        paper.citation_count = 1000 + 37 * i
        paper.citations_updated_at = now - dt.timedelta(days=i % 5)
    Paper.objects.bulk_update(papers, ["citation_count", "citations_updated_at"])
    CitationSnapshot.objects.bulk_create(
        CitationSnapshot(
            paper=paper,
            count=paper.citation_count - 30 * (3 - k),
            fetched_at=now - dt.timedelta(days=7 * (3 - k)),
        )
        for paper in papers
        for k in range(3)
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=30)
    args = parser.parse_args(argv)

    workdir = tempfile.mkdtemp(prefix="rl-bench-")
    os.environ["DATABASE_URL"] = f"sqlite:///{Path(workdir) / 'bench.sqlite3'}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "readinglist.settings")
    os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "testserver")
    # Measure rendering: with the page cache on, every request after the first is a
    # cache hit (tests/bench/bench_load.py measures that path under gunicorn).
    os.environ["DJANGO_PAGE_CACHE_SECONDS"] = "0"
    # The cache of the cached-page section: the default (file-based, shared by every
    # process), in a folder of the run's own.
    cache_dir = tempfile.mkdtemp(prefix="rl-bench-cache-")
    os.environ["CACHE_URL"] = f"filecache://{cache_dir}?max_entries=2000"
    # Measure with the production settings, minus the manifest storage that needs
    # collectstatic: the page work is the same.
    sys.path.insert(0, str(ROOT))

    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    settings.STORAGES["staticfiles"] = {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
    }
    import logging

    logging.disable(logging.WARNING)

    from papers.models import Paper
    from papers.services import readme_import
    from tests.helpers import FULL_README

    call_command("migrate", verbosity=0, interactive=False)
    readme_import(text=FULL_README.read_text(encoding="utf-8"))
    _seed_snapshots()

    client = Client()
    rows, cached = [], []
    for _ in ("fixture", "large"):
        count = Paper.objects.count()
        for name, url in _pages().items():
            queries = _count_queries(connection, client, url)
            median_ms, size = _measure(client, url, args.requests)
            rows.append((name, url, count, median_ms, size, queries))
        cached.append((count, *_measure_cached(client, settings, args.requests)))
        grow_catalogue(LARGE)

    from django import get_version

    print("## Public pages (tests/bench/bench_pages.py)")
    print()
    print(
        "Page cache off (this measures rendering; the cached path is in the load "
        "test below). "
        f"Median server time over {args.requests} requests through "
        "`django.test.Client` (no network, no gzip), SQLite, DEBUG off, "
        f"Django {get_version()}, Python {sys.version.split()[0]}, "
        f"measured {dt.date.today():%Y-%m-%d} on {os.cpu_count()} CPUs "
        f"(load average {os.getloadavg()[0]:.1f} at the end: other work on the "
        "machine slows every figure)."
    )
    print()
    print("| Page | URL | Papers | Median (ms) | Response (KiB) | SQL queries |")
    print("| --- | --- | --: | --: | --: | --: |")
    for name, url, count, median_ms, size, queries in rows:
        print(
            f"| {name} | `{url}` | {count:,} | {median_ms:.1f} | "
            f"{size / 1024:.1f} | {queries} |"
        )
    print()
    print("### `/` from the page cache, and bytes on the wire")
    print()
    print(
        "Page cache on, with the default cache (file-based under `var/`, shared by "
        "every process; no `CACHE_URL`). *Hit* is the median over "
        f"{args.requests} requests through `django.test.Client` sending "
        "`Accept-Encoding: gzip, br` (the whole middleware stack, no network); "
        "*from the file* clears the process's own copy before each request, as a "
        "process that has not served the page yet. Bytes: the body sent for each "
        "`Accept-Encoding` (none, `gzip`, `br`), compressed once when stored (goal: "
        "at most 12 KiB with gzip at 90 papers)."
    )
    print()
    print(
        "| Papers | Hit (ms) | Hit from the file (ms) | identity (bytes) "
        "| gzip (bytes) | br (bytes) |"
    )
    print("| --: | --: | --: | --: | --: | --: |")
    for count, hit_ms, file_ms, sizes in cached:
        print(
            f"| {count:,} | {hit_ms:.2f} | {file_ms:.2f} | {sizes['identity']:,} "
            f"| {sizes['gzip']:,} ({sizes['gzip'] / 1024:.1f} KiB) "
            f"| {sizes['br']:,} ({sizes['br'] / 1024:.1f} KiB) |"
        )
    print()
    print("Command:")
    print()
    print("```sh")
    print(
        "DJANGO_DEBUG=0 DJANGO_SECRET_KEY=bench "
        ".venv/bin/python tests/bench/bench_pages.py"
    )
    print("```")
    return 0


if __name__ == "__main__":
    sys.exit(main())
