"""Every page route that shows a person's record writes access rows naming that person before
answering: list pages at least one, detail pages exactly one per person-record shown (none twice,
none missing). A refused request writes none. A page route missing from SHOWS fails the run."""

from urllib.parse import parse_qsl

import pytest
from django.urls import reverse

from audit.models import AccessLog, Action
from tests.attack.conftest import access_rows_since, last_access_id
from tests.attack.test_foreign_pages import ROLES, page_route_names

pytestmark = pytest.mark.django_db


def _label(obj) -> tuple[str, str]:
    return (obj._meta.label_lower, str(obj.pk))


# route -> (who reads it, url kwargs from the side, query, the records a detail page must record; None for a list)
# Routes that show no person's record (redirects after a write, a blank form) have None as the whole entry.
SHOWS = {
    "home": None,  # sends each role to its start page
    "cases:caseload": ("navigator", None, "", None),
    "cases:people": ("navigator", None, "q={last}", None),
    "cases:team": ("supervisor", None, "", None),
    "cases:person": (
        "navigator",
        lambda s: {"pk": s.person.pk},
        "",
        lambda s: [
            s.person,
            s.case,
            s.missed,
            s.overdue,
            s.support,
            s.consent,
            s.encounter,
            s.assessment,
            s.contact,
            s.referral,
            s.plan,
        ],
    ),
    "cases:person_new": None,  # a blank form: no one yet
    "cases:person_pick": None,  # POST only: redirects
    "cases:person_edit": ("navigator", lambda s: {"pk": s.person.pk}, "", lambda s: [s.person]),
    "cases:person_merge": ("supervisor", lambda s: {"pk": s.person.pk}, "", lambda s: [s.person]),
    "cases:merge": ("navigator", lambda s: {"pk": s.merge.pk}, "", lambda s: [s.merge]),
    "cases:support_new": ("navigator", lambda s: {"person_pk": s.person.pk}, "", lambda s: [s.person]),
    "cases:support_edit": ("navigator", lambda s: {"pk": s.support.pk}, "", lambda s: [s.support]),
    "cases:support_consent": ("navigator", lambda s: {"pk": s.support.pk}, "", lambda s: [s.support]),
    "cases:support_end": None,  # POST only: redirects
    "cases:consent_revoke": None,  # POST only: redirects
    "cases:log_contact": ("navigator", lambda s: {"pk": s.case.pk}, "", lambda s: [s.case]),
    "cases:safety_plan_edit": ("navigator", lambda s: {"pk": s.case.pk}, "", lambda s: [s.case, s.plan]),
    "cases:safety_plan": ("paramedic", lambda s: {"pk": s.case.pk, "version": s.plan.version}, "", lambda s: [s.plan]),
    "cases:safety_plan_copy": (
        "paramedic",
        lambda s: {"pk": s.case.pk, "version": s.plan.version},
        "",
        lambda s: [s.plan],
    ),
    "cases:safety_plan_pdf": (
        "navigator",
        lambda s: {"pk": s.case.pk, "version": s.plan.version},
        "",
        lambda s: [s.plan],
    ),
    "cases:reassign": ("supervisor", lambda s: {"pk": s.case.pk}, "", lambda s: [s.case]),
    "cases:dismiss_follow_up": ("navigator", lambda s: {"pk": s.missed.pk}, "", lambda s: [s.missed]),
    "cases:close_case": ("navigator", lambda s: {"pk": s.case.pk}, "", lambda s: [s.case, s.referral]),
    "cases:reopen_case": None,  # POST only: redirects
    "cases:open_case": ("navigator", lambda s: {"pk": s.person.pk}, "", lambda s: [s.person, s.case]),
    "cases:open_case_from_encounter": None,  # the side's encounter has its case: a redirect to the person page
    "cases:encounter_new_unknown": None,  # a blank call form: no one yet
    "cases:encounter_new": ("clinician", lambda s: {"person_pk": s.person.pk}, "", lambda s: [s.person]),
    "cases:encounter": (
        "clinician",
        lambda s: {"pk": s.encounter.pk},
        "",
        lambda s: [s.encounter, s.case, s.assessment],
    ),
    "cases:encounter_edit": ("clinician", lambda s: {"pk": s.encounter.pk}, "", lambda s: [s.encounter]),
    "referrals:new": ("navigator", lambda s: {"case_pk": s.case.pk}, "", lambda s: [s.case]),
    "referrals:record_consent": None,  # POST only: redirects back to the form
    "referrals:detail": (
        "navigator",
        lambda s: {"pk": s.referral.pk},
        "",
        lambda s: [s.referral, s.event, s.delivery],
    ),
    "referrals:move": None,  # POST only: redirects
    "providers:partner_home": ("partner_user", None, "", None),
    "providers:partner_referral": ("partner_user", lambda s: {"pk": s.referral.pk}, "", lambda s: [s.referral]),
    "providers:partner_move": (
        "partner_user",
        lambda s: {"pk": s.referral.pk, "move": "accept"},
        "",
        lambda s: [s.referral],
    ),  # the move's own page (a POST redirects)
    "providers:partner_capacities": None,  # the partner's own services: no person's record
    "providers:partner_capacity": None,  # POST only, no personal data
    "cases:break_glass": None,  # the break-glass request form shows the record's number only
    # Lists break-glass grants (none in these sides); its access rows: tests/web/test_break_glass_pages.py.
    "audit:break_glass_review": None,
    "audit:break_glass_end": None,  # POST only: redirects
    "inbox:list": ("navigator", None, "", None),
    "inbox:item": ("navigator", lambda s: {"pk": s.item.pk}, "", lambda s: [s.person]),
    "inbox:team": ("supervisor", None, "", None),
    "inbox:preferences": None,  # POST only, no personal data
    "audit:access_history": ("supervisor", lambda s: {"individual_id": s.person.pk}, "", lambda s: [s.person]),
    "audit:disclosures_csv": ("supervisor", lambda s: {"individual_id": s.person.pk}, "", lambda s: [s.person]),
}


def test_every_page_route_has_an_audit_expectation():
    assert sorted(set(page_route_names()) - set(SHOWS)) == []


def test_every_page_that_shows_a_person_records_them(client, cast, ours, theirs):
    problems = []
    for name in page_route_names():
        entry = SHOWS[name]
        if entry is None:
            continue
        role, kwargs, query, shown = entry
        client.force_login(cast[role])
        url = reverse(name, kwargs=kwargs(ours) if kwargs else None)
        mark = last_access_id()
        # a search is posted as its box does (a name in a URL is refused)
        response = client.post(url, dict(parse_qsl(query.format(**ours.texts)))) if query else client.get(url)
        if response.status_code != 200:
            problems.append(f"{name}: {response.status_code}")
            continue
        rows = list(access_rows_since(mark))
        people = {row.individual_id for row in rows}
        if ours.person.pk not in people:
            problems.append(f"{name}: no access row names the person")
        if theirs.person.pk in people:
            problems.append(f"{name}: a row names another program's person")
        if shown is None:
            continue
        recorded = [(row.object_type, row.object_id) for row in rows]
        duplicates = sorted({key for key in recorded if recorded.count(key) > 1})
        if duplicates:
            problems.append(f"{name}: recorded twice {duplicates}")
        missing = sorted({_label(obj) for obj in shown(ours)} - set(recorded))
        if missing:
            problems.append(f"{name}: shown but not recorded {missing}")
        nameless = [key for key, row in zip(recorded, rows, strict=True) if row.individual_id != ours.person.pk]
        if nameless:
            problems.append(f"{name}: rows not naming the person {nameless}")
    assert problems == []


@pytest.mark.parametrize("role", ROLES)
def test_a_refused_page_records_nothing(client, cast, ours, role):
    """Pages of program A's own records that this role may not open: 404 (or the partner area), no row."""
    client.force_login(cast[role])
    problems = []
    for name in page_route_names():
        entry = SHOWS[name]
        if entry is None:
            continue
        _who, kwargs, _query, _shown = entry
        url = reverse(name, kwargs=kwargs(ours) if kwargs else None)
        mark = last_access_id()
        response = client.get(url)
        if response.status_code == 200:
            continue
        rows = list(access_rows_since(mark).values_list("action", "object_type", "object_id"))
        if rows:
            problems.append(f"{name} answered {response.status_code} and recorded {rows}")
    assert problems == []


def test_a_partner_page_read_is_in_the_accounting_of_disclosures(client, cast, ours, partner_org):
    client.force_login(cast["partner_user"])
    client.get(reverse("providers:partner_home"))
    client.get(reverse("providers:partner_referral", args=[ours.referral.pk]))

    rows = AccessLog.objects.filter(individual_id=ours.person.pk, action=Action.DISCLOSE)
    assert [(row.recipient_id, row.object_id) for row in rows] == [(partner_org.pk, str(ours.referral.pk))] * 2
    client.force_login(cast["supervisor"])
    export = client.get(reverse("audit:disclosures_csv", args=[ours.person.pk])).content.decode()
    assert export.count(partner_org.name) == 2
