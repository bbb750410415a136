from django.core.management.base import BaseCommand, CommandError

from papers.services.yearly_citations import (
    RefreshAlreadyRunning,
    yearly_citations_refresh,
)


class Command(BaseCommand):
    help = (
        "Refresh citations per year from OpenAlex now, in the foreground: the same "
        "service as the weekly job."
    )

    def handle(self, *args, **options):
        try:
            run = yearly_citations_refresh()
        except RefreshAlreadyRunning as exc:
            raise CommandError(f"{exc}; nothing done") from exc
        self.stdout.write(f"yearly citations: {run.summary()}")
        if run.errors:
            self.stdout.write("errors:\n" + "\n".join(run.errors[-20:]))
        if run.failed and not (run.updated or run.unchanged):
            raise CommandError("the refresh failed; see the errors above")
