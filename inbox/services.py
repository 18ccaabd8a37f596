"""Raising, acting on and resolving inbox items. Every write of an Item or ItemEvent is here.

Raising (`raise_item`) is an INSERT in a savepoint: the unique index over unresolved items with the
same cause_key (inbox_item_one_open) decides whether it exists, not a SELECT before it. Two beat
processes that make the same step at the same time cannot both raise it; the loser's insert waits
for the winner's transaction and then fails, and the savepoint keeps the caller's transaction whole.

Items resolve by themselves when their cause does (`resolve_caused`), from the services where the
cause ends: referrals.services (a partner answers, the sender cancels: it raises the answer's item
too), cases.services (a contact is
logged, a follow-up dismissed, a case closed). A person resolves, acknowledges, snoozes or (a
supervisor) reassigns an item they can see (`Item.objects.visible_to`); every change writes one
ItemEvent, the item's history.

Cause keys, one line per kind (ids only):

    referral:<id>:unanswered:<level>     referral:<id>:no_outcome       referral:<id>:declined
    referral:<id>:completed              referral:<id>:failed           referral:<id>:consent_ended
    delivery:<id>:dead                   follow_up:<id>:overdue:<level>
    case:<id>:no_contact:<last reached contact id or 0>                 consent:<id>:expiring:<referral id>
    break_glass:<grant id>
"""

import logging
from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from accounts.roles import may_oversee_inbox, staff, supervisors
from crt.scoping import system_read
from inbox.models import ACTIVE_STATES, Item, ItemEvent, Kind, State

logger = logging.getLogger(__name__)

NOTE_MAX_LENGTH = 1000
# The kinds a referral's answer from the partner (any status change) ends (referrals.services).
CHASE_KINDS = (Kind.REFERRAL_UNANSWERED, Kind.APPOINTMENT_NO_OUTCOME)


def _error(message: str, code: str) -> ValidationError:
    return ValidationError(message, code=code)


# --- who gets an item -----------------------------------------------------------------------------


def supervisor_id(program_id: int) -> int | None:
    """The program's active supervisor with the lowest id: one named owner; every supervisor of the
    program still sees the item (Item.objects.visible_to)."""
    return (
        supervisors(get_user_model().objects.filter(program_id=program_id, is_active=True))
        .order_by("pk")
        .values_list("pk", flat=True)
        .first()
    )


def first_active_id(*users) -> int | None:
    """The first of these users (None for nobody) who is active: a deactivated account gets no item."""
    for user in users:
        if user is not None and user.is_active:
            return user.pk
    return None


def navigator_id(referral) -> int | None:
    """The case's navigator, else the referral's creator, if active."""
    return first_active_id(referral.case.navigator if referral.case_id else None, referral.created_by)


# --- raising ----------------------------------------------------------------------------------------


def raise_item(
    *,
    kind: str,
    cause_key: str,
    program_id: int,
    recipient_id: int | None,
    now: datetime | None = None,
    level: int = 1,
    is_urgent: bool = False,
    once: bool = False,
    **subject,
) -> Item | None:
    """Open the one item for this cause unless one is open already; returns it, or None when it was
    there. `once`: not again after a person resolved it either (for causes a periodic job finds
    again and again until they end, such as a consent about to expire)."""
    now = now or timezone.now()
    if once and Item.objects.system("has this cause raised an item before").filter(cause_key=cause_key).exists():
        return None
    item = Item(
        kind=kind,
        cause_key=cause_key,
        program_id=program_id,
        recipient_id=recipient_id,
        level=level,
        is_urgent=is_urgent,
        created_at=now,
        **subject,
    )
    try:
        with transaction.atomic():  # a savepoint: the duplicate must not spoil the caller's transaction
            item.save(force_insert=True)
    except IntegrityError:
        return None  # open already (inbox_item_one_open)
    ItemEvent.objects.create(item=item, action=ItemEvent.Action.RAISED, at=now, to_user_id=recipient_id)
    if is_urgent:
        from inbox import notifications

        notifications.queue_urgent(item, now=now)
    return item


def raise_referral_item(referral, *, kind: str, cause_key: str, now: datetime | None = None, **options) -> Item | None:
    """raise_item for an item about a referral: its program, its person, for its navigator (navigator_id)."""
    return raise_item(
        kind=kind,
        cause_key=cause_key,
        program_id=referral.program_id,
        recipient_id=navigator_id(referral),
        now=now,
        referral=referral,
        individual_id=referral.individual_id,
        **options,
    )


def resolve_caused(*, now: datetime | None = None, kinds=None, note: str = "", **subject) -> int:
    """Resolve the unresolved items of a subject (referral=, follow_up=, individual=, ...) whose cause
    has ended; returns how many. Writes an AUTO_RESOLVED event for each."""
    now = now or timezone.now()
    caused = Item.objects.system("the system resolves the items whose cause has ended")
    items = caused.filter(**subject).unresolved()
    if kinds is not None:
        items = items.filter(kind__in=list(kinds))
    ids = list(items.values_list("pk", flat=True))
    if not ids:
        return 0
    with transaction.atomic():
        ids = list(
            caused.select_for_update().filter(pk__in=ids).unresolved().order_by("pk").values_list("pk", flat=True)
        )
        caused.filter(pk__in=ids).update(
            state=State.RESOLVED, resolved_at=now, resolved_by=None, resolution_note=note, snoozed_until=None
        )
        ItemEvent.objects.bulk_create(
            [ItemEvent(item_id=pk, action=ItemEvent.Action.AUTO_RESOLVED, at=now, note=note) for pk in ids]
        )
    return len(ids)


# --- the causes, as the services where they happen call them ----------------------------------------


def referral_outcome_given(referral, *, now: datetime | None = None) -> None:
    """An appointment set or an outcome recorded: the 'appointment passed with no outcome' item ends."""
    resolve_caused(referral=referral, kinds=[Kind.APPOINTMENT_NO_OUTCOME], now=now, note="The partner gave an outcome.")


def follow_up_answered(follow_up, *, now: datetime | None = None, note: str = "A contact was logged.") -> None:
    """A reached contact answered the follow-up, or it was dismissed: its overdue items end."""
    resolve_caused(follow_up=follow_up, kinds=[Kind.FOLLOW_UP_OVERDUE], now=now, note=note)


def person_reached(case, *, now: datetime | None = None) -> None:
    """A reached contact on the case: the 'high-risk person not contacted' items of its person end."""
    resolve_caused(
        individual_id=case.individual_id, kinds=[Kind.HIGH_RISK_NO_CONTACT], now=now, note="A contact was logged."
    )


def case_closed(case, *, now: datetime | None = None) -> None:
    now = now or timezone.now()
    resolve_caused(follow_up__case=case, kinds=[Kind.FOLLOW_UP_OVERDUE], now=now, note="The case was closed.")
    resolve_caused(
        individual_id=case.individual_id, kinds=[Kind.HIGH_RISK_NO_CONTACT], now=now, note="The case was closed."
    )


def consent_ended(referral, *, now: datetime | None = None) -> None:
    """The navigator's item when an open referral's consent ended (referrals.services.stop_chase_consent_ended)."""
    _consent_item(referral, Kind.CONSENT_ENDED, f"referral:{referral.pk}:consent_ended", now=now)


def consent_expiring(referral, *, now: datetime | None = None) -> Item | None:
    """The navigator's item when an open referral's consent is about to expire (inbox.housekeeping.consents)."""
    return _consent_item(
        referral, Kind.CONSENT_EXPIRING, f"consent:{referral.consent_id}:expiring:{referral.pk}", now=now
    )


def _consent_item(referral, kind: str, cause_key: str, *, now: datetime | None) -> Item | None:
    # once: the daily sweep finds the same consent again until the referral closes
    return raise_referral_item(
        referral, kind=kind, cause_key=cause_key, now=now, once=True, consent_id=referral.consent_id
    )


def break_glass_started(grant, *, now: datetime | None = None) -> None:
    """One item for the program's supervisor (every supervisor of the program sees it)."""
    raise_item(
        kind=Kind.BREAK_GLASS_USED,
        cause_key=f"break_glass:{grant.pk}",
        program_id=grant.program_id,
        recipient_id=supervisor_id(grant.program_id),
        now=now,
        break_glass=grant,
        individual_id=grant.individual_id,
    )


# --- a person acting on an item -----------------------------------------------------------------------


def _locked(item, by) -> Item:
    pk = item.pk if isinstance(item, Item) else item
    found = Item.objects.visible_to(by).select_for_update().filter(pk=pk).first()
    if found is None:
        raise _error("Item not found.", "not_found")
    return found


def _note(value, *, required: bool = False) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise _error("The note must be text.", "invalid")
    value = value.strip()
    if len(value) > NOTE_MAX_LENGTH:
        raise _error(f"The note is longer than {NOTE_MAX_LENGTH} characters.", "invalid")
    if required and not value:
        raise _error("Say what was done: a note is required to resolve an item.", "note_required")
    return value


def _event(item: Item, action: str, by, now: datetime, **fields) -> None:
    ItemEvent.objects.create(item=item, action=action, at=now, by=by, **fields)


@transaction.atomic
def open_item(item, *, by) -> Item:
    """Reading an item the first time is recorded (opened_at, an OPENED event); later reads write nothing."""
    locked = _locked(item, by)
    if locked.opened_at is None and locked.recipient_id == by.pk:
        now = timezone.now()
        locked.opened_at = now
        locked.save(update_fields=["opened_at"])
        _event(locked, ItemEvent.Action.OPENED, by, now)
    return locked


@transaction.atomic
def acknowledge_item(item, *, by) -> Item:
    locked = _locked(item, by)
    if locked.state == State.RESOLVED:
        raise _error("This item is already resolved.", "invalid_transition")
    if locked.state == State.ACKNOWLEDGED:
        return locked
    now = timezone.now()
    locked.state = State.ACKNOWLEDGED
    locked.snoozed_until = None
    locked.save(update_fields=["state", "snoozed_until"])
    _event(locked, ItemEvent.Action.ACKNOWLEDGED, by, now)
    return locked


@transaction.atomic
def resolve_item(item, *, by, note) -> Item:
    note = _note(note, required=True)
    locked = _locked(item, by)
    if locked.state == State.RESOLVED:
        return locked  # resolving twice changes nothing
    now = timezone.now()
    locked.state = State.RESOLVED
    locked.resolved_at = now
    locked.resolved_by = by
    locked.resolution_note = note
    locked.snoozed_until = None
    locked.save(update_fields=["state", "resolved_at", "resolved_by", "resolution_note", "snoozed_until"])
    _event(locked, ItemEvent.Action.RESOLVED, by, now, note=note)
    return locked


MAX_SNOOZE_DAYS = 30


@transaction.atomic
def snooze_item(item, *, by, until: datetime) -> Item:
    if not isinstance(until, datetime) or timezone.is_naive(until):
        raise _error("Say until when.", "invalid")
    now = timezone.now()
    if until <= now:
        raise _error("Snooze until a time in the future.", "invalid")
    if until > now + timedelta(days=MAX_SNOOZE_DAYS):
        raise _error(f"Snooze for at most {MAX_SNOOZE_DAYS} days.", "invalid")
    locked = _locked(item, by)
    if locked.state == State.RESOLVED:
        raise _error("This item is already resolved.", "invalid_transition")
    locked.state = State.SNOOZED
    locked.snoozed_until = until
    locked.save(update_fields=["state", "snoozed_until"])
    _event(locked, ItemEvent.Action.SNOOZED, by, now, snoozed_until=until)
    return locked


def colleagues(user):
    """Who an item can be given to: active staff of the user's program."""
    return staff(get_user_model().objects.filter(program_id=user.program_id, is_active=True)).order_by(
        "last_name", "first_name", "username"
    )


@transaction.atomic
def reassign_item(item, *, by, to) -> Item:
    if not may_oversee_inbox(by):
        raise _error("Only a supervisor can reassign an item.", "forbidden")
    locked = _locked(item, by)
    to_pk = to.pk if hasattr(to, "pk") else to
    if not colleagues(by).filter(pk=to_pk).exists():
        raise _error("Choose a colleague of this program.", "invalid")
    if locked.state == State.RESOLVED:
        raise _error("This item is already resolved.", "invalid_transition")
    if locked.recipient_id == to_pk:
        return locked
    now = timezone.now()
    locked.recipient_id = to_pk
    locked.opened_at = None
    if locked.state == State.SNOOZED:
        locked.state, locked.snoozed_until = State.OPEN, None
    locked.save(update_fields=["recipient", "opened_at", "state", "snoozed_until"])
    _event(locked, ItemEvent.Action.REASSIGNED, by, now, to_user_id=to_pk)
    return locked


@system_read("snoozed inbox items wake")
def wake_snoozed(now: datetime | None = None) -> int:
    """Snoozed items whose time has come are open again (beat: inbox.wake_snoozed). Idempotent."""
    now = now or timezone.now()
    with transaction.atomic():
        ids = list(
            Item.objects.select_for_update(skip_locked=True)
            .filter(state=State.SNOOZED, snoozed_until__lte=now)
            .values_list("pk", flat=True)[:5000]
        )
        Item.objects.filter(pk__in=ids, state=State.SNOOZED).update(state=State.OPEN, snoozed_until=None)
        ItemEvent.objects.bulk_create([ItemEvent(item_id=pk, action=ItemEvent.Action.WOKE, at=now) for pk in ids])
    return len(ids)


# --- reading ---------------------------------------------------------------------------------------------


def _count_sql() -> str:
    table = Item._meta.db_table
    column = {field.name: field.column for field in Item._meta.concrete_fields}
    states = ", ".join("%s" for _ in ACTIVE_STATES)
    where = f'"{column["recipient"]}" = %s AND "{column["program"]}" = %s AND "{column["state"]}" IN ({states})'
    return f'SELECT COUNT(*) FROM "{table}" WHERE {where}'  # noqa: S608 (our own names, values are parameters)


_COUNT_SQL = _count_sql()


def count_for(user) -> int:
    """The navigation's count, on every staff page: one query, answered by the inbox_item_active index
    alone (an index-only scan). The statement is made once, from the model, at import: building the
    equal ORM query on every page cost more than running it (bench/inbox_count.py). It counts exactly
    Item.objects.filter(recipient=user, program_id=user.program_id, state__in=ACTIVE_STATES)."""
    if getattr(user, "program_id", None) is None:
        return 0
    with connection.cursor() as cursor:
        cursor.execute(_COUNT_SQL, [user.pk, user.program_id, *ACTIVE_STATES])
        return cursor.fetchone()[0]
