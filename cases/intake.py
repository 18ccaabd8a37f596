"""Intake writes for the API: a new 911 call from the CAD system, and consents.

`intake_call` is what the CAD integration posts: it finds the person (by the CAD person id, else by
`Individual.objects.possible_duplicates` when exactly one person matches name and date of birth),
creates them when nobody matches, and creates the encounter. The same CAD incident number posted
twice returns the encounter already made (the CAD system retries), never a second one.

`record_consent` records a consent given by a person the actor can see.

Errors are Django ValidationErrors with a code ("not_found", "forbidden", "invalid"), and nothing
is written when one is raised.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import User
from accounts.roles import STAFF_ROLES, roles_of
from cases.models import Consent, Encounter, Individual
from cases.validators import EARLIEST_CALL
from providers.models import NeedDomain, Organization

CLOCK_SKEW = timedelta(minutes=5)


@dataclass(frozen=True)
class Intake:
    encounter: Encounter
    individual: Individual | None
    created_individual: bool
    created_encounter: bool


def _staff(by) -> User:
    if not isinstance(by, User) or by.program_id is None or not roles_of(by) & STAFF_ROLES:
        raise ValidationError("Only program staff can do this.", code="forbidden")
    return by


def _aware(value, field: str) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, datetime) or timezone.is_naive(value):
        raise ValidationError(f"The {field} must be a date and time with a time zone.", code="invalid")
    return value


def _match(by: User, person: dict) -> tuple[Individual | None, bool]:
    """The person of the call: matched, created, or None when the call names nobody."""
    first = (person.get("legal_first_name") or "").strip()
    last = (person.get("legal_last_name") or "").strip()
    born: date | None = person.get("date_of_birth")
    cad_id = (person.get("cad_person_id") or "").strip()
    visible = Individual.objects.visible_to(by)
    if cad_id:
        found = visible.filter(cad_person_id=cad_id).order_by("pk").first()
        if found is not None:
            return found, False
    if not (first and last):
        return None, False
    if born is not None:
        candidates = list(
            visible.possible_duplicates(first_name=first, last_name=last, date_of_birth=born).order_by("pk")[:2]
        )
        if len(candidates) == 1:
            return candidates[0], False
    if not by.has_perm("cases.add_individual"):
        raise ValidationError("Your role cannot add people.", code="forbidden")
    individual = Individual.objects.create(
        program_id=by.program_id,
        legal_first_name=first[:100],
        legal_last_name=last[:100],
        date_of_birth=born,
        phone=(person.get("phone") or "")[:40],
        cad_person_id=cad_id[:50],
    )
    return individual, True


@transaction.atomic
def intake_call(
    *,
    by: User,
    cad_incident_number: str,
    call_received_at: datetime,
    person: dict | None = None,
    call_source: str = Encounter.CallSource.CALL_911,
    call_type: str = "",
    dispatched_at: datetime | None = None,
    location_text: str = "",
    latitude=None,
    longitude=None,
    reason_for_call: str = "",
) -> Intake:
    by = _staff(by)
    if not by.has_perm("cases.add_encounter"):
        raise ValidationError("Your role cannot record calls.", code="forbidden")
    number = (cad_incident_number or "").strip()
    if not number or len(number) > 50:
        raise ValidationError("The CAD incident number is required (at most 50 characters).", code="invalid")
    received = _aware(call_received_at, "call time")
    dispatched = _aware(dispatched_at, "dispatch time")
    if received > timezone.now() + CLOCK_SKEW:
        raise ValidationError("The call cannot be in the future.", code="invalid")
    if received < EARLIEST_CALL:
        raise ValidationError("The call time is before 2000: check the year.", code="invalid")
    if dispatched is not None and dispatched < received:
        raise ValidationError("Dispatch cannot be before the call.", code="invalid")
    if call_source not in Encounter.CallSource.values:
        raise ValidationError("Unknown call source.", code="invalid")

    existing = Encounter.objects.filter(program_id=by.program_id, cad_incident_number=number).first()
    if existing is not None:  # the CAD system retried
        return Intake(existing, existing.individual, created_individual=False, created_encounter=False)
    individual, created = _match(by, person or {})
    try:
        with transaction.atomic():
            encounter = Encounter.objects.create(
                program_id=by.program_id,
                individual=individual,
                cad_incident_number=number,
                call_source=call_source,
                call_type=call_type[:100],
                call_received_at=received,
                dispatched_at=dispatched,
                location_text=location_text[:300],
                latitude=latitude,
                longitude=longitude,
                reason_for_call=reason_for_call,
                created_by=by,
            )
    except IntegrityError:
        raise ValidationError("This incident was recorded by another request just now.", code="conflict") from None
    return Intake(encounter, individual, created_individual=created, created_encounter=True)


@transaction.atomic
def record_consent(
    individual: Individual,
    *,
    by: User,
    method: str,
    given_at: datetime,
    purpose: str = Consent.Purpose.REFERRAL,
    recipient_organization: Organization | None = None,
    recipient_category: str = "",
    covers_part2: bool = False,
    witness_name: str = "",
    expires_at: datetime | None = None,
) -> Consent:
    """Record a consent of someone `by` can see. One recipient: an organisation or a need domain."""
    by = _staff(by)
    if not by.has_perm("cases.add_consent"):
        raise ValidationError("Your role cannot record consents.", code="forbidden")
    person = Individual.objects.visible_to(by).filter(pk=individual.pk).first()
    if person is None:
        raise ValidationError("Person not found.", code="not_found")
    given_at = _aware(given_at, "time given")
    expires_at = _aware(expires_at, "expiry")
    if given_at > timezone.now() + CLOCK_SKEW:
        raise ValidationError("A consent cannot be given in the future.", code="invalid")
    if expires_at is not None and expires_at <= given_at:
        raise ValidationError("The expiry must be after the time given.", code="invalid")
    if (recipient_organization is None) == (not recipient_category):
        raise ValidationError("Name one recipient: an organisation or a need domain.", code="invalid")
    if recipient_category and recipient_category not in NeedDomain.values:
        raise ValidationError("Unknown need domain.", code="invalid")
    if method not in Consent.Method.values or purpose not in Consent.Purpose.values:
        raise ValidationError("Unknown consent method or purpose.", code="invalid")
    if method == Consent.Method.VERBAL and not witness_name.strip():
        raise ValidationError("A verbal consent needs a witness.", code="invalid")
    return Consent.objects.create(
        individual=person,
        recipient_organization=recipient_organization,
        recipient_category=recipient_category,
        purpose=purpose,
        covers_part2=covers_part2,
        method=method,
        witness_name=witness_name.strip()[:200],
        given_at=given_at,
        expires_at=expires_at,
        recorded_by=by,
    )
