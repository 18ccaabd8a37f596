"""The sweeps' alerts: who gets one, and raising it. The referral chase (referrals.chase) and the
follow-ups' sweep (cases.follow_up_sweep) raise their items here, through inbox.services.raise_item,
with one cause key per subject, kind and level (the keys are listed in inbox.services).

Recipients: "the navigator" is the first active of the people the sweep names (the case's navigator,
else the referral's creator; a follow-up's owner, else the case's navigator). "A supervisor" is the
program's active supervisor with the lowest id (inbox.services.supervisor_id), looked up once per
program per pass: one named person owns each item, and every supervisor of the program still sees
it through Item.objects.visible_to. With no such person the recipient is empty and the item is seen
by supervisors and staff admins only.
"""

from datetime import datetime

from inbox.models import Kind
from inbox.services import first_active_id, raise_item, supervisor_id


class Recipients:
    """Who gets an alert, looked up once per program per pass."""

    def __init__(self) -> None:
        self._supervisors: dict[int, int | None] = {}

    def supervisor_id(self, program_id: int) -> int | None:
        if program_id not in self._supervisors:
            self._supervisors[program_id] = supervisor_id(program_id)
        return self._supervisors[program_id]

    first_active_id = staticmethod(first_active_id)


def raise_alert(
    *,
    kind: str,
    level: int,
    program_id: int,
    recipient_id: int | None,
    now: datetime,
    referral=None,
    follow_up=None,
    is_urgent: bool = False,
) -> None:
    """Make sure the one inbox item of this kind and level for the subject (a referral, or a
    follow-up with its case loaded) is open."""
    if referral is not None:
        step = "no_outcome" if kind == Kind.APPOINTMENT_NO_OUTCOME else f"unanswered:{level}"
        subject = {"referral": referral, "individual_id": referral.individual_id}
        cause_key = f"referral:{referral.pk}:{step}"
    else:
        subject = {"follow_up": follow_up, "individual_id": follow_up.case.individual_id}
        cause_key = f"follow_up:{follow_up.pk}:overdue:{level}"
    raise_item(
        kind=kind,
        level=level,
        cause_key=cause_key,
        program_id=program_id,
        recipient_id=recipient_id,
        now=now,
        is_urgent=is_urgent,
        **subject,
    )
