from django.contrib.sitemaps.views import sitemap
from django.urls import path, re_path

from papers.feeds import (
    CategoryPapersFeed,
    LatestPapersFeed,
    LatestVideosFeed,
    PathStepsFeed,
)
from papers.sitemaps import SITEMAPS
from papers.views import cite as cite_views
from papers.views import paths as path_views
from papers.views import public as views
from papers.views import reading_requests as request_views
from papers.views import videos as video_views

app_name = "papers"

CITE_FORMATS = "bib|ris|json|txt"

urlpatterns = [
    path("", views.home, name="home"),
    path("categories/<slug:slug>/", views.category, name="category"),
    path("papers/<slug:slug>/", views.paper, name="paper"),
    re_path(
        rf"^papers/(?P<slug>[-\w]+)/cite\.(?P<fmt>{CITE_FORMATS})$",
        cite_views.paper_cite,
        name="paper_cite",
    ),
    re_path(
        rf"^categories/(?P<slug>[-\w]+)/cite\.(?P<fmt>{CITE_FORMATS})$",
        cite_views.category_cite,
        name="category_cite",
    ),
    re_path(rf"^cite\.(?P<fmt>{CITE_FORMATS})$", cite_views.list_cite, name="cite"),
    path("videos/", views.videos, name="videos"),
    path("videos/<slug:slug>/", video_views.video, name="video"),
    path("search/", views.search, name="search"),
    path("paths/", path_views.path_list, name="paths"),
    path("paths/<slug:slug>/", path_views.path_detail, name="path"),
    path("progress/", views.progress, name="progress"),
    path("readme.md", views.readme, name="readme"),
    path("feeds/papers/", LatestPapersFeed(), name="papers_feed"),
    path("feeds/videos/", LatestVideosFeed(), name="videos_feed"),
    path("feeds/categories/<slug:slug>/", CategoryPapersFeed(), name="category_feed"),
    path("feeds/paths/<slug:slug>/", PathStepsFeed(), name="path_feed"),
    path(
        "sitemap.xml",
        sitemap,
        {"sitemaps": SITEMAPS, "template_name": "papers/sitemap.xml"},
        name="sitemap",
    ),
    path("requests/", request_views.requests_page, name="requests"),
    path("requests/hint/", request_views.request_hint, name="request_hint"),
    path("requests/<int:pk>/vote/", request_views.request_vote, name="request_vote"),
]
