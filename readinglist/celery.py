"""The Celery application, wired as in Celery's "First steps with Django".

https://docs.celeryq.dev/en/stable/django/first-steps-with-django.html
"""

import logging
import logging.config
import os
from pathlib import Path

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


# The folders of kombu's filesystem transport (the default broker, settings).
BROKER_FOLDER_OPTIONS = (
    "data_folder_in", "data_folder_out", "control_folder", "processed_folder",
)  # fmt: skip


@app.on_after_configure.connect
def make_broker_folders(sender: Celery, **kwargs) -> None:
    """The filesystem transport does not create its folders, and every process that
    sends or receives (web, worker, beat, manage.py) needs them: make them as soon
    as the process reads the Celery configuration, before any task is sent."""
    options = sender.conf.broker_transport_options or {}
    for name in BROKER_FOLDER_OPTIONS:
        if folder := options.get(name):
            Path(folder).mkdir(parents=True, exist_ok=True)
