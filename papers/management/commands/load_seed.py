from pathlib import Path

from django.core.management.base import BaseCommand

from papers.models import Category, Paper
from papers.services import readme_import

SEED = Path(__file__).resolve().parents[2] / "data" / "seed-list.md"


class Command(BaseCommand):
    help = "Import the shipped seed list, only when the database has no papers yet."

    def handle(self, *args, **options):
        if Paper.objects.exists() or Category.objects.exists():
            self.stdout.write("seed: the database already has data, left as it is")
            return
        report = readme_import(text=SEED.read_text(encoding="utf-8"))
        self.stdout.write(f"seed: imported {SEED.name}: " + "; ".join(report.lines()))
