from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from papers.services.paths import STARTER_PATHS, PathsFileError, paths_load


class Command(BaseCommand):
    help = (
        "Load the starter learning paths (papers/data/paths.toml, or FILE). A path "
        "whose slug exists is kept as it is; steps not in the database are skipped."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", nargs="?", type=Path, default=STARTER_PATHS)

    def handle(self, *args, file: Path, **options):
        try:
            report = paths_load(text=file.read_text(encoding="utf-8"))
        except OSError as exc:
            raise CommandError(f"paths: cannot read {file}: {exc.strerror}") from exc
        except (PathsFileError, UnicodeDecodeError) as exc:
            raise CommandError(f"paths: {file.name}: {exc}") from exc
        for line in report.lines():
            style = self.style.WARNING if line.startswith("warning") else None
            self.stdout.write(style(f"paths: {line}") if style else f"paths: {line}")
