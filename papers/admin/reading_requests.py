"""The 请求精读 queue: most-voted first, decided with actions that go through services.

Status, paper creation and mail only change through the actions (accept, decline
with a public reason, mark done with the video), so the change form cannot skip the
side effects: status is read-only there.
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.widgets import AutocompleteSelect
from django.core.exceptions import ValidationError
from django.template.response import TemplateResponse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext, ngettext_lazy

from papers.admin.refresh import refresh_not_queued_warning
from papers.forms import clean_paragraphs
from papers.models import ReadingRequest, VideoNote
from papers.models.reading_requests import validate_no_html
from papers.services.reading_requests import (
    reading_request_accept,
    reading_request_decline,
    reading_request_done,
)


class DeclineForm(forms.Form):
    """The curator's public reason, asked for on the decline action's own page."""

    public_reason = forms.CharField(
        label=_("公开说明"),
        max_length=ReadingRequest.PUBLIC_REASON_MAX_LENGTH,
        help_text=_("会显示在公开的请求列表里，例如“已经有讲同一主题的精读视频”。"),
        widget=forms.Textarea(attrs={"rows": 3, "cols": 70}),
    )

    def clean_public_reason(self):
        value = clean_paragraphs(self.cleaned_data["public_reason"])
        validate_no_html(value)
        if not value:
            raise ValidationError(_("婉拒请求时必须写一句公开说明。"), code="required")
        return value


class DoneForm(forms.Form):
    """The video that answered the requests, chosen with the admin's autocomplete."""

    video = forms.ModelChoiceField(
        label=_("精读视频"),
        queryset=VideoNote.objects.all(),
        widget=AutocompleteSelect(ReadingRequest._meta.get_field("video"), admin.site),
    )


class ReadingRequestAdminForm(forms.ModelForm):
    class Meta:
        model = ReadingRequest
        fields = ["title", "reason", "nickname", "paper", "video", "public_reason"]

    def clean_public_reason(self):
        value = clean_paragraphs(self.cleaned_data.get("public_reason", ""))
        # Status is read-only here, so the database constraint would not be checked
        # by the form; say it before the save fails.
        if self.instance.status == ReadingRequest.Status.DECLINED and not value:
            raise ValidationError(_("婉拒请求时必须写一句公开说明。"), code="required")
        return value


@admin.register(ReadingRequest)
class ReadingRequestAdmin(admin.ModelAdmin):
    form = ReadingRequestAdminForm
    list_display = [
        "title",
        "status",
        "vote_count",
        "link",
        "nickname",
        "paper",
        "video",
        "created_at",
    ]
    list_display_links = ["title"]
    list_filter = ["status", "created_at"]
    search_fields = ["title", "url", "key", "reason", "nickname", "email"]
    list_select_related = ["paper", "video"]
    list_per_page = 100
    date_hierarchy = "created_at"
    autocomplete_fields = ["paper", "video"]
    actions = ["accept", "decline", "mark_done"]
    readonly_fields = [
        "url",
        "key",
        "status",
        "vote_count",
        "email",
        "language",
        "decided_by",
        "decided_at",
        "created_at",
        "updated_at",
    ]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "title",
                    "url",
                    "key",
                    "reason",
                    "nickname",
                    "status",
                    "vote_count",
                ]
            },
        ),
        (
            _("处理"),
            {
                "fields": [
                    "paper",
                    "video",
                    "public_reason",
                    "decided_by",
                    "decided_at",
                ],
                "description": _(
                    "状态只能用列表页的动作修改：接受、婉拒（需要公开说明）、"
                    "标记完成（需要精读视频）。接受前可以在这里先选好已有的论文。"
                ),
            },
        ),
        (
            _("不公开"),
            {
                "fields": ["email", "language", "created_at", "updated_at"],
                "description": _("请求者的邮箱只在后台显示，只用于完成时的通知。"),
            },
        ),
    ]

    def get_queryset(self, request):
        # ModelAdmin.get_queryset orders before we could annotate, so build it here.
        return ReadingRequest.objects.with_vote_count().order_by(
            *self.get_ordering(request)
        )

    def get_ordering(self, request):
        # Not ModelAdmin.ordering: the system check only accepts model fields there,
        # and the queue sorts by the annotated vote count.
        return ["-vote_count", "-created_at", "-id"]

    def has_add_permission(self, request):
        # Requests come from readers through the public form (and its de-duplication).
        return False

    @admin.display(description=_("票数"), ordering="vote_count")
    def vote_count(self, obj):
        return obj.vote_count

    @admin.display(description=_("链接"), ordering="key")
    def link(self, obj):
        return format_html(
            '<a href="{}" rel="noopener noreferrer nofollow" target="_blank">{}</a>',
            obj.url,
            obj.key,
        )

    # --- Actions ----------------------------------------------------------------

    def _apply(self, queryset, service, **kwargs) -> tuple[int, list[str]]:
        """Run a moderation service on each selected request; count and collect."""
        done, failures = 0, []
        for obj in queryset:
            try:
                service(request_obj=obj, **kwargs)
            except ValidationError as error:
                failures.append(f"{obj}: {' '.join(error.messages)}")
            else:
                done += 1
        return done, failures

    def _report(self, request, done: int, failures: list[str], message: str):
        if done:
            self.message_user(request, message % {"count": done}, messages.SUCCESS)
        for failure in failures:
            self.message_user(request, failure, messages.ERROR)

    @admin.action(
        description=_("接受所选请求（创建或关联论文）"), permissions=["change"]
    )
    def accept(self, request, queryset):
        done, failures = self._apply(
            queryset,
            reading_request_accept,
            by=request.user,
            on_enqueue_failure=refresh_not_queued_warning(self, request),
        )
        self._report(
            request,
            done,
            failures,
            ngettext(
                "已接受 %(count)d 个请求；论文的标题、年份和 Semantic Scholar ID "
                "会在后台查询后补上。",
                "已接受 %(count)d 个请求；论文的标题、年份和 Semantic Scholar ID "
                "会在后台查询后补上。",
                done,
            ),
        )

    @admin.action(
        description=_("婉拒所选请求（需要公开说明）…"), permissions=["change"]
    )
    def decline(self, request, queryset):
        return self._form_action(
            request,
            queryset,
            form_class=DeclineForm,
            service=reading_request_decline,
            action="decline",
            title=_("婉拒请求"),
            success=ngettext_lazy(
                "已婉拒 %(count)d 个请求。", "已婉拒 %(count)d 个请求。", "count"
            ),
        )

    @admin.action(
        description=_("标记所选请求已完成（选择精读视频）…"), permissions=["change"]
    )
    def mark_done(self, request, queryset):
        return self._form_action(
            request,
            queryset,
            form_class=DoneForm,
            service=reading_request_done,
            action="mark_done",
            title=_("标记完成"),
            success=ngettext_lazy(
                "已把 %(count)d 个请求标记为完成；留了邮箱的请求者会收到通知。",
                "已把 %(count)d 个请求标记为完成；留了邮箱的请求者会收到通知。",
                "count",
            ),
        )

    def _form_action(
        self, request, queryset, *, form_class, service, action, title, success
    ):
        """An action that first asks for one thing on a page of its own (decline:
        the public reason; mark done: the video), then runs ``service`` on every
        selected request with the form's cleaned data as keyword arguments."""
        form = form_class(request.POST if "apply" in request.POST else None)
        if not form.is_valid():
            return self._intermediate(
                request,
                queryset,
                form,
                action=action,
                title=title,
                template="requests/admin/action.html",
            )
        done, failures = self._apply(
            queryset, service, by=request.user, **form.cleaned_data
        )
        self._report(request, done, failures, success)
        return None

    def _intermediate(self, request, queryset, form, *, action, title, template):
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "opts": self.model._meta,
            "queryset": queryset,
            "form": form,
            "action": action,
            "media": self.media + form.media,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, template, context)
