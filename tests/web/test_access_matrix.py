"""Every page for every role: who gets the page, who gets a 404 (someone else's record, or a page that is
not for their role), and who is sent away to the partner area (partner users on staff pages)."""

import pytest
from django.urls import reverse

from tests import factories as f

pytestmark = pytest.mark.django_db

ROLES = [
    "navigator",
    "peer",
    "clinician",
    "paramedic",
    "supervisor",
    "staff_admin",
    "navigator_elsewhere",
    "partner_user",
    "other_partner_user",
]
CARE = {"navigator": 200, "peer": 200, "clinician": 200, "supervisor": 200, "staff_admin": 200}
STAFF_ANYWHERE = dict.fromkeys(["navigator", "peer", "clinician", "paramedic", "supervisor", "staff_admin"], 200)
# page -> the roles that get a 200; other staff get a 404, partner users a redirect (or a 404 on partner pages)
EXPECTED = {
    "caseload": {**STAFF_ANYWHERE, "navigator_elsewhere": 200},  # their own (empty) caseload
    "people": {**STAFF_ANYWHERE, "navigator_elsewhere": 200},
    "person": STAFF_ANYWHERE,
    "log_contact": CARE,
    "safety_plan_edit": CARE,
    "safety_plan": {**CARE, "paramedic": 200},  # responders read the plan on scene
    "new_referral": CARE,
    "referral": CARE,
    "team": {"supervisor": 200},
    "reassign": {"supervisor": 200},
    "inbox": {**STAFF_ANYWHERE, "navigator_elsewhere": 200},  # each their own items
    "inbox_item": {"navigator": 200, "supervisor": 200, "staff_admin": 200},  # addressed to the navigator
    "inbox_team": {"supervisor": 200, "staff_admin": 200},
    "partner_home": {"partner_user": 200, "other_partner_user": 200},
    "partner_referral": {"partner_user": 200},
    "partner_move": {"partner_user": 200},  # a move's own page (accept, on a requested referral)
    "partner_capacities": {"partner_user": 200, "other_partner_user": 200},  # each their own services
}


@pytest.fixture
def world(case, service, navigator):
    plan = f.SafetyPlanFactory(case=case, created_by=navigator)
    referral = f.ReferralFactory(program=case.program, individual=case.individual, case=case, service=service)
    item = f.ItemFactory(program=case.program, referral=referral, recipient=navigator)
    return {
        "caseload": reverse("cases:caseload"),
        "people": reverse("cases:people"),
        "person": reverse("cases:person", args=[case.individual_id]),
        "log_contact": reverse("cases:log_contact", args=[case.pk]),
        "safety_plan_edit": reverse("cases:safety_plan_edit", args=[case.pk]),
        "safety_plan": reverse("cases:safety_plan", args=[case.pk, plan.version]),
        "new_referral": reverse("referrals:new", args=[case.pk]),
        "referral": reverse("referrals:detail", args=[referral.pk]),
        "team": reverse("cases:team"),
        "reassign": reverse("cases:reassign", args=[case.pk]),
        "inbox": reverse("inbox:list"),
        "inbox_item": reverse("inbox:item", args=[item.pk]),
        "inbox_team": reverse("inbox:team"),
        "partner_home": reverse("providers:partner_home"),
        "partner_referral": reverse("providers:partner_referral", args=[referral.pk]),
        "partner_move": reverse("providers:partner_move", args=[referral.pk, "accept"]),
        "partner_capacities": reverse("providers:partner_capacities"),
    }


@pytest.mark.parametrize("role", ROLES)
def test_each_role_gets_exactly_the_pages_meant_for_it(client, request, world, role):
    user = request.getfixturevalue(role)
    client.force_login(user)
    seen = {}
    for name, url in world.items():
        response = client.get(url)
        seen[name] = response.status_code
        if response.status_code != 200:
            assert b"Dana" not in response.content  # a refusal never shows the person
    expected = {}
    for name, url in world.items():
        if role in EXPECTED[name]:
            expected[name] = 200
        elif user.is_partner_user and not url.startswith("/partner/"):
            expected[name] = 302  # accounts.sessions.PartnerAreaMiddleware sends them to the partner area
        else:
            expected[name] = 404
    assert seen == expected


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
