"""Referral workflow. Every change of a Referral goes through this module.

The state machine (FHIR SDOH Clinical Care referral Task codes; the table is data in
referrals.models, enforced here):

    draft ──send──► requested ──accept──► accepted ──start──► in-progress ◄─hold/resume─► on-hold
      │                 ├──reject──► rejected        │                 │                    │
      │                 └──cancel──► cancelled       ├── complete / fail / cancel ◄─────────┘
      └──cancel──► cancelled                         └── hold (accepted → on-hold)

    every non-terminal status ──► entered-in-error
    terminal (never change again): rejected, cancelled, completed, failed, entered-in-error

Who may make a move:
- the sender: staff of the referral's program who can see it (`Referral.objects.visible_to`) and may
  make referrals. Sets requested, cancelled and entered-in-error (SENDER_SETS);
- the partner: a partner credential, or a partner user, of the referral's organisation. Sets accepted,
  rejected, in-progress, on-hold, completed and failed (PARTNER_SETS), and the business status,
  appointment and outcome note of an open referral;
- the system (the chase sweep, referrals.chase): moves the chase clock only (`chase_step`).
Someone who cannot see the referral gets the same "not_found" error as for a referral that does not
exist; someone who can see it but may not make that move gets "forbidden".

Every function returns the referral it was given, brought up to date with the row. Every change locks
the row (`select_for_update`), bumps `version`, saves only the fields it changed
and writes exactly one ReferralEvent (the chase step claims the row instead of locking it: see
`chase_step`). Repeating the move already made (same status) returns the
referral unchanged and writes nothing. A reason is required for rejected, cancelled, on-hold, failed
and entered-in-error.

The next action (who owes the next step, by when: the clock the chase sweep runs on), and
`chase_level` back to 0, on every status change:

    | change                        | owner   | due                                      |
    |-------------------------------|---------|------------------------------------------|
    | send (-> requested)           | partner | now + program.referral_answer_window     |
    | accept, start, resume, hold   | partner | now + 7 x referral_answer_window         |
    | set_appointment (no status)   | partner | appointment_at + program.follow_up_grace |
    | any terminal status           | (none)  | (none)                                   |

Errors are Django ValidationErrors whose `code` says what happened: "not_found", "forbidden",
"invalid" (bad input), "invalid_transition" (the table forbids it), "conflict" (the referral changed
since the caller read it, and the move is no longer legal), "reason_required", "no_consent",
"service_unavailable". Nothing is written when one is raised.

Outbox: sending, and cancelling or marking in error a referral that was sent, write a Delivery row
(`referrals.outbox.enqueue_event`) in the same transaction; pull-only partners get none.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from accounts.models import User
from accounts.roles import Kind, Scope, acts_for_partner, scope_for
from cases.models import Case, Individual
from crt.inputs import aware_datetime, clean_text
from inbox import services as inbox
from inbox.models import Kind as ItemKind
from providers.models import PartnerCredential, Service
from referrals import outbox
from referrals.consent import find_consent
from referrals.models import (
    OPEN,
    PARTNER_SETS,
    REASON_REQUIRED,
    SENDER_SETS,
    TERMINAL,
    TRANSITIONS,
    WORKING,
    Referral,
    ReferralEvent,
    Status,
)

Actor = User | PartnerCredential

# An open referral that is in the partner's hands gets this many answer windows before a chase.
WORKING_WINDOWS = 7
# How far from now an appointment may be: a partner may record one that just happened, not one
# from months ago (almost always a typo in the year), nor one years ahead.
APPOINTMENT_PAST_LIMIT = timedelta(days=30)
APPOINTMENT_FUTURE_LIMIT = timedelta(days=730)

# Reasons are stored in Referral.status_reason, notes in ReferralEvent.note.
REASON_MAX_LENGTH = 500
NOTE_MAX_LENGTH = 1000
# A status change the services add on top of TRANSITIONS, and which also needs a reason.
_ALSO_NEEDS_REASON = frozenset({Status.ENTERED_IN_ERROR})
# After the partner was told about a referral, these changes are announced to it too.
_ANNOUNCED = {
    Status.REQUESTED: "referral.requested",
    Status.CANCELLED: "referral.cancelled",
    Status.ENTERED_IN_ERROR: "referral.entered-in-error",
}
_VERBS = {
    Status.REQUESTED: "send",
    Status.ACCEPTED: "accept",
    Status.REJECTED: "reject",
    Status.CANCELLED: "cancel",
    Status.IN_PROGRESS: "start or resume",
    Status.ON_HOLD: "put on hold",
    Status.COMPLETED: "complete",
    Status.FAILED: "mark as failed",
    Status.ENTERED_IN_ERROR: "mark as entered in error",
}


# --- who is acting ------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Who:
    kind: str  # ReferralEvent.ActorKind
    user: User | None = None
    credential: PartnerCredential | None = None


def _who(by) -> _Who:
    if by is None:
        return _Who(ReferralEvent.ActorKind.SYSTEM)
    if isinstance(by, PartnerCredential):
        return _Who(ReferralEvent.ActorKind.PARTNER, credential=by)
    if isinstance(by, User):
        if acts_for_partner(by):
            return _Who(ReferralEvent.ActorKind.PARTNER, user=by)
        if by.program_id is not None:
            return _Who(ReferralEvent.ActorKind.STAFF, user=by)
        raise _not_found()  # an inactive partner user or a user of no program sees nothing
    raise ValidationError("The actor must be a user or a partner credential.", code="invalid")


def _not_found() -> ValidationError:
    return ValidationError("Referral not found.", code="not_found")


def _forbidden(message: str) -> ValidationError:
    return ValidationError(message, code="forbidden")


def _require_sender(who: _Who, action: str) -> None:
    if who.kind != ReferralEvent.ActorKind.STAFF:
        raise _forbidden(f"Only the referring program can {action} a referral.")
    if not who.user.has_perm("referrals.add_referral"):
        raise _forbidden(f"Your role cannot {action} a referral.")


def _require_partner(who: _Who, action: str) -> None:
    if who.kind != ReferralEvent.ActorKind.PARTNER:
        raise _forbidden(f"Only the partner agency can {action}.")


# --- input checks -------------------------------------------------------------------------------


def _referral_pk(referral) -> int:
    if not isinstance(referral, Referral):
        raise ValidationError("Expected a referral.", code="invalid")
    if referral.pk is None:
        raise _not_found()
    return referral.pk


def _lock(referral: Referral, by) -> Referral:
    """The referral's row, locked, as `by` may see it; not_found when they may not see it."""
    pk = _referral_pk(referral)
    rows = Referral.objects.system("a move the system makes") if by is None else Referral.objects.visible_to(by)
    locked = rows.select_for_update().filter(pk=pk).first()
    if locked is None:
        raise _not_found()
    return locked


# --- the table ----------------------------------------------------------------------------------


def is_legal(from_status: str, to_status: str) -> bool:
    """Whether the table allows this move (whoever makes it)."""
    if from_status in TERMINAL:
        return False
    if to_status == Status.ENTERED_IN_ERROR:
        return True
    return to_status in TRANSITIONS.get(from_status, frozenset())


def _label(status: str) -> str:
    return Status(status).label.lower()


def _illegal(seen_status: str, locked: Referral, to_status: str) -> ValidationError:
    """invalid_transition, or conflict when the move was legal from what the caller saw."""
    if seen_status != locked.status and is_legal(seen_status, to_status):
        return ValidationError(
            f"This referral became {_label(locked.status)} in the meantime; it cannot become {_label(to_status)} now.",
            code="conflict",
        )
    return ValidationError(
        f"A referral that is {_label(locked.status)} cannot become {_label(to_status)}.", code="invalid_transition"
    )


def _not_open(seen_status: str, locked: Referral, allowed: frozenset[str], what: str) -> ValidationError:
    if seen_status != locked.status and seen_status in allowed:
        return ValidationError(
            f"This referral became {_label(locked.status)} in the meantime; {what} cannot change now.", code="conflict"
        )
    return ValidationError(
        f"The {what} of a referral that is {_label(locked.status)} cannot change.", code="invalid_transition"
    )


def _refresh(referral: Referral, locked: Referral) -> Referral:
    """Bring the caller's instance up to date with the row, so it is not stale for its next move."""
    for field in Referral._meta.concrete_fields:
        setattr(referral, field.attname, getattr(locked, field.attname))
    return referral


def _set_next_action(referral: Referral, owner: str, due_at: datetime | None) -> list[str]:
    referral.next_action_owner = owner
    referral.next_action_due_at = due_at
    referral.chase_level = 0
    return ["next_action_owner", "next_action_due_at", "chase_level"]


def _save(referral: Referral, fields: list[str]) -> None:
    referral.version += 1
    referral.save(update_fields=[*dict.fromkeys(fields), "version", "updated_at"])


def _record(referral: Referral, who: _Who, *, from_status: str, note: str = "") -> ReferralEvent:
    return ReferralEvent.objects.create(
        referral=referral,
        actor_kind=who.kind,
        actor_user=who.user,
        actor_credential=who.credential,
        from_status=from_status,
        to_status=referral.status,
        business_status=referral.business_status,
        note=note[:NOTE_MAX_LENGTH],
    )


def _transition(
    referral: Referral, to_status: str, *, by, reason: str = "", note: str = "", outcome_note: str = ""
) -> Referral:
    """Move the referral to `to_status` by every rule in the module docstring. Call inside atomic."""
    who = _who(by)
    reason = clean_text(reason, "reason", max_length=REASON_MAX_LENGTH)
    note = clean_text(note, "note", max_length=NOTE_MAX_LENGTH)
    outcome_note = clean_text(outcome_note, "outcome note", max_length=NOTE_MAX_LENGTH)
    seen_status = referral.status if isinstance(referral, Referral) else None
    locked = _lock(referral, by)

    action = _VERBS[to_status]
    if who.kind == ReferralEvent.ActorKind.SYSTEM:
        raise _forbidden("The system cannot change a referral's status.")
    if to_status in SENDER_SETS:
        _require_sender(who, action)
    elif to_status in PARTNER_SETS:
        _require_partner(who, f"{action} a referral")

    if locked.status == to_status:
        return _refresh(referral, locked)  # repeating the move already made changes nothing
    if not is_legal(locked.status, to_status):
        raise _illegal(seen_status, locked, to_status)
    if (to_status in REASON_REQUIRED or to_status in _ALSO_NEEDS_REASON) and not reason:
        raise ValidationError(f"A reason is required to {action} a referral.", code="reason_required")

    now = timezone.now()
    from_status = locked.status
    window = locked.program.referral_answer_window
    locked.status = to_status
    locked.status_reason = reason
    fields = ["status", "status_reason"]

    if to_status == Status.REQUESTED:
        fields += _gate_and_request(locked, now)
    elif to_status in TERMINAL:
        fields += _set_next_action(locked, "", None)
    else:  # accepted, in-progress, on-hold: the partner is working on it
        fields += _set_next_action(locked, Referral.NextActionOwner.PARTNER, now + WORKING_WINDOWS * window)
    if from_status == Status.REQUESTED and locked.business_status == Referral.BusinessStatus.AWAITING_PARTNER:
        locked.business_status = ""  # the partner answered
        fields.append("business_status")
    if to_status in (Status.COMPLETED, Status.FAILED) and outcome_note:
        locked.outcome_note = outcome_note
        fields.append("outcome_note")

    _save(locked, fields)
    _record(locked, who, from_status=from_status, note=note or reason)
    if to_status in _ANNOUNCED and locked.requested_at is not None:
        outbox.enqueue_event(locked, _ANNOUNCED[to_status])
    _tell_inbox(locked, now=now)
    return _refresh(referral, locked)


# The item a partner's answer raises for the navigator.
_ANSWER_ITEMS = {
    Status.REJECTED: ItemKind.REFERRAL_DECLINED,
    Status.COMPLETED: ItemKind.REFERRAL_COMPLETED,
    Status.FAILED: ItemKind.REFERRAL_FAILED,
}


def _tell_inbox(referral: Referral, *, now: datetime) -> None:
    """Inside the transaction of every status change: the chase's items end (the partner answered), a
    closed referral's items all end, and a partner's refusal, completion or failure is an item for the
    navigator (urgent for a declined urgent referral)."""
    inbox.resolve_caused(referral=referral, kinds=inbox.CHASE_KINDS, now=now, note="The partner answered.")
    if referral.status in (Status.CANCELLED, Status.ENTERED_IN_ERROR):
        inbox.resolve_caused(referral=referral, now=now, note="The referral was closed.")
        return
    kind = _ANSWER_ITEMS.get(referral.status)
    if kind is None:
        return
    inbox.raise_referral_item(
        referral,
        kind=kind,
        cause_key=f"referral:{referral.pk}:{kind.removeprefix('referral_')}",
        now=now,
        is_urgent=kind == ItemKind.REFERRAL_DECLINED and referral.urgency == Referral.Urgency.URGENT,
    )


def _gate_and_request(referral: Referral, now: datetime) -> list[str]:
    """The checks at the moment of sending: an open service, and a consent that covers it."""
    service = referral.service
    if service.status != Service.Status.ACTIVE or not service.organization.is_active:
        raise ValidationError("This service is not taking referrals now.", code="service_unavailable")
    consent = find_consent(
        referral.individual,
        referral.organization,
        need_domain=referral.need_domain,
        includes_part2=referral.includes_part2,
        at=now,
    )
    if consent is None:
        what = "substance-use (42 CFR Part 2) information" if referral.includes_part2 else "this referral"
        raise ValidationError(
            f"No active consent covers sharing {what} with this partner.",
            code="no_consent",
        )
    referral.consent = consent
    referral.requested_at = now
    referral.business_status = Referral.BusinessStatus.AWAITING_PARTNER
    window = referral.program.referral_answer_window
    return [
        "consent",
        "requested_at",
        "business_status",
        *_set_next_action(referral, Referral.NextActionOwner.PARTNER, now + window),
    ]


# --- the sender ---------------------------------------------------------------------------------


@transaction.atomic
def create_referral(
    *,
    individual: Individual,
    service: Service,
    by: User,
    reason: str,
    urgency: str = Referral.Urgency.ROUTINE,
    case: Case | None = None,
    shares_contact_details: bool = True,
    includes_part2: bool = False,
) -> Referral:
    """A draft referral of someone `by` can see to an active service. Nothing is shared yet."""
    who = _who(by)
    _require_sender(who, "make")
    if scope_for(by, Kind.REFERRAL) is Scope.NONE:
        raise _forbidden("Your role cannot make referrals.")
    if not isinstance(individual, Individual) or not isinstance(service, Service):
        raise ValidationError("Expected a person and a service.", code="invalid")
    if case is not None and not isinstance(case, Case):
        raise ValidationError("Expected a case.", code="invalid")
    for name, flag in (("shares_contact_details", shares_contact_details), ("includes_part2", includes_part2)):
        if not isinstance(flag, bool):
            raise ValidationError(f"{name} must be true or false.", code="invalid")
    if urgency not in Referral.Urgency.values:
        raise ValidationError("Unknown urgency.", code="invalid")
    reason = clean_text(reason, "reason", max_length=10_000)
    if not reason:
        raise ValidationError("Say why the person is referred.", code="reason_required")

    # Another program's person or case is "not found", exactly like an id that does not exist.
    person = Individual.objects.visible_to(by).filter(pk=individual.pk).first()
    if person is None:
        raise ValidationError("Person not found.", code="not_found")
    if case is not None:
        case = Case.objects.visible_to(by).filter(pk=case.pk).first()
        if case is None:
            raise ValidationError("Case not found.", code="not_found")
        if case.individual_id != person.pk:
            raise ValidationError("That case is about someone else.", code="invalid")
    service = Service.objects.select_related("organization").filter(pk=service.pk).first()
    if service is None:
        raise ValidationError("Service not found.", code="not_found")
    if service.status != Service.Status.ACTIVE or not service.organization.is_active:
        raise ValidationError("This service is not taking referrals now.", code="service_unavailable")

    referral = Referral.objects.create(
        program_id=person.program_id,
        individual=person,
        case=case,
        service=service,
        organization=service.organization,
        need_domain=service.need_domain,
        urgency=urgency,
        reason=reason,
        shares_contact_details=shares_contact_details,
        includes_part2=includes_part2,
        status=Status.DRAFT,
        created_by=by,
    )
    _record(referral, who, from_status="")
    return referral


@transaction.atomic
def send_referral(referral: Referral, *, by: User) -> Referral:
    """draft → requested, if a consent covers it now; the partner is told through the outbox."""
    return _transition(referral, Status.REQUESTED, by=by)


@transaction.atomic
def cancel_referral(referral: Referral, *, by: User, reason: str) -> Referral:
    return _transition(referral, Status.CANCELLED, by=by, reason=reason)


@transaction.atomic
def mark_entered_in_error(referral: Referral, *, by: User, reason: str) -> Referral:
    return _transition(referral, Status.ENTERED_IN_ERROR, by=by, reason=reason)


# --- the partner --------------------------------------------------------------------------------


@transaction.atomic
def accept_referral(referral: Referral, *, by: Actor, note: str = "") -> Referral:
    return _transition(referral, Status.ACCEPTED, by=by, note=note)


@transaction.atomic
def reject_referral(referral: Referral, *, by: Actor, reason: str, note: str = "") -> Referral:
    return _transition(referral, Status.REJECTED, by=by, reason=reason, note=note)


@transaction.atomic
def start_referral(referral: Referral, *, by: Actor, note: str = "") -> Referral:
    """accepted → in-progress: the partner is working with the person."""
    return _transition(referral, Status.IN_PROGRESS, by=by, note=note)


@transaction.atomic
def hold_referral(referral: Referral, *, by: Actor, reason: str, note: str = "") -> Referral:
    return _transition(referral, Status.ON_HOLD, by=by, reason=reason, note=note)


@transaction.atomic
def resume_referral(referral: Referral, *, by: Actor, note: str = "") -> Referral:
    """on-hold → in-progress (the same move as start; the table says where it may come from)."""
    return _transition(referral, Status.IN_PROGRESS, by=by, note=note)


@transaction.atomic
def complete_referral(referral: Referral, *, by: Actor, outcome_note: str = "") -> Referral:
    return _transition(referral, Status.COMPLETED, by=by, note=outcome_note, outcome_note=outcome_note)


@transaction.atomic
def fail_referral(referral: Referral, *, by: Actor, reason: str, outcome_note: str = "") -> Referral:
    """The partner could not help: the reason is the status reason, the outcome note (optional) what
    was tried; one change, one event."""
    return _transition(referral, Status.FAILED, by=by, reason=reason, outcome_note=outcome_note)


def _open_change(referral: Referral, by, *, action: str, allowed=frozenset(), what: str):
    """Lock an open referral for a change that keeps its status. Returns (locked, who)."""
    who = _who(by)
    seen_status = referral.status if isinstance(referral, Referral) else None
    locked = _lock(referral, by)
    _require_partner(who, action)
    if locked.status not in allowed:
        raise _not_open(seen_status, locked, allowed, what)
    return locked, who


@transaction.atomic
def set_business_status(referral: Referral, *, by: Actor, business_status: str, note: str = "") -> Referral:
    """The partner's plain-words progress (trying to reach, waitlisted, enrolled, no-show...)."""
    if business_status not in Referral.BusinessStatus.values:
        raise ValidationError("Unknown business status.", code="invalid")
    note = clean_text(note, "note", max_length=NOTE_MAX_LENGTH)
    locked, who = _open_change(referral, by, action="report progress", allowed=OPEN, what="progress")
    if business_status == Referral.BusinessStatus.APPOINTMENT_SCHEDULED and locked.appointment_at is None:
        raise ValidationError("Set the appointment time to schedule an appointment.", code="invalid")
    if locked.business_status == business_status and not note:
        return _refresh(referral, locked)
    locked.business_status = business_status
    _save(locked, ["business_status"])
    _record(locked, who, from_status=locked.status, note=note)
    return _refresh(referral, locked)


@transaction.atomic
def set_appointment(referral: Referral, *, by: Actor, appointment_at: datetime) -> Referral:
    """Record the appointment; the next action is the partner's outcome, due after the grace."""
    appointment_at = aware_datetime(appointment_at, "appointment time")
    now = timezone.now()
    if appointment_at < now - APPOINTMENT_PAST_LIMIT:
        raise ValidationError("That appointment is too far in the past; check the date.", code="invalid")
    if appointment_at > now + APPOINTMENT_FUTURE_LIMIT:
        raise ValidationError("That appointment is too far ahead; check the date.", code="invalid")
    locked, who = _open_change(referral, by, action="schedule an appointment", allowed=WORKING, what="appointment")
    if locked.appointment_at == appointment_at:
        return _refresh(referral, locked)
    locked.appointment_at = appointment_at
    locked.business_status = Referral.BusinessStatus.APPOINTMENT_SCHEDULED
    due = appointment_at + locked.program.follow_up_grace
    fields = ["appointment_at", "business_status", *_set_next_action(locked, Referral.NextActionOwner.PARTNER, due)]
    _save(locked, fields)
    _record(locked, who, from_status=locked.status, note="Appointment scheduled.")
    inbox.referral_outcome_given(locked)
    return _refresh(referral, locked)


@transaction.atomic
def record_outcome_note(referral: Referral, *, by: Actor, note: str) -> Referral:
    note = clean_text(note, "note", max_length=NOTE_MAX_LENGTH)
    if not note:
        raise ValidationError("The outcome note is empty.", code="invalid")
    locked, who = _open_change(referral, by, action="report an outcome", allowed=OPEN, what="outcome")
    if locked.outcome_note == note:
        return _refresh(referral, locked)
    locked.outcome_note = note
    _save(locked, ["outcome_note"])
    _record(locked, who, from_status=locked.status, note=note)
    inbox.referral_outcome_given(locked)
    return _refresh(referral, locked)


# --- consent ended ------------------------------------------------------------------------------

CONSENT_ENDED_NOTE = "Consent revoked or expired: the referral is no longer chased."


def _consent_ended(consent, now: datetime) -> bool:
    if consent is None:
        return False
    revoked = consent.revoked_at is not None and consent.revoked_at <= now
    expired = consent.expires_at is not None and consent.expires_at <= now
    return revoked or expired


@transaction.atomic
def stop_chase_consent_ended(referral: Referral, *, now: datetime | None = None) -> bool:
    """The system's answer to a referral whose consent was revoked or has expired (issue 13 item 7):
    the chase clock stops (the next action is the navigator's, with no due time, so the sweep never
    reads it again), one system event says so, and the navigator gets a CONSENT_ENDED inbox item.
    The partner sees only that it was withdrawn: every partner read checks consent
    (referrals.consent.person_withheld) and the delivery worker cancels what is still queued.
    Returns True when it stopped the clock; a second call finds nothing to do."""
    now = now or timezone.now()
    rows = Referral.objects.system("the system stops the chase of a referral whose consent ended")
    locked = rows.select_for_update().filter(pk=_referral_pk(referral)).first()
    if locked is None or locked.status not in OPEN:
        return False
    if not _consent_ended(locked.consent, now):
        return False
    inbox.consent_ended(locked, now=now)
    if locked.next_action_due_at is None and locked.next_action_owner == Referral.NextActionOwner.NAVIGATOR:
        return False
    fields = _set_next_action(locked, Referral.NextActionOwner.NAVIGATOR, None)
    _save(locked, fields)
    _record(locked, _Who(ReferralEvent.ActorKind.SYSTEM), from_status=locked.status, note=CONSENT_ENDED_NOTE)
    inbox.resolve_caused(referral=locked, kinds=inbox.CHASE_KINDS, now=now, note=CONSENT_ENDED_NOTE)
    return True


# --- the chase clock ----------------------------------------------------------------------------


def chase_step(
    referral: Referral, *, now: datetime, owner: str, due_at: datetime | None, chase_level: int, note: str
) -> bool:
    """The system's step of the chase (referrals.chase): move the chase clock of an open referral, as
    the sweep read it. Never changes the status; nobody but the system moves the clock.

    Claimed with one conditional UPDATE naming the state the sweep read (version, status, level, due
    time), not a lock: True for the one process whose UPDATE changed the row, which has then bumped
    the version, written the system event and brought `referral` up to date, and makes the step's
    effects in the same transaction (call it inside the sweep's); False when the referral changed
    since it was read (answered by the partner, or claimed by another sweep): nothing is written.
    """
    if owner not in Referral.NextActionOwner.values:
        raise ValidationError("Unknown next-action owner.", code="invalid")
    if due_at is not None:
        due_at = aware_datetime(due_at, "due time")
    if isinstance(chase_level, bool) or not isinstance(chase_level, int) or chase_level < 0:
        raise ValidationError("The chase level must be a whole number from 0.", code="invalid")
    note = clean_text(note, "note", max_length=NOTE_MAX_LENGTH)
    _referral_pk(referral)
    if referral.status not in OPEN:
        raise ValidationError(f"A {_label(referral.status)} referral is not chased.", code="invalid_transition")
    with transaction.atomic(savepoint=False):  # inside the sweep's transaction: no savepoint needed
        claimed = (
            Referral.objects.system("the chase sweep claims its step")
            .filter(
                pk=referral.pk,
                version=referral.version,
                status=referral.status,
                chase_level=referral.chase_level,
                next_action_due_at=referral.next_action_due_at,
            )
            .update(
                next_action_owner=owner,
                next_action_due_at=due_at,
                chase_level=chase_level,
                version=F("version") + 1,
                updated_at=now,
            )
        )
        if claimed != 1:
            return False
        referral.next_action_owner, referral.next_action_due_at, referral.chase_level = owner, due_at, chase_level
        referral.version += 1
        referral.updated_at = now
        _record(referral, _Who(ReferralEvent.ActorKind.SYSTEM), from_status=referral.status, note=note)
    return True


def move_referrals_to_person(referral_ids: list[int], individual: Individual, *, now: datetime) -> int:
    """Point these referrals at another record of the same person (cases.people.merge_people and
    undo_merge, inside their transaction). The version moves on, so partners' ETags and their
    `_lastUpdated` syncs see the new subject."""
    return (
        Referral.objects.system("a merge moves the person's referrals")
        .filter(pk__in=referral_ids)
        .update(individual=individual, version=F("version") + 1, updated_at=now)
    )


# --- a case's own actions on its referrals (cases.hooks, registered in ReferralsConfig.ready) ---------

# Referrals a closing case must decide on: sent and not finished, or never sent.
UNDECIDED_ON_CLOSE = frozenset({*OPEN, Status.DRAFT})


def referrals_to_decide(case: Case):
    """The case's referrals that closing it must decide on (leave open or cancel), oldest first
    (cases.services.close_case)."""
    # Every one, whoever may see it: closing the case decides them all (all of them are visible to
    # whoever may close the case: the same program, or a peer's own caseload).
    undecided = Referral.objects.system("a case's undecided referrals, each decided when it closes")
    return undecided.filter(case=case, status__in=UNDECIDED_ON_CLOSE).order_by("created_at", "pk")


def consent_revoked(consent) -> None:
    """The closed loop at once, not at the next housekeeping run: each open referral sent under this
    just revoked consent stops being chased and its navigator is told (cases.intake.revoke_consent,
    inside its transaction; the hourly job is the safety net)."""
    under_consent = Referral.objects.system("every open referral sent under a revoked consent stops")
    for referral in under_consent.filter(consent=consent, status__in=OPEN).order_by("pk"):
        stop_chase_consent_ended(referral, now=max(consent.revoked_at, timezone.now()))
