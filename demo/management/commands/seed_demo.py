"""manage.py seed_demo: a realistic, fictional program for demos and training sessions.

Idempotent: every record is keyed on a stable natural key (usernames, organisation names, service
and location names within their organisation, CAD person ids and CAD incident numbers) and what
exists is skipped, so a second run creates nothing. A person's whole history (encounters, case,
follow-ups, safety plans, consents, referrals and their deliveries) is created together with the
person, in one transaction with everything else.

Records are written directly with the ORM, not through the services: this is fixture data
describing a past that already happened, with timestamps spread over the last weeks. Content comes
from a fixed random seed, so two databases seeded at different times differ only by the time shift.
Secrets (webhook secrets, partner API keys) are the exception: they are random on every run.
"""

import base64
import random
import secrets
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

from django.apps import apps
from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from accounts.credentials import issue_key
from accounts.models import Program, User
from accounts.roles import Role
from accounts.twofactor import enrol_for_demo
from cases.models import (
    Assessment,
    Case,
    Consent,
    Contact,
    Encounter,
    EncounterResponder,
    FollowUp,
    Individual,
    RiskLevel,
    SafetyPlan,
    SupportContact,
    derive_cssrs_risk,
)
from crt.scoping import system_read
from demo import data as d
from inbox.models import Kind
from inbox.services import raise_item
from providers.models import (
    Location,
    NeedDomain,
    Organization,
    PartnerCredential,
    Service,
    ServiceAtLocation,
    ServiceCapacity,
)
from referrals.models import (
    OPEN,
    PARTNER_SETS,
    REASON_REQUIRED,
    Delivery,
    DeliveryAttempt,
    Referral,
    ReferralEvent,
    Status,
)

SEED = 20250601
PEOPLE = 50
CREDENTIAL_NAME = "Demo case-management system"

STATUS_CYCLE = list(Status)
PROGRESSED = {Status.IN_PROGRESS, Status.ON_HOLD, Status.COMPLETED, Status.FAILED}

# Business status a partner (or the sender) reports with each move.
BUSINESS_STATUS = {
    Status.REQUESTED: Referral.BusinessStatus.AWAITING_PARTNER,
    Status.ON_HOLD: Referral.BusinessStatus.WAITLISTED,
    Status.COMPLETED: Referral.BusinessStatus.ENROLLED,
    Status.FAILED: Referral.BusinessStatus.NO_SHOW,
}
EVENT_NOTES = {
    Status.DRAFT: "Referral drafted after the crisis visit.",
    Status.REQUESTED: "Sent to the partner with the person's consent.",
    Status.ACCEPTED: "Accepted; intake will call the person.",
    Status.IN_PROGRESS: "Person attended intake.",
    Status.COMPLETED: "Service delivered.",
}

DISPOSITIONS = Encounter.Disposition
# The first people get these dispositions so that every one appears; the rest are drawn by weight.
FORCED_DISPOSITIONS = [
    DISPOSITIONS.STABILISED,
    DISPOSITIONS.VOLUNTARY_CRISIS_CENTRE,
    DISPOSITIONS.EMERGENCY_DEPARTMENT,
    DISPOSITIONS.INVOLUNTARY_HOLD,
    DISPOSITIONS.ARREST,
    DISPOSITIONS.REFUSED,
]
WEIGHTED_DISPOSITIONS = (
    [DISPOSITIONS.STABILISED] * 9
    + [DISPOSITIONS.VOLUNTARY_CRISIS_CENTRE] * 3
    + [DISPOSITIONS.EMERGENCY_DEPARTMENT] * 2
    + [DISPOSITIONS.INVOLUNTARY_HOLD, DISPOSITIONS.REFUSED, DISPOSITIONS.ARREST]
)
# Encounters with nobody identified: the CAD number is their natural key.
UNIDENTIFIED = [
    ("DEMO-9001", DISPOSITIONS.UNABLE_TO_LOCATE, 3.2),
    ("DEMO-9002", DISPOSITIONS.CANCELLED, 9.6),
    ("DEMO-9003", DISPOSITIONS.UNABLE_TO_LOCATE, 27.4),
]
DO_NOT_CONTACT = {13, 29, 44}
YOUTH = {11, 37}
HOUSING_WEIGHTS = (
    ["housed"] * 5 + ["at_risk"] * 3 + ["sheltered"] * 2 + ["unsheltered"] * 3 + ["institution", "unknown"]
)
RACES = [choice.value for choice in Individual.RaceEthnicity]
FOLLOW_UP_SCHEDULE = [
    ("24h", timedelta(hours=24)),
    ("72h", timedelta(hours=72)),
    ("7d", timedelta(days=7)),
    ("30d", timedelta(days=30)),
]
CLOSED_REASONS = [
    Case.ClosedReason.CONNECTED,
    Case.ClosedReason.GOALS_MET,
    Case.ClosedReason.UNABLE_TO_REACH,
    Case.ClosedReason.MOVED,
]


def _minutes(n: float) -> timedelta:
    return timedelta(minutes=n)


def _backdate(obj, **values) -> None:
    """Set auto_now/auto_now_add timestamps to the past (save() would overwrite them)."""
    type(obj).objects.filter(pk=obj.pk).update(**values)
    for name, value in values.items():
        setattr(obj, name, value)


@dataclass
class Partner:
    organization: Organization
    user: User | None
    credential: PartnerCredential

    def actor(self) -> dict:
        if self.user is not None:
            return {"actor_user": self.user}
        return {"actor_credential": self.credential}


@dataclass
class Staff:
    by_role: dict = field(default_factory=lambda: defaultdict(list))

    def __getitem__(self, role: Role) -> list[User]:
        return self.by_role[role]


class DemoBuilder:
    def __init__(self, *, now):
        self.now = now.replace(microsecond=0)
        self._password_hash = ""
        self.staff = Staff()
        self.partners: dict[int, Partner] = {}
        self.services: list[Service] = []

    # --- program, staff, partners ---------------------------------------------------------

    def build(self) -> None:
        self.program, _ = Program.objects.get_or_create(
            slug=d.PROGRAM_SLUG, defaults={"name": d.PROGRAM_NAME, "area_name": d.PROGRAM_AREA}
        )
        self._staff()
        self._network_admin()
        self._directory()
        self._partner_users()
        self._people()
        self._unidentified_encounters()

    def _password(self) -> str:
        if not self._password_hash:  # one Argon2 hash per run: hashing is deliberately slow
            self._password_hash = make_password(d.DEMO_PASSWORD)
        return self._password_hash

    def _group(self, role: Role) -> Group:
        try:
            return Group.objects.get(name=role.label)
        except Group.DoesNotExist:
            raise CommandError(f"The role group {role.label!r} is missing: run manage.py migrate first.") from None

    def _user(self, username, first, last, role, **fields) -> User:
        user = User.objects.filter(username=username).first()
        if user is None:
            user = User.objects.create(
                username=username,
                first_name=first,
                last_name=last,
                email=f"{username}@example.org",
                password=self._password(),
                **fields,
            )
            user.groups.add(self._group(role))
        return user

    def _staff(self) -> None:
        for username, first, last, role in d.STAFF:
            user = self._user(username, first, last, role, program=self.program, is_staff=True)
            enrol_for_demo(user)  # staff sign in with a second factor; the demo's secret is known
            self.staff[role].append(user)

    def _network_admin(self) -> None:
        username, first, last = d.NETWORK_ADMIN
        user = User.objects.filter(username=username).first()
        if user is None:
            user = User.objects.create(
                username=username,
                first_name=first,
                last_name=last,
                email=f"{username}@example.org",
                password=self._password(),
                is_staff=True,
                is_superuser=True,
            )
        enrol_for_demo(user)

    def _partner_users(self) -> None:
        for username, first, last, org_name in d.PARTNER_USERS:
            org = Organization.objects.get(name=org_name)
            user = self._user(username, first, last, Role.PARTNER, partner_organization=org)
            enrol_for_demo(user)  # partner users sign in with a second factor too
            self.partners[org.pk].user = user

    # --- the partner directory -----------------------------------------------------------------

    def _directory(self) -> None:
        for spec in d.ORGANIZATIONS:
            org = Organization.objects.filter(name=spec["name"]).first()
            if org is None:
                org = Organization.objects.create(
                    name=spec["name"],
                    description=spec["description"],
                    website=spec["website"],
                    email=spec["email"],
                    phone=f"405-555-01{len(self.partners) + 60:02d}",
                    channel=spec["channel"],
                    may_receive_part2=spec["may_receive_part2"],
                    notification_email=spec.get("notification_email", ""),
                    webhook_url=spec.get("webhook_url", ""),
                    # Random on every run: a secret printed in source code would be no secret.
                    webhook_secret="whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()
                    if spec.get("webhook_url")
                    else "",
                )
            locations = [self._location(org, loc) for loc in spec["locations"]]
            for service_spec in spec["services"]:
                service = self._service(org, service_spec, locations)
                if service.status == Service.Status.ACTIVE:
                    self.services.append(service)
            credential = PartnerCredential.objects.filter(organization=org, name=CREDENTIAL_NAME).first()
            if credential is None:
                credential = PartnerCredential(organization=org, name=CREDENTIAL_NAME)
                issue_key(credential)  # the key is shown to nobody: partners get their own
            self.partners[org.pk] = Partner(organization=org, user=org.users.first(), credential=credential)

    def _location(self, org: Organization, spec: dict) -> Location:
        location = Location.objects.filter(organization=org, name=spec["name"]).first()
        if location is None:
            location = Location.objects.create(
                organization=org,
                name=spec["name"],
                address_1=spec["address_1"],
                city="Oklahoma City",
                state_province="OK",
                postal_code=spec["postal_code"],
                latitude=Decimal(str(spec["latitude"])),
                longitude=Decimal(str(spec["longitude"])),
                is_confidential=spec["is_confidential"],
            )
        return location

    def _service(self, org: Organization, spec: dict, locations: list[Location]) -> Service:
        service = Service.objects.select_related("organization").filter(organization=org, name=spec["name"]).first()
        if service is None:
            service = Service.objects.create(
                organization=org,
                name=spec["name"],
                description=spec["description"],
                need_domain=spec["need_domain"],
                eligibility=spec["eligibility"],
                min_age=spec["min_age"],
                max_age=spec["max_age"],
                languages=spec["languages"],
                fees=spec["fees"],
                application_process=spec["application_process"],
                status=spec["status"],
                assured_at=self.now - timedelta(days=spec["assured_days_ago"], hours=3),
            )
        for location in locations:
            ServiceAtLocation.objects.get_or_create(
                service=service, location=location, defaults={"hours": spec["hours"]}
            )
        if spec["capacity"]:
            unit, available, maximum, days_ago = spec["capacity"]
            ServiceCapacity.objects.get_or_create(
                service=service,
                unit=unit,
                defaults={
                    "available": available,
                    "maximum": maximum,
                    "description": f"{unit} free today",
                    # some are fresh, some weeks old: the stale-capacity flag has something to show
                    "updated_at": self.now - timedelta(days=days_ago, hours=2),
                },
            )
        return service

    # --- people ----------------------------------------------------------------------------

    def _people(self) -> None:
        existing = set(
            Individual.objects.filter(program=self.program, cad_person_id__startswith="DEMO-P").values_list(
                "cad_person_id", flat=True
            )
        )
        for i in range(PEOPLE):
            if f"DEMO-P{i + 1:04d}" not in existing:
                Person(self, i).build()

    def _unidentified_encounters(self) -> None:
        r = random.Random(f"{SEED}-unidentified")
        for cad, disposition, days_ago in UNIDENTIFIED:
            if Encounter.objects.filter(program=self.program, cad_incident_number=cad).exists():
                continue
            received = self.now - timedelta(days=days_ago)
            dispatched = received + _minutes(r.randint(2, 5))
            located = disposition != DISPOSITIONS.CANCELLED
            encounter = Encounter.objects.create(
                program=self.program,
                cad_incident_number=cad,
                call_type=r.choice(d.CALL_TYPES),
                call_received_at=received,
                dispatched_at=dispatched,
                on_scene_at=dispatched + _minutes(14) if located else None,
                cleared_at=dispatched + _minutes(45 if located else 6),
                location_text=f"{r.randint(1, 39) * 100} {r.choice(d.STREETS)}",
                area=r.choice(d.AREAS),
                team="CRT 2",
                reason_for_call=r.choice(d.CALL_REASONS),
                disposition=disposition,
                narrative="Searched the area and the address given; no one matching the description."
                if located
                else "Caller rang back: the person is safe with family. Cancelled en route.",
                created_by=self.staff[Role.PARAMEDIC][0],
            )
            _backdate(encounter, created_at=encounter.cleared_at, updated_at=encounter.cleared_at)
            EncounterResponder.objects.create(encounter=encounter, user=self.staff[Role.PARAMEDIC][0], role="paramedic")


class Person:
    """One fictional person and their whole history, drawn from their own random stream."""

    def __init__(self, builder: DemoBuilder, i: int):
        self.b = builder
        self.i = i
        self.r = random.Random(f"{SEED}-person-{i}")
        self.now = builder.now
        self.navigator = builder.staff[Role.NAVIGATOR][i % len(builder.staff[Role.NAVIGATOR])]
        peers = builder.staff[Role.PEER]
        self.peer = peers[i % len(peers)] if i % 5 != 4 else None
        self.paramedic = builder.staff[Role.PARAMEDIC][i % len(builder.staff[Role.PARAMEDIC])]
        self.clinician = builder.staff[Role.CLINICIAN][0]
        self.is_dnc = i in DO_NOT_CONTACT

    def build(self) -> None:
        r = self.r
        statuses = self._referral_statuses()
        # Histories that took weeks belong to older encounters; waiting referrals to recent ones.
        low, high = 0.4, 80.0
        if PROGRESSED & set(statuses):
            low = 9.0
        if {Status.DRAFT, Status.REQUESTED} & set(statuses):
            high = low + (2.0 if low > 1 else 5.6)
        if self.i % 5 == 0 and not statuses:
            high = 3.0
        days_ago = r.uniform(low, high)

        self.individual = self._individual()
        if self.i % 6 == 3:  # a repeat caller: an earlier crisis too
            self._encounter(2, days_ago + r.uniform(20, 60), DISPOSITIONS.STABILISED)
        disposition = FORCED_DISPOSITIONS[self.i] if self.i < len(FORCED_DISPOSITIONS) else None
        encounter, risk = self._encounter(1, days_ago, disposition or r.choice(WEIGHTED_DISPOSITIONS))
        self.individual.risk_level = risk
        self.individual.save(update_fields=["risk_level"])
        _backdate(self.individual, created_at=encounter.call_received_at, updated_at=encounter.cleared_at)
        self._support_contacts()
        case = self._case(encounter, risk, statuses)
        self._follow_ups(case)
        self._safety_plans(case, encounter, risk)
        self._extra_consents(case)
        for j, status in enumerate(statuses):
            self._referral(case, j, status)

    # -- who ---

    def _individual(self) -> Individual:
        r, i = self.r, self.i
        first = d.FIRST_NAMES[i % len(d.FIRST_NAMES)]
        last = d.SURNAMES[(i * 7 + i // len(d.SURNAMES)) % len(d.SURNAMES)]
        self.last_name = last
        age = r.choice([16, 17]) if i in YOUTH else r.randint(19, 74)
        housing = r.choice(HOUSING_WEIGHTS)
        language = r.choice(d.LANGUAGES)
        housed = housing in ("housed", "at_risk")
        return Individual.objects.create(
            program=self.b.program,
            legal_first_name=first,
            legal_last_name=last,
            preferred_name=r.choice(["", "", "", first[:3], "J.", "Sunny"]),
            pronouns=r.choice(d.PRONOUNS),
            date_of_birth=(self.now - timedelta(days=age * 365 + r.randint(10, 355))).date(),
            phone="" if r.random() < 0.15 else f"405-555-01{i + 10:02d}",
            email=f"{first.lower()}.{last.lower()}@example.org" if r.random() < 0.3 else "",
            address=f"{r.randint(1, 49) * 100 + r.randint(1, 99)} {r.choice(d.STREETS)}, Apt {r.randint(1, 40)}"
            if housed
            else "",
            where_staying="" if housed else r.choice(d.WHERE_STAYING),
            area=r.choice(d.AREAS),
            housing_status=housing,
            primary_language=language,
            needs_interpreter=language != "en" and r.random() < 0.7,
            race_ethnicity=r.choice(RACES),
            gender=r.choice(d.GENDERS),
            cad_person_id=f"DEMO-P{i + 1:04d}",
            mrn=f"MRN-DEMO-{10000 + i * 37}" if r.random() < 0.5 else "",
            hmis_id=f"HMIS-DEMO-{2000 + i}" if housing in ("sheltered", "unsheltered") else "",
            is_do_not_contact=self.is_dnc,
            safe_contact_channels=[] if self.is_dnc else r.choice([["phone"], ["text"], ["phone", "text"], []]),
            safe_contact_times="" if self.is_dnc else r.choice(d.SAFE_TIMES),
            responder_safety_notes=r.choice(d.SAFETY_NOTES) if i % 4 == 1 else "",
            risk_level=RiskLevel.NONE,
        )

    def _support_contacts(self) -> None:
        r = self.r
        for _ in range(r.choice([0, 1, 1, 2])):
            relationship = r.choice(d.RELATIONSHIPS)
            contact = SupportContact.objects.create(
                individual=self.individual,
                name=f"{r.choice(d.FIRST_NAMES)} {self.last_name}",
                relationship=relationship,
                phone=f"405-555-01{r.randint(50, 99)}",
                is_caregiver=relationship in ("mother", "grandmother", "partner") and r.random() < 0.5,
                notes=r.choice(["", "Call after 18:00", "Speaks Spanish", "Has a spare key"]),
            )
            _backdate(contact, created_at=self.individual.created_at)
            if r.random() < 0.7:  # the person agreed that we contact them, in front of a colleague
                consent = Consent.objects.create(
                    individual=self.individual,
                    recipient_support_contact=contact,
                    purpose=Consent.Purpose.CONTACT,
                    method=Consent.Method.VERBAL,
                    witness_name=self.navigator.get_full_name() or self.navigator.username,
                    given_at=self.individual.created_at,
                    recorded_by=self.navigator,
                )
                _backdate(consent, created_at=self.individual.created_at)

    # -- what happened ---

    def _encounter(self, number: int, days_ago: float, disposition) -> tuple[Encounter, str]:
        r = self.r
        received = (self.now - timedelta(days=days_ago)).replace(microsecond=0)
        dispatched = received + _minutes(r.randint(1, 6))
        on_scene = dispatched + _minutes(r.randint(7, 26))
        cleared = on_scene + _minutes(r.randint(35, 140))
        forced_police = disposition in (DISPOSITIONS.ARREST, DISPOSITIONS.INVOLUNTARY_HOLD)
        call_type = r.choice(d.CALL_TYPES)
        interventions = r.sample(
            ["de_escalation", "safety_planning", "family_support", "resource_linkage", "medical_care"],
            r.randint(1, 3),
        )
        if call_type.startswith("Overdose"):
            interventions.append("naloxone")
        encounter = Encounter.objects.create(
            program=self.b.program,
            individual=self.individual,
            cad_incident_number=f"DEMO-{self.i + 1:04d}-{number}",
            call_source=r.choice(["911"] * 6 + ["988", "police", "fire_ems"]),
            call_type=call_type,
            call_received_at=received,
            dispatched_at=dispatched,
            on_scene_at=on_scene,
            cleared_at=cleared,
            location_text=self.individual.address or self.individual.where_staying,
            latitude=Decimal(str(round(d.CITY_LAT + r.uniform(-0.08, 0.08), 6))),
            longitude=Decimal(str(round(d.CITY_LON + r.uniform(-0.1, 0.1), 6))),
            area=self.individual.area,
            team=r.choice(["CRT 1", "CRT 2", "CRT 3"]),
            law_enforcement="on_scene" if forced_police else r.choice(["none"] * 6 + ["requested", "on_scene"]),
            reason_for_call=r.choice(d.CALL_REASONS),
            interventions=interventions,
            disposition=disposition,
            transport_destination=d.DESTINATIONS.get(disposition, ""),
            narrative=r.choice(d.NARRATIVES),
            created_by=self.paramedic,
        )
        _backdate(encounter, created_at=cleared, updated_at=cleared)
        EncounterResponder.objects.create(encounter=encounter, user=self.paramedic, role="paramedic")
        EncounterResponder.objects.create(encounter=encounter, user=self.clinician, role="clinician")
        if r.random() < 0.3:
            EncounterResponder.objects.create(encounter=encounter, user=self.navigator, role="navigator")
        if disposition == DISPOSITIONS.REFUSED:
            return encounter, RiskLevel.NONE  # the person declined to be assessed
        self._vitals(encounter)
        return encounter, self._cssrs(encounter)

    def _vitals(self, encounter: Encounter) -> None:
        r = self.r
        diastolic = r.randint(60, 95)
        Assessment.objects.create(
            encounter=encounter,
            kind=Assessment.Kind.MEDICAL,
            performed_by=self.paramedic,
            performed_at=encounter.on_scene_at + _minutes(5),
            heart_rate=r.randint(62, 124),
            systolic_bp=diastolic + r.randint(30, 65),
            diastolic_bp=diastolic,
            respiratory_rate=r.randint(12, 22),
            spo2=r.randint(93, 100),
            temperature_c=Decimal(f"{r.uniform(36.1, 37.8):.1f}"),
            blood_glucose=r.randint(72, 178) if r.random() < 0.6 else None,
        )

    def _cssrs(self, encounter: Encounter) -> str:
        r = self.r
        profile = r.choice(["none", "low", "low", "moderate", "moderate", "high"])
        answers = {"wish_dead": profile != "none"}
        answers["suicidal_thoughts"] = profile in ("moderate", "high") or (profile == "low" and r.random() < 0.5)
        if answers["suicidal_thoughts"]:  # the screener asks Q3-Q5 only after a yes to Q2
            answers["method"] = profile in ("moderate", "high")
            answers["intent"] = profile == "high" and r.random() < 0.6
            answers["plan"] = profile == "high" and not answers["intent"]
        else:
            answers.update(method=None, intent=None, plan=None)
        answers["behavior"] = profile in ("moderate", "high") and r.random() < 0.4
        answers["behavior_past_3_months"] = (profile == "high" and r.random() < 0.5) if answers["behavior"] else None
        risk = derive_cssrs_risk(**answers) or RiskLevel.NONE
        Assessment.objects.create(
            encounter=encounter,
            kind=Assessment.Kind.CSSRS,
            performed_by=self.clinician,
            performed_at=encounter.on_scene_at + _minutes(18),
            cssrs_wish_dead=answers["wish_dead"],
            cssrs_suicidal_thoughts=answers["suicidal_thoughts"],
            cssrs_method=answers["method"],
            cssrs_intent=answers["intent"],
            cssrs_plan=answers["plan"],
            cssrs_behavior=answers["behavior"],
            cssrs_behavior_past_3_months=answers["behavior_past_3_months"],
            risk_level=risk,
            clinical_impression=r.choice(d.CLINICAL_IMPRESSIONS),
        )
        return risk

    # -- the follow-up work ---

    def _case(self, encounter: Encounter, risk: str, statuses: list[str]) -> Case:
        r = self.r
        opened = encounter.cleared_at
        self.encounter = encounter
        status, reason, closed_at = Case.Status.OPEN, "", None
        if self.is_dnc:
            status, reason = Case.Status.CLOSED, Case.ClosedReason.DECLINED
            closed_at = min(opened + timedelta(hours=20), self.now - _minutes(30))
        elif (self.now - opened).days > 40 and not set(statuses) & (OPEN | {Status.DRAFT}) and r.random() < 0.7:
            status, reason = Case.Status.CLOSED, r.choice(CLOSED_REASONS)
            closed_at = opened + timedelta(days=r.uniform(31, 38))
        elif self.now - opened > timedelta(days=1):
            status = Case.Status.ACTIVE_FOLLOW_UP
        return Case.objects.create(
            program=self.b.program,
            individual=self.individual,
            encounter=encounter,
            navigator=self.navigator,
            peer=self.peer,
            status=status,
            closed_reason=reason,
            closed_at=closed_at,
            risk_level=risk,
            opened_at=opened,
        )

    def _follow_ups(self, case: Case) -> None:
        if self.is_dnc:
            return  # asked not to be contacted: no follow-up schedule
        r = self.r
        for label, offset in FOLLOW_UP_SCHEDULE:
            due = case.opened_at + offset
            owner = self.peer if label in ("72h", "30d") and self.peer else self.navigator
            roll = r.random()
            done_at, missed = None, False
            if due <= self.now:
                if case.status == Case.Status.CLOSED:
                    done_at = due - timedelta(hours=r.uniform(0, 6)) if roll < 0.8 else None
                    missed = done_at is None
                elif roll < 0.6:
                    done_at = min(due + timedelta(hours=r.uniform(-8, 3)), self.now - _minutes(10))
                elif roll < 0.8:
                    missed = True
                # else: still open and overdue, for the dashboards and the follow-up sweep
            follow_up = FollowUp.objects.create(
                case=case, label=label, owner=owner, due_at=due, done_at=done_at, is_missed=missed
            )
            _backdate(follow_up, created_at=case.opened_at)
            if done_at is not None:
                self._contact(case, owner, done_at, Contact.Outcome.REACHED, follow_up=follow_up)
            elif missed:
                for attempt in range(r.randint(1, 2)):
                    when = min(due + timedelta(hours=2 + attempt * 5), self.now - _minutes(20 - attempt))
                    self._contact(case, owner, when, Contact.Outcome.ATTEMPTED)
        if self.peer is not None:
            end = min(case.closed_at or self.now, self.now)
            for _ in range(r.randint(0, 2)):
                when = case.opened_at + (end - case.opened_at) * r.uniform(0.1, 0.9)
                self._contact(case, self.peer, when, r.choice(list(Contact.Outcome)), method=Contact.Method.TEXT)

    def _contact(self, case, made_by, when, outcome, *, follow_up=None, method=None) -> None:
        r = self.r
        reached = outcome == Contact.Outcome.REACHED
        contact = Contact.objects.create(
            case=case,
            made_by=made_by,
            occurred_at=when,
            method=method or r.choice([Contact.Method.PHONE] * 3 + [Contact.Method.IN_PERSON, Contact.Method.VIDEO]),
            outcome=outcome,
            duration_minutes=r.randint(5, 45) if reached else 1,
            note=r.choice(d.CONTACT_NOTES) if reached else "No answer; left a message with the callback number.",
            needs_identified=r.sample([NeedDomain.HOUSING, NeedDomain.MENTAL_HEALTH, NeedDomain.FOOD], r.randint(0, 2))
            if reached
            else [],
            next_step=r.choice(d.NEXT_STEPS),
            follow_up=follow_up,
        )
        _backdate(contact, created_at=when)

    def _safety_plans(self, case: Case, encounter: Encounter, risk: str) -> None:
        r = self.r
        if self.is_dnc or encounter.disposition in (DISPOSITIONS.REFUSED, DISPOSITIONS.ARREST):
            return
        if risk == RiskLevel.NONE and r.random() < 0.6:
            return
        when = [encounter.on_scene_at + _minutes(35)]
        for offset in (timedelta(days=3), timedelta(days=8)):
            if case.opened_at + offset < min(self.now, case.closed_at or self.now) and r.random() < 0.45:
                when.append(case.opened_at + offset + timedelta(hours=r.uniform(0, 6)))
        warning_signs = r.sample(d.WARNING_SIGNS, 3)
        coping = r.sample(d.COPING, 2)
        helpers = r.sample(d.HELPERS, 2)
        for version, created_at in enumerate(when, start=1):
            if version > 1:  # each review adds something the person found helps
                coping = [*coping, r.choice([c for c in d.COPING if c not in coping])]
            plan = SafetyPlan.objects.create(
                case=case,
                version=version,
                is_current=version == len(when),
                warning_signs=warning_signs,
                coping_strategies=coping,
                distractions=r.sample(d.DISTRACTIONS, 2),
                help_contacts=helpers,
                professional_contacts=d.PROFESSIONALS[:2] + r.sample(d.PROFESSIONALS[2:], 1),
                environment_steps=r.sample(d.ENVIRONMENT_STEPS, r.randint(1, 2)),
                most_important=r.choice(d.MOST_IMPORTANT),
                participants=[
                    {"name": self.individual.display_name, "role": "individual"},
                    {"name": helpers[0]["name"], "role": "family"},
                    {"name": (self.clinician if version == 1 else self.navigator).get_full_name(), "role": "staff"},
                ],
                copy_kept_at=r.choice(d.COPY_KEPT_AT),
                review_on=(created_at + timedelta(days=30)).date(),
                created_by=self.clinician if version == 1 else self.navigator,
            )
            _backdate(plan, created_at=created_at)

    # -- consents and referrals ---

    def _referral_statuses(self) -> list[str]:
        r, i = self.r, self.i
        if i in DO_NOT_CONTACT:
            return []
        if i < 20:  # the first people cover every status: 3*i mod 10 runs through 0..9
            count = 1 if i < 10 else r.randint(1, 2)
            return [STATUS_CYCLE[(3 * i + 7 * j) % len(STATUS_CYCLE)] for j in range(count)]
        count = r.choice([0, 1, 1, 2, 2, 3])
        weighted = (
            [Status.COMPLETED] * 4
            + [Status.IN_PROGRESS, Status.ACCEPTED] * 2
            + [Status.REQUESTED] * 3
            + [Status.ON_HOLD, Status.REJECTED, Status.CANCELLED, Status.FAILED, Status.DRAFT]
        )
        return [r.choice(weighted) for _ in range(count)]

    def _pick_service(self, status: str) -> Service:
        r = self.r
        age = (self.now.date() - self.individual.date_of_birth).days // 365
        eligible = [s for s in self.b.services if (s.min_age or 0) <= age and (s.max_age is None or age <= s.max_age)]
        if status == Status.REQUESTED and r.random() < 0.6:
            # waiting referrals mostly go to webhook partners, so the outbox shows retries and give-ups
            webhook = [s for s in eligible if s.organization.channel == Organization.Channel.WEBHOOK]
            eligible = webhook or eligible
        if self.individual.housing_status in ("sheltered", "unsheltered") and r.random() < 0.5:
            eligible = [s for s in eligible if s.need_domain == NeedDomain.HOUSING] or eligible
        return r.choice(eligible)

    def _consent(self, service: Service, given_at) -> Consent:
        r = self.r
        org = service.organization
        verbal = r.random() < 0.4
        consent = Consent.objects.create(
            individual=self.individual,
            recipient_organization=None if verbal else org,
            recipient_category=service.need_domain if verbal else "",
            purpose=Consent.Purpose.REFERRAL,
            covers_part2=service.need_domain == NeedDomain.RECOVERY and org.may_receive_part2,
            method=Consent.Method.VERBAL if verbal else r.choice([Consent.Method.WRITTEN, Consent.Method.ELECTRONIC]),
            witness_name=self.paramedic.get_full_name() if verbal else "",
            given_at=given_at,
            expires_at=given_at + timedelta(days=365),
            recorded_by=self.navigator,
        )
        _backdate(consent, created_at=given_at)
        return consent

    def _extra_consents(self, case: Case) -> None:
        """Consents that no longer apply: one expired, one revoked (for the consent checks to refuse)."""
        if self.is_dnc or self.i % 7 not in (2, 5):
            return
        if self.i % 7 == 2:
            given = case.opened_at - timedelta(days=400)
            expires, revoked = case.opened_at - timedelta(days=35), None
        else:
            given = case.opened_at + _minutes(50)
            expires, revoked = given + timedelta(days=365), min(given + timedelta(days=2), self.now - _minutes(5))
        consent = Consent.objects.create(
            individual=self.individual,
            recipient_category=NeedDomain.FOOD if self.i % 7 == 2 else NeedDomain.BENEFITS,
            purpose=Consent.Purpose.REFERRAL,
            method=Consent.Method.WRITTEN,
            given_at=given,
            expires_at=expires,
            revoked_at=revoked,
            recorded_by=self.navigator,
        )
        _backdate(consent, created_at=given)

    def _referral(self, case: Case, j: int, status: str) -> None:
        r = self.r
        service = self._pick_service(status)
        org = service.organization
        partner = self.b.partners[org.pk]
        created_at = min(case.opened_at + timedelta(hours=r.uniform(1, 30) + j * 2), self.now - _minutes(40))
        consent = self._consent(service, created_at - _minutes(r.randint(5, 60)))
        path = d.REFERRAL_HISTORY[status]

        # When each step happened: draft, then sent, then the partner's moves spread until now.
        times = [created_at]
        if len(path) > 1:
            times.append(min(created_at + _minutes(r.randint(5, 180)), self.now - _minutes(10)))
        while len(times) < len(path):
            times.append(times[-1] + (self.now - _minutes(5) - times[-1]) * r.uniform(0.15, 0.5))
        requested_at = times[1] if len(path) > 1 else None

        events = []
        business_status = ""
        for k, (to_status, when) in enumerate(zip(path, times, strict=True)):
            business_status = BUSINESS_STATUS.get(to_status, "")
            if to_status == Status.ACCEPTED:
                business_status = r.choice(
                    [Referral.BusinessStatus.TRYING_TO_REACH, Referral.BusinessStatus.APPOINTMENT_SCHEDULED]
                )
            if to_status == Status.IN_PROGRESS:
                business_status = r.choice([Referral.BusinessStatus.ENROLLED] * 2 + ["appointment_scheduled"])
            reason = r.choice(d.STATUS_REASONS[to_status]) if to_status in d.STATUS_REASONS else ""
            by_partner = to_status in PARTNER_SETS
            events.append(
                {
                    "actor_kind": ReferralEvent.ActorKind.PARTNER if by_partner else ReferralEvent.ActorKind.STAFF,
                    **(partner.actor() if by_partner else {"actor_user": self.navigator}),
                    "from_status": path[k - 1] if k else "",
                    "to_status": to_status,
                    "business_status": business_status,
                    "note": reason or EVENT_NOTES.get(to_status, ""),
                    "created_at": when,
                }
            )
        chase_level = 0
        if status == Status.REQUESTED and self.now - requested_at > timedelta(days=1):
            # the chase job already re-notified the partner once
            chase_level = 1
            events.append(
                {
                    "actor_kind": ReferralEvent.ActorKind.SYSTEM,
                    "from_status": Status.REQUESTED,
                    "to_status": Status.REQUESTED,
                    "business_status": Referral.BusinessStatus.AWAITING_PARTNER,
                    "note": "Partner re-notified: no answer within one business day.",
                    "created_at": requested_at + timedelta(days=1),
                }
            )
        last = max(event["created_at"] for event in events)

        appointment_at = None
        if business_status == Referral.BusinessStatus.APPOINTMENT_SCHEDULED:
            appointment_at = (last + timedelta(days=r.randint(1, 6))).replace(minute=0, second=0)
        owner, due = "", None
        if status in OPEN:
            owner = Referral.NextActionOwner.PARTNER
            if status == Status.REQUESTED:
                due = requested_at + self.b.program.referral_answer_window * (chase_level + 1)
            elif appointment_at is not None:
                due = appointment_at + timedelta(days=1)  # the partner reports whether they came
            elif status == Status.ON_HOLD:
                owner, due = Referral.NextActionOwner.NAVIGATOR, last + timedelta(days=7)
            else:
                due = last + timedelta(days=r.choice([3, 7, 14]))

        referral = Referral.objects.create(
            program=self.b.program,
            individual=self.individual,
            case=case,
            service=service,
            organization=org,
            need_domain=service.need_domain,
            urgency=r.choice([Referral.Urgency.ROUTINE] * 3 + [Referral.Urgency.URGENT, Referral.Urgency.ASAP]),
            reason=d.REFERRAL_REASONS[service.need_domain],
            shares_contact_details=r.random() < 0.9,
            includes_part2=consent.covers_part2 and r.random() < 0.7,
            consent=consent,
            status=status,
            status_reason=events[len(path) - 1]["note"]
            if status in REASON_REQUIRED | {Status.ENTERED_IN_ERROR}
            else "",
            business_status=business_status,
            appointment_at=appointment_at,
            outcome_note=r.choice(d.OUTCOME_NOTES[status]) if status in d.OUTCOME_NOTES else "",
            next_action_owner=owner,
            next_action_due_at=due,
            chase_level=chase_level,
            version=len(events),
            created_by=self.navigator,
            requested_at=requested_at,
        )
        _backdate(referral, created_at=created_at, updated_at=last)
        for event in events:
            created = ReferralEvent.objects.create(
                referral=referral, **{k: v for k, v in event.items() if k != "created_at"}
            )
            _backdate(created, created_at=event["created_at"])
        if requested_at is not None and org.channel != Organization.Channel.PULL:
            self._delivery(referral, "referral.requested", Status.REQUESTED, requested_at)
            if chase_level:  # the chase job's re-notification
                self._delivery(referral, "referral.reminder", Status.REQUESTED, requested_at + timedelta(days=1))
            if status in (Status.CANCELLED, Status.ENTERED_IN_ERROR):
                when = events[len(path) - 1]["created_at"]
                self._delivery(referral, f"referral.{Status(status).value}", status, when)

    def _delivery(self, referral: Referral, event_type: str, status: str, when) -> None:
        """The outbox row that told the partner, with its attempts. Demo partners live under
        example.org, so a real worker's attempts on the pending ones will fail: that is expected."""
        r = self.r
        org = referral.organization
        webhook = org.channel == Organization.Channel.WEBHOOK
        state = Delivery.State.DELIVERED
        if webhook and referral.status == Status.REQUESTED:
            # never answered because never received: retried for about three days, then given up
            state = Delivery.State.PENDING if self.now - when < timedelta(days=3) else Delivery.State.DEAD
        attempts = []
        if state == Delivery.State.DELIVERED:
            attempts.append((when + timedelta(seconds=2), 200 if webhook else None, ""))
        else:
            backoff = [0.0, 0.1, 0.5, 2, 8, 24, 48, 72]  # hours after the first try
            for hours in backoff:
                at = when + timedelta(hours=hours, seconds=2)
                if at > self.now - _minutes(1):
                    break
                failed_with = r.choice([503, 502, None])
                attempts.append((at, failed_with, "" if failed_with else r.choice(d.DELIVERY_ERRORS)))
        last_at, last_code, last_error = attempts[-1] if attempts else (when, None, "")
        delivery = Delivery.objects.create(
            referral=referral,
            organization=org,
            channel=Delivery.Channel.WEBHOOK if webhook else Delivery.Channel.EMAIL,
            event_type=event_type,
            message_id=f"msg_{r.getrandbits(128):032x}",
            payload={
                "type": event_type,
                "timestamp": when.isoformat(),
                "data": {"referral_id": referral.pk, "status": Status(status).value},
            },
            state=state,
            attempts=len(attempts),
            next_attempt_at=self.now + _minutes(r.randint(5, 90)) if state == Delivery.State.PENDING else None,
            last_status_code=last_code,
            last_error=last_error if state != Delivery.State.DELIVERED else "",
            delivered_at=last_at if state == Delivery.State.DELIVERED else None,
        )
        _backdate(delivery, created_at=when)
        for at, code, error in attempts:
            DeliveryAttempt.objects.create(
                delivery=delivery,
                attempted_at=at,
                status_code=code,
                error=error,
                duration_ms=r.randint(40, 900),
                completed_at=at,
            )
        if state == Delivery.State.DEAD and event_type == "referral.requested":  # the navigator is told once
            raise_item(
                kind=Kind.DELIVERY_DEAD,
                cause_key=f"delivery:{delivery.pk}:dead",
                program_id=self.b.program.pk,
                recipient_id=self.navigator.pk,
                now=last_at,
                referral=referral,
                delivery=delivery,
                individual_id=referral.individual_id,
            )


def _model_counts() -> dict[str, int]:
    labels = ("accounts", "providers", "cases", "referrals", "inbox")
    return {
        model._meta.label: model.objects.count()
        for label in labels
        for model in apps.get_app_config(label).get_models()
    }


class Command(BaseCommand):
    help = "Create a fictional demo program (staff, partner directory, people, referrals). Safe to run twice."

    @system_read("the demo data is written and read back by the seed command")
    def handle(self, *args, **options):
        started = time.monotonic()
        before = _model_counts()
        with transaction.atomic():
            DemoBuilder(now=timezone.now()).build()
        after = _model_counts()
        created = {label: after[label] - before[label] for label in after if after[label] != before[label]}
        elapsed = time.monotonic() - started
        if created:
            summary = ", ".join(f"{count} {label.split('.')[1]}" for label, count in created.items())
            self.stdout.write(f"Created {summary} in {elapsed:.1f} s.")
        else:
            self.stdout.write(f"The demo data was already there; nothing created ({elapsed:.1f} s).")
        self.stdout.write(self._logins())

    def _logins(self) -> str:
        app = settings.PUBLIC_BASE_URL.rstrip("/") + "/"  # bin/run sets it from RUN_HOST and RUN_PORT
        lines = [
            "",
            "Demo logins: FOR DEMOS AND TRAINING ONLY. Never load this data into a real deployment.",
            f"App:      {app}   (operations console for staff admins: {app}admin/)",
            f"Password: {d.DEMO_PASSWORD}  (the same for every demo user)",
            "Second factor (everyone): `DEBUG=true .venv/bin/python manage.py totp_code USERNAME` prints the",
            "current 6-digit code (the demo secrets derive from SECRET_KEY, so they hold across runs).",
            "",
            f"  {'role':<26} username",
            f"  {'-' * 26} {'-' * 20}",
        ]
        shown = set()
        for username, _first, _last, role in d.STAFF:
            if role not in shown:
                shown.add(role)
                lines.append(f"  {role.label:<26} {username}")
        lines.append(f"  {'Network admin':<26} {d.NETWORK_ADMIN[0]}  (partners' API keys and users, in the console)")
        for username, *_ in d.PARTNER_USERS[:1]:
            lines.append(f"  {Role.PARTNER.label:<26} {username}  (partner page and API only, not the admin)")
        return "\n".join(lines) + "\n"
