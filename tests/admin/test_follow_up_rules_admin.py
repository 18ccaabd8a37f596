"""A staff admin edits their program's follow-up rules in the admin; no other role reaches them."""

from datetime import timedelta

import pytest
from django.urls import reverse

from cases.models import FollowUpRule

pytestmark = pytest.mark.django_db


def test_a_staff_admin_changes_a_rule_of_their_program(staff_client, program):
    rule = FollowUpRule.objects.get(program=program, disposition="", risk_level="", label="72h")
    url = reverse("admin:cases_followuprule_change", args=[rule.pk])
    assert staff_client.get(url).status_code == 200
    response = staff_client.post(
        url,
        {
            "program": program.pk,
            "disposition": "",
            "risk_level": "",
            "label": "48h",
            "offset": "2 00:00:00",
            "owner": "peer",
        },
    )
    assert response.status_code == 302
    rule.refresh_from_db()
    assert (rule.label, rule.offset, rule.owner) == ("48h", timedelta(days=2), "peer")


def test_another_programs_rules_are_not_listed_or_found(staff_client, other_program):
    elsewhere = FollowUpRule.objects.filter(program=other_program).first()
    listing = staff_client.get(reverse("admin:cases_followuprule_changelist"))
    assert listing.status_code == 200 and len(listing.context["cl"].result_list) == 7
    assert staff_client.get(reverse("admin:cases_followuprule_change", args=[elsewhere.pk])).status_code == 404


def test_a_navigator_does_not_reach_the_rules(client, navigator):
    client.force_login(navigator)
    response = client.get(reverse("admin:cases_followuprule_changelist"))
    assert response.status_code in (302, 403, 404)
