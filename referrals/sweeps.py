"""The beat-scheduled chase of overdue referrals (CELERY_BEAT_SCHEDULE "chase-referrals")."""

from celery import shared_task

from referrals import chase


@shared_task(name="referrals.chase_referrals")
def chase_referrals() -> dict[str, int]:
    """Move every overdue referral one step up its chase ladder; safe to run twice, even at once."""
    return chase.chase_due_referrals()
