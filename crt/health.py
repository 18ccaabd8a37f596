"""/healthz: is the database reachable, is the broker reachable. No personal data, no auth."""

from django.conf import settings
from django.db import connection
from django.http import JsonResponse

from crt.celery import app as celery_app


def database_ok() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    except Exception:
        return False


def broker_ok() -> bool:
    try:
        with celery_app.connection_for_write(settings.CELERY_BROKER_URL) as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
            _ = conn.default_channel  # opens a channel: proves the broker answers, not only the socket
        return True
    except Exception:
        return False


def healthz(request):
    checks = {"database": database_ok(), "broker": broker_ok()}
    healthy = all(checks.values())
    body = {
        "status": "ok" if healthy else "unavailable",
        **{k: "ok" if v else "unreachable" for k, v in checks.items()},
    }
    return JsonResponse(body, status=200 if healthy else 503)
