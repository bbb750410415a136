from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from papers.selectors import readme_markdown


class Command(BaseCommand):
    help = "Write the list in the README format (to stdout, or to a file with -o)."

    def add_arguments(self, parser):
        parser.add_argument("-o", "--output", help="file to write (default: stdout)")
        parser.add_argument(
            "--badges",
            action="store_true",
            help="write the original live shields.io badges instead of stored counts",
        )

    def handle(self, *args, output, badges, **options):
        text = readme_markdown(badges=badges)
        if not output:
            self.stdout.write(text, ending="")
            return
        path = Path(output)
        tmp = path.with_name(f".{path.name}.tmp")
        try:
            tmp.write_text(text, encoding="utf-8")
            tmp.replace(path)  # never leave a half-written file behind
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            raise CommandError(f"cannot write {output}: {exc.strerror or exc}") from exc
        self.stdout.write(f"wrote {path} ({len(text.encode())} bytes)")
