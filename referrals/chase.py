"""Chasing: the clock that runs on open referrals (DESIGN.md §4), and the alerts the chases raise.

The beat-scheduled `referrals.chase_referrals` calls chase_due_referrals; the follow-ups' sweep
(cases.follow_up_sweep) runs the same way: one pass (crt.sweeps), alerts raised through
inbox.alerts (Recipients, raise_alert). Each reads only
what is due, through the partial indexes (`Referral.objects.due`, `FollowUp.objects.due`), in
bounded batches ordered by due time, and moves each row one step up its ladder. A step is claimed
with one conditional UPDATE naming the state the sweep saw; only the process whose UPDATE changed
exactly one row makes the step's effects, in the same transaction. The level stored on the row is
the step's idempotency key: a second beat, a duplicated tick or a redelivered task finds nothing
left to claim, and the inbox's unique index over unresolved items of one cause
(inbox.services.raise_item) backs that up.

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
the same item kind: an inbox item has no message of its own, and the referral it links to shows which
stage stalled. Every push counts from the moment of the step, not from the missed due time, so a
sweep that was down for a day does not rush a referral up the ladder in consecutive ticks.

Recipients (inbox.alerts): "the navigator" is the case's navigator, else the referral's creator, if
active (inbox.services.navigator_id); "a supervisor" is the program's active supervisor with the
lowest id. One unresolved item per cause: subject, kind and level.

Each step is claimed through referrals.services.chase_step, which bumps Referral.version and
updated_at and writes a system ReferralEvent, so the referral's history shows the chase.

When the same step recurs for the same subject in a later cycle (a partner accepted, then stalled
again), its earlier item was resolved when the partner answered, and a new item is raised; while one
is unresolved, raising it again does nothing. A follow-up missed by a high-risk case is urgent (an
email at once, inbox.notifications).
"""

from collections.abc import Iterator
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from cases.models import FollowUp  # the follow-up an appointment with no outcome gives the navigator
from crt.scoping import system_read
from crt.sweeps import MAX_ITEMS_PER_PASS, in_batches, run_pass
from inbox.alerts import Recipients, raise_alert
from inbox.models import Kind
from inbox.services import navigator_id
from referrals import services
from referrals.models import Referral, Status
from referrals.outbox import enqueue_event

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
    ids = list(due_referral_keys(now, limit=limit))
    load = Referral.objects.due(now).select_related("program", "organization", "case__navigator", "created_by")
    return in_batches(ids, load.order_by().in_bulk, batch_size=batch_size)


@system_read("the chase sweep reads every program's overdue referrals")
def chase_due_referrals(now: datetime | None = None, *, limit: int = MAX_ITEMS_PER_PASS) -> dict[str, int]:
    """Move every overdue referral one step up its ladder. Safe to run twice, even at once."""
    now = now or timezone.now()
    recipients = Recipients()
    return run_pass(
        "chase_referrals",
        due_referrals(now, limit=limit),
        lambda referral: chase_referral(referral, now=now, recipients=recipients),
        still_due=Referral.objects.due(now).count,
    )


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
        # The claim (referrals.services.chase_step): exactly the state we read, or somebody else got
        # there first. Like every change of a referral it bumps the version and leaves an event.
        claimed = services.chase_step(
            referral,
            now=now,
            owner=changes["next_action_owner"],
            due_at=changes["next_action_due_at"],
            chase_level=changes.get("chase_level", seen_level),
            note=STEP_NOTES[step],
        )
        if not claimed:
            return None
        _make_referral_step(referral, step, now=now, recipients=recipients)
    return step


def _appointment_passed(referral: Referral, now: datetime) -> bool:
    return (
        referral.status in APPOINTMENT_STATUSES
        and referral.appointment_at is not None
        and referral.appointment_at <= now
    )


def _make_referral_step(referral: Referral, step: str, *, now: datetime, recipients: Recipients) -> None:
    if step == "reminded":
        enqueue_event(referral, "referral.reminder")
    elif step == "outcome_requested":
        enqueue_event(referral, "referral.outcome_requested")
        navigator = navigator_id(referral)
        if referral.case_id:
            follow_up = FollowUp(case_id=referral.case_id, label=f"appt-{referral.pk}", owner_id=navigator, due_at=now)
            FollowUp.objects.bulk_create([follow_up], ignore_conflicts=True)  # one per referral, ever
        raise_alert(
            kind=Kind.APPOINTMENT_NO_OUTCOME,
            level=1,
            program_id=referral.program_id,
            recipient_id=navigator,
            now=now,
            referral=referral,
        )
    elif step == "navigator_alerted":
        raise_alert(
            kind=Kind.REFERRAL_UNANSWERED,
            level=2,
            program_id=referral.program_id,
            recipient_id=navigator_id(referral),
            now=now,
            referral=referral,
        )
    elif step == "supervisor_alerted":
        raise_alert(
            kind=Kind.REFERRAL_UNANSWERED,
            level=3,
            program_id=referral.program_id,
            recipient_id=recipients.supervisor_id(referral.program_id),
            now=now,
            referral=referral,
        )
