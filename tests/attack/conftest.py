"""The attack suite's world: two programs and two partner organisations, each with a person whose
every free-text field holds a canary (a random token made for this run), so that a leak of one
side's record to the other side, or of anyone's record into a log or a message, shows up as a
token in the wrong place.

`ours` is program A (the signed-in staff's own program) with its referral to partner A;
`theirs` is program B with its referral to partner B: for staff of A and for partner A, every
record of `theirs` is foreign.
"""

import datetime as dt
import secrets
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.utils import timezone

from audit.models import AccessLog
from cases.models import PersonMerge
from tests import factories as f


def token(label: str) -> str:
    """A canary: a word no real record, template or fixture contains."""
    return f"{label}{secrets.token_hex(5)}"


@dataclass
class Side:
    """One program's person and everything about them, and the canaries that reveal them."""

    born: dt.date
    texts: dict[str, str] = field(default_factory=dict)
    objects: dict = field(default_factory=dict)

    def __getattr__(self, name):
        try:
            return self.__dict__["objects"][name]
        except KeyError:
            raise AttributeError(name) from None

    def canaries(self) -> list[str]:
        d = self.born
        dates = [d.isoformat(), f"{d:%m/%d/%Y}", f"{d.month}/{d.day}/{d.year}", f"{d:%Y%m%d}", f"{d:%d %b %Y}"]
        return [*self.texts.values(), *dates]


def leaked(text: str, canaries: list[str]) -> list[str]:
    low = text.lower()
    return [canary for canary in canaries if canary.lower() in low]


def build_side(*, program, partner_org, navigator, peer=None, born: dt.date) -> Side:
    texts = {
        name: token(prefix)
        for name, prefix in [
            ("first", "Cfirst"),
            ("last", "Clast"),
            ("preferred", "Cpref"),
            ("safety_notes", "Csafety"),
            ("address", "Caddr"),
            ("where_staying", "Cwhere"),
            ("mrn", "Cmrn"),
            ("hmis", "Chmis"),
            ("cad_person", "Ccad"),
            ("call_reason", "Ccall"),
            ("contact_note", "Cnote"),
            ("next_step", "Cnext"),
            ("plan", "Cplan"),
            ("referral_reason", "Creason"),
            ("support_name", "Csupport"),
        ]
    }
    texts["phone"] = f"405-555-{secrets.randbelow(9000) + 1000}"
    texts["email"] = f"{token('cmail')}@example.net"
    person = f.IndividualFactory(
        program=program,
        legal_first_name=texts["first"],
        legal_last_name=texts["last"],
        preferred_name=texts["preferred"],
        date_of_birth=born,
        phone=texts["phone"],
        email=texts["email"],
        address=texts["address"],
        where_staying=texts["where_staying"],
        responder_safety_notes=texts["safety_notes"],
        mrn=texts["mrn"],
        hmis_id=texts["hmis"],
        cad_person_id=texts["cad_person"],
    )
    support = f.SupportContactFactory(individual=person, name=texts["support_name"])
    encounter = f.EncounterFactory(program=program, individual=person, reason_for_call=texts["call_reason"])
    assessment = f.AssessmentFactory(encounter=encounter)
    case = f.CaseFactory(program=program, individual=person, encounter=encounter, navigator=navigator, peer=peer)
    overdue = f.FollowUpFactory(case=case, label="24h", owner=navigator, due_at=timezone.now() - timedelta(hours=2))
    upcoming = f.FollowUpFactory(case=case, label="72h", owner=navigator, due_at=timezone.now() + timedelta(days=2))
    missed = f.FollowUpFactory(
        case=case, label="4h", owner=navigator, due_at=timezone.now() - timedelta(days=4), is_missed=True
    )
    contact = f.ContactFactory(case=case, made_by=navigator, note=texts["contact_note"], next_step=texts["next_step"])
    plan = f.SafetyPlanFactory(case=case, created_by=navigator, warning_signs=[texts["plan"]])
    consent = f.ConsentFactory(individual=person, recipient_organization=partner_org, recorded_by=navigator)
    service = f.ServiceFactory(organization=partner_org, name=f"Beds of {partner_org.name}")
    capacity = f.ServiceCapacityFactory(service=service)
    referral = f.ReferralFactory(
        program=program,
        individual=person,
        case=case,
        service=service,
        consent=consent,
        reason=texts["referral_reason"],
        created_by=navigator,
    )
    event = f.ReferralEventFactory(referral=referral, actor_user=navigator)
    delivery = f.DeliveryFactory(referral=referral)
    merged_away = f.IndividualFactory(program=program, merged_into=person)
    merge = PersonMerge.objects.create(
        program=program,
        survivor=person,
        merged=merged_away,
        reason="One person, two records.",
        merged_by=navigator,
        merged_at=timezone.now(),
    )
    item = f.ItemFactory(
        program=program, referral=referral, individual=person, recipient=navigator, kind="referral_declined"
    )
    return Side(
        born=born,
        texts=texts,
        objects={
            "program": program,
            "partner_org": partner_org,
            "person": person,
            "support": support,
            "encounter": encounter,
            "assessment": assessment,
            "case": case,
            "overdue": overdue,
            "upcoming": upcoming,
            "missed": missed,
            "contact": contact,
            "plan": plan,
            "consent": consent,
            "service": service,
            "capacity": capacity,
            "referral": referral,
            "event": event,
            "delivery": delivery,
            "merge": merge,
            "item": item,
        },
    )


@pytest.fixture
def ours(program, partner_org, navigator, peer) -> Side:
    return build_side(
        program=program, partner_org=partner_org, navigator=navigator, peer=peer, born=dt.date(1941, 7, 13)
    )


@pytest.fixture
def theirs(other_program, other_partner_org, navigator_elsewhere) -> Side:
    return build_side(
        program=other_program, partner_org=other_partner_org, navigator=navigator_elsewhere, born=dt.date(1939, 3, 17)
    )


@pytest.fixture
def cast(navigator, peer, clinician, paramedic, supervisor, staff_admin, partner_user) -> dict:
    """Everyone of program A and partner A who signs in to a page."""
    return {
        "navigator": navigator,
        "peer": peer,
        "clinician": clinician,
        "paramedic": paramedic,
        "supervisor": supervisor,
        "staff_admin": staff_admin,
        "partner_user": partner_user,
    }


def access_rows_since(last_id: int):
    return AccessLog.objects.filter(pk__gt=last_id).order_by("pk")


def last_access_id() -> int:
    return AccessLog.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


@pytest.fixture(autouse=True)
def _fresh_throttle():
    """The API's rate limits count in the cache: these tests make many calls, so each starts afresh."""
    cache.clear()
    yield
    cache.clear()
