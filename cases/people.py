"""People: add, edit, find likely duplicates, merge (and undo), and the support network.

Every change of an Individual, a SupportContact or a PersonMerge made by staff goes through this
module (CAD intake creates people through `create_person_from_intake`). Reads: `find_duplicates`
(cases.matching's rule over the user's program), `resolve_person` (a merged-away id leads to the
person it was merged into).

Who may do what (visibility is always `visible_to`; someone else's record is "not_found"):
- add a person: cases.add_individual (navigators, clinicians, paramedics, supervisors);
- edit a person: cases.change_individual (the same roles);
- merge two records, undo a merge: supervisors only;
- add, edit, end a support contact: cases.add_supportcontact / change_supportcontact (navigators,
  peers on their caseload, clinicians, supervisors). Consent to contact one is a Consent naming them
  (cases.intake.record_consent, revoked with cases.intake.revoke_consent).

Duplicates: `add_person` refuses ("possible_duplicate") while the user's program holds a likely
duplicate, visible to the user or not, unless the caller says the person is new (`confirm_new`):
the page shows the likely ones first and a person decides. One the user may not see is counted and
never named or linked ("a possible match you cannot see": ask a supervisor).

Merging: every row of the merged-away record moves to the survivor (MOVED_RELATIONS), the
survivor's empty fields are filled from the other record, safety flags combine to the safer value,
and the merged-away record keeps its id with `merged_into` set. Its PersonMerge row says who, when,
why and what moved, and undo_merge moves those rows back. Rows that only record what happened to the
merged-away id (break-glass grants, the audit trail) stay where they are (KEPT_RELATIONS).

Errors are Django ValidationErrors with a `code`: "not_found", "forbidden", "invalid",
"possible_duplicate", "invalid_transition". Nothing is written when one is raised.
"""

from dataclasses import dataclass
from datetime import date, datetime

from django.apps import apps
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from accounts.models import User
from accounts.roles import is_program_staff, may_merge_people
from cases import hooks, matching
from cases.intake import revoke_consent
from cases.models import Consent, Individual, PersonMerge, RiskLevel, SupportContact
from crt.inputs import clean_text
from crt.validators import validate_date_of_birth

# --- shared checks ------------------------------------------------------------------------------


def _error(message: str, code: str = "invalid") -> ValidationError:
    return ValidationError(message, code=code)


def _staff(by) -> User:
    if not isinstance(by, User) or not is_program_staff(by):
        raise _error("Only program staff can do this.", "forbidden")
    return by


def _require_perm(by: User, perm: str, action: str) -> None:
    if not by.has_perm(perm):
        raise _error(f"Your role cannot {action}.", "forbidden")


def _require_merger(by: User, action: str) -> None:
    if not may_merge_people(by):
        raise _error(f"Only a supervisor can {action}.", "forbidden")


def _visible_person(person, by: User, *, lock: bool = False) -> Individual:
    if not isinstance(person, Individual) or person.pk is None:
        raise _error("Expected a person.")
    rows = Individual.objects.visible_to(by)
    if lock:
        rows = rows.select_for_update()
    found = rows.filter(pk=person.pk).first()
    if found is None:
        raise _error("Person not found.", "not_found")
    return found


def _not_merged(person: Individual) -> None:
    if person.merged_into_id is not None:
        raise _error("This record was merged into another; change that one instead.", "invalid_transition")


# --- a person's fields --------------------------------------------------------------------------

TEXT_FIELDS = {
    "legal_first_name": 100,
    "legal_last_name": 100,
    "preferred_name": 100,
    "pronouns": 40,
    "phone": 40,
    "address": 300,
    "where_staying": 300,
    "area": 100,
    "gender": 40,
    "cad_person_id": 50,
    "mrn": 50,
    "hmis_id": 50,
    "safe_contact_times": 200,
    "responder_safety_notes": 5000,
}
CHOICE_FIELDS = {
    "housing_status": Individual.HousingStatus,
    "race_ethnicity": Individual.RaceEthnicity,
}
OTHER_FIELDS = (
    "date_of_birth",
    "email",
    "primary_language",
    "needs_interpreter",
    "is_do_not_contact",
    "safe_contact_channels",
)
PERSON_FIELDS = (*TEXT_FIELDS, *CHOICE_FIELDS, *OTHER_FIELDS)


def _label(name: str) -> str:
    return str(Individual._meta.get_field(name).verbose_name)


def _clean_field(name: str, value):
    if name in TEXT_FIELDS:
        required = name in ("legal_first_name", "legal_last_name")
        return clean_text(value, _label(name), max_length=TEXT_FIELDS[name], required=required, none_is_empty=True)
    if name in CHOICE_FIELDS:
        if value not in CHOICE_FIELDS[name].values:
            raise _error(f"Unknown {_label(name)}.")
        return value
    if name == "date_of_birth":
        if value is None:
            return None
        if not isinstance(value, date) or isinstance(value, datetime):
            raise _error("The date of birth must be a date.")
        try:
            validate_date_of_birth(value)
        except ValidationError as error:
            raise _error(f"Date of birth: {error.messages[0]}") from None
        return value
    if name == "email":
        value = clean_text(value, "email", max_length=254, none_is_empty=True)
        if value:
            try:
                validate_email(value)
            except ValidationError:
                raise _error("Enter a valid email address.") from None
        return value
    if name == "primary_language":
        value = clean_text(value, "language", max_length=10, none_is_empty=True).lower() or "en"
        if not value.isalpha() or not 2 <= len(value) <= 3:
            raise _error("The language is a two- or three-letter code (en, es, vi).")
        return value
    if name in ("needs_interpreter", "is_do_not_contact"):
        if not isinstance(value, bool):
            raise _error(f"{_label(name).capitalize()} must be true or false.")
        return value
    if name == "safe_contact_channels":
        if isinstance(value, str) or not hasattr(value, "__iter__"):
            raise _error("Safe channels must be a list.")
        channels = list(dict.fromkeys(value))
        if any(channel not in Individual.Channel.values for channel in channels):
            raise _error("Unknown contact channel.")
        return channels
    raise _error(f"{name} is not a field of a person.")


def _clean_person(fields: dict) -> dict:
    unknown = sorted(set(fields) - set(PERSON_FIELDS))
    if unknown:
        raise _error(f"Not fields of a person: {', '.join(unknown)}.")
    return {name: _clean_field(name, value) for name, value in fields.items()}


# --- likely duplicates --------------------------------------------------------------------------


@dataclass(frozen=True)
class Duplicates:
    """Likely duplicates the user may see (best first), and how many more they may not."""

    visible: list[tuple[Individual, matching.Match]]
    hidden: int

    def __bool__(self) -> bool:
        return bool(self.visible) or self.hidden > 0


def find_duplicates(user, query: matching.Person, *, exclude_pk: int | None = None, limit: int = 10) -> Duplicates:
    """Likely duplicates of `query` among the active people of the user's program (cases.matching)."""
    names = (query.first_name, query.last_name, query.preferred_name)
    people = _program_people(user, exclude_pk=exclude_pk, born=query.date_of_birth, names=names)
    likely = matching.ranked(query, [(pk, person) for pk, person, _ in people])
    seen = {pk for pk, _, is_visible in people if is_visible}
    shown = [(pk, match) for pk, match in likely if pk in seen][:limit]
    by_pk = Individual.objects.visible_to(user).in_bulk([pk for pk, _ in shown])
    hidden = sum(1 for pk, _ in likely if pk not in seen)
    return Duplicates([(by_pk[pk], match) for pk, match in shown], hidden=hidden)


NAME_COLUMNS = ("legal_first_name", "legal_last_name", "preferred_name")


def _blocking(born: date | None, names, words=()) -> Q:
    """Who can possibly match, said in SQL so that only they are read and compared: a date of birth
    within one mistyped digit (cases.matching.dob_variants) or unknown, and a name starting with the
    first letter of a name given or of its nicknames (a typo in the first letter is found only through
    the date of birth). `words`: search words, also found anywhere inside a name."""
    by_name = Q()
    for letter in sorted(matching.initials(*names, *words)):
        for column in NAME_COLUMNS:
            by_name |= Q(**{f"{column}__istartswith": letter})
    for word in words:
        for column in NAME_COLUMNS:
            by_name |= Q(**{f"{column}__icontains": word})
    if born is None:
        return by_name
    return Q(date_of_birth__in=sorted(matching.dob_variants(born))) | (Q(date_of_birth__isnull=True) & by_name)


def _program_people(
    user, *, born: date | None = None, names=(), words=(), exclude_pk: int | None = None
) -> list[tuple[int, matching.Person, bool]]:
    """(id, names and date of birth, may the user see them) of the active people of the user's program
    who can possibly match (_blocking), in one query of five columns and a visible_to subquery."""
    if not is_program_staff(user):
        return []
    visible = Individual.objects.visible_to(user).filter(pk=OuterRef("pk"))
    # Everyone of the program who may match, visible or not: the hidden are counted (and offered for
    # break-glass by number), their names compared here and never returned.
    rows = (
        Individual.objects.system("matching compares the program's names, returns only the visible")
        .active()
        .filter(program_id=user.program_id)
        .filter(_blocking(born, names, words))
        .exclude(pk=exclude_pk)
        .annotate(is_visible=Exists(visible))
        .values_list("pk", "legal_first_name", "legal_last_name", "date_of_birth", "preferred_name", "is_visible")
    )
    return [
        (pk, matching.Person(first, last, born, preferred), is_visible)
        for pk, first, last, born, preferred, is_visible in rows
    ]


def resolve_person(user, pk: int) -> tuple[Individual, Individual | None]:
    """The person `pk` names as `user` may see them: (person, None), or (survivor, merged-away record)
    when `pk` was merged into another record (followed to the last survivor). not_found otherwise."""
    try:
        found = Individual.objects.visible_to(user).get(pk=pk)  # get(), not first(): no ORDER BY to compile
    except Individual.DoesNotExist:
        found = None
    if found is not None and found.merged_into_id is None:
        return found, None  # the usual case: one query
    # A merged-away record: its survivor decides (a peer may see the survivor through their caseload).
    records = Individual.objects.system("a merged-away record is followed to its survivor, who decides")
    current = found or records.filter(pk=pk, program_id=getattr(user, "program_id", None)).first()
    merged_away = None
    for _ in range(20):  # a chain of merges; a loop is impossible (undo needs the later merge undone first)
        if current is None or current.merged_into_id is None:
            break
        merged_away = merged_away or current
        current = records.filter(pk=current.merged_into_id).first()
    if current is None:
        raise _error("Person not found.", "not_found")
    found = Individual.objects.visible_to(user).filter(pk=current.pk).first()
    if found is None:
        raise _error("Person not found.", "not_found")
    return found, merged_away


# --- add and edit -------------------------------------------------------------------------------


@transaction.atomic
def add_person(*, by: User, confirm_new: bool = False, **fields) -> Individual:
    """Add a person to the user's program. Refused with "possible_duplicate" while a likely duplicate
    exists, unless `confirm_new` says someone looked and this is a new person."""
    by = _staff(by)
    _require_perm(by, "cases.add_individual", "add people")
    cleaned = _clean_person(fields)
    for name in ("legal_first_name", "legal_last_name"):
        if not cleaned.get(name):
            raise _error(f"The {_label(name)} is required.")
    if not confirm_new:
        query = matching.Person(
            cleaned["legal_first_name"],
            cleaned["legal_last_name"],
            cleaned.get("date_of_birth"),
            cleaned.get("preferred_name", ""),
        )
        if find_duplicates(by, query):
            raise _error(
                "This person may already have a record: look at the likely matches first.", "possible_duplicate"
            )
    return Individual.objects.create(program_id=by.program_id, **cleaned)


@transaction.atomic
def update_person(person: Individual, *, by: User, **changes) -> Individual:
    """Change a person's details (only the fields given)."""
    by = _staff(by)
    cleaned = _clean_person(changes)
    person = _visible_person(person, by, lock=True)
    _require_perm(by, "cases.change_individual", "edit people")
    _not_merged(person)
    changed = [name for name, value in cleaned.items() if getattr(person, name) != value]
    for name in changed:
        setattr(person, name, cleaned[name])
    if changed:
        person.save(update_fields=[*changed, "updated_at"])
    return person


# --- merge --------------------------------------------------------------------------------------

# Every relation to Individual is in one of these two lists (a test walks them all).
# app_label.model -> the field naming the person. Rows reached through a case (contacts,
# follow-ups, safety plans) move with their case.
MOVED_RELATIONS = {
    "cases.encounter": "individual",
    "cases.case": "individual",
    "cases.consent": "individual",
    "cases.supportcontact": "individual",
    "referrals.referral": "individual",
    "inbox.item": "individual",  # an open item should lead to the record the work now happens on
}
KEPT_RELATIONS = {
    "accounts.breakglassgrant": "a grant was for the record it named; it opens nothing else",
    "cases.personmerge": "the merge records themselves",
}
# Fields the survivor takes from the merged-away record when its own are empty.
FILLED_FIELDS = (
    "preferred_name",
    "pronouns",
    "date_of_birth",
    "phone",
    "email",
    "address",
    "where_staying",
    "area",
    "gender",
    "cad_person_id",
    "mrn",
    "hmis_id",
    "safe_contact_times",
    "safe_contact_channels",
)
_RISK_ORDER = [RiskLevel.NONE, RiskLevel.LOW, RiskLevel.MODERATE, RiskLevel.HIGH]


def _combined(survivor: Individual, merged: Individual) -> dict:
    """The survivor's new values: its empty fields filled, the safer of the safety flags."""
    changes = {}
    for name in FILLED_FIELDS:
        if getattr(survivor, name) in ("", None, []) and getattr(merged, name) not in ("", None, []):
            changes[name] = getattr(merged, name)
    for name, default in (("housing_status", "unknown"), ("race_ethnicity", "unknown")):
        if getattr(survivor, name) == default and getattr(merged, name) != default:
            changes[name] = getattr(merged, name)
    if merged.is_do_not_contact and not survivor.is_do_not_contact:
        changes["is_do_not_contact"] = True
    if merged.needs_interpreter and not survivor.needs_interpreter:
        changes["needs_interpreter"] = True
    if _RISK_ORDER.index(merged.risk_level) > _RISK_ORDER.index(survivor.risk_level):
        changes["risk_level"] = merged.risk_level
    notes, other = survivor.responder_safety_notes.strip(), merged.responder_safety_notes.strip()
    if other and other not in notes:
        changes["responder_safety_notes"] = f"{notes}\n\n{other}" if notes else other
    return changes


def _json_value(value):
    return value.isoformat() if isinstance(value, date) else value


def _from_json(name: str, value):
    if name == "date_of_birth" and value is not None:
        return date.fromisoformat(value)
    return value


def _model(label: str):
    return apps.get_model(label)


@transaction.atomic
def merge_people(*, survivor: Individual, merged: Individual, by: User, reason: str) -> PersonMerge:
    """Make two records of one person one: see the module docstring."""
    by = _staff(by)
    _require_merger(by, "merge records")
    reason = clean_text(reason, "reason", max_length=500, required=True, none_is_empty=True)
    if not isinstance(survivor, Individual) or not isinstance(merged, Individual):
        raise _error("Expected two people.")
    if survivor.pk == merged.pk:
        raise _error("Choose two different records.")
    first, second = sorted([survivor, merged], key=lambda person: person.pk)  # lock in one order
    locked = {person.pk: _visible_person(person, by, lock=True) for person in (first, second)}
    survivor, merged = locked[survivor.pk], locked[merged.pk]
    for person in (survivor, merged):
        _not_merged(person)
    now = timezone.now()

    moved = {}
    for label, field in MOVED_RELATIONS.items():
        rows = _model(label)._base_manager.filter(**{field: merged})
        ids = sorted(rows.values_list("pk", flat=True))
        if ids:
            moved[label] = ids
    for label, ids in moved.items():
        if label == "referrals.referral":
            hooks.referrals().move_to_person(ids, survivor, now=now)
        else:
            _model(label)._base_manager.filter(pk__in=ids).update(**{MOVED_RELATIONS[label]: survivor})

    changes = _combined(survivor, merged)
    before = {name: _json_value(getattr(survivor, name)) for name in changes}
    for name, value in changes.items():
        setattr(survivor, name, value)
    survivor.save(update_fields=[*changes, "updated_at"])
    # An identifier is one person's: the merged-away record keeps none that the survivor now holds.
    merged.merged_into = survivor
    merged.save(update_fields=["merged_into", "updated_at"])
    return PersonMerge.objects.create(
        program_id=survivor.program_id,
        survivor=survivor,
        merged=merged,
        reason=reason,
        merged_by=by,
        merged_at=now,
        moved=moved,
        survivor_before={"values": before, "set": {name: _json_value(value) for name, value in changes.items()}},
    )


@transaction.atomic
def undo_merge(merge: PersonMerge, *, by: User, reason: str) -> PersonMerge:
    """Put two merged records back apart: the rows that moved go back, and the survivor's fields the
    merge filled return to what they were (unless someone changed them since)."""
    by = _staff(by)
    _require_merger(by, "undo a merge")
    reason = clean_text(reason, "reason", max_length=500, required=True, none_is_empty=True)
    if not isinstance(merge, PersonMerge) or merge.pk is None:
        raise _error("Expected a merge.")
    merge = PersonMerge.objects.visible_to(by).select_for_update().filter(pk=merge.pk).first()
    if merge is None:
        raise _error("Merge not found.", "not_found")
    if merge.undone_at is not None:
        raise _error("This merge was already undone.", "invalid_transition")
    records = Individual.objects.system("the two records of a merge the supervisor may see")
    people = records.select_for_update().in_bulk(sorted([merge.survivor_id, merge.merged_id]))
    survivor, merged = people[merge.survivor_id], people[merge.merged_id]
    if survivor.merged_into_id is not None:
        raise _error(
            "The record kept was itself merged into another since: undo that merge first.", "invalid_transition"
        )
    now = timezone.now()
    for label, ids in merge.moved.items():
        field = MOVED_RELATIONS[label]
        rows = _model(label)._base_manager.filter(pk__in=ids, **{field: survivor})
        if label == "referrals.referral":
            hooks.referrals().move_to_person(list(rows.values_list("pk", flat=True)), merged, now=now)
        else:
            rows.update(**{field: merged})
    values, were_set = merge.survivor_before.get("values", {}), merge.survivor_before.get("set", {})
    restored = [name for name in values if _json_value(getattr(survivor, name)) == were_set.get(name)]
    for name in restored:
        setattr(survivor, name, _from_json(name, values[name]))
    survivor.save(update_fields=[*restored, "updated_at"])
    merged.merged_into = None
    merged.save(update_fields=["merged_into", "updated_at"])
    merge.undone_at = now
    merge.undone_by = by
    merge.undo_reason = reason
    merge.save(update_fields=["undone_at", "undone_by", "undo_reason"])
    return merge


# --- the support network ------------------------------------------------------------------------

SUPPORT_TEXT = {"name": 200, "relationship": 100, "phone": 40, "notes": 500}
SUPPORT_FIELDS = (*SUPPORT_TEXT, "email", "is_caregiver")


def _clean_support(fields: dict) -> dict:
    unknown = sorted(set(fields) - set(SUPPORT_FIELDS))
    if unknown:
        raise _error(f"Not fields of a support contact: {', '.join(unknown)}.")
    cleaned = {}
    for name, value in fields.items():
        if name in SUPPORT_TEXT:
            cleaned[name] = clean_text(
                value,
                name,
                max_length=SUPPORT_TEXT[name],
                required=name in ("name", "relationship"),
                none_is_empty=True,
            )
        elif name == "email":
            cleaned[name] = _clean_field("email", value)
        elif not isinstance(value, bool):
            raise _error("Is a caregiver must be true or false.")
        else:
            cleaned[name] = value
    return cleaned


def _visible_support(contact, by: User) -> SupportContact:
    if not isinstance(contact, SupportContact) or contact.pk is None:
        raise _error("Expected a support contact.")
    found = (
        SupportContact.objects.visible_to(by)
        .select_for_update()
        .select_related("individual")
        .filter(pk=contact.pk)
        .first()
    )
    if found is None:
        raise _error("Support contact not found.", "not_found")
    return found


@transaction.atomic
def add_support_contact(person: Individual, *, by: User, **fields) -> SupportContact:
    """Add family, a caregiver or a friend to the person's support network."""
    by = _staff(by)
    cleaned = _clean_support(fields)
    for name in ("name", "relationship"):
        if not cleaned.get(name):
            raise _error(f"The {name} is required.")
    person = _visible_person(person, by)
    _require_perm(by, "cases.add_supportcontact", "add support contacts")
    _not_merged(person)
    return SupportContact.objects.create(individual=person, **cleaned)


@transaction.atomic
def update_support_contact(contact: SupportContact, *, by: User, **changes) -> SupportContact:
    by = _staff(by)
    cleaned = _clean_support(changes)
    contact = _visible_support(contact, by)
    _require_perm(by, "cases.change_supportcontact", "edit support contacts")
    if contact.ended_at is not None:
        raise _error("This support contact was ended; add them again instead.", "invalid_transition")
    changed = [name for name, value in cleaned.items() if getattr(contact, name) != value]
    for name in changed:
        setattr(contact, name, cleaned[name])
    if changed:
        contact.save(update_fields=changed)
    return contact


@transaction.atomic
def end_support_contact(contact: SupportContact, *, by: User) -> SupportContact:
    """They are no longer part of the support network: kept for the record, and every consent to
    contact them is revoked with it. Ending one already ended changes nothing."""
    by = _staff(by)
    contact = _visible_support(contact, by)
    _require_perm(by, "cases.change_supportcontact", "end support contacts")
    if contact.ended_at is not None:
        return contact
    now = timezone.now()
    consents = Consent.objects.system("every consent to contact them ends with them")
    for consent in consents.filter(recipient_support_contact=contact, revoked_at__isnull=True):
        revoke_consent(consent, by=by, at=now)
    contact.ended_at = now
    contact.save(update_fields=["ended_at"])
    return contact


# --- the people search --------------------------------------------------------------------------

SEARCH_LIMIT = 50


def _search_score(words: list[str], born: date | None, person: matching.Person) -> float | None:
    """How well a person answers a search of name words and/or a date of birth; None: not at all."""
    dob = matching.dob_similarity(born, person.date_of_birth) if born is not None else None
    if born is not None and (dob is None or dob < matching.DOB_LIKELY):
        return None
    if not words:
        return dob
    names = [name for name in (person.first_name, person.last_name, person.preferred_name) if name]
    full = " ".join(names).lower()
    if all(word.lower() in full for word in words):
        return 2.0 + (dob or 0)  # every word is part of a name: as the search always found
    if len(words) >= 2:
        match = matching.compare(matching.Person(words[0], " ".join(words[1:]), born), person)
        if match.name >= matching.NAME_LIKELY:
            return match.score
        return None
    best = max(matching.name_similarity(words[0], name) for name in names)
    return best if best >= matching.NAME_LIKELY else None


def search_people(user, *, q: str = "", date_of_birth: date | None = None, limit: int = SEARCH_LIMIT):
    """People of the user's program answering name words and/or a date of birth, best first: a word
    that is part of a name as before, and now also a typo, a nickname, swapped names or a mistyped
    date (cases.matching). Returns (people the user may see, best first, up to `limit`; and the ids of
    those they may not see, best first: for break-glass, never to be shown with a name)."""
    words = [word for word in (q or "").split() if word]
    if not words and date_of_birth is None:
        return [], []
    scored, hidden = [], []
    for pk, person, is_visible in _program_people(user, born=date_of_birth, words=words):
        score = _search_score(words, date_of_birth, person)
        if score is None:
            continue
        (scored if is_visible else hidden).append((-score, person.last_name.lower(), person.first_name.lower(), pk))
    ids = [pk for *_, pk in sorted(scored)[:limit]]
    by_pk = Individual.objects.visible_to(user).in_bulk(ids)
    return [by_pk[pk] for pk in ids], [pk for *_, pk in sorted(hidden)]
