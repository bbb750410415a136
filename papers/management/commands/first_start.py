"""What `make run` does after migrate: give a new database the real reading list.

Each step is a function of the command, run in order; a new first-start step (say,
loading learning paths) is one more function in ``STEPS``. Every step must be safe
to run on every start, and must not wait on the network for long: `make run` starts
the web server only after this command.
"""

import time

from django.conf import settings
from django.core.management.base import BaseCommand

from papers.management.commands.load_seed import SEED
from papers.models import (
    Category,
    LearningPath,
    Paper,
    RefreshRun,
    SearchAlias,
    SearchEntry,
    VideoNote,
)
from papers.readme import ReadmeFormatError
from papers.search import index as search_index
from papers.search.aliases import load_starter_aliases
from papers.services import ReadmeSourceError, readme_import, readme_read_source
from papers.services.citations import citations_refresh_enqueue
from papers.services.covers import covers_import
from papers.services.paths import STARTER_PATHS, paths_load

# Seconds for the whole fetch of READINGLIST_SOURCE_URL (lookup, connection, reads).
SOURCE_DEADLINE = 10.0
# Seconds the whole first start may wait on the network: the list, then as many of
# its covers as fit (a cover download already started may run FETCH_TIMEOUT more).
NETWORK_BUDGET = 15.0


class Command(BaseCommand):
    help = (
        "First start: import the live reading list (READINGLIST_SOURCE_URL) into an "
        "empty database, or the shipped seed list if it cannot be fetched, then queue "
        "a citation refresh for papers that have no count yet."
    )

    def handle(self, *args, **options):
        for step in STEPS:
            step(self)

    def say(self, line: str, style=None) -> None:
        line = " ".join(line.split())  # one line, whatever the error text holds
        self.stdout.write(style(line) if style else line)


def import_reading_list(command: Command) -> None:
    """Empty database: the live list, else the seed list and one line saying so."""
    if Paper.objects.exists() or Category.objects.exists():
        command.say("first start: the database already has a reading list, kept")
        return
    url = settings.READINGLIST_SOURCE_URL.strip()
    if not url:
        readme_import(text=SEED.read_text(encoding="utf-8"))
        command.say(
            "first start: READINGLIST_SOURCE_URL is empty, loaded the shipped seed "
            f"list ({_counts()})"
        )
        return
    started = time.monotonic()
    try:
        text = readme_read_source(url, deadline=SOURCE_DEADLINE)
        readme_import(text=text)
    except (ReadmeSourceError, ReadmeFormatError) as exc:
        readme_import(text=SEED.read_text(encoding="utf-8"))
        command.say(
            f"first start: could not import the reading list ({str(exc)[:300]}); "
            f"loaded the shipped seed list instead ({_counts()}). To import the "
            f"real list later: python manage.py import_readme {url}",
            command.style.WARNING,
        )
        return
    command.say(f"first start: imported the reading list from {url} ({_counts()})")
    fetch_covers(command, text=text, base=url, deadline=started + NETWORK_BUDGET)


def fetch_covers(command: Command, *, text: str, base: str, deadline: float) -> None:
    """The covers the live list names, until ``deadline`` (a monotonic time); the
    rest are left for the next ``import_readme`` (one line says so)."""
    report = covers_import(text=text, base=base, deadline=deadline)
    line = f"first start: {report.line()}"
    if report.skipped:
        line += (
            f" to keep the start short; to fetch them: "
            f"python manage.py import_readme {base}"
        )
    command.say(line)


def queue_missing_citations(command: Command) -> None:
    """Queue one refresh of the papers without a count; the worker fetches them."""
    missing = (
        Paper.objects.filter(citation_count__isnull=True)
        .exclude(s2_paper_id="", arxiv_id="", doi="")
        .count()
    )
    if not missing:
        return
    failures = []
    # Outside a transaction the task is sent at once (on commit = now).
    citations_refresh_enqueue(
        only_missing=True,
        trigger=RefreshRun.Trigger.COMMAND,
        on_failure=failures.append,
    )
    if failures:
        command.say(
            f"first start: could not queue the citation refresh ({failures[0]}); "
            "run: python manage.py refresh_citations --only-missing",
            command.style.WARNING,
        )
        return
    command.say(
        f"first start: queued a citation refresh for the {missing} papers with no "
        "count yet; the worker fetches them in the background"
    )


def _counts() -> str:
    return (
        f"{Category.objects.count()} categories, {Paper.objects.count()} papers, "
        f"{VideoNote.objects.count()} videos"
    )


def load_learning_paths(command: Command) -> None:
    """The starter paths, once: only while the database has no path at all, so a
    path a curator deleted does not come back on the next start. One line when it
    created some; ``manage.py load_paths`` loads the rest later and lists each
    step it skips."""
    if LearningPath.objects.exists():
        return
    report = paths_load(text=STARTER_PATHS.read_text(encoding="utf-8"))
    if not report.created:
        return
    skipped = sum(1 for line in report.warnings if "skipped step" in line)
    command.say(
        f"first start: loaded the starter learning paths {', '.join(report.created)}"
        + (
            f"; {skipped} steps and {len(report.warnings) - skipped} paths whose "
            "papers are not in the database yet were left out (python manage.py "
            "load_paths lists them and loads them once the papers are there)"
            if report.warnings
            else ""
        )
    )


def prepare_search(command: Command) -> None:
    """The starter aliases into an empty alias table (a curator's deletions are
    kept afterwards), and the search index built if it is empty (a database that
    predates the index, or rows written by loaddata)."""
    if not SearchAlias.objects.exists():
        load_starter_aliases()  # quietly: one more line would say nothing useful
    if not SearchEntry.objects.exists() and Paper.objects.exists():
        total = search_index.rebuild()
        command.say(f"first start: built the search index ({total} entries)")


STEPS = (
    import_reading_list,
    load_learning_paths,
    prepare_search,
    queue_missing_citations,
)
