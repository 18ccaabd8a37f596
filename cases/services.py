"""Case workflow. Every change of a Case, FollowUp, Contact or SafetyPlan goes through this module.

    Case:      open ──first reached contact──► active follow-up ──close(reason)──► closed
               open ──close(reason)──► closed            (closed is final; open a new case instead)
    FollowUp:  open ──a reached contact answers it──► done (done_at = when the contact happened)
               open ──mark_follow_up_missed, not before due_at + program.follow_up_grace──► missed
    SafetyPlan: versions are never edited; saving makes version n+1 current and n not current.

Follow-up schedule: opening a case creates one follow-up per rule of its program's schedule
(cases.models.FollowUpRule, edited by staff admins), due that long after the encounter (when the
team cleared the scene, else arrived, else the call came in; without an encounter, when the case
was opened), owned by the navigator or the peer as the rule says. Labels are unique per case, so
opening the same encounter's case again returns that case and adds nothing. A new program starts
with DEFAULT_FOLLOW_UP_RULES, the schedule that was hard-coded before rules could be edited:

    | disposition / risk    | follow-ups                                                        |
    |-----------------------|-------------------------------------------------------------------|
    | any (the default)     | 24h, 72h, 7d, 30d                                                 |
    | unable to locate      | 24h only: one more try to find the person, then a new decision    |
    | high risk (any disp.) | adds 4h: a same-day check after a high-risk screen                |

A reached contact answers the follow-up it names, or else the earliest open or missed one that is
due within EARLY_ANSWER of when the contact happened (a call a few hours ahead of the clock counts;
a call on day one does not use up the 7-day check). An attempt that did not reach the person
answers none. A missed follow-up stays on the lists until a reached contact completes it or someone
dismisses it with a reason (dismiss_follow_up).

Closing a case closes out its schedule: follow-ups already due are marked missed (they were owed
and not done, which the metrics must show) and, with the missed ones, dismissed with the closing
reason; follow-ups not yet due are deleted (nothing was owed), and the open overdue inbox items of its
follow-ups are resolved. Open referrals must each be decided: left open or cancelled (through
cases.hooks, by referrals.services.cancel_referral). A case closed less than the program's
case_reopen_window ago can be reopened (a fresh schedule from the rules, labelled "24h+1" and so
on); an older one is not reopened: a new case is opened that points back at it (previous_case).

Who may do what (visibility is always `visible_to`; someone else's record is "not_found"):
- open a case: staff with cases.add_case (navigators, clinicians from the encounter, supervisors,
  staff admins); close or reopen one: cases.change_case (navigators, supervisors, staff admins);
- dismiss a missed follow-up: cases.change_case, or the follow-up's owner;
- log a contact, complete a follow-up: staff with cases.add_contact who can see the case (a peer
  sees only their caseload);
- reassign a case: supervisors only;
- save a safety plan: staff with cases.add_safetyplan who can see the case;
- mark a follow-up missed: the system (the follow-up sweep); it takes no actor.

Errors are Django ValidationErrors with a `code`: "not_found", "forbidden", "invalid" (bad input),
"invalid_transition" (a closed case, a done follow-up), "not_due". Nothing is written when one is
raised.
"""

from datetime import date, datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Max, Q
from django.utils import timezone

from accounts.models import User
from accounts.roles import may_be_navigator, may_be_peer, may_supervise_team
from cases import hooks
from cases.models import (
    Assessment,
    Case,
    Contact,
    Encounter,
    FollowUp,
    FollowUpRule,
    Individual,
    RiskLevel,
    SafetyPlan,
)
from crt.inputs import aware_datetime, clean_text, is_ahead
from inbox import services as inbox
from providers.models import NeedDomain

H = timedelta(hours=1)
# (disposition, risk level, label, offset, owner); "" is "any". The same rows as migration 0004.
DEFAULT_FOLLOW_UP_RULES: tuple[tuple[str, str, str, timedelta, str], ...] = (
    ("", "", "24h", 24 * H, FollowUpRule.Owner.NAVIGATOR),
    ("", "", "72h", 72 * H, FollowUpRule.Owner.NAVIGATOR),
    ("", "", "7d", 7 * 24 * H, FollowUpRule.Owner.NAVIGATOR),
    ("", "", "30d", 30 * 24 * H, FollowUpRule.Owner.NAVIGATOR),
    ("", RiskLevel.HIGH, "4h", 4 * H, FollowUpRule.Owner.NAVIGATOR),
    (Encounter.Disposition.UNABLE_TO_LOCATE, "", "24h", 24 * H, FollowUpRule.Owner.NAVIGATOR),
    (Encounter.Disposition.UNABLE_TO_LOCATE, RiskLevel.HIGH, "4h", 4 * H, FollowUpRule.Owner.NAVIGATOR),
)
EARLY_ANSWER = timedelta(hours=12)
_RISK_ORDER = [RiskLevel.NONE, RiskLevel.LOW, RiskLevel.MODERATE, RiskLevel.HIGH]


def add_default_follow_up_rules(program) -> None:
    """Give a program with no rules yet the default schedule (a new program, through cases.apps)."""
    if FollowUpRule.objects.filter(program=program).exists():
        return
    FollowUpRule.objects.bulk_create(
        FollowUpRule(program=program, disposition=d, risk_level=r, label=label, offset=offset, owner=owner)
        for d, r, label, offset, owner in DEFAULT_FOLLOW_UP_RULES
    )


def follow_up_schedule(*, program_id: int, disposition: str, risk_level: str) -> list[FollowUpRule]:
    """The rules that apply to a case of this program, disposition and risk (FollowUpRule's docstring),
    earliest first, one per label."""
    rules = list(FollowUpRule.objects.filter(program_id=program_id).order_by("offset", "pk"))
    own = [rule for rule in rules if disposition and rule.disposition == disposition]
    chosen = own or [rule for rule in rules if rule.disposition == ""]
    by_label: dict[str, FollowUpRule] = {}
    for rule in chosen:
        if rule.risk_level in ("", risk_level):
            by_label.setdefault(rule.label, rule)
    return list(by_label.values())


# --- shared checks ------------------------------------------------------------------------------


def _error(message: str, code: str) -> ValidationError:
    return ValidationError(message, code=code)


def _staff(by) -> User:
    if not isinstance(by, User):
        raise _error("The actor must be a staff user.", "invalid")
    return by


def _require_perm(by: User, perm: str, action: str) -> None:
    if not by.has_perm(perm):
        raise _error(f"Your role cannot {action}.", "forbidden")


def _visible_case(case, by: User) -> Case:
    """The case's row, locked, if `by` may see it; not_found otherwise."""
    if not isinstance(case, Case):
        raise _error("Expected a case.", "invalid")
    return _visible_case_by_pk(case.pk, by)


def _visible_case_by_pk(pk: int | None, by: User) -> Case:
    found = Case.objects.visible_to(by).select_for_update().filter(pk=pk).first() if pk is not None else None
    if found is None:
        raise _error("Case not found.", "not_found")
    return found


def _require_open(case: Case) -> None:
    if case.status == Case.Status.CLOSED:
        raise _error("This case is closed; open a new case instead.", "invalid_transition")


# field -> (may a user be it, the role's name in the refusal)
_TEAM_PLACES = {
    "navigator": (may_be_navigator, "navigator"),
    "peer specialist": (may_be_peer, "peer recovery specialist"),
}


def _team_member(user, case_program_id: int, field: str) -> User | None:
    if user is None:
        return None
    if not isinstance(user, User) or not user.is_active or user.program_id != case_program_id:
        raise _error(f"The {field} must be an active member of this program.", "invalid")
    may_be, role_name = _TEAM_PLACES[field]
    if not may_be(user):
        raise _error(f"The {field} must have the {role_name} role.", "invalid")
    return user


# --- opening a case -----------------------------------------------------------------------------


def _schedule_base(case: Case, encounter: Encounter | None) -> datetime:
    if encounter is None:
        return case.opened_at
    return encounter.cleared_at or encounter.on_scene_at or encounter.call_received_at


def encounter_risk(encounter: Encounter | None) -> str | None:
    if encounter is None:
        return None
    levels = set(
        Assessment.objects.system("the screens' risk levels, for a case's risk")
        .filter(encounter=encounter)
        .exclude(risk_level="")
        .values_list("risk_level", flat=True)
    )
    known = [level for level in _RISK_ORDER if level in levels]
    return known[-1] if known else None


def _create_schedule(case: Case, *, base: datetime | None = None, suffix: str = "") -> None:
    disposition = case.encounter.disposition if case.encounter_id else ""
    base = base or _schedule_base(case, case.encounter)
    owners = {
        FollowUpRule.Owner.NAVIGATOR: case.navigator or case.peer,
        FollowUpRule.Owner.PEER: case.peer or case.navigator,
    }
    for rule in follow_up_schedule(program_id=case.program_id, disposition=disposition, risk_level=case.risk_level):
        FollowUp.objects.system("the case's schedule, made with the case").get_or_create(
            case=case,
            label=f"{rule.label}{suffix}"[:30],
            defaults={"due_at": base + rule.offset, "owner": owners[rule.owner]},
        )


@transaction.atomic
def open_case(
    *,
    individual: Individual,
    by: User,
    encounter: Encounter | None = None,
    navigator: User | None = None,
    peer: User | None = None,
    risk_level: str | None = None,
) -> Case:
    """Put someone on a caseload, with their follow-up schedule. The navigator defaults to `by`
    when `by` is a navigator; the risk level to the highest the encounter's screens found, else the
    person's recorded one. Opening the same encounter's case again returns that case."""
    by = _staff(by)
    if not isinstance(individual, Individual):
        raise _error("Expected a person.", "invalid")
    if encounter is not None and not isinstance(encounter, Encounter):
        raise _error("Expected an encounter.", "invalid")
    if risk_level is not None and risk_level not in RiskLevel.values:
        raise _error("Unknown risk level.", "invalid")
    # Locking the person serialises opening their cases, so a double submit finds the first case.
    person = Individual.objects.visible_to(by).select_for_update().filter(pk=individual.pk).first()
    if person is None:
        raise _error("Person not found.", "not_found")
    _require_perm(by, "cases.add_case", "open a case")
    if encounter is not None:
        encounter = Encounter.objects.visible_to(by).filter(pk=encounter.pk).first()
        if encounter is None:
            raise _error("Encounter not found.", "not_found")
        if encounter.individual_id not in (None, person.pk):
            raise _error("That encounter is about someone else.", "invalid")
        # Whoever may see it: opening the same encounter's case twice returns the first one.
        existing = Case.objects.system("the encounter's case").filter(encounter=encounter, individual=person).first()
        if existing is not None:
            return existing  # its schedule was made with it (rules changed since apply to new cases)
    if navigator is None and may_be_navigator(by):
        navigator = by
    navigator = _team_member(navigator, person.program_id, "navigator")
    peer = _team_member(peer, person.program_id, "peer specialist")

    case = Case.objects.create(
        program_id=person.program_id,
        individual=person,
        encounter=encounter,
        navigator=navigator,
        peer=peer,
        risk_level=risk_level or encounter_risk(encounter) or person.risk_level,
        opened_at=timezone.now(),
    )
    _create_schedule(case)
    return case


# --- contacts and follow-ups --------------------------------------------------------------------


def _needs(values) -> list[str]:
    if isinstance(values, str) or not hasattr(values, "__iter__"):
        raise _error("Needs identified must be a list of need domains.", "invalid")
    needs = list(dict.fromkeys(values))
    unknown = [need for need in needs if need not in NeedDomain.values]
    if unknown:
        raise _error("Unknown need domain.", "invalid")
    return needs


def _open_follow_up(follow_up, case: Case) -> FollowUp:
    if not isinstance(follow_up, FollowUp):
        raise _error("Expected a follow-up.", "invalid")
    locked = case.follow_ups.select_for_update().filter(pk=follow_up.pk).first()
    if locked is None:
        raise _error("Follow-up not found on this case.", "not_found")
    if locked.done_at is not None or locked.dismissed_at is not None:
        raise _error("That follow-up is already done or dismissed.", "invalid_transition")
    return locked


def _answerable(case: Case, at: datetime) -> FollowUp | None:
    return (
        case.follow_ups.select_for_update()
        .outstanding()
        .filter(due_at__lte=at + EARLY_ANSWER)
        .order_by("due_at", "pk")
        .first()
    )


def _complete(follow_up: FollowUp, at: datetime) -> None:
    """Done when the contact happened; a missed one leaves the missed lists (missed_at keeps that it was)."""
    follow_up.done_at = at
    follow_up.is_missed = False
    follow_up.save(update_fields=["done_at", "is_missed"])
    inbox.follow_up_answered(follow_up)


@transaction.atomic
def log_contact(
    case: Case,
    *,
    by: User,
    occurred_at: datetime,
    method: str,
    outcome: str,
    note: str = "",
    duration_minutes: int | None = None,
    needs_identified=(),
    next_step: str = "",
    follow_up: FollowUp | None = None,
) -> Contact:
    """Log a call, visit, text or video. Reaching the person answers a due follow-up."""
    by = _staff(by)
    occurred_at = aware_datetime(occurred_at, "contact time")
    if is_ahead(occurred_at):
        raise _error("A contact cannot be in the future.", "invalid")
    if method not in Contact.Method.values or outcome not in Contact.Outcome.values:
        raise _error("Unknown contact method or outcome.", "invalid")
    if duration_minutes is not None and (
        isinstance(duration_minutes, bool) or not isinstance(duration_minutes, int) or not 0 <= duration_minutes <= 1440
    ):
        raise _error("The duration must be a whole number of minutes up to a day.", "invalid")
    note = clean_text(note, "note", max_length=1000)
    next_step = clean_text(next_step, "next step", max_length=300)
    needs = _needs(needs_identified)

    case = _visible_case(case, by)
    _require_perm(by, "cases.add_contact", "log a contact")
    _require_open(case)
    reached = outcome == Contact.Outcome.REACHED
    if follow_up is not None:
        follow_up = _open_follow_up(follow_up, case)
    if not reached:
        follow_up = None  # an attempt answers no follow-up
    elif follow_up is None:
        follow_up = _answerable(case, occurred_at)

    contact = Contact.objects.create(
        case=case,
        made_by=by,
        occurred_at=occurred_at,
        method=method,
        outcome=outcome,
        duration_minutes=duration_minutes,
        note=note,
        needs_identified=needs,
        next_step=next_step,
        follow_up=follow_up,
    )
    if follow_up is not None:
        _complete(follow_up, occurred_at)
    if reached:
        inbox.person_reached(case)
    if reached and case.status == Case.Status.OPEN:
        case.status = Case.Status.ACTIVE_FOLLOW_UP
        case.save(update_fields=["status", "updated_at"])
    return contact


@transaction.atomic
def complete_follow_up(follow_up: FollowUp, *, by: User, contact: Contact) -> FollowUp:
    """Count an already logged reached contact as the answer to this follow-up."""
    by = _staff(by)
    if not isinstance(follow_up, FollowUp) or not isinstance(contact, Contact):
        raise _error("Expected a follow-up and a contact.", "invalid")
    case = _visible_case_by_pk(follow_up.case_id, by)
    _require_perm(by, "cases.add_contact", "complete a follow-up")
    locked_contact = case.contacts.select_for_update().filter(pk=contact.pk).first()
    if locked_contact is None:
        raise _error("Contact not found on this case.", "not_found")
    if locked_contact.follow_up_id == follow_up.pk:
        return case.follow_ups.get(pk=follow_up.pk)  # already done by this contact
    locked = _open_follow_up(follow_up, case)
    if locked_contact.outcome != Contact.Outcome.REACHED:
        raise _error("Only a contact that reached the person completes a follow-up.", "invalid")
    if locked_contact.follow_up_id is not None:
        raise _error("That contact already completed another follow-up.", "invalid")
    locked_contact.follow_up = locked
    locked_contact.save(update_fields=["follow_up"])
    _complete(locked, locked_contact.occurred_at)
    return locked


@transaction.atomic
def dismiss_follow_up(follow_up: FollowUp, *, by: User, reason: str) -> FollowUp:
    """Take a missed follow-up off the lists without a contact, saying why. Navigators and
    supervisors (cases.change_case) may, and the follow-up's owner. Dismissing it again changes nothing."""
    by = _staff(by)
    if not isinstance(follow_up, FollowUp):
        raise _error("Expected a follow-up.", "invalid")
    reason = clean_text(reason, "reason", max_length=300)
    if not reason:
        raise _error("Say why the follow-up is dismissed.", "invalid")
    case = _visible_case_by_pk(follow_up.case_id, by)
    locked = case.follow_ups.select_for_update().filter(pk=follow_up.pk).first()
    if locked is None:
        raise _error("Follow-up not found on this case.", "not_found")
    if not by.has_perm("cases.change_case") and locked.owner_id != by.pk:
        raise _error("Only its owner, a navigator or a supervisor can dismiss a follow-up.", "forbidden")
    if locked.dismissed_at is not None:
        return locked
    if not locked.is_missed:
        raise _error("Only a missed follow-up can be dismissed.", "invalid_transition")
    locked.dismissed_at = timezone.now()
    locked.dismissed_by = by
    locked.dismissed_reason = reason
    locked.save(update_fields=["dismissed_at", "dismissed_by", "dismissed_reason"])
    inbox.follow_up_answered(locked, note="The follow-up was dismissed.")
    return locked


@transaction.atomic
def mark_follow_up_missed(follow_up: FollowUp, *, at: datetime) -> FollowUp:
    """The system gives up on a follow-up. One done (or missed) in the meantime stays as it is."""
    at = aware_datetime(at, "time")
    if not isinstance(follow_up, FollowUp):
        raise _error("Expected a follow-up.", "invalid")
    locked = (
        FollowUp.objects.system("the follow-up sweep gives up on a follow-up")
        .select_for_update()
        .select_related("case__program")
        .filter(pk=follow_up.pk)
        .first()
    )
    if locked is None:
        raise _error("Follow-up not found.", "not_found")
    if locked.done_at is not None or locked.is_missed:
        return locked
    if at < locked.due_at + locked.case.program.follow_up_grace:
        raise _error("This follow-up is still within its grace period.", "not_due")
    locked.is_missed = True
    locked.missed_at = at
    locked.save(update_fields=["is_missed", "missed_at"])
    return locked


# --- the caseload -------------------------------------------------------------------------------


@transaction.atomic
def reassign_case(case: Case, *, by: User, navigator: User | None = None, peer: User | None = None) -> Case:
    """Give a case to another navigator and/or peer; their open follow-ups move with it."""
    by = _staff(by)
    case = _visible_case(case, by)
    if not may_supervise_team(by):
        raise _error("Only a supervisor can reassign a case.", "forbidden")
    if navigator is None and peer is None:
        raise _error("Name a navigator or a peer specialist.", "invalid")
    _require_open(case)
    navigator = _team_member(navigator, case.program_id, "navigator")
    peer = _team_member(peer, case.program_id, "peer specialist")
    fields = []
    open_follow_ups = case.follow_ups.filter(done_at__isnull=True, is_missed=False)
    if navigator is not None and navigator.pk != case.navigator_id:
        open_follow_ups.filter(Q(owner__isnull=True) | Q(owner_id=case.navigator_id)).update(owner=navigator)
        case.navigator = navigator
        fields.append("navigator")
    if peer is not None and peer.pk != case.peer_id:
        if case.peer_id is not None:
            open_follow_ups.filter(owner_id=case.peer_id).update(owner=peer)
        case.peer = peer
        fields.append("peer")
    if fields:
        case.save(update_fields=[*fields, "updated_at"])
    return case


class ReferralDecision(models.TextChoices):
    """What closing a case does with each of its open referrals."""

    KEEP = "keep", "Leave it open"
    CANCEL = "cancel", "Cancel it"


def referrals_to_decide(case: Case):
    """The case's referrals that closing it must decide on (leave open or cancel), oldest first."""
    return hooks.referrals().to_decide(case)


def _decisions(value, case: Case) -> dict[int, str]:
    if value is None:
        value = {}
    if not isinstance(value, dict) or any(
        isinstance(pk, bool) or not isinstance(pk, int) or decision not in ReferralDecision.values
        for pk, decision in value.items()
    ):
        raise _error("Decide each open referral: keep or cancel, by referral id.", "invalid")
    pending = set(referrals_to_decide(case).values_list("pk", flat=True))
    if set(value) - pending:
        raise _error("That referral is not an open referral of this case.", "invalid")
    if pending - set(value):
        raise _error("Decide each open referral before closing: leave it open or cancel it.", "invalid")
    return value


@transaction.atomic
def close_case(case: Case, *, by: User, reason: str, referrals: dict[int, str] | None = None) -> Case:
    """Close a case with a reason, close out its schedule, and leave open or cancel each open
    referral as `referrals` ({referral id: "keep" or "cancel"}) says; every one must be decided."""
    by = _staff(by)
    if reason not in Case.ClosedReason.values:
        raise _error("Unknown reason for closing.", "invalid")
    case = _visible_case(case, by)
    _require_perm(by, "cases.change_case", "close a case")
    if case.status == Case.Status.CLOSED:
        if case.closed_reason == reason:
            return case  # a repeated close changes nothing
        raise _error("This case is already closed.", "invalid_transition")
    decisions = _decisions(referrals, case)
    now = timezone.now()
    note = f"Case closed: {Case.ClosedReason(reason).label}."
    for referral in referrals_to_decide(case).filter(pk__in=[pk for pk, d in decisions.items() if d == "cancel"]):
        hooks.referrals().cancel(referral, by=by, reason=note)
    open_follow_ups = case.follow_ups.filter(done_at__isnull=True, is_missed=False)
    open_follow_ups.filter(due_at__lte=now).update(is_missed=True, missed_at=now)
    open_follow_ups.filter(due_at__gt=now, inbox_items__isnull=True).delete()
    open_follow_ups.filter(due_at__gt=now).update(is_missed=True, missed_at=now)  # any the sweeps raised items on
    case.follow_ups.missed().update(dismissed_at=now, dismissed_by=by, dismissed_reason=note)
    inbox.case_closed(case, now=now)
    case.status = Case.Status.CLOSED
    case.closed_reason = reason
    case.closed_at = now
    case.save(update_fields=["status", "closed_reason", "closed_at", "updated_at"])
    return case


def _still_on_team(user: User | None, program_id: int, may_be) -> User | None:
    if user is None or not user.is_active or user.program_id != program_id or not may_be(user):
        return None
    return user


def can_reopen(case: Case, now: datetime) -> bool:
    """Whether a closed case is recent enough to open again (else reopen_case opens a linked one)."""
    return closed_within(case.closed_at, case.program.case_reopen_window, now)


def closed_within(closed_at: datetime | None, window: timedelta, now: datetime) -> bool:
    """can_reopen's rule on the values alone (the person page reads them without a Case)."""
    return closed_at is not None and now - closed_at < window


@transaction.atomic
def reopen_case(case: Case, *, by: User) -> Case:
    """The person is back soon after the case closed. Within the program's case_reopen_window the
    case opens again with a fresh schedule from the rules, counted from now; after it, a new case is
    opened with the same navigator and peer (while they are still on the team), pointing back at
    this one. Returns the case that is open; asking twice opens nothing more."""
    by = _staff(by)
    case = _visible_case(case, by)
    _require_perm(by, "cases.change_case", "reopen a case")
    if case.status != Case.Status.CLOSED:
        raise _error("This case is open.", "invalid_transition")
    later = Case.objects.visible_to(by).filter(previous_case=case).open().order_by("-opened_at").first()
    if later is not None:
        return later
    now = timezone.now()
    if can_reopen(case, now):
        case.status = Case.Status.ACTIVE_FOLLOW_UP if case.contacts.exists() else Case.Status.OPEN
        case.closed_reason = ""
        case.closed_at = None
        case.times_reopened += 1
        case.save(update_fields=["status", "closed_reason", "closed_at", "times_reopened", "updated_at"])
        _create_schedule(case, base=now, suffix=f"+{case.times_reopened}")
        return case
    navigator = _still_on_team(case.navigator, case.program_id, may_be_navigator)
    later = open_case(
        individual=case.individual,
        by=by,
        navigator=navigator,
        peer=_still_on_team(case.peer, case.program_id, may_be_peer),
    )
    later.previous_case = case
    later.save(update_fields=["previous_case", "updated_at"])
    return later


# --- safety plans -------------------------------------------------------------------------------

ENVIRONMENT_STEP_STATUSES = ("to_do", "in_progress", "done")
PARTICIPANT_ROLES = ("individual", "family", "caregiver", "staff")
ITEM_MAX_LENGTH = 300
MAX_ITEMS = 50
# section -> (required keys, optional keys) of each entry; None: a list of plain strings.
SECTIONS: dict[str, tuple[frozenset[str], frozenset[str]] | None] = {
    "warning_signs": None,
    "coping_strategies": None,
    "distractions": (frozenset({"name"}), frozenset({"phone", "place"})),
    "help_contacts": (frozenset({"name"}), frozenset({"phone", "relationship"})),
    "professional_contacts": (frozenset({"name"}), frozenset({"phone", "note"})),
    "environment_steps": (frozenset({"method", "step"}), frozenset({"who", "status"})),
    "participants": (frozenset({"name", "role"}), frozenset()),
}
# the six sections of the plan proper (participants are who made it, not part of it)
PLAN_SECTIONS = tuple(section for section in SECTIONS if section != "participants")
TEXT_SECTIONS = {"most_important": 5000, "copy_kept_at": 200}
_ALL_SECTIONS = (*SECTIONS, *TEXT_SECTIONS, "review_on")


def _clean_item(value, section: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _error(f"Every entry of {section} must be non-empty text.", "invalid")
    if len(value) > ITEM_MAX_LENGTH:
        raise _error(f"Entries of {section} must be at most {ITEM_MAX_LENGTH} characters.", "invalid")
    return value.strip()


def _clean_section(section: str, value):
    if section in TEXT_SECTIONS:
        return clean_text(value, section.replace("_", " "), max_length=TEXT_SECTIONS[section])
    if section == "review_on":
        if value is not None and (not isinstance(value, date) or isinstance(value, datetime)):
            raise _error("The review date must be a date.", "invalid")
        return value
    if not isinstance(value, list | tuple) or len(value) > MAX_ITEMS:
        raise _error(f"{section} must be a list of at most {MAX_ITEMS} entries.", "invalid")
    shape = SECTIONS[section]
    if shape is None:
        return [_clean_item(item, section) for item in value]
    required, optional = shape
    cleaned = []
    for entry in value:
        if not isinstance(entry, dict) or not required <= entry.keys() or not entry.keys() <= required | optional:
            keys = ", ".join(sorted(required)) + (
                f" (and optionally {', '.join(sorted(optional))})" if optional else ""
            )
            raise _error(f"Each entry of {section} needs {keys}, and nothing else.", "invalid")
        cleaned.append({key: _clean_item(item, section) for key, item in entry.items()})
    if section == "environment_steps" and any(
        entry.get("status", "to_do") not in ENVIRONMENT_STEP_STATUSES for entry in cleaned
    ):
        raise _error(f"A step's status is one of {', '.join(ENVIRONMENT_STEP_STATUSES)}.", "invalid")
    if section == "participants" and any(entry["role"] not in PARTICIPANT_ROLES for entry in cleaned):
        raise _error(f"A participant's role is one of {', '.join(PARTICIPANT_ROLES)}.", "invalid")
    return cleaned


@transaction.atomic
def save_safety_plan(case: Case, *, by: User, **sections) -> SafetyPlan:
    """Save a new version of the case's safety plan and make it current.

    Sections not given are carried over from the current version (pass an empty list to clear
    one). Saving exactly what the current version holds returns it and makes no new version. A plan
    whose six sections would all be empty is refused (code "empty_plan"): the current version stays.
    """
    by = _staff(by)
    unknown = set(sections) - set(_ALL_SECTIONS)
    if unknown:
        raise _error(f"Unknown safety-plan sections: {', '.join(sorted(unknown))}.", "invalid")
    cleaned = {section: _clean_section(section, value) for section, value in sections.items()}
    case = _visible_case(case, by)  # the lock on the case serialises version numbers
    _require_perm(by, "cases.add_safetyplan", "save a safety plan")
    _require_open(case)

    plans = SafetyPlan.objects.visible_to(by).filter(case=case)
    current = plans.filter(is_current=True).first()
    if current is None:
        content = {section: SafetyPlan._meta.get_field(section).get_default() for section in _ALL_SECTIONS}
    else:
        content = {section: getattr(current, section) for section in _ALL_SECTIONS}
    content.update(cleaned)
    if not any(content[section] for section in PLAN_SECTIONS):
        raise _error("An empty safety plan cannot be saved: fill in at least one of the six sections.", "empty_plan")
    if current is not None and all(getattr(current, section) == content[section] for section in _ALL_SECTIONS):
        return current
    if current is not None:
        current.is_current = False
        current.save(update_fields=["is_current"])
    latest = plans.aggregate(latest=Max("version"))["latest"] or 0
    return SafetyPlan.objects.create(case=case, version=latest + 1, is_current=True, created_by=by, **content)
