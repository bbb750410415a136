from django.apps import AppConfig
from django.utils.translation import pgettext_lazy


class PapersConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "papers"
    verbose_name = pgettext_lazy("app", "论文")

    def ready(self):
        from papers.signals import connect_cache_invalidation, connect_search_index

        connect_cache_invalidation()
        connect_search_index()
