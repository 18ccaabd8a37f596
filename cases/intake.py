"""Intake writes for the API: a new 911 call from the CAD system, and consents.

`intake_call` is what the CAD integration posts: it finds the person (by the CAD person id, else by
cases.matching's rule when exactly one person the caller may see is a *strong* match and no one
else is even likely), creates them otherwise, and records the encounter through
cases.encounters.create_encounter: the staff pages' service, with its checks and its rule of who may
(paramedics, clinicians and supervisors of a program). A person created while
likely duplicates exist is returned with their ids (`possible_duplicates`), for a person to look at
and a supervisor to merge. A CAD id of a merged-away record leads to the record it was merged into.
The same CAD incident number posted twice returns the encounter already made (the CAD system
retries), never a second one.

`record_consent` records a consent given by a person the actor can see: to share with an
organisation or a need domain's partners, or to contact someone of their support network.
`revoke_consent` ends one.

Errors are Django ValidationErrors with a code ("not_found", "forbidden", "invalid"), and nothing
is written when one is raised.
"""

from dataclasses import dataclass
from datetime import date, datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from accounts.roles import is_program_staff
from cases import encounters, hooks
from cases.models import Consent, Encounter, Individual, SupportContact
from crt.inputs import aware_datetime, is_ahead
from providers.models import NeedDomain, Organization


@dataclass(frozen=True)
class Intake:
    encounter: Encounter
    individual: Individual | None
    created_individual: bool
    created_encounter: bool
    possible_duplicates: tuple[int, ...] = ()


def _staff(by) -> User:
    if not isinstance(by, User) or not is_program_staff(by):
        raise ValidationError("Only program staff can do this.", code="forbidden")
    return by


def _match(by: User, person: dict) -> tuple[Individual | None, bool, tuple[int, ...]]:
    """The person of the call: matched, created (with the likely duplicates the caller may see), or
    None when the call names nobody."""
    from cases import matching
    from cases.people import find_duplicates

    first = (person.get("legal_first_name") or "").strip()
    last = (person.get("legal_last_name") or "").strip()
    born: date | None = person.get("date_of_birth")
    cad_id = (person.get("cad_person_id") or "").strip()
    visible = Individual.objects.visible_to(by)
    if cad_id:
        found = visible.filter(cad_person_id=cad_id).order_by("merged_into", "pk").first()
        while found is not None and found.merged_into_id is not None:
            found = visible.filter(pk=found.merged_into_id).first()
        if found is not None:
            return found, False, ()
    if not (first and last):
        return None, False, ()
    duplicates = find_duplicates(by, matching.Person(first[:100], last[:100], born))
    strong = [found for found, match in duplicates.visible if match.is_strong]
    if len(duplicates.visible) == 1 and len(strong) == 1 and not duplicates.hidden:
        return strong[0], False, ()
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
    return individual, True, tuple(found.pk for found, _ in duplicates.visible)


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
    by = encounters.require_writer(by)  # the pages' rule: who records an encounter records a call
    number = cad_incident_number.strip() if isinstance(cad_incident_number, str) else cad_incident_number
    calls = Encounter.objects.system("the CAD system retried: the call's encounter, whoever may see it")
    existing = calls.filter(program_id=by.program_id, cad_incident_number=number).first()
    if existing is not None:  # the CAD system retried
        return Intake(existing, existing.individual, created_individual=False, created_encounter=False)
    individual, created, possible = _match(by, person or {})
    encounter = encounters.create_encounter(
        by=by,
        individual=individual,
        cad_incident_number=number,
        call_source=call_source,
        call_type=call_type,
        call_received_at=call_received_at,
        dispatched_at=dispatched_at,
        location_text=location_text,
        latitude=latitude,
        longitude=longitude,
        reason_for_call=reason_for_call,
    )
    return Intake(
        encounter, individual, created_individual=created, created_encounter=True, possible_duplicates=possible
    )


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
    recipient_support_contact: SupportContact | None = None,
    covers_part2: bool = False,
    witness_name: str = "",
    expires_at: datetime | None = None,
) -> Consent:
    """Record a consent of someone `by` can see. One recipient: an organisation, a need domain, or a
    person of their support network (purpose: contacting them, or sharing with family)."""
    by = _staff(by)
    if not by.has_perm("cases.add_consent"):
        raise ValidationError("Your role cannot record consents.", code="forbidden")
    person = Individual.objects.visible_to(by).filter(pk=individual.pk).first()
    if person is None:
        raise ValidationError("Person not found.", code="not_found")
    if person.merged_into_id is not None:
        raise ValidationError("This record was merged into another; record it there.", code="invalid_transition")
    if recipient_support_contact is not None:
        if not isinstance(recipient_support_contact, SupportContact) or (
            recipient_support_contact.individual_id != person.pk
        ):
            raise ValidationError("That support contact is not in this person's network.", code="invalid")
        if recipient_support_contact.ended_at is not None:
            raise ValidationError("That support contact was ended.", code="invalid")
        if purpose not in (Consent.Purpose.CONTACT, Consent.Purpose.FAMILY):
            raise ValidationError(
                "Consent for a support contact is to contact them or to share with family.", code="invalid"
            )
    elif purpose == Consent.Purpose.CONTACT:
        raise ValidationError("Consent to contact names someone of the support network.", code="invalid")
    given_at = aware_datetime(given_at, "time given")
    expires_at = aware_datetime(expires_at, "expiry", required=False)
    if is_ahead(given_at):
        raise ValidationError("A consent cannot be given in the future.", code="invalid")
    if expires_at is not None and expires_at <= given_at:
        raise ValidationError("The expiry must be after the time given.", code="invalid")
    recipients = [recipient_organization is not None, bool(recipient_category), recipient_support_contact is not None]
    if sum(recipients) != 1:
        raise ValidationError(
            "Name one recipient: an organisation, a need domain or a support contact.", code="invalid"
        )
    if recipient_category and recipient_category not in NeedDomain.values:
        raise ValidationError("Unknown need domain.", code="invalid")
    if method not in dict(Consent.RECORDABLE_METHODS) or purpose not in Consent.Purpose.values:
        raise ValidationError("Unknown consent method or purpose.", code="invalid")
    if method == Consent.Method.VERBAL and not witness_name.strip():
        raise ValidationError("A verbal consent needs a witness.", code="invalid")
    return Consent.objects.create(
        individual=person,
        recipient_organization=recipient_organization,
        recipient_category=recipient_category,
        recipient_support_contact=recipient_support_contact,
        purpose=purpose,
        covers_part2=covers_part2,
        method=method,
        witness_name=witness_name.strip()[:200],
        given_at=given_at,
        expires_at=expires_at,
        recorded_by=by,
    )


@transaction.atomic
def revoke_consent(consent: Consent, *, by: User, at: datetime | None = None) -> Consent:
    """The person withdrew this consent (or its recipient left their network): from `at` (now by
    default) it covers nothing. Revoking one already revoked changes nothing."""
    by = _staff(by)
    if not isinstance(consent, Consent) or consent.pk is None:
        raise ValidationError("Expected a consent.", code="invalid")
    at = aware_datetime(at, "time revoked", required=False) or timezone.now()
    if is_ahead(at):
        raise ValidationError("A consent cannot be revoked in the future.", code="invalid")
    locked = Consent.objects.visible_to(by).select_for_update().filter(pk=consent.pk).first()
    if locked is None:
        raise ValidationError("Consent not found.", code="not_found")
    if not by.has_perm("cases.add_consent"):
        raise ValidationError("Your role cannot revoke consents.", code="forbidden")
    if locked.revoked_at is not None:
        return locked
    locked.revoked_at = max(at, locked.given_at)
    locked.save(update_fields=["revoked_at"])
    # The closed loop at once: each open referral sent under this consent stops being chased.
    hooks.referrals().consent_revoked(locked)
    return locked
