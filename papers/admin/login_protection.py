"""django-axes' admin with Chinese column names where axes has none to translate.

Its ``status`` and ``expiration`` columns are methods without a description, so
the admin titles them from the method name ("Status"), which no catalogue can
translate. Their other strings are in papers/locale/zh_Hans.
"""

from axes import admin as axes_admin
from axes.conf import settings as axes_settings
from axes.models import AccessAttempt
from django.contrib import admin
from django.utils.translation import gettext_lazy as _


class AccessAttemptAdmin(axes_admin.AccessAttemptAdmin):
    @admin.display(description=_("过期时间"))
    def expiration(self, obj):
        return super().expiration(obj)

    @admin.display(description=_("状态"))
    def status(self, obj):
        return super().status(obj)


if axes_settings.AXES_ENABLE_ADMIN:
    admin.site.unregister(AccessAttempt)
    admin.site.register(AccessAttempt, AccessAttemptAdmin)
