"""Rate-limit counters, kept in the database rather than in the cache.

A page-cache flood under ``maxmemory`` evicts keys, and ``maxmemory-policy`` is set per
Redis instance, so counters living beside the pages could be evicted and a client
would get its quota back. Rows in the database are never evicted, cost one indexed
``UPDATE`` per attempt, and keep working while Redis is down.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class RateLimitCounter(models.Model):
    """Attempts by one client (``key``: scope and identity hash) in one window."""

    key = models.CharField(_("键"), max_length=120)
    window = models.BigIntegerField(
        _("时间窗"), help_text=_("窗口序号：Unix 秒数 ÷ 窗口长度。")
    )
    count = models.PositiveIntegerField(_("次数"), default=0)

    class Meta:
        verbose_name = _("限流计数")
        verbose_name_plural = pgettext_lazy("plural", "限流计数")
        constraints = [
            models.UniqueConstraint(
                fields=["key", "window"], name="ratelimitcounter_unique_window"
            ),
        ]
        indexes = [models.Index(fields=["window"], name="ratelimitcounter_window_idx")]

    def __str__(self):
        return f"{self.key} @ {self.window}: {self.count}"
