from django.core.management.base import BaseCommand, CommandError

from papers.readme import ReadmeFormatError
from papers.services import ReadmeSourceError, readme_import, readme_read_source
from papers.services.covers import covers_import


class Command(BaseCommand):
    help = (
        "Import the paper list from a README in the mli/paper-reading format "
        "(a file path or an http(s) URL). Idempotent; one transaction."
    )

    def add_arguments(self, parser):
        parser.add_argument("source", help="file path or http(s):// URL of the README")
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="report what would change, then roll everything back",
        )
        parser.add_argument(
            "--prune",
            action="store_true",
            help="delete papers, categories, placements and videos not in the source",
        )
        parser.add_argument(
            "--no-covers",
            action="store_true",
            help="do not fetch the video covers the README names (imgs/…)",
        )

    def handle(self, *args, source, dry_run, prune, no_covers, **options):
        try:
            text = readme_read_source(source)
            report = readme_import(text=text, prune=prune, dry_run=dry_run)
        except (ReadmeSourceError, ReadmeFormatError) as exc:
            raise CommandError(str(exc)) from exc
        for warning in report.warnings:
            self.stderr.write(self.style.WARNING(f"warning: {warning}"))
        for line in report.lines():
            self.stdout.write(line)
        if dry_run:
            self.stdout.write("dry run: nothing was written")
        elif not report.changed:
            self.stdout.write(self.style.SUCCESS("nothing changed: already up to date"))
        else:
            self.stdout.write(self.style.SUCCESS("import done"))
        if not dry_run and not no_covers:
            # After the import's transaction: downloads never hold it open.
            covers = covers_import(text=text, base=source)
            for warning in covers.warnings:
                self.stderr.write(self.style.WARNING(f"warning: {warning}"))
            self.stdout.write(covers.line())
