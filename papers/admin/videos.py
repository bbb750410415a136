"""The video admin's issue 12 parts: chapters inline with times typed as 1:02:03,
and the read-only view counts, cover thumbnail and video refresh history."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from papers.models import Chapter, RefreshRun
from papers.timecodes import format_timecode, parse_timecode

RUN_HISTORY = 10


class TimecodeField(forms.Field):
    """Seconds, typed and shown as 1:02:03 (also 62:03, 3723 or 1h2m3s)."""

    widget = forms.TextInput(attrs={"size": 8, "placeholder": "1:02:03"})

    def prepare_value(self, value):
        if isinstance(value, int) and not isinstance(value, bool):
            return format_timecode(value)
        return value

    def to_python(self, value):
        if value in self.empty_values:
            return None
        try:
            return parse_timecode(str(value))
        except ValueError as exc:
            raise ValidationError(
                _("时间写成 1:02:03、62:03 或 3723 秒。（%(error)s）"),
                code="invalid",
                params={"error": exc},
            ) from exc


class ChapterForm(forms.ModelForm):
    start = TimecodeField(label=_("开始"))
    end = TimecodeField(label=_("结束"), required=False)

    class Meta:
        model = Chapter
        fields = ["start", "end", "title", "section", "paper"]

    def clean(self):
        cleaned = super().clean()
        if self.instance.pk is None:
            self.instance.source = Chapter.Source.CURATOR
        elif self.has_changed() and self.instance.source == Chapter.Source.BILIBILI:
            # The nightly refresh leaves a chapter a curator changed alone.
            self.instance.edited = True
        return cleaned


class ChapterInline(admin.TabularInline):
    model = Chapter
    form = ChapterForm
    extra = 1
    fields = ["start", "end", "title", "section", "paper", "source", "edited"]
    readonly_fields = ["source", "edited"]
    autocomplete_fields = ["paper"]
    verbose_name = _("章节")
    verbose_name_plural = _(
        "章节（时间写成 1:02:03；改过的 bilibili 章节不会被夜间刷新覆盖）"
    )


class VideoRefreshAdminMixin:
    """For VideoNoteAdmin: counts, cover and run history, all read-only."""

    video_readonly_fields = [
        "view_counts", "cover_preview", "refresh_history", "bvid", "youtube_id",
    ]  # fmt: skip

    @admin.display(description=_("播放量"))
    def view_counts(self, video):
        parts = []
        for label, count, status in (
            ("bilibili", video.bilibili_views, video.get_bilibili_status_display()),
            ("YouTube", video.youtube_views, video.get_youtube_status_display()),
        ):
            shown = "—" if count is None else f"{count:,}"
            parts.append((label, shown, status))
        rows = format_html_join("", "<li>{}: {} ({})</li>", parts)
        updated = video.views_updated_at or "—"
        errors = " ".join(filter(None, [video.bilibili_error, video.youtube_error]))
        return format_html(
            "<ul>{}</ul><p>{} {}</p>{}",
            rows,
            _("更新于"),
            updated,
            format_html("<p>{}</p>", errors) if errors else "",
        )

    @admin.display(description=_("封面"))
    def cover_preview(self, video):
        thumb = video.cover_thumb
        if thumb is None:
            return _("还没有封面缩略图（导入 README 或夜间刷新时生成）。")
        return format_html(
            '<img src="{}" width="{}" height="{}" alt=""><br>{}',
            thumb.url,
            thumb.width,
            thumb.height,
            video.cover_source,
        )

    @admin.display(description=_("视频刷新记录"))
    def refresh_history(self, video):
        runs = RefreshRun.objects.filter(kind=RefreshRun.Kind.VIDEOS)[:RUN_HISTORY]
        changelist = reverse("admin:papers_refreshrun_changelist") + "?kind=videos"
        rows = format_html_join(
            "",
            '<li><a href="{}">{}</a> {} · {}</li>',
            (
                (
                    reverse("admin:papers_refreshrun_change", args=[run.pk]),
                    f"{timezone.localtime(run.started_at):%Y-%m-%d %H:%M}",
                    run.get_status_display(),
                    run.last_error.splitlines()[-1] if run.last_error else "",
                )
                for run in runs
            ),
        )
        return format_html(
            '<ul>{}</ul><a href="{}">{}</a>', rows, changelist, _("全部记录")
        )
