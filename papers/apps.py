from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PapersConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "papers"
    verbose_name = _("论文")

    def ready(self):
        from papers.signals import connect_cache_invalidation

        connect_cache_invalidation()
