"""Every API route by method by role, generated from the URLconf: a route with no entry fails.

Staff roles sign in with a session; "integration" (the CAD system) uses a staff API token.

Expected outcomes: "ok" (the request got past authentication, permission and scoping: any answer but
401, 403 and 404, and never a 5xx), or exactly 401, 403 or 404. Objects belong to partner A and to the
program; partner B and the navigator of another program must get 404 for them.
"""

from datetime import timedelta

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from accounts.roles import Role
from tests import factories as f
from tests.api.conftest import credential_for, token_for

pytestmark = pytest.mark.django_db

ROLES = ["anonymous", "navigator", "peer", "supervisor", "integration", "partner_a", "partner_b", "navigator_elsewhere"]
STAFF = ["navigator", "peer", "supervisor", "integration"]
OK = "ok"


def _partner_only(*, b: str = 404) -> dict:
    row = {"anonymous": 401, "partner_a": OK, "partner_b": b}
    row.update(dict.fromkeys([*STAFF, "navigator_elsewhere"], 403))
    return row


def _staff_only(*, peer=OK, elsewhere=404) -> dict:
    row = {"anonymous": 401, "partner_a": 403, "partner_b": 403, "navigator_elsewhere": elsewhere}
    row.update(dict.fromkeys(STAFF, OK))
    row["peer"] = peer
    return row


def _everyone() -> dict:
    return dict.fromkeys(ROLES, OK)


PARTNER_REFERRAL_ACTIONS = ["accept", "reject", "start", "hold", "resume", "complete", "fail", "appointment"]
MATRIX: dict[tuple[str, str], dict] = {
    ("partner-referral-list", "GET"): _partner_only(b=OK),
    ("partner-referral-detail", "GET"): _partner_only(),
    ("partner-referral-business-status", "POST"): _partner_only(),
    **{(f"partner-referral-{verb}", "POST"): _partner_only() for verb in PARTNER_REFERRAL_ACTIONS},
    ("partner-service-list", "GET"): _partner_only(b=OK),
    ("partner-service-detail", "GET"): _partner_only(),
    ("partner-service-capacity", "POST"): _partner_only(),
    ("partner-webhook", "GET"): _partner_only(b=OK),
    ("partner-webhook", "PUT"): _partner_only(b=OK),
    ("partner-webhook-rotate-secret", "POST"): _partner_only(b=OK),
    ("referral-list", "GET"): _staff_only(elsewhere=OK),
    ("referral-list", "POST"): _staff_only(elsewhere=OK),
    ("referral-detail", "GET"): _staff_only(),
    ("referral-send", "POST"): _staff_only(),
    ("referral-cancel", "POST"): _staff_only(),
    ("directory-service-list", "GET"): _staff_only(elsewhere=OK),
    ("directory-service-detail", "GET"): _staff_only(elsewhere=OK),  # the directory is shared by every program
    ("individual-list", "GET"): _staff_only(elsewhere=OK),
    ("individual-detail", "GET"): _staff_only(),
    ("individual-search", "POST"): _staff_only(elsewhere=OK),
    ("encounter-list", "GET"): _staff_only(elsewhere=OK),
    ("encounter-detail", "GET"): _staff_only(peer=404),  # peers never read encounters
    ("encounter-intake", "POST"): _staff_only(elsewhere=OK),
    ("case-list", "GET"): _staff_only(elsewhere=OK),
    ("case-detail", "GET"): _staff_only(),
    ("case-list", "POST"): _staff_only(elsewhere=OK),  # an empty body is a 400 before anything is looked up
    ("case-close", "POST"): {**_staff_only(peer=403), "integration": 403},  # closing: navigators, supervisors
    ("case-reopen", "POST"): {**_staff_only(peer=403), "integration": 403},
    ("follow-up-dismiss", "POST"): _staff_only(),
    ("contact-list", "GET"): _staff_only(elsewhere=OK),
    ("contact-list", "POST"): _staff_only(elsewhere=OK),
    ("contact-detail", "GET"): _staff_only(),
    ("follow-up-list", "GET"): _staff_only(elsewhere=OK),
    ("follow-up-detail", "GET"): _staff_only(),
    ("consent-list", "GET"): _staff_only(elsewhere=OK),
    ("consent-list", "POST"): _staff_only(elsewhere=OK),
    ("consent-detail", "GET"): _staff_only(),
    ("api-schema", "GET"): _everyone(),
    ("api-docs", "GET"): _everyone(),
    ("api-redoc", "GET"): _everyone(),
    # FHIR R4 facade: partner credentials only; the CapabilityStatement is public.
    ("fhir-metadata", "GET"): _everyone(),
    ("fhir-task-search", "GET"): _partner_only(b=OK),
    ("fhir-task", "GET"): _partner_only(),
    ("fhir-task", "PUT"): _partner_only(),
    ("fhir-service-request-search", "GET"): _partner_only(b=OK),
    ("fhir-service-request", "GET"): _partner_only(),
    # HSDS: the public directory.
    ("hsds-meta", "GET"): _everyone(),
    ("hsds-services", "GET"): _everyone(),
    ("hsds-service", "GET"): _everyone(),
    ("hsds-organizations", "GET"): _everyone(),
    ("hsds-organization", "GET"): _everyone(),
    ("hsds-service-at-locations", "GET"): _everyone(),
    ("hsds-service-at-location", "GET"): _everyone(),
}


def _walk(patterns, prefix=""):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            yield from _walk(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), entry


def api_routes() -> set[tuple[str, str]]:
    """(route name, method) for every view under /api/, /fhir/ and /hsds/, read from the URLconf."""
    found = set()
    for route, pattern in _walk(get_resolver().url_patterns):
        if not route.startswith(("api/", "fhir/", "hsds/")) or "format" in route:
            continue
        if route.startswith("api/v1/metrics/"):
            continue  # the metrics app's own endpoints, with their own permission tests (tests/metrics)
        callback = pattern.callback
        actions = getattr(callback, "actions", None)
        if actions:
            methods = [method.upper() for method in actions]
        else:
            view_class = getattr(callback, "cls", None) or getattr(callback, "view_class", None)
            methods = [m.upper() for m in ("get", "post", "put", "patch", "delete") if hasattr(view_class, m)]
        for method in methods:
            if method not in ("HEAD", "OPTIONS"):  # HEAD answers as GET does; OPTIONS is metadata
                found.add((pattern.name, method))
    return found


def test_every_api_route_and_method_has_a_matrix_entry():
    missing = api_routes() - set(MATRIX)
    stale = set(MATRIX) - api_routes()
    assert not missing, f"routes without a permission-matrix entry: {sorted(missing)}"
    assert not stale, f"matrix entries for routes that no longer exist: {sorted(stale)}"


@pytest.fixture
def world(program, navigator, peer, supervisor, partner_org, other_partner_org):
    person = f.IndividualFactory(program=program)
    case = f.CaseFactory(program=program, individual=person, navigator=navigator, peer=peer)
    service = f.ServiceFactory(organization=partner_org)
    return {
        "referral": f.ReferralFactory(program=program, individual=person, case=case, service=service),
        "service": service,
        "individual": person,
        "case": case,
        "encounter": f.EncounterFactory(program=program, individual=person),
        "contact": f.ContactFactory(case=case, made_by=navigator),
        "follow-up": f.FollowUpFactory(case=case),
        "consent": f.ConsentFactory(individual=person, recipient_organization=partner_org, recorded_by=navigator),
        "organization": partner_org,
        "sal": f.ServiceAtLocationFactory(service=service),
    }


def _url(name: str, world) -> str:
    from django.urls import reverse

    from providers.hsds import hsds_id

    fhir = {"fhir-task": "referral", "fhir-service-request": "referral"}
    if name in fhir:
        return reverse(name, kwargs={"pk": world[fhir[name]].pk})
    hsds = {"hsds-service": "service", "hsds-organization": "organization", "hsds-service-at-location": "sal"}
    if name in hsds:
        kind = {"sal": "service_at_location"}.get(hsds[name], hsds[name])
        return reverse(name, kwargs={"id": hsds_id(kind, world[hsds[name]].pk)})
    if name.startswith(("fhir-", "hsds-")):
        return reverse(name)
    if name.endswith("-list") or name in (
        "api-schema",
        "api-docs",
        "api-redoc",
        "encounter-intake",
        "individual-search",
    ):
        return reverse(name)
    if name.startswith("partner-webhook"):
        return reverse(name)
    base = name.removeprefix("partner-").removeprefix("directory-")
    kind = next(k for k in world if base.startswith(k + "-"))
    return reverse(name, kwargs={"pk": world[kind].pk})


@pytest.fixture
def clients(api_client, request, program, partner_org, other_partner_org):
    def make(role: str):
        if role == "anonymous":
            return api_client()
        if role == "partner_a":
            return api_client(credential_for(partner_org))
        if role == "partner_b":
            return api_client(credential_for(other_partner_org))
        if role == "integration":  # the CAD system: a service account with the field-write role, by API token
            user = f.UserFactory(username="cad.integration", program=program, roles=[Role.CLINICIAN])
            return api_client(token_for(user))
        return api_client(request.getfixturevalue(role))

    return make


@pytest.mark.parametrize("role", ROLES)
def test_permission_matrix(role, world, clients):
    client = clients(role)
    wrong = []
    for (name, method), row in sorted(MATRIX.items()):
        url = _url(name, world)
        response = client.generic(method, url, "{}", content_type="application/json", HTTP_IF_MATCH="*")
        expected = row[role]
        got = response.status_code
        passed = got < 500 and got not in (401, 403, 404) if expected == OK else got == expected
        if not passed:
            wrong.append(f"{method} {url}: expected {expected}, got {got}")
    assert not wrong, "\n".join(wrong)


def test_nothing_changed_for_the_roles_refused(world, clients):
    """The refused requests of the matrix above leave the referral exactly as it was."""
    referral = world["referral"]
    before = (referral.status, referral.version)
    for role in ("anonymous", "navigator", "partner_b", "navigator_elsewhere"):
        client = clients(role)
        for verb in PARTNER_REFERRAL_ACTIONS:
            body = {"reason": "x"} if verb in ("reject", "hold", "fail") else {}
            client.post(f"/api/v1/partner/referrals/{referral.pk}/{verb}/", body, format="json", HTTP_IF_MATCH="*")
    for role in ("anonymous", "partner_a", "partner_b", "navigator_elsewhere"):
        client = clients(role)
        client.post(f"/api/v1/referrals/{referral.pk}/cancel/", {"reason": "x"}, format="json", HTTP_IF_MATCH="*")
    referral.refresh_from_db()
    assert (referral.status, referral.version) == before
    assert referral.updated_at < timezone.now() + timedelta(seconds=1)
