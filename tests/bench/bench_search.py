"""Search at 10,000 papers, 1,000 videos and 20,000 chapters (issue 15).

Run from the repository root (``make bench`` does):

    .venv/bin/python tests/bench/bench_search.py [--database-url postgres://...]

Each database is filled with generated papers, videos and chapters whose text mixes
the summaries of the seed list with ML terms in Chinese and English, indexed with
``papers.search.index``; then 20 mixed queries (Chinese, English, typos, arXiv ids)
go through the /search/ view (the page cache emptied before each request), 5 rounds
after a warm-up. It prints a markdown section with the median and p95 server time
per database, the time to index, and PostgreSQL's EXPLAIN of the full-text query.

PostgreSQL: the database named by --database-url (default $SEARCH_BENCH_DATABASE_URL,
else postgres://postgres@127.0.0.1:5432/rl_search) is EMPTIED first; the section says
so when it cannot connect. SQLite: a throwaway file. Chapters are index entries
written directly while the Chapter model (issue 12) is not in the code.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PAPERS, VIDEOS, CHAPTERS = 10_000, 1_000, 20_000
ROUNDS = 5
DEFAULT_PG = "postgres://postgres@127.0.0.1:5432/rl_search"
QUERIES = [
    "注意力",
    "对比学习",
    "位置编码",
    "扩散模型",
    "残差连接",
    "大模型 微调",
    "自监督学习",
    "目标检测",
    "知识蒸馏",
    "生成对抗网络",
    "attention",
    "contrastive learning",
    "diffusion",
    "residual network",
    "Transformer",
    "image recognition",
    "tranformer",  # typo
    "resnte",  # typo
    "1706.03762",  # arXiv id
    "arXiv:2103.00020",
]
TERMS = [
    ("注意力机制", "attention mechanism"),
    ("对比学习", "contrastive learning"),
    ("位置编码", "positional encoding"),
    ("扩散模型", "diffusion model"),
    ("残差连接", "residual connection"),
    ("预训练", "pre-training"),
    ("微调", "fine-tuning"),
    ("大模型", "large language model"),
    ("自监督学习", "self-supervised learning"),
    ("目标检测", "object detection"),
    ("语义分割", "semantic segmentation"),
    ("知识蒸馏", "knowledge distillation"),
    ("生成对抗网络", "generative adversarial network"),
    ("图神经网络", "graph neural network"),
    ("强化学习", "reinforcement learning"),
    ("多模态", "multimodal"),
]
NAMES = ["Transformer", "ResNet", "BERT", "CLIP", "MoCo", "SimCLR", "ViT", "GPT", "GAN"]


def _setup_django(db: str) -> None:
    os.environ["DATABASE_URL"] = db if "://" in db else f"sqlite:///{db}"
    os.environ["DJANGO_SETTINGS_MODULE"] = "readinglist.settings"
    os.environ["DJANGO_DEBUG"] = "0"
    os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only-secret-key-0123456789abcdef")
    os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "testserver,127.0.0.1,localhost")
    sys.path.insert(0, str(ROOT))
    import logging

    import django

    django.setup()
    logging.disable(logging.WARNING)


def _summaries() -> list[str]:
    seed = (ROOT / "papers" / "data" / "seed-list.md").read_text(encoding="utf-8")
    rows = []
    for line in seed.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 3 and cells[1].startswith("["):
            rows.append(cells[2])
    return [r for r in rows if r] or ["继MLP、CNN、RNN后的第四大类架构"]


def seed(db: str) -> dict:
    """Fill the database; returns how long indexing took."""
    _setup_django(db)
    import datetime as dt

    from django.apps import apps
    from django.core.management import call_command

    from papers.models import Paper, SearchAlias, SearchEntry, VideoNote
    from papers.search import index
    from papers.search.aliases import load_starter_aliases
    from papers.search.segment import segmented

    call_command("migrate", verbosity=0, interactive=False)
    for model in (SearchEntry, SearchAlias, VideoNote, Paper):
        model.objects.all().delete()
    if apps.is_installed("papers"):
        from django.db import connection

        if connection.vendor == "sqlite":
            with connection.cursor() as cursor:
                cursor.execute("DELETE FROM papers_search_fts")
    load_starter_aliases()
    rng = random.Random(15)
    summaries = _summaries()

    def text(n_terms: int) -> tuple[str, str]:
        picked = rng.sample(TERMS, n_terms)
        zh = "，".join(f"用{a}" for a, _ in picked)
        en = " and ".join(b for _, b in picked)
        return zh, en

    papers = []
    for n in range(PAPERS):
        zh, en = text(2)
        name = f"{rng.choice(NAMES)}-{n}" if n >= len(NAMES) else NAMES[n]
        papers.append(
            Paper(
                name=name,
                slug=f"bench-{n}",
                title=f"{en.title()} for Vision and Language {n}",
                summary=f"{rng.choice(summaries)}；{zh}",
                abstract=f"We study {en}. " * 4,
                tldr=f"A study of {en}.",
                authors=[{"name": f"Author {n % 997}"}, {"name": "Ashish Vaswani"}],
                arxiv_id=f"{17 + n // 1000 % 8:02d}{n % 12 + 1:02d}.{n:05d}",
                citation_count=rng.randint(0, 50_000),
            )
        )
    papers[0].arxiv_id = "1706.03762"
    papers[3].arxiv_id = "2103.00020"
    Paper.objects.bulk_create(papers, batch_size=2000)
    videos = []
    for n in range(VIDEOS):
        zh, en = text(3)
        videos.append(
            VideoNote(
                title=f"{rng.choice(NAMES)} 论文逐段精读 {n}",
                published_on=dt.date(2021, 1, 1) + dt.timedelta(days=n % 1500),
                duration=dt.timedelta(minutes=60),
                notes=f"这一期讲{zh}。We cover {en}.",
            )
        )
    VideoNote.objects.bulk_create(videos, batch_size=2000)
    started = time.perf_counter()
    total = index.rebuild()
    rebuild = time.perf_counter() - started
    # Chapters: real ones once the model exists, else entries written directly.
    started = time.perf_counter()
    video_ids = list(VideoNote.objects.values_list("pk", flat=True))
    entries = []
    for n in range(CHAPTERS):
        zh, en = text(1)
        title = f"{zh[1:]} {n}"
        entries.append(
            SearchEntry(
                kind=SearchEntry.Kind.CHAPTER,
                object_id=n + 1,
                title=title,
                subtitle="",
                body=en,
                url=f"/videos/{video_ids[n % len(video_ids)]}/?t={n % 3600}",
                name_key=title.lower(),
                title_words=segmented(title),
                body_words=segmented(en),
                start=n % 3600,
            )
        )
    index._write(entries)
    chapters = time.perf_counter() - started
    return {
        "entries": total + len(entries),
        "rebuild_s": rebuild,
        "rebuild_n": total,
        "chapters_s": chapters,
    }


def run(db: str) -> dict:
    _setup_django(db)
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from papers import cache as page_cache

    # Production settings minus the manifest storage that needs collectstatic (as
    # bench_pages.py does): the page work is the same.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {
            "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        },
    }
    client = Client()
    samples: dict[str, list[float]] = {q: [] for q in QUERIES}
    counts = {}
    for round_ in range(ROUNDS + 1):
        for q in QUERIES:
            page_cache.local_search_pages.clear()
            started = time.perf_counter()
            response = client.get("/search/", {"q": q}, secure=True)
            elapsed = (time.perf_counter() - started) * 1000
            assert response.status_code == 200, (q, response.status_code)
            if round_:  # the first round warms the process (jieba, templates)
                samples[q].append(elapsed)
            else:
                html = response.content.decode()
                counts[q] = len(re.findall(r'<td class="col-name">', html))
    flat = sorted(t for times in samples.values() for t in times)
    explain = ""
    if connection.vendor == "postgresql":
        page_cache.local_search_pages.clear()
        with CaptureQueriesContext(connection) as captured:
            client.get("/search/", {"q": "位置编码"}, secure=True)
        sql = next(
            q["sql"] for q in captured.captured_queries if "ROW_NUMBER" in q["sql"]
        )
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) " + sql)
            explain = "\n".join(row[0] for row in cursor.fetchall())
    return {
        "median": statistics.median(flat),
        "p95": flat[min(len(flat) - 1, int(round(0.95 * len(flat))) - 1)],
        "max": flat[-1],
        "per_query": {q: statistics.median(t) for q, t in samples.items()},
        "papers_found": counts,
        "explain": explain,
        "vendor": connection.vendor,
    }


def _child(*args: str) -> dict:
    result = subprocess.run(
        [sys.executable, __file__, *args], cwd=ROOT, capture_output=True, text=True
    )
    if result.returncode:
        raise RuntimeError(result.stderr[-3000:])
    return json.loads(result.stdout.strip().splitlines()[-1])


def _postgres_reachable(url: str) -> bool:
    try:
        import psycopg

        psycopg.connect(
            url.replace("postgres://", "postgresql://"), connect_timeout=3
        ).close()
        return True
    except Exception:
        return False


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--database-url",
        default=os.environ.get("SEARCH_BENCH_DATABASE_URL", DEFAULT_PG),
        help="PostgreSQL database to EMPTY and fill (default %(default)s)",
    )
    parser.add_argument("--seed", metavar="DB", help=argparse.SUPPRESS)
    parser.add_argument("--run", metavar="DB", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.seed:
        print(json.dumps(seed(args.seed)))
        return 0
    if args.run:
        print(json.dumps(run(args.run)))
        return 0

    figures = {}
    with tempfile.TemporaryDirectory() as tmp:
        databases = [("SQLite (FTS5)", str(Path(tmp) / "bench-search.sqlite3"))]
        if _postgres_reachable(args.database_url):
            databases.insert(0, ("PostgreSQL (tsvector + GIN)", args.database_url))
        for label, db in databases:
            built = _child("--seed", db)
            figures[label] = {**built, **_child("--run", db)}

    print("## Search (issue 15)")
    print()
    print(
        f"`.venv/bin/python tests/bench/bench_search.py`: {PAPERS:,} papers, "
        f"{VIDEOS:,} videos and {CHAPTERS:,} chapters of generated Chinese and "
        f"English text; {len(QUERIES)} queries (Chinese, English, two typos, two "
        f"arXiv ids) through the /search/ view, page cache emptied before each "
        f"request, {ROUNDS} rounds after a warm-up. Goal: median ≤ 30 ms, p95 ≤ 80 ms."
    )
    print()
    print(
        "| database | median | p95 | slowest | index papers + videos | index chapters |"
    )
    print("| --- | --- | --- | --- | --- | --- |")
    for label, f in figures.items():
        print(
            f"| {label} | {f['median']:.1f} ms | {f['p95']:.1f} ms | {f['max']:.1f} ms "
            f"| {f['rebuild_n']:,} in {f['rebuild_s']:.1f} s "
            f"| {CHAPTERS:,} in {f['chapters_s']:.1f} s |"
        )
    if not any(f["vendor"] == "postgresql" for f in figures.values()):
        print()
        print(f"PostgreSQL not reachable at {args.database_url}: its row is missing.")
    print()
    print("Median per query (ms):")
    print()
    labels = list(figures)
    print("| query | " + " | ".join(labels) + " | papers found |")
    print("| --- | " + " | ".join("---" for _ in labels) + " | --- |")
    for q in QUERIES:
        cells = " | ".join(f"{figures[lab]['per_query'][q]:.1f}" for lab in labels)
        found = figures[labels[0]]["papers_found"][q]
        print(f"| `{q}` | {cells} | {found} |")
    for f in figures.values():
        if f["explain"]:
            print()
            print(
                "PostgreSQL's plan of the full-text query for 位置编码 (the GIN index):"
            )
            print()
            print("```")
            print(f["explain"])
            print("```")
    return 0


if __name__ == "__main__":
    sys.exit(main())
