"""The client's IP address as the last trusted reverse proxy saw it.

Each proxy in front of gunicorn appends the address of its peer to ``X-Forwarded-For``,
so with ``TRUSTED_PROXY_COUNT`` proxies the client is the entry that many places from
the right; anything further left was written by the client and can be forged. This is
werkzeug's ``ProxyFix(x_for=N)`` rule, used here by django-axes
(``AXES_CLIENT_IP_CALLABLE``) and available to rate limits.
https://werkzeug.palletsprojects.com/en/stable/middleware/proxy_fix/
"""

from django.conf import settings


def client_ip(request) -> str:
    """The peer address when no proxy is trusted, else the Nth ``X-Forwarded-For``
    entry from the right; ``REMOTE_ADDR`` if the header is shorter than promised."""
    remote_addr = request.META.get("REMOTE_ADDR", "")
    count = getattr(settings, "TRUSTED_PROXY_COUNT", 0)
    if count <= 0:
        return remote_addr
    forwarded = [
        part.strip()
        for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
        if part.strip()
    ]
    if len(forwarded) < count:
        return remote_addr
    return forwarded[-count]
