from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from papers.models import RefreshRun
from papers.services.citations import (
    RefreshAlreadyRunning,
    citations_refresh,
    refresh_summary,
)


class Command(BaseCommand):
    help = (
        "Refresh citation counts from Semantic Scholar now, in the foreground: the "
        "same service as the nightly job, with a progress bar and the run summary."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--only-missing",
            action="store_true",
            help="only papers that have no citation count yet",
        )
        parser.add_argument(
            "--limit", type=int, metavar="N", help="refresh at most N papers"
        )

    def handle(self, *args, only_missing, limit, **options):
        if limit is not None and limit < 1:
            raise CommandError("--limit must be at least 1")
        bar = tqdm(
            unit="paper",
            desc="refresh citations",
            file=self.stderr,
            disable=options["verbosity"] < 1,
            dynamic_ncols=True,
        )

        def progress(done: int, total: int) -> None:
            bar.total = total
            bar.update(done - bar.n)

        try:
            run = citations_refresh(
                only_missing=only_missing,
                limit=limit,
                trigger=RefreshRun.Trigger.COMMAND,
                progress=progress,
            )
        except RefreshAlreadyRunning as exc:
            raise CommandError(f"{exc}; nothing done") from exc
        finally:
            bar.close()
        self.stdout.write(f"refresh {run.pk}: {refresh_summary(run)}")
        if run.last_error:
            self.stdout.write("errors:\n" + run.last_error)
        if run.status == RefreshRun.Status.FAILED:
            raise CommandError("the refresh failed; see the errors above")
