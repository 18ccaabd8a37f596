"""The follow-ups' sweep: the clock that runs on open follow-ups (DESIGN.md §4).

The beat-scheduled `cases.sweep_follow_ups` (cases.sweeps) calls sweep_due_follow_ups. It reads only
what is due, through the partial index (`FollowUp.objects.due`) with the program's grace applied in
SQL, in bounded batches ordered by due time, and moves each follow-up up its ladder. A step is
claimed with one conditional UPDATE naming the state the sweep saw; only the process whose UPDATE
changed exactly one row raises the step's inbox items, in the same transaction. A second beat, a
duplicated tick or a redelivered task finds nothing left to claim, and the inbox's unique index
over unresolved items of one cause backs that up (inbox.services.raise_item). Who gets each item,
and how one is raised, is shared with the referral chase (inbox.alerts: Recipients, raise_alert), and
so is the pass itself (crt.sweeps).

Follow-up ladder (FollowUp.escalation_level; grace is the program's follow_up_grace):

    1       at due_at + grace: FOLLOW_UP_OVERDUE level 1 for its owner (else the case's navigator).
    2       at due_at + 2 x grace: FOLLOW_UP_OVERDUE level 2 for a supervisor.
    missed  at due_at + max(72 h, 3 x grace): is_missed and missed_at are set and the follow-up
            leaves the index. It stays on the staff lists as missed until a reached contact
            completes it or someone dismisses it (cases.services). Its inbox items resolve with
            the contact or the dismissal.

The levels count from due_at, not from the previous step, so one claim takes a follow-up to the
level its clock says, raising each alert it skipped on the way (see escalate_follow_up).
"""

from collections.abc import Iterator
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from cases.models import FollowUp, RiskLevel
from crt.scoping import system_read
from crt.sweeps import MAX_ITEMS_PER_PASS, in_batches, run_pass
from inbox.alerts import Recipients, raise_alert
from inbox.models import Kind

FOLLOW_UP_MISSED_AFTER = timedelta(hours=72)


def ready_follow_ups(now: datetime):
    """Open follow-ups with a step due: the range comes from the followup_due_open index
    (due_at <= now); the per-program grace is applied to each row in SQL, so follow-ups still
    inside their grace are never returned."""
    grace = F("case__program__follow_up_grace")
    ready = FollowUp.objects.due(now).alias(step_1_at=F("due_at") + grace, step_2_at=F("due_at") + grace + grace)
    return ready.alias(step_missed_at=F("due_at") + grace + grace + grace).filter(
        Q(escalation_level=0, step_1_at__lte=now)
        | Q(escalation_level=1, step_2_at__lte=now)
        | Q(step_missed_at__lte=now, due_at__lte=now - FOLLOW_UP_MISSED_AFTER)
    )


def due_follow_ups(
    now: datetime, *, batch_size: int | None = None, limit: int | None = None
) -> Iterator[list[FollowUp]]:
    """The follow-ups of one pass, oldest due first, in batches (as due_referrals)."""
    ready = ready_follow_ups(now).order_by("due_at", "pk")
    ids = list(ready.values_list("pk", flat=True)[: limit or MAX_ITEMS_PER_PASS])
    load = FollowUp.objects.due(now).select_related("case__program", "case__navigator", "owner")
    return in_batches(ids, load.order_by().in_bulk, batch_size=batch_size)


@system_read("the follow-up sweep reads every program's overdue follow-ups")
def sweep_due_follow_ups(now: datetime | None = None, *, limit: int = MAX_ITEMS_PER_PASS) -> dict[str, int]:
    """Move every overdue follow-up one step up its ladder. Safe to run twice, even at once."""
    now = now or timezone.now()
    recipients = Recipients()
    return run_pass(
        "sweep_follow_ups",
        due_follow_ups(now, limit=limit),
        lambda follow_up: escalate_follow_up(follow_up, now=now, recipients=recipients),
        still_due=ready_follow_ups(now).count,
    )


def follow_up_step(due_at: datetime, grace: timedelta, now: datetime) -> tuple[int, bool]:
    """The escalation level and missed flag the clock gives a follow-up due at due_at."""
    overdue = now - due_at
    if overdue >= max(FOLLOW_UP_MISSED_AFTER, 3 * grace):
        return 2, True
    if overdue >= 2 * grace:
        return 2, False
    if overdue >= grace:
        return 1, False
    return 0, False


def escalate_follow_up(follow_up: FollowUp, *, now: datetime, recipients: Recipients) -> str | None:
    """Claim and make the steps one overdue follow-up is due for; None if it changed since it was read.

    A follow-up first seen far past its grace (a new deployment, a sweep that was down) climbs
    every level it missed in one claim, raising each level's alert, so no second pass at the same
    instant finds more to do.
    """
    case = follow_up.case
    seen_level = follow_up.escalation_level
    level, is_missed = follow_up_step(follow_up.due_at, case.program.follow_up_grace, now)
    level = max(level, seen_level)
    if level == seen_level and not is_missed:
        return None  # nothing due yet (the batch query only returns rows that have a step due)
    with transaction.atomic(durable=True):
        claimed = FollowUp.objects.filter(
            pk=follow_up.pk,
            escalation_level=seen_level,
            due_at=follow_up.due_at,
            done_at__isnull=True,
            is_missed=False,
        ).update(escalation_level=level, is_missed=is_missed, missed_at=now if is_missed else None)
        if claimed != 1:
            return None
        for new_level in range(seen_level + 1, level + 1):
            if new_level == 1:
                recipient_id = Recipients.first_active_id(follow_up.owner, case.navigator)
            else:
                recipient_id = recipients.supervisor_id(case.program_id)
            raise_alert(
                kind=Kind.FOLLOW_UP_OVERDUE,
                level=new_level,
                program_id=case.program_id,
                recipient_id=recipient_id,
                now=now,
                follow_up=follow_up,
                is_urgent=case.risk_level == RiskLevel.HIGH,  # an email at once (inbox.notifications)
            )
    if is_missed:
        return "missed"
    return "owner_alerted" if level == 1 else "supervisor_alerted"
