"""/sitemap.xml: the list, the videos page, every category, paper and learning path."""

from django.contrib.sitemaps import Sitemap
from django.urls import reverse

from papers.models import Category, LearningPath, Paper


class PagesSitemap(Sitemap):
    changefreq = "daily"

    def items(self):
        return ["papers:home", "papers:videos", "papers:paths"]

    def location(self, item):
        return reverse(item)


class CategorySitemap(Sitemap):
    changefreq = "weekly"

    def items(self):
        return Category.objects.order_by("position", "id")


class PaperSitemap(Sitemap):
    changefreq = "weekly"

    def items(self):
        return Paper.objects.order_by("id").only("slug", "updated_at")

    def lastmod(self, paper):
        return paper.updated_at


class PathSitemap(Sitemap):
    changefreq = "weekly"

    def items(self):
        return LearningPath.objects.order_by("position", "id")

    def lastmod(self, path):
        return path.updated_at


SITEMAPS = {
    "pages": PagesSitemap,
    "categories": CategorySitemap,
    "papers": PaperSitemap,
    "paths": PathSitemap,
}
