"""``ld_json``: a JSON-LD block, escaped like Django's ``json_script``.

A ``<script type="application/ld+json">`` is data, not script: the CSP does not need
to allow it. Its JSON still must not end the element early, so <, > and & are
written as \\u escapes (valid JSON, the same text once parsed).
"""

import json

from django import template
from django.utils.html import format_html
from django.utils.safestring import mark_safe

register = template.Library()

_ESCAPES = {ord(">"): "\\u003E", ord("<"): "\\u003C", ord("&"): "\\u0026"}


@register.filter(is_safe=True)
def ld_json(value) -> str:
    text = json.dumps(value, ensure_ascii=False, sort_keys=True).translate(_ESCAPES)
    return format_html(
        '<script type="application/ld+json">{}</script>', mark_safe(text)
    )
