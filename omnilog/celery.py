"""The Celery application. Workers and beat read the same settings as the web process."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "omnilog.settings.local")

app = Celery("omnilog")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# omnilog.analytics is a package of the project, not an app: its tasks module is named here.
app.autodiscover_tasks(["omnilog.analytics"])
