"""django-csp's middleware, with the site-wide header built once per process."""

from __future__ import annotations

from csp.constants import HEADER
from csp.middleware import CheckableLazyObject
from csp.middleware import CSPMiddleware as BaseCSPMiddleware
from csp.utils import build_policy
from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver

# What a view or decorator (@csp_update, @csp_exempt, ...) sets to change the policy
# of one response; a response with any of them takes django-csp's own path.
PER_RESPONSE = (
    "_csp_config",
    "_csp_update",
    "_csp_replace",
    "_csp_exempt",
    "_csp_config_ro",
    "_csp_update_ro",
    "_csp_replace_ro",
    "_csp_exempt_ro",
)

_header: str | None = None


@receiver(setting_changed)
def _forget_header(*, setting, **kwargs):
    global _header
    if setting.startswith("CONTENT_SECURITY_POLICY"):
        _header = None


def site_header() -> str:
    global _header
    if _header is None:
        _header = build_policy()
    return _header


class CSPMiddleware(BaseCSPMiddleware):
    """django-csp 4.0 rebuilds the policy from settings for every response: a sixth
    of the time of a page served from the page cache. The result only differs when a
    view changes the policy or uses a nonce, and those responses (and DEBUG, report-only
    policies, excluded prefixes) still go through django-csp unchanged."""

    def process_response(self, request, response):
        policy = getattr(settings, "CONTENT_SECURITY_POLICY", None) or {}
        if (
            settings.DEBUG
            or getattr(request, "_csp_nonce", None) is not None
            or getattr(settings, "CONTENT_SECURITY_POLICY_REPORT_ONLY", None)
            or policy.get("EXCLUDE_URL_PREFIXES")
            or any(getattr(response, name, None) for name in PER_RESPONSE)
        ):
            return super().process_response(request, response)
        if HEADER not in response and (header := site_header()):
            response[HEADER] = header
        # As django-csp does: a nonce asked for after this point is an error.
        request.csp_nonce = CheckableLazyObject(self._csp_nonce_post_response)
        return response
