"""Citation refresh in the admin: the run history (read-only) and the paper list's
"refresh now" action and button, which queue the Celery task."""

from collections.abc import Callable

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseNotAllowed
from django.shortcuts import redirect
from django.urls import path
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from papers.models import RefreshRun
from papers.services.citations import citations_refresh_enqueue


def refresh_not_queued_warning(modeladmin, request) -> Callable[[Exception], None]:
    """An ``on_failure`` for :func:`citations_refresh_enqueue` that tells the curator,
    once per request, that the refresh could not be queued (what was saved stays)."""
    warned = False

    def warn(exc: Exception) -> None:
        nonlocal warned
        if not warned:
            warned = True
            modeladmin.message_user(
                request,
                _(
                    "任务队列暂时连不上，引用数刷新没有加入队列；已保存的内容不受影响。"
                    "每晚的定时刷新会补上，也可以稍后再点“立即刷新”。"
                ),
                messages.WARNING,
            )

    return warn


def last_failed_refresh():
    """The last finished refresh run if it failed, else None (one query)."""
    last = RefreshRun.objects.exclude(status=RefreshRun.Status.RUNNING).first()
    if last is not None and last.status == RefreshRun.Status.FAILED:
        return last
    return None


class CitationRefreshAdminMixin:
    """For PaperAdmin: the action on selected papers and the button for all.

    Both queue the task after the transaction commits and tell the curator so; the
    run record (below) says how it went. The button is in
    ``templates/admin/papers/paper/change_list.html``.
    """

    @admin.action(description=_("立即刷新引用数"), permissions=["change"])
    def refresh_citations_now(self, request, queryset):
        paper_ids = list(queryset.values_list("pk", flat=True))
        self._queue_refresh(
            request,
            paper_ids,
            ngettext(
                "%(count)d 篇论文的引用数刷新已加入队列，完成后会自动更新。",
                "%(count)d 篇论文的引用数刷新已加入队列，完成后会自动更新。",
                len(paper_ids),
            )
            % {"count": len(paper_ids)},
        )

    def refresh_all_citations_view(self, request):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not self.has_change_permission(request):
            raise PermissionDenied
        self._queue_refresh(
            request, None, _("全部论文的引用数刷新已加入队列，完成后会自动更新。")
        )
        return redirect("admin:papers_paper_changelist")

    def _queue_refresh(self, request, paper_ids, queued_message) -> None:
        warn = refresh_not_queued_warning(self, request)
        failures = []

        def failed(exc: Exception) -> None:
            failures.append(exc)
            warn(exc)

        citations_refresh_enqueue(paper_ids=paper_ids, on_failure=failed)
        # Outside a transaction the task is sent at once, so a broker that is down
        # is known here: say one thing, not "queued" and "not queued".
        if not failures:
            self.message_user(request, queued_message, messages.SUCCESS)

    def get_urls(self):
        return [
            path(
                "refresh-citations/",
                self.admin_site.admin_view(self.refresh_all_citations_view),
                name="papers_paper_refresh_citations",
            ),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        extra_context = {
            "can_refresh_citations": self.has_change_permission(request),
            "failed_refresh": last_failed_refresh(),
            **(extra_context or {}),
        }
        return super().changelist_view(request, extra_context)


class ReadOnlyAdminMixin:
    """For records only the code writes (run history, count history): listed and
    shown, never added, changed or deleted by hand."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(RefreshRun)
class RefreshRunAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """What each refresh asked, changed and failed: written by the job only."""

    list_display = [
        "started_at", "kind", "status", "trigger", "duration_text",
        *RefreshRun.COUNTERS,
    ]  # fmt: skip
    list_filter = ["kind", "status", "trigger"]
    date_hierarchy = "started_at"
    fields = [
        ("started_at", "finished_at", "duration_text"),
        ("kind", "status", "trigger"),
        RefreshRun.COUNTERS,
        "last_error",
    ]

    @admin.display(description=_("用时"))
    def duration_text(self, run):
        if run.duration is None:
            return "—"
        return _("%(seconds).1f 秒") % {"seconds": run.duration.total_seconds()}
