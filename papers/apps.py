from axes import apps as axes_apps
from django.apps import AppConfig
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _


class PapersConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "papers"
    verbose_name = pgettext_lazy("app", "论文")

    def ready(self):
        from papers.signals import connect_cache_invalidation, connect_search_index

        connect_cache_invalidation()
        connect_search_index()

        # The rows of the paper page's video inline are the m2m's auto-created
        # through model, whose name would be "VideoNote_papers object (12)".
        from papers.models import VideoNote

        VideoNote.papers.through.__str__ = _video_paper_str


def _video_paper_str(link):
    return f"{link.videonote} · {link.paper}"


def _when(moment):
    return date_format(timezone.localtime(moment), "Y-m-d H:i") if moment else "—"


class AxesConfig(axes_apps.AppConfig):
    """django-axes as curators read it: a Chinese section title and record names.

    axes ships no Chinese. Its model and field names are translated in
    papers/locale/zh_Hans (the msgids are axes' English strings); its records'
    ``__str__``, which the admin shows as page titles and breadcrumbs, are
    hard-coded English, so they are replaced here.
    """

    default = False  # "papers" keeps PapersConfig
    verbose_name = _("登录保护")

    def ready(self):
        super().ready()
        from axes.models import AccessAttempt, AccessFailureLog, AccessLog

        AccessAttempt.__str__ = lambda attempt: (
            gettext("%(time)s 的登录尝试") % {"time": _when(attempt.attempt_time)}
        )
        AccessFailureLog.__str__ = lambda failure: (
            gettext("%(user)s 在 %(time)s 登录失败")
            % {"user": failure.username or "—", "time": _when(failure.attempt_time)}
        )
        AccessLog.__str__ = lambda log: (
            gettext("%(user)s 在 %(time)s 登录")
            % {
                "user": log.username or "—",
                "time": _when(log.attempt_time),
            }
        )
