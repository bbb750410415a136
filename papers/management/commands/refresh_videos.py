from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from papers.models import RefreshRun
from papers.services.videos import (
    VideoRefreshAlreadyRunning,
    video_refresh_summary,
    videos_refresh,
)


class Command(BaseCommand):
    help = (
        "Refresh video view counts, covers and chapters from bilibili and YouTube "
        "now, in the foreground: the nightly job's service, with a progress bar."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--limit", type=int, metavar="N", help="refresh at most N videos"
        )

    def handle(self, *args, limit, **options):
        if limit is not None and limit < 1:
            raise CommandError("--limit must be at least 1")
        bar = tqdm(
            unit="video",
            desc="refresh videos",
            file=self.stderr,
            disable=options["verbosity"] < 1,
            dynamic_ncols=True,
        )

        def progress(done: int, total: int) -> None:
            bar.total = total
            bar.update(done - bar.n)

        try:
            run = videos_refresh(
                limit=limit, trigger=RefreshRun.Trigger.COMMAND, progress=progress
            )
        except VideoRefreshAlreadyRunning as exc:
            raise CommandError(f"{exc}; nothing done") from exc
        finally:
            bar.close()
        self.stdout.write(f"refresh {run.pk}: {video_refresh_summary(run)}")
        if run.last_error:
            self.stdout.write("errors:\n" + run.last_error)
        if run.status == RefreshRun.Status.FAILED:
            raise CommandError("the refresh failed; see the errors above")
