"""Chasing: the clocks that run on open referrals and follow-ups (DESIGN.md §4).

Two beat-scheduled sweeps call this module: `referrals.chase_referrals` (chase_due_referrals) and
`cases.sweep_follow_ups` (sweep_due_follow_ups). Each reads only what is due, through the partial
indexes (`Referral.objects.due`, `FollowUp.objects.due`), in bounded batches ordered by due time,
and moves each row one step up its ladder. A step is claimed with one conditional UPDATE naming
the state the sweep saw; only the process whose UPDATE changed exactly one row makes the step's
effects, in the same transaction. The level stored on the row is the step's idempotency key: a
second beat, a duplicated tick or a redelivered task finds nothing left to claim, and the Alert
uniqueness constraints back that up.

Referral ladder (Referral.chase_level; the window is the program's referral_answer_window):

    0 -> 1  next_action_due_at passed: re-notify the partner (outbox event "referral.reminder";
            pull-only partners get no message, the referral is in their list) and push the due
            time one window from now. If the referral is accepted or in progress and its
            appointment has passed with no outcome, instead ask the partner for the outcome
            ("referral.outcome_requested"), give the navigator a follow-up "appt-<referral id>" on
            the case, due now, and raise APPOINTMENT_NO_OUTCOME (level 1) for the navigator.
    1 -> 2  a window later: REFERRAL_UNANSWERED level 2 for the navigator; push again.
    2 -> 3  a window later: REFERRAL_UNANSWERED level 3 for a supervisor; the next action now
            belongs to the supervisor and the due time is cleared, so the sweep stops reading the
            referral until a transition (referrals.services) sets a new due time and level 0.

Requested referrals and accepted / in-progress / on-hold ones that stall climb the same ladder with
the same alert kind: an Alert has no message of its own, and the referral it links to shows which
stage stalled. Every push counts from the moment of the step, not from the missed due time, so a
sweep that was down for a day does not rush a referral up the ladder in consecutive ticks.

Follow-up ladder (FollowUp.escalation_level; grace is the program's follow_up_grace):

    1       at due_at + grace: FOLLOW_UP_OVERDUE level 1 for its owner (else the case's navigator).
    2       at due_at + 2 x grace: FOLLOW_UP_OVERDUE level 2 for a supervisor.
    missed  at due_at + max(72 h, 3 x grace): is_missed and missed_at are set and the follow-up
            leaves the index. It stays on the staff lists as missed until a reached contact
            completes it or someone dismisses it (cases.services). Its alerts stay open until
            someone resolves them.

The levels count from due_at, not from the previous step, so one claim takes a follow-up to the
level its clock says, raising each alert it skipped on the way (see escalate_follow_up).

Recipients: "the navigator" is the case's navigator, else the referral's creator, if active.
"A supervisor" is the program's active supervisor with the lowest id: one named person owns each
alert (the constraints allow one alert per subject, kind and level), and every supervisor of the
program still sees it through Alert.objects.visible_to. With no such person the recipient is
empty and the alert is seen by supervisors and staff admins only.

Each step also bumps Referral.version and updated_at and writes a system ReferralEvent, like every
change made through referrals.services, so the referral's history shows the chase.

When the same step recurs for the same subject in a later cycle (a partner accepted, then stalled
again), the existing alert is raised again: reopened, re-addressed and re-dated, not duplicated.
"""

import logging
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from accounts.roles import Role
from cases.models import FollowUp
from referrals.models import Alert, Referral, ReferralEvent, Status
from referrals.outbox import enqueue_event

logger = logging.getLogger(__name__)

BATCH_SIZE = 500
# One pass stops after this many items; the next tick carries on where it stopped.
MAX_ITEMS_PER_PASS = 20_000
FOLLOW_UP_MISSED_AFTER = timedelta(hours=72)
LAST_REFERRAL_LEVEL = 3
APPOINTMENT_STATUSES = frozenset({Status.ACCEPTED, Status.IN_PROGRESS})
# What the referral's history says about each step (ReferralEvent.note; no personal data).
STEP_NOTES = {
    "reminded": "Chase: the partner was reminded.",
    "outcome_requested": "Chase: the appointment passed with no outcome; the partner was asked for it.",
    "navigator_alerted": "Chase: no answer from the partner; the navigator was alerted.",
    "supervisor_alerted": "Chase: still no answer from the partner; a supervisor was alerted.",
    "stopped": "Chase: stopped.",
}


class Recipients:
    """Who gets an alert, looked up once per program per pass."""

    def __init__(self) -> None:
        self._supervisors: dict[int, int | None] = {}

    def supervisor_id(self, program_id: int) -> int | None:
        if program_id not in self._supervisors:
            self._supervisors[program_id] = (
                get_user_model()
                .objects.filter(program_id=program_id, is_active=True, groups__name=Role.SUPERVISOR.label)
                .order_by("pk")
                .values_list("pk", flat=True)
                .first()
            )
        return self._supervisors[program_id]

    @staticmethod
    def first_active_id(*users) -> int | None:
        for user in users:
            if user is not None and user.is_active:
                return user.pk
        return None


def raise_alert(
    *,
    kind: str,
    level: int,
    program_id: int,
    recipient_id: int | None,
    now: datetime,
    referral: Referral | None = None,
    follow_up: FollowUp | None = None,
) -> None:
    """Make sure the one alert of this kind and level for the subject is open: reopen it if it was
    resolved, else create it; one that is already open is left as it is."""
    subject = {"referral": referral} if referral is not None else {"follow_up": follow_up}
    reopened = Alert.objects.filter(kind=kind, level=level, resolved_at__isnull=False, **subject).update(
        resolved_at=None, recipient_id=recipient_id, created_at=now
    )
    if not reopened:
        # ON CONFLICT DO NOTHING: the constraint, not a prior SELECT, says whether it exists.
        alert = Alert(kind=kind, level=level, program_id=program_id, recipient_id=recipient_id, **subject)
        Alert.objects.bulk_create([alert], ignore_conflicts=True)


# --- referrals ------------------------------------------------------------------------------


def due_referral_keys(now: datetime, *, limit: int | None = None):
    """Ids of overdue open referrals, oldest due first, at most `limit`: one read of the due range
    of the referral_due_open index, taken at the start of a pass."""
    due = Referral.objects.due(now).order_by("next_action_due_at", "pk")
    return due.values_list("pk", flat=True)[: limit or MAX_ITEMS_PER_PASS]


def due_referrals(
    now: datetime, *, batch_size: int | None = None, limit: int | None = None
) -> Iterator[list[Referral]]:
    """The overdue open referrals of one pass, in batches, loaded with what their steps need.

    The ids come first, in one bounded read; each batch is then loaded by id, still due (a
    transition or another sweep may have moved a row meanwhile; the claim checks again anyway).
    """
    batch_size = batch_size or BATCH_SIZE
    ids = list(due_referral_keys(now, limit=limit))
    for start in range(0, len(ids), batch_size):
        chunk = ids[start : start + batch_size]
        loaded = (
            Referral.objects.due(now)
            .select_related("program", "organization", "case__navigator", "created_by")
            .order_by()
            .in_bulk(chunk)
        )
        yield [loaded[pk] for pk in chunk if pk in loaded]


def chase_due_referrals(now: datetime | None = None, *, limit: int = MAX_ITEMS_PER_PASS) -> dict[str, int]:
    """Move every overdue referral one step up its ladder. Safe to run twice, even at once."""
    now = now or timezone.now()
    recipients = Recipients()
    counts: Counter[str] = Counter()
    for batch in due_referrals(now, limit=limit):
        for referral in batch:
            try:
                step = chase_referral(referral, now=now, recipients=recipients)
            except Exception:
                # One broken row must not hold up the rest; it stays due and is tried next tick.
                logger.exception("chase of referral %s failed", referral.pk)
                step = "failed"
            counts[step or "already_claimed"] += 1
    # Past the limit, failed, or claimed by another sweep that has not finished: for the next tick.
    still_due = Referral.objects.due(now).count()
    if still_due:
        counts["still_due"] = still_due
    logger.info("chase_referrals %s", dict(counts))
    return dict(counts)


def chase_referral(referral: Referral, *, now: datetime, recipients: Recipients) -> str | None:
    """Claim and make the next step of one overdue referral, as seen by the sweep.

    Returns the step made, or None when the referral changed since it was read (answered by the
    partner, or claimed by another sweep): then nothing is done.
    """
    seen_level = referral.chase_level
    window = referral.program.referral_answer_window
    if seen_level >= LAST_REFERRAL_LEVEL:
        # Only a hand-edited row gets here: stop reading it, and do nothing twice.
        step, changes = (
            "stopped",
            {"next_action_due_at": None, "next_action_owner": Referral.NextActionOwner.SUPERVISOR},
        )
    elif seen_level == LAST_REFERRAL_LEVEL - 1:
        step = "supervisor_alerted"
        changes = {
            "chase_level": LAST_REFERRAL_LEVEL,
            "next_action_due_at": None,
            "next_action_owner": Referral.NextActionOwner.SUPERVISOR,
        }
    else:
        if seen_level == 1:
            step = "navigator_alerted"
        elif _appointment_passed(referral, now):
            step = "outcome_requested"
        else:
            step = "reminded"
        changes = {
            "chase_level": seen_level + 1,
            "next_action_due_at": now + window,
            "next_action_owner": Referral.NextActionOwner.PARTNER,
        }
    with transaction.atomic(durable=True):
        # The claim: exactly the state we read, or somebody else got there first. Like every
        # change of a referral (referrals.services) it bumps the version and leaves an event.
        claimed = Referral.objects.filter(
            pk=referral.pk,
            version=referral.version,
            status=referral.status,
            chase_level=seen_level,
            next_action_due_at=referral.next_action_due_at,
        ).update(**changes, version=F("version") + 1, updated_at=now)
        if claimed != 1:
            return None
        for field, value in changes.items():
            setattr(referral, field, value)
        referral.version += 1
        referral.updated_at = now
        ReferralEvent.objects.create(
            referral=referral,
            actor_kind=ReferralEvent.ActorKind.SYSTEM,
            from_status=referral.status,
            to_status=referral.status,
            business_status=referral.business_status,
            note=STEP_NOTES[step],
        )
        _make_referral_step(referral, step, now=now, recipients=recipients)
    return step


def _appointment_passed(referral: Referral, now: datetime) -> bool:
    return (
        referral.status in APPOINTMENT_STATUSES
        and referral.appointment_at is not None
        and referral.appointment_at <= now
    )


def _navigator_id(referral: Referral) -> int | None:
    navigator = referral.case.navigator if referral.case_id else None
    return Recipients.first_active_id(navigator, referral.created_by)


def _make_referral_step(referral: Referral, step: str, *, now: datetime, recipients: Recipients) -> None:
    if step == "reminded":
        enqueue_event(referral, "referral.reminder")
    elif step == "outcome_requested":
        enqueue_event(referral, "referral.outcome_requested")
        navigator_id = _navigator_id(referral)
        if referral.case_id:
            follow_up = FollowUp(
                case_id=referral.case_id, label=f"appt-{referral.pk}", owner_id=navigator_id, due_at=now
            )
            FollowUp.objects.bulk_create([follow_up], ignore_conflicts=True)  # one per referral, ever
        raise_alert(
            kind=Alert.Kind.APPOINTMENT_NO_OUTCOME,
            level=1,
            program_id=referral.program_id,
            recipient_id=navigator_id,
            now=now,
            referral=referral,
        )
    elif step == "navigator_alerted":
        raise_alert(
            kind=Alert.Kind.REFERRAL_UNANSWERED,
            level=2,
            program_id=referral.program_id,
            recipient_id=_navigator_id(referral),
            now=now,
            referral=referral,
        )
    elif step == "supervisor_alerted":
        raise_alert(
            kind=Alert.Kind.REFERRAL_UNANSWERED,
            level=3,
            program_id=referral.program_id,
            recipient_id=recipients.supervisor_id(referral.program_id),
            now=now,
            referral=referral,
        )


# --- follow-ups -----------------------------------------------------------------------------


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
    batch_size = batch_size or BATCH_SIZE
    ready = ready_follow_ups(now).order_by("due_at", "pk")
    ids = list(ready.values_list("pk", flat=True)[: limit or MAX_ITEMS_PER_PASS])
    for start in range(0, len(ids), batch_size):
        chunk = ids[start : start + batch_size]
        loaded = (
            FollowUp.objects.due(now)
            .select_related("case__program", "case__navigator", "owner")
            .order_by()
            .in_bulk(chunk)
        )
        yield [loaded[pk] for pk in chunk if pk in loaded]


def sweep_due_follow_ups(now: datetime | None = None, *, limit: int = MAX_ITEMS_PER_PASS) -> dict[str, int]:
    """Move every overdue follow-up one step up its ladder. Safe to run twice, even at once."""
    now = now or timezone.now()
    recipients = Recipients()
    counts: Counter[str] = Counter()
    for batch in due_follow_ups(now, limit=limit):
        for follow_up in batch:
            try:
                step = escalate_follow_up(follow_up, now=now, recipients=recipients)
            except Exception:
                logger.exception("escalation of follow-up %s failed", follow_up.pk)
                step = "failed"
            counts[step or "already_claimed"] += 1
    still_due = ready_follow_ups(now).count()
    if still_due:
        counts["still_due"] = still_due
    logger.info("sweep_follow_ups %s", dict(counts))
    return dict(counts)


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
                kind=Alert.Kind.FOLLOW_UP_OVERDUE,
                level=new_level,
                program_id=case.program_id,
                recipient_id=recipient_id,
                now=now,
                follow_up=follow_up,
            )
    if is_missed:
        return "missed"
    return "owner_alerted" if level == 1 else "supervisor_alerted"
