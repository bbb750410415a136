"""The Celery application, wired as in Celery's "First steps with Django".

https://docs.celeryq.dev/en/stable/django/first-steps-with-django.html
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "readinglist.settings")

app = Celery("readinglist")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
