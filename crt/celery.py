"""The Celery app. Tasks take primary keys and call services; see STYLE.md."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crt.settings")

app = Celery("crt")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
app.autodiscover_tasks(related_name="sweeps")  # the beat-scheduled scans of due rows


@app.task(name="crt.ping")
def ping() -> str:
    """Answer "pong": used by the worker smoke test and by operators checking a worker."""
    return "pong"
