"""Celery tasks of the inbox. Thin: ids in, a service call, nothing else (STYLE.md)."""

from celery import shared_task

from inbox import housekeeping, notifications, services


@shared_task(name="inbox.send_notification", acks_late=True, ignore_result=True)
def send_notification(notification_id: int) -> str:
    return notifications.send(notification_id)


@shared_task(name="inbox.send_notifications", ignore_result=True)
def send_notifications() -> dict:
    return dict(notifications.send_due())


@shared_task(name="inbox.queue_digests", ignore_result=True)
def queue_digests() -> int:
    return notifications.queue_digests()


@shared_task(name="inbox.wake_snoozed", ignore_result=True)
def wake_snoozed() -> int:
    return services.wake_snoozed()


@shared_task(name="inbox.check_consents", ignore_result=True)
def check_consents() -> dict:
    return housekeeping.consents()


@shared_task(name="inbox.high_risk_without_contact", ignore_result=True)
def high_risk_without_contact() -> int:
    return housekeeping.high_risk_without_contact()


@shared_task(name="inbox.nudge_stale_capacity", ignore_result=True)
def nudge_stale_capacity() -> int:
    return housekeeping.stale_capacity()


@shared_task(name="inbox.purge", ignore_result=True)
def purge() -> dict:
    return housekeeping.purge()
