from django.core.management.base import BaseCommand
from tqdm import tqdm

from papers.search import index


class Command(BaseCommand):
    help = (
        "Rebuild the search index (papers, videos, chapters, paths) from the "
        "database, with a progress bar. Safe to run at any time: one transaction."
    )

    def handle(self, *args, **options):
        with tqdm(
            total=index.total_to_index(),
            unit="entry",
            desc="search index",
            file=self.stderr,
            disable=options["verbosity"] < 1,
            dynamic_ncols=True,
        ) as bar:
            total = index.rebuild(progress=bar.update)
        self.stdout.write(f"search index: {total} entries")
