"""Every page route (generated from the URLconf) by every role of program A and partner A by the
records of program B and partner B: the foreign record is a 404 exactly like a record that does not
exist, its canaries never appear in any answer, nothing about it changes, and a refused request
writes no access row. A page route missing from ROUTES fails the run."""

import datetime as dt
from dataclasses import dataclass, field

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from cases.models import Consent, Contact, SafetyPlan
from inbox.models import Item
from providers.models import ServiceCapacity
from referrals.models import Referral
from tests.attack.conftest import access_rows_since, build_side, last_access_id, leaked
from tests.plans import plan_post

pytestmark = pytest.mark.django_db

# Not pages of this suite: the admin (tests/admin), the API, FHIR and HSDS (tests/api), sign-in (tests/security),
# and program metrics, which show aggregates only, never a record (tests/metrics: roles, suppression, audit).
NOT_PAGES = {"admin", "api", "fhir", "hsds", "accounts", "metrics"}
NOT_PAGE_NAMES = {"healthz", "admin_login", "admin_autocomplete", "favicon"}
MISSING = 987654


@dataclass(frozen=True)
class Route:
    methods: tuple[str, ...] = ("GET",)
    kwargs: object = None  # side -> url kwargs naming that side's records; None: no record in the URL
    body: object = field(default=None)  # side -> a valid POST body (so only scoping can stop it)
    query: object = None  # side -> query string
    # Refusals other than 404 allowed here: a role that may not use the page at all is refused before any
    # record is looked up (the same answer for every id, checked against a missing id below).
    role_refusals: tuple[int, ...] = ()
    # The break-glass request page: for a person of the user's own program outside their scope it is
    # the sanctioned way in, so a 200 (showing the record's number only, recording nothing until a
    # reason is given); another program's person is still a 404 like a missing one.
    own_program_offer: bool = False


def _now() -> str:
    return timezone.localtime().strftime("%Y-%m-%dT%H:%M")


ROUTES: dict[str, Route] = {
    "home": Route(),
    "cases:caseload": Route(("GET", "POST"), body=lambda s: {"q": s.texts["last"]}),
    "cases:people": Route(("GET", "POST"), body=lambda s: {"q": s.texts["last"]}),
    "cases:team": Route(),
    "cases:encounter_new_unknown": Route(),
    "cases:encounter_new": Route(
        ("GET", "POST"), role_refusals=(403,), kwargs=lambda s: {"person_pk": s.person.pk}, body=lambda s: {}
    ),
    "cases:encounter": Route(
        ("GET", "POST"), role_refusals=(403,), kwargs=lambda s: {"pk": s.encounter.pk}, body=lambda s: {}
    ),
    "cases:encounter_edit": Route(
        ("GET", "POST"), role_refusals=(403,), kwargs=lambda s: {"pk": s.encounter.pk}, body=lambda s: {}
    ),
    "cases:person": Route(kwargs=lambda s: {"pk": s.person.pk}),
    "cases:person_new": Route(query=lambda s: f"encounter={s.encounter.pk}"),
    "cases:person_pick": Route(("POST",), kwargs=lambda s: {"pk": s.person.pk}, body=lambda s: {}),
    "cases:person_edit": Route(
        ("GET", "POST"),
        role_refusals=(403,),
        kwargs=lambda s: {"pk": s.person.pk},
        body=lambda s: {"legal_first_name": "attack", "legal_last_name": "attack", "housing_status": "unknown"},
    ),
    "cases:person_merge": Route(
        ("GET", "POST"),
        role_refusals=(403,),
        kwargs=lambda s: {"pk": s.person.pk},
        body=lambda s: {"other": s.merge.merged_id, "keep": "this", "reason": "attack", "confirmed": "True"},
    ),
    "cases:merge": Route(
        ("GET", "POST"), role_refusals=(403,), kwargs=lambda s: {"pk": s.merge.pk}, body=lambda s: {"reason": "x"}
    ),
    "cases:support_new": Route(
        ("GET", "POST"),
        role_refusals=(403,),
        kwargs=lambda s: {"person_pk": s.person.pk},
        body=lambda s: {"name": "attack", "relationship": "attack"},
    ),
    "cases:support_edit": Route(
        ("GET", "POST"),
        role_refusals=(403,),
        kwargs=lambda s: {"pk": s.support.pk},
        body=lambda s: {"name": "attack", "relationship": "attack"},
    ),
    "cases:support_end": Route(
        ("POST",), role_refusals=(403,), kwargs=lambda s: {"pk": s.support.pk}, body=lambda s: {}
    ),
    "cases:support_consent": Route(
        ("GET", "POST"),
        role_refusals=(403,),
        kwargs=lambda s: {"pk": s.support.pk},
        body=lambda s: {"purpose": "contact", "method": "written", "given_at": _now()},
    ),
    "cases:consent_revoke": Route(
        ("POST",), role_refusals=(403,), kwargs=lambda s: {"pk": s.consent.pk}, body=lambda s: {}
    ),
    "cases:log_contact": Route(
        ("GET", "POST"),
        kwargs=lambda s: {"pk": s.case.pk},
        body=lambda s: {"outcome": "reached", "method": "phone", "occurred_at": _now(), "note": "attack"},
    ),
    "cases:safety_plan_edit": Route(
        ("GET", "POST"), kwargs=lambda s: {"pk": s.case.pk}, body=lambda s: plan_post(warning_signs=["attack"])
    ),
    "cases:safety_plan": Route(kwargs=lambda s: {"pk": s.case.pk, "version": s.plan.version}),
    "cases:safety_plan_copy": Route(kwargs=lambda s: {"pk": s.case.pk, "version": s.plan.version}),
    "cases:safety_plan_pdf": Route(kwargs=lambda s: {"pk": s.case.pk, "version": s.plan.version}),
    "cases:reassign": Route(("GET", "POST"), kwargs=lambda s: {"pk": s.case.pk}, body=lambda s: {"navigator": ""}),
    "cases:close_case": Route(
        ("GET", "POST"), role_refusals=(403,), kwargs=lambda s: {"pk": s.case.pk}, body=lambda s: {"reason": "moved"}
    ),
    "cases:reopen_case": Route(("POST",), role_refusals=(403,), kwargs=lambda s: {"pk": s.case.pk}, body=lambda s: {}),
    "cases:open_case": Route(
        ("GET", "POST"), role_refusals=(403,), kwargs=lambda s: {"pk": s.person.pk}, body=lambda s: {"navigator": ""}
    ),
    "cases:open_case_from_encounter": Route(
        ("GET", "POST"),
        role_refusals=(403,),
        kwargs=lambda s: {"pk": s.encounter.pk},
        body=lambda s: {"navigator": ""},
    ),
    "cases:dismiss_follow_up": Route(
        ("GET", "POST"), kwargs=lambda s: {"pk": s.missed.pk}, body=lambda s: {"reason": "attack"}
    ),
    "referrals:new": Route(
        ("GET", "POST"),
        kwargs=lambda s: {"case_pk": s.case.pk},
        body=lambda s: {"service": s.service.pk, "reason": "attack", "urgency": "routine"},
    ),
    "referrals:record_consent": Route(
        ("POST",),
        kwargs=lambda s: {"case_pk": s.case.pk, "service_pk": s.service.pk},
        body=lambda s: {"method": "written"},
    ),
    "referrals:detail": Route(kwargs=lambda s: {"pk": s.referral.pk}),
    "referrals:move": Route(
        ("POST",), kwargs=lambda s: {"pk": s.referral.pk, "verb": "cancel"}, body=lambda s: {"reason": "attack"}
    ),
    "providers:partner_home": Route(),
    "providers:partner_referral": Route(kwargs=lambda s: {"pk": s.referral.pk}),
    "providers:partner_move": Route(
        ("GET", "POST"), kwargs=lambda s: {"pk": s.referral.pk, "move": "accept"}, body=lambda s: {"note": "attack"}
    ),
    "providers:partner_capacities": Route(),
    "providers:partner_capacity": Route(
        ("POST",), kwargs=lambda s: {"pk": s.capacity.pk}, body=lambda s: {"available": "0"}
    ),
    "cases:break_glass": Route(
        ("GET", "POST"), kwargs=lambda s: {"pk": s.person.pk}, body=lambda s: {}, own_program_offer=True
    ),
    "inbox:list": Route(),
    "inbox:team": Route(),
    "inbox:item": Route(
        ("GET", "POST"), kwargs=lambda s: {"pk": s.item.pk}, body=lambda s: {"action": "resolve", "resolve-note": "x"}
    ),
    "inbox:preferences": Route(("POST",), body=lambda s: {"daily_digest": "on"}),
    "audit:access_history": Route(kwargs=lambda s: {"individual_id": s.person.pk}),
    "audit:break_glass_review": Route(role_refusals=(403,)),
    # No grant exists in these sides: any grant id is another's or missing (ending another program's
    # grant: tests/web/test_break_glass_pages.py).
    "audit:break_glass_end": Route(("POST",), kwargs=lambda s: {"pk": MISSING - 1}),
    "audit:disclosures_csv": Route(kwargs=lambda s: {"individual_id": s.person.pk}),
}
ROLES = ["navigator", "peer", "clinician", "paramedic", "supervisor", "staff_admin", "partner_user"]


def page_route_names() -> list[str]:
    """Every named route of the staff pages and the partner page, and the landing page."""
    names = []
    for entry in get_resolver().url_patterns:
        if isinstance(entry, URLResolver):
            prefix = str(entry.pattern).strip("/^")
            if entry.namespace in NOT_PAGES or prefix in NOT_PAGES or prefix.startswith("fhir"):
                continue
            for pattern in entry.url_patterns:
                assert isinstance(pattern, URLPattern), f"nested include under {prefix}: extend this walk"
                names.append(f"{entry.namespace}:{pattern.name}" if entry.namespace else str(pattern.name))
        elif entry.name not in NOT_PAGE_NAMES:
            names.append(entry.name)
    return names


def test_every_page_route_has_an_entry():
    names = page_route_names()
    assert len(names) > 15  # the walk found the pages
    assert sorted(set(names) - set(ROUTES)) == []


def _url(name: str, route: Route, side, *, missing: bool = False) -> str:
    kwargs = route.kwargs(side) if route.kwargs else {}
    if missing:
        kwargs = {key: (MISSING if isinstance(value, int) else value) for key, value in kwargs.items()}
    url = reverse(name, kwargs=kwargs)
    if route.query:
        url += "?" + route.query(side)
    return url


def _snapshot(side) -> dict:
    return {
        "referral": Referral.objects.filter(pk=side.referral.pk).values("status", "version", "updated_at").get(),
        "case": type(side.case).objects.filter(pk=side.case.pk).values("navigator_id", "peer_id", "status").get(),
        "capacity": ServiceCapacity.objects.filter(pk=side.capacity.pk).values("available", "updated_at").get(),
        "contacts": Contact.objects.filter(case=side.case).count(),
        "plans": SafetyPlan.objects.filter(case=side.case).count(),
        "consents": Consent.objects.filter(individual=side.person).count(),
        "referrals": Referral.objects.filter(individual=side.person).count(),
        "person": type(side.person).objects.filter(pk=side.person.pk).values().get(),
        "support": type(side.support).objects.filter(pk=side.support.pk).values().get(),
        "revoked": Consent.objects.filter(individual=side.person, revoked_at__isnull=False).count(),
        "merge": type(side.merge).objects.filter(pk=side.merge.pk).values("undone_at").get(),
        "merged_away": type(side.person).objects.filter(pk=side.merge.merged_id).values("merged_into").get(),
        "item": Item.objects.filter(pk=side.item.pk).values("state", "recipient_id", "opened_at").get(),
    }


@pytest.fixture
def not_my_caseload(program, other_partner_org, navigator):
    """A person of program A on the navigator's caseload only: foreign to the peer (caseload scope)."""
    return build_side(program=program, partner_org=other_partner_org, navigator=navigator, born=dt.date(1944, 5, 6))


@pytest.mark.parametrize(("role", "foreign"), [*((role, "theirs") for role in ROLES), ("peer", "not_my_caseload")])
def test_foreign_records_are_404_like_missing_ones_and_never_shown(client, request, cast, ours, role, foreign):
    theirs = request.getfixturevalue(foreign)
    user = cast[role]
    client.force_login(user)
    canaries = theirs.canaries()
    before = _snapshot(theirs)
    problems = []
    for name in page_route_names():
        route = ROUTES[name]
        for method in route.methods:
            url = _url(name, route, theirs)
            body = route.body(theirs) if route.body and method == "POST" else None
            mark = last_access_id()
            response = client.post(url, body) if method == "POST" else client.get(url)
            content = response.content.decode("utf-8", "replace") + str(response.headers)
            typed = (route.query(theirs) if route.query else "") + str(body or "")
            shown = leaked(content, [c for c in canaries if c not in typed])
            if shown:  # (a search box shows back what was typed in it: that token is not a leak)
                problems.append(f"{method} {name}: shows {shown}")
            if route.kwargs is None:
                continue  # a list page: what matters is that the foreign record is not on it
            expected = 302 if user.is_partner_user and not url.startswith("/partner/") else 404
            if route.own_program_offer and foreign == "not_my_caseload" and response.status_code == 200:
                continue
            if response.status_code != expected and response.status_code not in route.role_refusals:
                problems.append(f"{method} {name}: {response.status_code}, expected {expected}")
                continue
            rows = list(access_rows_since(mark).values_list("object_type", "object_id"))
            if rows:
                problems.append(f"{method} {name}: a refused request recorded {rows}")
            # the same answer as for a record that does not exist
            missing_url = _url(name, route, theirs, missing=True)
            again = client.post(missing_url, body) if method == "POST" else client.get(missing_url)
            if (again.status_code, again.content) != (response.status_code, response.content):
                problems.append(
                    f"{method} {name}: foreign {response.status_code} differs from missing {again.status_code}"
                )
    assert problems == []
    assert _snapshot(theirs) == before
