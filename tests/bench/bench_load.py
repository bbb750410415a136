"""Throughput and latency of the home page under gunicorn, against a static file.

Run from the repository root (``make bench`` does):

    .venv/bin/python tests/bench/bench_load.py

It builds a throwaway SQLite database in a temporary directory (or uses ``DATABASE_URL``
when given: it is migrated and the list imported into it), imports the full fixture list
with ``manage.py import_readme``, runs ``collectstatic``, and starts gunicorn with 2
workers on 127.0.0.1 with DEBUG off. It copies the body of ``/`` into a file under the
static root, served by whitenoise from the same gunicorn, so both answers have the same
size, then runs wrk at 50 connections:

1. for each cache, ``/`` and the static copy for 20 seconds each, in 4 alternating
   rounds: requests per second, latency percentiles and their ratio (the goal: ``/``
   at 0.65 or more), both sent gzip-compressed. The caches: the default file cache,
   then, when a Redis answers at 127.0.0.1:6379, Redis as in production (database 3,
   or ``BENCH_REDIS_URL``, with a key prefix of its own); ``--cache-url`` measures
   just one;
2. a 60-second load test of ``/`` with the last cache: p50/p90/p99 and errors (must
   be 0).

If the home view is not yet wrapped in ``papers.cache.cache_public_page``, a URLconf
generated in the temporary directory wraps it for the run (``--as-is`` measures the
view as it is); the report says which. It prints a markdown section for
docs/benchmarks.md; progress goes to stderr. It exits 1 when the load test saw errors.
Needs ``wrk`` (``apt-get install -y wrk``). Nothing here talks to anything but
127.0.0.1.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
import os
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FULL_README = ROOT.parent / "shared" / "fixtures" / "paper-reading-README.md"
VENV_BIN = Path(sys.executable).parent
HOST = "127.0.0.1"
STATIC_COPY = "bench/home-copy.html"
ACCEPT_ENCODING = "gzip"
# The Redis database the bench may use (keys under a prefix of its own, removed after).
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/3")


def log(message: str) -> None:
    print(f"[bench_load] {message}", file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def port_open(port: int) -> bool:
    try:
        with socket.create_connection((HOST, port), timeout=0.5):
            return True
    except OSError:
        return False


def _python(*args: str, env: dict, timeout: float) -> subprocess.CompletedProcess:
    """This Python, run from the repository root; its output captured as text."""
    return subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def manage(*args: str, env: dict) -> None:
    result = _python("manage.py", *args, env=env, timeout=600)
    if result.returncode != 0:
        sys.exit(f"manage.py {' '.join(args)} failed:\n{result.stdout}{result.stderr}")


def fetch(url: str, **headers) -> tuple[int, bytes, dict]:
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read(), dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, error.read(), dict(error.headers)


class Gunicorn:
    def __init__(self, *, port: int, workers: int, env: dict, log_path: Path):
        self.port, self.workers, self.env, self.log_path = port, workers, env, log_path
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        log(f"starting gunicorn, {self.workers} workers, {HOST}:{self.port}")
        with open(self.log_path, "ab") as out:
            self.process = subprocess.Popen(
                [
                    str(VENV_BIN / "gunicorn"),
                    "readinglist.wsgi",
                    "--workers",
                    str(self.workers),
                    "--bind",
                    f"{HOST}:{self.port}",
                    "--log-level",
                    "warning",
                ],
                cwd=ROOT,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        for _ in range(120):  # at most 30 seconds
            if self.process.poll() is not None:
                sys.exit(f"gunicorn exited, see {self.log_path}")
            if port_open(self.port):
                return
            time.sleep(0.25)
        sys.exit(f"gunicorn did not listen on {self.port}, see {self.log_path}")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=5)
        self.process = None


@dataclass
class WrkResult:
    requests_per_second: float
    requests: int
    seconds: float
    latency_ms: dict[str, float]  # "50%", "75%", "90%", "99%"
    non_2xx: int
    socket_errors: dict[str, int]
    output: str

    @property
    def errors(self) -> int:
        return self.non_2xx + sum(self.socket_errors.values())


def _ms(value: str, unit: str) -> float:
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def run_wrk(url: str, *, seconds: int, connections: int, threads: int) -> WrkResult:
    command = [
        "wrk",
        # As browsers do: both / and the static file answer with a gzip body.
        "-H",
        f"Accept-Encoding: {ACCEPT_ENCODING}",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{seconds}s",
        "--timeout",
        "10s",
        "--latency",
        url,
    ]
    log(" ".join(command))
    result = subprocess.run(
        command, capture_output=True, text=True, timeout=seconds + 60, check=True
    )
    out = result.stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    done = re.search(r"(\d+) requests in ([\d.]+)(us|ms|s|m)", out)
    total = int(done.group(1))
    elapsed = _ms(done.group(2), done.group(3)) / 1000
    latency = {
        pct: _ms(value, unit)
        for pct, value, unit in re.findall(
            r"^\s+(50%|75%|90%|99%)\s+([\d.]+)(us|ms|s|m)\s*$", out, re.MULTILINE
        )
    }
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    sockets = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out
    )
    socket_errors = dict(
        zip(
            ("connect", "read", "write", "timeout"),
            map(int, sockets.groups()) if sockets else (0, 0, 0, 0),
            strict=True,
        )
    )
    return WrkResult(
        requests_per_second=rps,
        requests=total,
        seconds=elapsed,
        latency_ms=latency,
        non_2xx=int(non_2xx.group(1)) if non_2xx else 0,
        socket_errors=socket_errors,
        output=out,
    )


def combine(rounds: list[WrkResult]) -> WrkResult:
    """Rounds of one target as one result: requests over the total time, the median
    round's percentiles, every error."""
    seconds = sum(r.seconds for r in rounds)
    requests = sum(r.requests for r in rounds)
    return WrkResult(
        requests_per_second=requests / seconds,
        requests=requests,
        seconds=seconds,
        latency_ms={
            pct: statistics.median(r.latency_ms.get(pct, 0) for r in rounds)
            for pct in ("50%", "75%", "90%", "99%")
        },
        non_2xx=sum(r.non_2xx for r in rounds),
        socket_errors={
            name: sum(r.socket_errors[name] for r in rounds)
            for name in ("connect", "read", "write", "timeout")
        },
        output="\n".join(r.output for r in rounds),
    )


def bench_env(workdir: Path, *, database_url: str, cache_url: str) -> dict:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "CELERY_", "CACHE_URL", "DATABASE_URL"))
    }
    env.update(
        DJANGO_SETTINGS_MODULE="readinglist.settings",
        DJANGO_DEBUG="0",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        DJANGO_ALLOWED_HOSTS=f"{HOST},localhost",
        # Plain http on loopback: the https redirect would answer every request 301.
        DJANGO_SECURE_SSL_REDIRECT="0",
        DJANGO_LOG_LEVEL="WARNING",
        DATABASE_URL=database_url,
        CACHE_URL=cache_url,
        CELERY_BROKER_URL="memory://",
        DJANGO_STATIC_ROOT=str(workdir / "static"),
        DJANGO_MEDIA_ROOT=str(workdir / "media"),
    )
    return env


BENCH_SETTINGS = """\
from readinglist.settings import *  # noqa: F403

ROOT_URLCONF = "bench_urls"
"""

BENCH_URLS = """\
from django.urls import path

from papers.cache import cache_public_page
from papers.views import public
from readinglist.urls import urlpatterns as site_urlpatterns

APPLIED_BY_BENCH = not getattr(public.home, "is_public_page_cached", False)
home = cache_public_page(public.home) if APPLIED_BY_BENCH else public.home
urlpatterns = [path("", home), *site_urlpatterns]
"""


def use_bench_urlconf(workdir: Path, env: dict) -> bool:
    """Serve / through cache_public_page; True if the bench had to add it."""
    (workdir / "bench_settings.py").write_text(BENCH_SETTINGS)
    (workdir / "bench_urls.py").write_text(BENCH_URLS)
    env["PYTHONPATH"] = os.pathsep.join([str(workdir), str(ROOT)])
    env["DJANGO_SETTINGS_MODULE"] = "bench_settings"
    result = _python(
        "-c",
        "import django; django.setup(); import bench_urls; "
        "print(bench_urls.APPLIED_BY_BENCH)",
        env=env,
        timeout=120,
    )
    if result.returncode != 0:
        sys.exit(f"cannot load the bench URLconf:\n{result.stderr}")
    return result.stdout.strip().endswith("True")


def _row(cache: str, target: str, result: WrkResult, ratio: str) -> str:
    p = result.latency_ms
    return (
        f"| {cache} | {target} | {result.requests_per_second:,.0f} "
        f"| {p.get('50%', 0):.1f} | {p.get('90%', 0):.1f} | {p.get('99%', 0):.1f} "
        f"| {result.errors} | {ratio} |"
    )


@dataclass
class Comparison:
    cache: str
    page: WrkResult
    static: WrkResult
    round_ratios: list[float]
    wire: dict[str, int]

    @property
    def ratio(self) -> float:
        return self.page.requests_per_second / self.static.requests_per_second


def compare(base: str, static_path: str, *, rounds: int, seconds: int, wrk: dict):
    """Alternating rounds, so a change in the machine's other load falls on both."""
    page_rounds, static_rounds = [], []
    for _ in range(rounds):
        page_rounds.append(run_wrk(f"{base}/", seconds=seconds, **wrk))
        static_rounds.append(run_wrk(f"{base}{static_path}", seconds=seconds, **wrk))
    ratios = [
        p.requests_per_second / s.requests_per_second
        for p, s in zip(page_rounds, static_rounds, strict=True)
    ]
    return combine(page_rounds), combine(static_rounds), ratios


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--compare-seconds", type=int, default=20)
    parser.add_argument(
        "--rounds",
        type=int,
        default=4,
        help="alternate / and the static file this many times (default 4)",
    )
    parser.add_argument("--load-seconds", type=int, default=60)
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--cache-url",
        help="measure only this cache (default: local memory, then Redis at "
        f"{REDIS_URL} when one answers there; the load test uses the last)",
    )
    parser.add_argument("--readme", type=Path, default=FULL_README)
    parser.add_argument(
        "--as-is",
        action="store_true",
        help="do not wrap the home view in cache_public_page for the run",
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary dir")
    args = parser.parse_args(argv)

    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed: apt-get install -y wrk")
    if not args.readme.exists():
        sys.exit(f"no fixture at {args.readme}")

    workdir = Path(tempfile.mkdtemp(prefix="rl-bench-load-"))
    redis_prefix = None
    database_url = os.environ.get("DATABASE_URL") or (
        f"sqlite:///{workdir / 'bench.sqlite3'}"
    )
    if args.cache_url:
        caches = [(cache_label(args.cache_url), args.cache_url)]
    else:
        # The default without CACHE_URL: a file-based cache, in the bench's folder.
        file_cache = f"filecache://{workdir / 'cache'}?max_entries=2000"
        caches = [("file (default)", file_cache)]
        if port_open(6379):
            # A prefix of its own, so nothing else in that Redis database is touched.
            redis_prefix = f"bench-{secrets.token_hex(4)}"
            caches.append(("Redis", f"{REDIS_URL}?key_prefix={redis_prefix}"))
    database_name = "PostgreSQL" if database_url.startswith("postgres") else "SQLite"
    env = bench_env(workdir, database_url=database_url, cache_url=caches[0][1])
    server = Gunicorn(
        port=free_port(),
        workers=args.workers,
        env=env,
        log_path=workdir / "gunicorn.log",
    )
    base = f"http://{HOST}:{server.port}"
    static_path = f"/static/{STATIC_COPY}"
    wrk = {"threads": args.threads, "connections": args.connections}
    round_seconds = max(1, args.compare_seconds // args.rounds)
    comparisons: list[Comparison] = []
    try:
        log(f"database {database_name}, in {workdir}")
        manage("migrate", "--noinput", env=env)
        manage("import_readme", str(args.readme), env=env)
        manage("collectstatic", "--noinput", env=env)
        if args.as_is:
            decorator = "the home view as it is (`--as-is`)"
        elif use_bench_urlconf(workdir, env):
            decorator = (
                "the home view wrapped in `cache_public_page` by the bench (the view "
                "itself is not decorated yet)"
            )
        else:
            decorator = "the home view as decorated in papers/views/public.py"

        server.start()
        status, body, headers = fetch(f"{base}/")
        server.stop()
        if status != 200:
            sys.exit(f"/ answered {status}; see {server.log_path}")
        sets_cookie = "Set-Cookie" in headers
        varies_on_cookie = "cookie" in headers.get("Vary", "").lower()
        # Whitenoise reads the static root when it starts: written before the runs.
        static_file = Path(env["DJANGO_STATIC_ROOT"]) / STATIC_COPY
        static_file.parent.mkdir(parents=True, exist_ok=True)
        static_file.write_bytes(body)
        # Precompressed, as collectstatic writes it for every static file.
        gzip_copy = static_file.with_name(static_file.name + ".gz")
        gzip_copy.write_bytes(gzip.compress(body, compresslevel=9, mtime=0))

        for label, cache_url in caches:
            env["CACHE_URL"] = cache_url
            log(f"cache: {label}")
            server.start()
            static_status, static_body, _ = fetch(f"{base}{static_path}")
            if static_status != 200 or len(static_body) != len(body):
                sys.exit(f"the static copy answered {static_status}")
            for _ in range(20 * args.workers):  # warm every worker
                fetch(f"{base}/")
            wire = {}
            for name, path in (("page", "/"), ("static", static_path)):
                status, sent, headers = fetch(
                    f"{base}{path}", **{"Accept-Encoding": ACCEPT_ENCODING}
                )
                if headers.get("Content-Encoding") != ACCEPT_ENCODING:
                    sys.exit(f"{path} was not sent with {ACCEPT_ENCODING}: {headers}")
                wire[name] = len(sent)
            page, static, ratios = compare(
                base, static_path, rounds=args.rounds, seconds=round_seconds, wrk=wrk
            )
            comparisons.append(Comparison(label, page, static, ratios, wire))
            if (label, cache_url) == caches[-1]:
                load = run_wrk(f"{base}/", seconds=args.load_seconds, **wrk)
            server.stop()
    finally:
        server.stop()
        if redis_prefix:
            forget_redis_keys(redis_prefix)
        if args.keep:
            log(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)

    print_report(
        args,
        comparisons=comparisons,
        load=load,
        load_cache=caches[-1][0],
        database_name=database_name,
        decorator=decorator,
        body_size=len(body),
        uncacheable=sets_cookie or varies_on_cookie,
        round_seconds=round_seconds,
        static_path=static_path,
    )
    if load.errors:
        log(f"the load test saw {load.errors} errors:\n{load.output}")
        return 1
    return 0


def forget_redis_keys(prefix: str) -> None:
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    try:
        for key in client.scan_iter(match=f"{prefix}:*", count=500):
            client.delete(key)
    finally:
        client.close()


def cache_label(url: str) -> str:
    if url.startswith("redis"):
        return "Redis"
    return "file" if url.startswith("filecache") else "local memory"


def print_report(
    args,
    *,
    comparisons,
    load,
    load_cache,
    database_name,
    decorator,
    body_size,
    uncacheable,
    round_seconds,
    static_path,
):
    print("## Load: `/` under gunicorn (tests/bench/bench_load.py)")
    print()
    print(
        f"gunicorn {args.workers} sync workers on {HOST}, DEBUG off, {database_name} "
        f"with the full fixture list imported; wrk with {args.threads} threads and "
        f"{args.connections} connections on the same machine ({os.cpu_count()} "
        f"CPUs, shared by wrk, gunicorn and Redis; load average "
        f"{os.getloadavg()[0]:.1f} at the end, other work on the machine included). "
        f"Python {sys.version.split()[0]}, measured {dt.date.today():%Y-%m-%d}. The "
        f"static file is a copy of the body of `/` ({body_size:,} bytes) served by "
        f"whitenoise from the same gunicorn, with its precompressed `.gz` beside it. "
        f"wrk sends `Accept-Encoding: {ACCEPT_ENCODING}`, so both answer with a "
        f"gzip body (bytes sent per answer in the table). Measured: {decorator}."
    )
    print()
    print(
        f"### `/` against a static file of the same size "
        f"({args.compare_seconds} s each, per cache)"
    )
    print()
    print(
        f"{args.rounds} alternating rounds of {round_seconds} s per target; "
        "requests/s over all rounds, latency percentiles of the median round."
    )
    print()
    print(
        "| Cache | Target | Body sent (bytes) | Requests/s | p50 (ms) | p90 (ms) "
        "| p99 (ms) | Errors | Ratio |"
    )
    print("| --- | --- | --: | --: | --: | --: | --: | --: | --: |")
    for c in comparisons:
        page = f"home page `/` | {c.wire['page']:,}"
        static = f"static `{static_path}` | {c.wire['static']:,}"
        print(_row(c.cache, page, c.page, f"**{c.ratio:.2f}**"))
        print(_row(c.cache, static, c.static, ""))
    print()
    for c in comparisons:
        verdict = "meets" if c.ratio >= 0.65 else "misses"
        rounds = ", ".join(f"{r:.2f}" for r in c.round_ratios)
        print(
            f"- {c.cache}: `/` at **{c.ratio:.2f}** times the static file "
            f"({verdict} the 0.65 goal); per round {rounds}."
        )
    if uncacheable:
        print()
        print(
            "`/` sets a cookie or varies on Cookie (a CSRF token or a session in the "
            "page), so the page cache (papers/cache.py) does not store it: every "
            "request renders the page."
        )
    print()
    print(
        f"### Load test: `/` for {args.load_seconds} s at {args.connections} "
        f"connections ({load_cache} cache)"
    )
    print()
    print(
        "| Requests | Requests/s | p50 (ms) | p90 (ms) | p99 (ms) | Non-2xx "
        "| Socket errors |"
    )
    print("| --: | --: | --: | --: | --: | --: | --: |")
    p = load.latency_ms
    socket_errors = ", ".join(f"{k} {v}" for k, v in load.socket_errors.items())
    print(
        f"| {load.requests:,} | {load.requests_per_second:,.0f} "
        f"| {p.get('50%', 0):.1f} | {p.get('90%', 0):.1f} | {p.get('99%', 0):.1f} "
        f"| {load.non_2xx} | {socket_errors} |"
    )
    print()
    print("Command:")
    print()
    print("```sh")
    print(".venv/bin/python tests/bench/bench_load.py")
    print(
        f"# per cache: wrk -t{args.threads} -c{args.connections} -d{round_seconds}s "
        f"--latency -H 'Accept-Encoding: {ACCEPT_ENCODING}' on / and on "
        f"{static_path}, {args.rounds} times in turn;"
    )
    print(
        f"# then wrk -t{args.threads} -c{args.connections} -d{args.load_seconds}s "
        f"--latency -H 'Accept-Encoding: {ACCEPT_ENCODING}' on /"
    )
    print("```")


if __name__ == "__main__":
    sys.exit(main())
