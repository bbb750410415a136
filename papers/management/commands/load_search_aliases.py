from django.core.management.base import BaseCommand

from papers.search.aliases import load_starter_aliases


class Command(BaseCommand):
    help = (
        "Add the search aliases we ship (papers/data/search_aliases.txt) that are "
        "not in the database yet; curators' own aliases are kept."
    )

    def handle(self, *args, **options):
        added = load_starter_aliases()
        self.stdout.write(f"search aliases: {added} added")
