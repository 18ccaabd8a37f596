"""The beat-scheduled sweep of overdue follow-ups (CELERY_BEAT_SCHEDULE "sweep-follow-ups")."""

from celery import shared_task

from cases import follow_up_sweep


@shared_task(name="cases.sweep_follow_ups")
def sweep_follow_ups() -> dict[str, int]:
    """Escalate overdue follow-ups one step each, marking missed ones; safe to run twice, even at once."""
    return follow_up_sweep.sweep_due_follow_ups()
