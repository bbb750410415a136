from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import include, path
from django.views.decorators.csrf import csrf_exempt
from django.views.i18n import set_language

from papers.api import api
from papers.views.health import healthz
from papers.views.public import favicon

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    # Browsers ask for /favicon.ico on pages that name no icon, such as the admin.
    path("favicon.ico", favicon, name="favicon"),
    # DJANGO_ADMIN_URL: the admin is not where password-guessing bots look first.
    path(settings.ADMIN_URL, admin.site.urls),
    # The language switcher posts here from every public page. Exempt from CSRF so
    # those pages carry no token and stay cacheable (papers/cache.py): a forged post
    # can only change the visitor's language, as a ?lang= link could.
    # https://docs.djangoproject.com/en/5.2/topics/i18n/translation/#the-set-language-redirect-view
    path("i18n/setlang/", csrf_exempt(set_language), name="set_language"),
    path("api/v1/", api.urls),
    path("", include("papers.urls")),
]

if settings.DEBUG:
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
