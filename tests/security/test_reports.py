"""Supervisors' view of who has looked at a person's record, and the accounting of disclosures."""

import csv
import io

import pytest
from django.urls import reverse

from audit.access import record_access
from audit.models import AccessLog, Action
from tests import factories as f


@pytest.fixture
def person(program):
    return f.IndividualFactory(program=program)


def disclose(referral, *, what="name, phone, referral reason", purpose="referral"):
    record_access(
        None,
        action=Action.DISCLOSE,
        objects=[referral],
        recipient=referral.organization,
        purpose=purpose,
        detail=what,
        route="task:referrals.deliver",
    )


def test_a_supervisor_sees_who_looked_and_the_look_is_recorded(client, supervisor, navigator, person):
    record_access(navigator, action=Action.VIEW, objects=[person], route="people:detail")
    client.force_login(supervisor)
    response = client.get(reverse("audit:access_history", args=[person.pk]))
    assert response.status_code == 200
    shown = list(response.context["page"])
    assert [(row.actor_id, row.action) for row in shown] == [(supervisor.pk, "view"), (navigator.pk, "view")]
    assert navigator.get_full_name() in response.content.decode()


@pytest.mark.parametrize("who", ["navigator", "peer", "clinician", "navigator_elsewhere"])
def test_anyone_but_a_supervisor_or_staff_admin_of_the_program_gets_a_404(client, request, person, who):
    client.force_login(request.getfixturevalue(who))
    assert client.get(reverse("audit:access_history", args=[person.pk])).status_code == 404
    assert client.get(reverse("audit:disclosures_csv", args=[person.pk])).status_code == 404
    assert not AccessLog.objects.exists()


def test_partner_users_are_sent_back_to_the_partner_pages(client, partner_user, person, settings):
    client.force_login(partner_user)
    for name in ("audit:access_history", "audit:disclosures_csv"):
        assert client.get(reverse(name, args=[person.pk])).url == settings.PARTNER_HOME_URL


def test_another_programs_person_looks_exactly_like_a_missing_one(client, supervisor, other_program):
    theirs = f.IndividualFactory(program=other_program)
    client.force_login(supervisor)
    hidden = client.get(reverse("audit:access_history", args=[theirs.pk]))
    missing = client.get(reverse("audit:access_history", args=[theirs.pk + 1000]))
    assert hidden.status_code == missing.status_code == 404
    assert hidden.content == missing.content


def test_the_accounting_of_disclosures_lists_what_went_to_whom_and_why(client, supervisor, program, person):
    to_housing = f.ReferralFactory(program=program, individual=person)
    to_recovery = f.ReferralFactory(program=program, individual=person)
    disclose(to_housing)
    disclose(to_recovery, what="name, referral reason, substance-use history", purpose="treatment")
    disclose(f.ReferralFactory(program=program))  # someone else's: not listed
    record_access(supervisor, action=Action.VIEW, objects=[person])  # a read, not a disclosure
    client.force_login(supervisor)
    response = client.get(reverse("audit:disclosures_csv", args=[person.pk]))
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"] == f'attachment; filename="disclosures-individual-{person.pk}.csv"'
    table = list(csv.reader(io.StringIO(response.content.decode())))
    assert table[0] == ["date", "recipient organisation", "what", "purpose"]
    assert [row[1:] for row in table[1:]] == [
        [to_housing.organization.name, "name, phone, referral reason", "referral"],
        [to_recovery.organization.name, "name, referral reason, substance-use history", "treatment"],
    ]
    (export,) = AccessLog.objects.filter(action=Action.EXPORT)
    assert (export.individual_id, export.actor_id) == (person.pk, supervisor.pk)


def test_a_recipient_name_cannot_smuggle_a_spreadsheet_formula(client, staff_admin, program, person):
    referral = f.ReferralFactory(
        program=program, individual=person, service__organization__name='=HYPERLINK("http://x","y")'
    )
    disclose(referral)
    client.force_login(staff_admin)
    table = list(
        csv.reader(io.StringIO(client.get(reverse("audit:disclosures_csv", args=[person.pk])).content.decode()))
    )
    assert table[1][1].startswith("'=")
