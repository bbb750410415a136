from django.db.models import Prefetch
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from papers.models import Category, Paper, Placement, VideoNote
from papers.selectors import list_totals


def _ordered_placements():
    return Prefetch(
        "placements",
        queryset=Placement.objects.select_related("paper").order_by("position", "id"),
        to_attr="ordered_placements",
    )


@require_GET
def home(request):
    categories = Category.objects.prefetch_related(_ordered_placements())
    return render(
        request,
        "papers/home.html",
        {"categories": categories, "totals": list_totals()},
    )


@require_GET
def category(request, slug):
    category = get_object_or_404(
        Category.objects.prefetch_related(_ordered_placements()), slug=slug
    )
    return render(request, "papers/category.html", {"category": category})


@require_GET
def paper(request, slug):
    paper = get_object_or_404(
        Paper.objects.prefetch_related("categories", "videos"), slug=slug
    )
    return render(request, "papers/paper.html", {"paper": paper})


@require_GET
def videos(request):
    return render(
        request,
        "papers/videos.html",
        {"videos": VideoNote.objects.prefetch_related("papers")},
    )
