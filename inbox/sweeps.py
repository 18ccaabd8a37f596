"""The inbox's beat-scheduled housekeeping scans (inbox.housekeeping): consents ending under open
referrals, high-risk people without contact, stale partner capacity, old items purged. Thin tasks.

Apart from inbox.tasks because they read cases, referrals and the directory, which the inbox's items
and emails (below them, docs/decisions/017-layers.md) must not import."""

from celery import shared_task

from inbox import housekeeping


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
