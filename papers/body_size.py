"""Refuse oversized request bodies before Django reads them.

``DATA_UPLOAD_MAX_MEMORY_SIZE`` does not count uploaded files, which Django spools to
disk whatever their size, and some views (``/i18n/setlang/``) are CSRF-exempt: a
300 MB multipart POST there was read to the end and written to /tmp. nginx's
``client_max_body_size`` stops that in production; this keeps the site safe without
it. Checking Content-Length is enough: Django never reads past it (a chunked body
without one is read as empty).
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpResponse
from django.utils.translation import gettext as _


class RequestBodyLimitMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return HttpResponse(
                _("Content-Length 无效。"), status=400, content_type="text/plain"
            )
        admin_prefix = f"/{settings.ADMIN_URL}"
        limit = (
            settings.ADMIN_REQUEST_BODY_MAX_BYTES
            if request.path_info.startswith(admin_prefix)
            else settings.REQUEST_BODY_MAX_BYTES
        )
        if length > limit:
            return HttpResponse(
                _("请求内容太大。"), status=413, content_type="text/plain"
            )
        return self.get_response(request)
