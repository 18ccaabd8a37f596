"""Mass assignment: every write, on the pages and over the API, is sent every model field an attacker
would try (status, owner, program, organisation, consent, flags, version, chase level, is_staff, ...)
on top of a valid body. The database is compared before and after: only what the action itself
changes may change, and the API refuses unknown fields outright (400, nothing written)."""

import pytest
from django.forms.models import model_to_dict
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import User
from cases.models import Case, Consent, Contact, Encounter, FollowUp, Individual, SafetyPlan
from providers.models import Organization, PartnerCredential, Service, ServiceCapacity
from referrals.models import Referral
from tests import factories as f
from tests.api.conftest import credential_for
from tests.plans import plan_post

pytestmark = pytest.mark.django_db

MODELS = [
    Individual,
    Encounter,
    Case,
    FollowUp,
    Contact,
    SafetyPlan,
    Consent,
    Referral,
    User,
    Organization,
    Service,
    ServiceCapacity,
    PartnerCredential,
]
# Never changed by any of these writes, on any existing row: who owns what, and privileges.
FORBIDDEN = {
    "program",
    "individual",
    "organization",
    "service",
    "case",
    "consent",
    "created_by",
    "made_by",
    "recorded_by",
    "partner_organization",
    "recipient_organization",
    "is_staff",
    "is_superuser",
    "is_active",
    "groups",
    "user_permissions",
    "password",
    "chase_level",
    "reason",
    "webhook_secret",
    "key_hash",
}


BOOKKEEPING = {"last_used_at", "last_login"}  # touched by signing in, not by the write


def snapshot() -> dict:
    return {
        model._meta.label_lower: {
            obj.pk: {k: v for k, v in model_to_dict(obj).items() if k not in BOOKKEEPING}
            for obj in model.objects.order_by("pk")
        }
        for model in MODELS
    }


def diff(before: dict, after: dict) -> dict:
    """label -> {"added": [row...], "changed": {pk: {field: (old, new)}}, "removed": [pk...]}"""
    found = {}
    for label, rows in after.items():
        old_rows = before[label]
        added = [row for pk, row in rows.items() if pk not in old_rows]
        removed = [pk for pk in old_rows if pk not in rows]
        changed = {}
        for pk, row in rows.items():
            if pk in old_rows and row != old_rows[pk]:
                changed[pk] = {k: (old_rows[pk].get(k), v) for k, v in row.items() if old_rows[pk].get(k) != v}
        if added or removed or changed:
            found[label] = {"added": added, "changed": changed, "removed": removed}
    return found


def forbidden_changes(changes: dict) -> list:
    return [
        (label, pk, field)
        for label, change in changes.items()
        for pk, fields in change["changed"].items()
        for field in fields
        if field in FORBIDDEN
    ]


@pytest.fixture
def extras(ours, theirs, supervisor, other_program, other_partner_org):
    """Every model field worth trying, pointing at someone else's records or a privilege."""
    return {
        "status": "completed",
        "owner": supervisor.pk,
        "program": other_program.pk,
        "organization": other_partner_org.pk,
        "partner_organization": other_partner_org.pk,
        "recipient_organization": other_partner_org.pk,
        "consent": theirs.consent.pk,
        "individual": theirs.person.pk,
        "case": theirs.case.pk,
        "service": theirs.service.pk,
        "created_by": supervisor.pk,
        "made_by": supervisor.pk,
        "recorded_by": supervisor.pk,
        "navigator": supervisor.pk,
        "peer": supervisor.pk,
        "is_staff": True,
        "is_superuser": True,
        "is_current": False,
        "covers_part2": True,
        "shares_contact_details": True,
        "includes_part2": True,
        "purpose": "treatment",
        "version": 99,
        "chase_level": 5,
        "next_action_owner": "staff",
        "risk_level": "high",
        "closed_reason": "deceased",
        "maximum": 999,
        "unit": "rooms",
        "webhook_secret": "whsec_attacker",
        "webhook_url": "https://attacker.example/",
        "id": 1,
        "pk": 1,
        "created_at": "2000-01-01T00:00:00Z",
        "given_at": "2000-01-01T00:00:00Z",
        "revoked_at": "",
    }


def _form(values: dict) -> dict:
    return {key: ("on" if value is True else "" if value is False else value) for key, value in values.items()}


def _post_page(client, url, body, extras):
    return client.post(url, _form({**extras, **body}))


def test_page_writes_change_only_what_they_are_for(client, navigator, supervisor, partner_user, ours, theirs, extras):
    now = timezone.localtime().strftime("%Y-%m-%dT%H:%M")
    problems = []

    def attempt(user, url, body, check):
        client.force_login(user)
        before = snapshot()
        response = _post_page(client, url, body, extras)
        changes = diff(before, snapshot())
        bad = forbidden_changes(changes)
        if bad:
            problems.append(f"{url}: {bad}")
        outcome = check(changes)
        if outcome:
            problems.append(f"{url} ({response.status_code}): {outcome}")

    def only(changes, *labels):
        unexpected = sorted(set(changes) - set(labels))
        return f"also changed {unexpected}" if unexpected else ""

    # log a contact: one new contact, on this case, by this user
    def contact_check(changes):
        added = changes.get("cases.contact", {}).get("added", [])
        if len(added) != 1:
            return f"contacts added: {added}"
        row = added[0]
        if (row["case"], row["made_by"]) != (ours.case.pk, navigator.pk):
            return f"contact on case {row['case']} by {row['made_by']}"
        return only(changes, "cases.contact")

    attempt(
        navigator,
        reverse("cases:log_contact", args=[ours.case.pk]),
        {"outcome": "attempted", "method": "phone", "occurred_at": now, "note": "tried"},
        contact_check,
    )

    # a new safety plan version: on this case, by this user, the next version, current
    def plan_check(changes):
        added = changes.get("cases.safetyplan", {}).get("added", [])
        if len(added) != 1:
            return f"plans added: {added}"
        row = added[0]
        wanted = (ours.case.pk, navigator.pk, ours.plan.version + 1, True)
        if (row["case"], row["created_by"], row["version"], row["is_current"]) != wanted:
            return f"plan {row}"
        changed = changes["cases.safetyplan"]["changed"]
        if set(changed) - {ours.plan.pk} or any(set(fields) != {"is_current"} for fields in changed.values()):
            return f"old versions changed: {changed}"
        return only(changes, "cases.safetyplan")

    attempt(
        navigator,
        reverse("cases:safety_plan_edit", args=[ours.case.pk]),
        plan_post(warning_signs=["new sign"]),
        plan_check,
    )

    # a consent: this person, the chosen service's partner, recorded by this user, for referral, given now
    def consent_check(changes):
        added = changes.get("cases.consent", {}).get("added", [])
        if len(added) != 1:
            return f"consents added: {added}"
        row = added[0]
        wanted = (ours.person.pk, ours.partner_org.pk, navigator.pk, "referral", False)
        got = (
            row["individual"],
            row["recipient_organization"],
            row["recorded_by"],
            row["purpose"],
            row["covers_part2"],
        )
        if got != wanted:
            return f"consent {got}"
        if abs((row["given_at"] - timezone.now()).total_seconds()) > 60:
            return f"given at {row['given_at']}"
        return only(changes, "cases.consent")

    attempt(
        navigator,
        reverse("referrals:record_consent", args=[ours.case.pk, ours.service.pk]),
        {"method": "written", "covers_part2": False},
        consent_check,
    )

    # a referral: made and sent for this case, to the chosen service, by this user, in its first state
    def referral_check(changes):
        added = changes.get("referrals.referral", {}).get("added", [])
        if len(added) != 1:
            return f"referrals added: {added}"
        row = added[0]
        wanted = (ours.program.pk, ours.person.pk, ours.case.pk, ours.service.pk, ours.partner_org.pk, navigator.pk)
        got = (row["program"], row["individual"], row["case"], row["service"], row["organization"], row["created_by"])
        if got != wanted:
            return f"referral {got}"
        if (row["status"], row["chase_level"], row["includes_part2"]) != ("requested", 0, False):
            return f"referral state {row['status']}, chase {row['chase_level']}, part 2 {row['includes_part2']}"
        if row["consent"] == theirs.consent.pk:
            return "referral uses another program's consent"
        return only(changes, "referrals.referral")

    attempt(
        navigator,
        reverse("referrals:new", args=[ours.case.pk]) + f"?service={ours.service.pk}",
        {"service": ours.service.pk, "reason": "needs a bed", "urgency": "routine", "includes_part2": False},
        referral_check,
    )

    # reassign: only who works the case (and who owns its open follow-ups)
    peer2 = f.UserFactory(program=ours.program, roles=["peer"])

    def reassign_check(changes):
        case_changes = changes.get("cases.case", {}).get("changed", {})
        if set(case_changes) != {ours.case.pk}:
            return f"cases changed: {case_changes}"
        if set(case_changes[ours.case.pk]) - {"navigator", "peer", "updated_at"}:
            return f"case fields changed: {case_changes[ours.case.pk]}"
        follow_ups = changes.get("cases.followup", {}).get("changed", {})
        if any(set(fields) - {"owner"} for fields in follow_ups.values()):
            return f"follow-ups changed: {follow_ups}"
        return only(changes, "cases.case", "cases.followup")

    attempt(
        supervisor,
        reverse("cases:reassign", args=[ours.case.pk]),
        {"navigator": navigator.pk, "peer": peer2.pk},
        reassign_check,
    )

    # the partner accepts: the status moves, nothing else that is not theirs to set
    def accept_check(changes):
        changed = changes.get("referrals.referral", {}).get("changed", {})
        if set(changed) != {ours.referral.pk}:
            return f"referrals changed: {changed}"
        fields = changed[ours.referral.pk]
        if fields.get("status", (None, None))[1] != "accepted":
            return f"status {fields.get('status')}"
        if "version" in fields and fields["version"][1] == 99:
            return "version set from the form"
        return only(changes, "referrals.referral")

    attempt(
        partner_user,
        reverse("providers:partner_move", args=[ours.referral.pk, "accept"]),
        {"note": "we will call"},
        accept_check,
    )

    # capacity: the available count, nothing else
    def capacity_check(changes):
        changed = changes.get("providers.servicecapacity", {}).get("changed", {})
        if set(changed) != {ours.capacity.pk} or set(changed[ours.capacity.pk]) - {"available", "updated_at"}:
            return f"capacity changed: {changed}"
        return only(changes, "providers.servicecapacity", "providers.service")

    attempt(
        partner_user,
        reverse("providers:partner_capacity", args=[ours.capacity.pk]),
        {"available": "1"},
        capacity_check,
    )

    # cancel (last: it closes the referral)
    def cancel_check(changes):
        changed = changes.get("referrals.referral", {}).get("changed", {})
        if set(changed) != {ours.referral.pk} or changed[ours.referral.pk]["status"][1] != "cancelled":
            return f"referrals changed: {changed}"
        return only(changes, "referrals.referral")

    attempt(
        navigator,
        reverse("referrals:move", args=[ours.referral.pk, "cancel"]),
        {"reason": "no longer needed"},
        cancel_check,
    )
    assert problems == []


def test_api_writes_refuse_unknown_fields_and_change_nothing(navigator, integration_user, ours, partner_org, extras):
    staff = APIClient()
    staff.force_login(navigator)
    cad = APIClient()
    cad.force_login(integration_user)
    partner = APIClient()
    partner.credentials(HTTP_AUTHORIZATION=f"Bearer {credential_for(partner_org).key}")
    now = timezone.now().isoformat()
    referral = ours.referral.pk
    writes = [
        (
            cad,
            "post",
            "/api/v1/encounters/intake/",
            {"cad_incident_number": "CAD-1", "call_received_at": now, "person": {"legal_first_name": "A"}},
        ),
        (
            staff,
            "post",
            "/api/v1/contacts/",
            {"case": ours.case.pk, "occurred_at": now, "method": "phone", "outcome": "reached"},
        ),
        (staff, "post", "/api/v1/consents/", {"individual": ours.person.pk, "method": "written", "given_at": now}),
        (
            staff,
            "post",
            "/api/v1/referrals/",
            {"individual": ours.person.pk, "service": ours.service.pk, "reason": "x"},
        ),
        (staff, "post", f"/api/v1/referrals/{referral}/send/", {}),
        (staff, "post", f"/api/v1/referrals/{referral}/cancel/", {"reason": "x"}),
        *[
            (partner, "post", f"/api/v1/partner/referrals/{referral}/{move}/", body)
            for move, body in [
                ("accept", {}),
                ("reject", {"reason": "x"}),
                ("start", {}),
                ("hold", {"reason": "x"}),
                ("resume", {}),
                ("complete", {}),
                ("fail", {"reason": "x"}),
                ("appointment", {"appointment_at": now}),
                ("business-status", {"business_status": "waitlisted"}),
            ]
        ],
        (
            partner,
            "post",
            f"/api/v1/partner/services/{ours.service.pk}/capacity/",
            {"unit": "beds", "available": 1, "maximum": 5},
        ),
        (partner, "put", "/api/v1/partner/webhook/", {"webhook_url": "https://partner.example/hook"}),
    ]
    problems = []
    for client, method, path, body in writes:
        before = snapshot()
        attack = {**{key: value for key, value in extras.items() if key not in body}, **body}
        response = getattr(client, method)(path, attack, format="json", HTTP_IF_MATCH="*")
        changes = diff(before, snapshot())
        if response.status_code != 400 or changes:
            problems.append(f"{method.upper()} {path}: {response.status_code}, changed {changes}")
        # nested: the person of the 911 intake takes no more than its own fields either
    before = snapshot()
    nested = {"cad_incident_number": "CAD-2", "call_received_at": now, "person": {"legal_first_name": "A", **extras}}
    response = cad.post("/api/v1/encounters/intake/", nested, format="json")
    if response.status_code != 400 or diff(before, snapshot()):
        problems.append(f"intake with a stuffed person: {response.status_code}")
    assert problems == []


@pytest.fixture
def integration_user(program):
    return f.UserFactory(program=program, roles=["clinician"])
