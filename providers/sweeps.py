"""The beat-scheduled purge of old Idempotency-Key records (CELERY_BEAT_SCHEDULE "purge-idempotency-keys").

It lives here because crt is not an installed app, so Celery's autodiscovery would not find a
crt/tasks.py; IdempotencyRecord is a providers model.
"""

from celery import shared_task
from django.utils import timezone

from crt import idempotency


@shared_task(name="crt.purge_idempotency_keys", ignore_result=True)
def purge_idempotency_keys() -> int:
    """Delete keys older than IDEMPOTENCY_TTL (24 hours); safe to run twice, even at once."""
    return idempotency.purge_expired(timezone.now())
