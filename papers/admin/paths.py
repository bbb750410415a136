"""Learning paths in the admin: a path with its steps inline, sortable by position.

Each step picks its paper or its video with autocomplete. A step left without a
position goes to the end of the path, after the steps that have one, in the order
they were typed.
"""

from django.contrib import admin
from django.db.models import Count
from django.forms.models import BaseInlineFormSet
from django.utils.translation import gettext_lazy as _

from papers.models import LearningPath, PathStep
from papers.services.paths import path_next_position


class PathStepFormSet(BaseInlineFormSet):
    def clean(self):
        super().clean()
        if any(self.errors):
            return
        kept = [
            form
            for form in self.forms
            if form.has_changed() or form.instance.pk
            if not (self.can_delete and self._should_delete_form(form))
        ]
        given = [
            form.cleaned_data["position"]
            for form in kept
            if form.cleaned_data.get("position") is not None
        ]
        end = max(given, default=-1) + 1
        if self.instance.pk:
            end = max(end, path_next_position(path=self.instance))
        for form in kept:
            if form.cleaned_data.get("position") is None:
                form.instance.position = form.cleaned_data["position"] = end
                end += 1


class PathStepInline(admin.TabularInline):
    model = PathStep
    formset = PathStepFormSet
    extra = 3
    autocomplete_fields = ["paper", "video"]
    fields = ["position", "paper", "video", "title", "note", "note_en"]
    ordering = ["position", "id"]


@admin.register(LearningPath)
class LearningPathAdmin(admin.ModelAdmin):
    list_display = ["title", "title_en", "slug", "position", "step_count"]
    list_editable = ["position"]
    search_fields = ["title", "title_en", "slug", "description"]
    prepopulated_fields = {"slug": ["title_en"]}
    inlines = [PathStepInline]
    fields = [
        "title",
        "title_en",
        "slug",
        "position",
        "description",
        "description_en",
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(step_total=Count("steps"))

    @admin.display(description=_("步数"), ordering="step_total")
    def step_count(self, path):
        return path.step_total
