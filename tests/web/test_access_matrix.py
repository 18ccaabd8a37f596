"""Every page by every role, generated from the URLconf: a page with no entry in PAGES fails the run.

Each role of program A (and partner A's user, and someone signed out) asks for every staff and partner
page, with real records of program A in the URL: a person on the navigator's and the peer's caseload,
their encounter, case, safety plan, referral to partner A, inbox item and so on (tests.attack's world).
The answer must be the one PAGES gives:

- ALLOW: a 2xx, or a redirect that is not a refusal (a form page sending on, home sending each role to
  its start page);
- REFUSE: a 403 or a 404; for someone signed out, the redirect to sign in; for a partner user on a
  staff page, the redirect to the partner area (accounts.sessions.PartnerAreaMiddleware).

Any other answer fails, a 5xx above all: a page that breaks for a role is not "allowed". A refusal
never shows the person. POST-only routes (a button's target) are posted with an empty form after every
page has been read, so a change they make cannot alter another page's answer (and the message each
leaves is read before the next request, where it would name the person on the next refusal).
"""

import datetime as dt
from dataclasses import dataclass

import pytest
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.shortcuts import resolve_url
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from accounts.models import BreakGlassGrant
from tests import factories as f
from tests.attack.conftest import build_side, leaked

pytestmark = pytest.mark.django_db

ROLES = [
    "navigator",
    "peer",
    "clinician",
    "paramedic",
    "supervisor",
    "staff_admin",
    "network_admin",
    "partner_user",
    "anonymous",
    "navigator_elsewhere",
    "other_partner_user",
]
# Program B's navigator and partner B's user: what their counterpart of A gets on a page naming no
# record; a page naming one of A's records is a 404 for them (a 404 like a missing record's, and
# never a leak: tests/attack/test_foreign_pages.py).
ELSEWHERE = {"navigator_elsewhere": "navigator", "other_partner_user": "partner_user"}
STAFF = {"navigator", "peer", "clinician", "paramedic", "supervisor", "staff_admin", "network_admin"}
SIGNED_IN = STAFF | {"partner_user"}
ADMINS = {"staff_admin", "network_admin"}  # a network admin is a staff admin of program A as well
OVERSIGHT = {"supervisor"} | ADMINS  # the program's audit trail, metrics, team inbox
CARE = {"navigator", "peer", "clinician", "supervisor"} | ADMINS  # the case, its contacts and referrals
CLINICAL = STAFF - {"peer"}  # encounters: peers never see them
FIELD_WRITE = {"clinician", "paramedic", "supervisor"}  # record encounters (accounts.roles.may_write_encounters)
PERSON_EDIT = {"navigator", "clinician", "paramedic", "supervisor"} | ADMINS  # cases.change_individual
SUPPORT = CARE  # cases.add_supportcontact, add_consent: the care roles
CASE_CHANGE = {"navigator", "supervisor"} | ADMINS  # cases.change_case: close, reopen
CASE_OPEN = {"navigator", "clinician", "supervisor"} | ADMINS  # cases.add_case
SUPERVISORS = {"supervisor"}  # the team page, reassigning, merging people
PARTNER = {"partner_user"}

ALLOW, REFUSE = "allow", "refuse"


@dataclass(frozen=True)
class Page:
    allowed: frozenset[str]  # the roles that get the page; every other role is refused
    kwargs: object = None  # world -> the URL's kwargs
    post: bool = False  # a POST-only route: posted with an empty form, after every page was read
    why: str = ""  # where the answer is not plain from the roles' rules


def page(allowed, kwargs=None, *, post=False, why=""):
    return Page(frozenset(allowed), kwargs, post, why)


PAGES: dict[str, Page] = {
    # Signing in and out, and the account page: everyone's. Signed in, the sign-in steps send you on.
    "accounts:login": page(SIGNED_IN | {"anonymous"}),
    "accounts:two_factor": page(
        SIGNED_IN | {"anonymous"}, why="with no password step pending it sends back to sign in, a redirect"
    ),
    "accounts:recovery": page(SIGNED_IN | {"anonymous"}, why="as two_factor"),
    "accounts:enrol": page(SIGNED_IN | {"anonymous"}, why="as two_factor"),
    "accounts:home": page(SIGNED_IN),
    "accounts:recovery_codes": page(SIGNED_IN),
    "accounts:logout": page(SIGNED_IN | {"anonymous"}, post=True, why="signing out twice is harmless"),
    # Landing.
    "home": page(STAFF, why="partner users are sent to the partner area like on every staff page"),
    # People and their records.
    "cases:caseload": page(STAFF),
    "cases:people": page(STAFF),
    "cases:person": page(STAFF, lambda w: {"pk": w.person.pk}),
    "cases:break_glass": page(
        STAFF,
        lambda w: {"pk": w.person.pk},
        why="for a person already in the user's scope the request page answers too (it sends to the record)",
    ),
    "cases:person_new": page(PERSON_EDIT),
    "cases:person_pick": page(STAFF, lambda w: {"pk": w.person.pk}, post=True),
    "cases:person_edit": page(PERSON_EDIT, lambda w: {"pk": w.person.pk}),
    "cases:person_merge": page(SUPERVISORS, lambda w: {"pk": w.person.pk}),
    "cases:merge": page(STAFF, lambda w: {"pk": w.merge.pk}, why="the record of a merge reads as the person does"),
    "cases:support_new": page(SUPPORT, lambda w: {"person_pk": w.person.pk}),
    "cases:support_edit": page(SUPPORT, lambda w: {"pk": w.support.pk}),
    "cases:support_end": page(SUPPORT, lambda w: {"pk": w.support.pk}, post=True),
    "cases:support_consent": page(SUPPORT, lambda w: {"pk": w.support.pk}),
    "cases:consent_revoke": page(SUPPORT, lambda w: {"pk": w.consent.pk}, post=True),
    # The case.
    "cases:log_contact": page(CARE, lambda w: {"pk": w.case.pk}),
    "cases:safety_plan_edit": page(CARE, lambda w: {"pk": w.case.pk}),
    "cases:safety_plan": page(STAFF, lambda w: {"pk": w.case.pk, "version": w.plan.version}),
    "cases:safety_plan_copy": page(STAFF, lambda w: {"pk": w.case.pk, "version": w.plan.version}),
    "cases:safety_plan_pdf": page(STAFF, lambda w: {"pk": w.case.pk, "version": w.plan.version}),
    "cases:reassign": page(SUPERVISORS, lambda w: {"pk": w.case.pk}),
    "cases:dismiss_follow_up": page(CARE, lambda w: {"pk": w.missed.pk}),
    "cases:close_case": page(CASE_CHANGE, lambda w: {"pk": w.case.pk}),
    "cases:reopen_case": page(CASE_CHANGE, lambda w: {"pk": w.case.pk}, post=True),
    "cases:open_case": page(CASE_OPEN, lambda w: {"pk": w.person.pk}),
    "cases:open_case_from_encounter": page(CASE_OPEN, lambda w: {"pk": w.encounter.pk}),
    "cases:team": page(SUPERVISORS),
    # Encounters.
    "cases:encounter_new": page(FIELD_WRITE, lambda w: {"person_pk": w.person.pk}),
    "cases:encounter_new_unknown": page(FIELD_WRITE),
    "cases:encounter": page(CLINICAL, lambda w: {"pk": w.encounter.pk}),
    "cases:encounter_edit": page(FIELD_WRITE, lambda w: {"pk": w.encounter.pk}),
    # Referrals.
    "referrals:new": page(CARE, lambda w: {"case_pk": w.case.pk}),
    "referrals:record_consent": page(CARE, lambda w: {"case_pk": w.case.pk, "service_pk": w.service.pk}, post=True),
    "referrals:detail": page(CARE, lambda w: {"pk": w.referral.pk}),
    "referrals:move": page(CARE, lambda w: {"pk": w.referral.pk, "verb": "cancel"}, post=True),
    # The partner page.
    "providers:partner_home": page(PARTNER),
    "providers:partner_referral": page(PARTNER, lambda w: {"pk": w.referral.pk}),
    "providers:partner_move": page(PARTNER, lambda w: {"pk": w.referral.pk, "move": "accept"}),
    "providers:partner_capacities": page(PARTNER),
    "providers:partner_capacity": page(PARTNER, lambda w: {"pk": w.capacity.pk}, post=True),
    # The inbox.
    "inbox:list": page(STAFF),
    "inbox:item": page({"navigator"} | OVERSIGHT, lambda w: {"pk": w.item.pk}, why="addressed to the navigator"),
    "inbox:team": page(OVERSIGHT),
    "inbox:preferences": page(STAFF, post=True),
    # The audit trail.
    "audit:access_history": page(OVERSIGHT, lambda w: {"individual_id": w.person.pk}),
    "audit:disclosures_csv": page(OVERSIGHT, lambda w: {"individual_id": w.person.pk}),
    "audit:break_glass_review": page(OVERSIGHT),
    "audit:break_glass_end": page(
        {"peer"} | OVERSIGHT, lambda w: {"pk": w.grant.pk}, post=True, why="the peer's own grant"
    ),
    # Program metrics.
    "metrics:dashboard": page(OVERSIGHT),
    "metrics:csv": page(OVERSIGHT, lambda w: {"measure": "all"}),
}
# Not pages of this matrix: the operations console (tests/admin), the API, FHIR and HSDS (their own
# matrix, tests/api/test_permission_matrix.py), and what is no page at all.
NOT_PAGES = ("admin", "api", "fhir", "hsds")
NOT_PAGE_NAMES = {"healthz", "favicon"}


def _walk(patterns, prefix="", namespace=None):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            if str(entry.pattern).strip("^/").split("/")[0] in NOT_PAGES or entry.namespace in NOT_PAGES:
                continue
            yield from _walk(entry.url_patterns, prefix + str(entry.pattern), entry.namespace or namespace)
        elif isinstance(entry, URLPattern):
            route = prefix + str(entry.pattern)
            if route.split("/")[0] in NOT_PAGES or entry.name in NOT_PAGE_NAMES:
                continue
            yield f"{namespace}:{entry.name}" if namespace else str(entry.name)


def page_names() -> set[str]:
    """Every named page of the staff app, the partner page and the account pages, from the URLconf."""
    return set(_walk(get_resolver().url_patterns))


def test_every_page_has_an_entry():
    names = page_names()
    assert {"cases:encounter", "cases:safety_plan_pdf", "audit:access_history", "metrics:dashboard"} <= names
    assert sorted(names - set(PAGES)) == [], "pages without an entry in PAGES"
    assert sorted(set(PAGES) - names) == [], "entries for pages that no longer exist"


@pytest.fixture
def world(program, partner_org, navigator, peer):
    side = build_side(
        program=program, partner_org=partner_org, navigator=navigator, peer=peer, born=dt.date(1941, 7, 13)
    )
    # The peer's break-glass grant to someone off their caseload (the peer role sees no one else).
    stranger = f.IndividualFactory(program=program)
    now = timezone.now()
    side.objects["grant"] = BreakGlassGrant.objects.create(
        user=peer,
        program=program,
        individual=stranger,
        reason="Called at 2 a.m. about this person.",
        started_at=now,
        expires_at=now + dt.timedelta(hours=1),
    )
    return side


@pytest.fixture
def signed_in(client, request):
    def sign_in(role: str):
        if role == "anonymous":
            return AnonymousUser()
        user = request.getfixturevalue(role)
        client.force_login(user)
        return user

    return sign_in


def _outcome(response, user, path: str) -> str | None:
    """ALLOW, REFUSE, or None for an answer that is neither (a 5xx, a 400, a 405...)."""
    status = response.status_code
    if status in (403, 404):
        return REFUSE
    if 300 <= status < 400:
        location = response.headers.get("Location", "")
        if not user.is_authenticated and location.startswith(resolve_url(settings.LOGIN_URL) + "?"):
            return REFUSE  # sign in first
        partner_sent_home = getattr(user, "is_partner_user", False) and location == settings.PARTNER_HOME_URL
        if partner_sent_home and not path.startswith(settings.PARTNER_HOME_URL):
            return REFUSE  # a partner user on a staff page: sent to the partner area
        return ALLOW
    if 200 <= status < 300:
        return ALLOW
    return None


def _allowed(entry: Page, role: str) -> bool:
    if role in ELSEWHERE:
        return ELSEWHERE[role] in entry.allowed and entry.kwargs is None
    return role in entry.allowed


@pytest.mark.parametrize("role", ROLES)
def test_each_role_gets_exactly_the_pages_meant_for_it(client, signed_in, world, role):
    user = signed_in(role)
    canaries = world.canaries()
    wrong = []
    # Every page first, then the POST-only routes (they may change what a page would show).
    for name, entry in sorted(PAGES.items(), key=lambda item: (item[1].post, item[0] == "accounts:logout")):
        url = reverse(name, kwargs=entry.kwargs(world) if entry.kwargs else None)
        response = client.post(url, {}) if entry.post else client.get(url)
        expected = ALLOW if _allowed(entry, role) else REFUSE
        got = _outcome(response, user, url)
        if got != expected:
            wrong.append(
                f"{'POST' if entry.post else 'GET'} {name} ({url}): {response.status_code}, expected {expected}"
                + (f" ({entry.why})" if entry.why else "")
            )
        elif got == REFUSE and leaked(response.content.decode("utf-8", "replace"), canaries):
            wrong.append(f"{name}: the refusal shows the person")
        if entry.post and user.is_authenticated:
            client.get(reverse("accounts:home"))  # shows the POST's message, which names the person
    assert not wrong, "\n".join(wrong)


def test_a_page_that_breaks_is_not_allowed(client, navigator, monkeypatch):
    """A handled 500 (the app's own error page) is a failure of the matrix, never an "allowed"."""
    from cases import views

    def broken(*args, **kwargs):
        raise RuntimeError("the caseload query failed")

    monkeypatch.setattr(views.caseload_lists, "due_today", broken)
    client.raise_request_exception = False
    client.force_login(navigator)
    response = client.get(reverse("cases:caseload"))
    assert response.status_code == 500  # the app's own error page (crt.errors.server_error)
    assert _outcome(response, navigator, reverse("cases:caseload")) is None


def test_someone_elses_person_is_a_404_on_every_person_page(client, navigator, person_elsewhere):
    case = person_elsewhere.cases.get()
    client.force_login(navigator)
    for url in (
        reverse("cases:person", args=[person_elsewhere.pk]),
        reverse("cases:log_contact", args=[case.pk]),
        reverse("cases:safety_plan_edit", args=[case.pk]),
        reverse("referrals:new", args=[case.pk]),
    ):
        assert client.get(url).status_code == 404
