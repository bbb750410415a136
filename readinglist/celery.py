"""The Celery application, wired as in Celery's "First steps with Django".

https://docs.celeryq.dev/en/stable/django/first-steps-with-django.html
"""

import logging
import logging.config
import os

from celery import Celery, signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "readinglist.settings")

app = Celery("readinglist")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@signals.setup_logging.connect
def use_django_logging(**kwargs):
    """Log the worker and beat through Django's LOGGING: one JSON object per line.

    With a receiver on this signal Celery configures no logger of its own (it would
    otherwise give ``celery.task`` a plain-text handler), and ``--loglevel`` is
    ignored: DJANGO_LOG_LEVEL applies. Warnings become log lines too.
    https://docs.celeryq.dev/en/stable/userguide/signals.html#setup-logging
    """
    from django.conf import settings

    logging.config.dictConfig(settings.LOGGING)
    logging.captureWarnings(True)
