"""Celery tasks of the inbox: its emails and waking snoozed items. Thin: ids in, a service call, nothing
else (STYLE.md). The housekeeping scans are inbox.sweeps."""

from celery import shared_task

from inbox import notifications, services


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
