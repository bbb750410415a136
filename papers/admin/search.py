from django.contrib import admin

from papers.models import SearchAlias


@admin.register(SearchAlias)
class SearchAliasAdmin(admin.ModelAdmin):
    list_display = ("term", "expansion", "created_at")
    search_fields = ("term", "expansion")
    ordering = ("term", "expansion")
