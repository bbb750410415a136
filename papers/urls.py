from django.urls import path

from papers.views import public as views

app_name = "papers"

urlpatterns = [
    path("", views.home, name="home"),
    path("categories/<slug:slug>/", views.category, name="category"),
    path("papers/<slug:slug>/", views.paper, name="paper"),
    path("videos/", views.videos, name="videos"),
]
