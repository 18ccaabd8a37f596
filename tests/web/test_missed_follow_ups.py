"""Missed follow-ups stay on the caseload, the person page and the team view (when, whose) until a
reached contact completes them or someone dismisses them with a reason; the contact form asks
whether the person was reached, with nothing chosen for the user."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from cases.models import Contact, FollowUp
from tests import factories as f
from tests.web.conftest import signed_in

pytestmark = pytest.mark.django_db


def missed(case, label="72h", *, days_ago=4, owner=None):
    return f.FollowUpFactory(
        case=case,
        label=label,
        owner=owner or case.navigator,
        due_at=timezone.now() - timedelta(days=days_ago),
        is_missed=True,
        missed_at=timezone.now() - timedelta(days=1),
    )


@pytest.fixture
def only_missed(program, navigator, peer):
    """A high-risk person whose only follow-up left was missed: once, this showed "none"."""
    case = f.CaseFactory(
        program=program, navigator=navigator, peer=peer, risk_level="high", individual__legal_last_name="Missedone"
    )
    missed(case)
    return case


def caseload_rows(body: str) -> str:
    return body.split('id="people-heading"')[1]


def test_the_caseload_shows_a_missed_follow_up_and_puts_the_high_risk_person_first(
    client, navigator, case, only_missed
):
    body = signed_in(client, navigator).get(reverse("cases:caseload")).content.decode()
    due = body.split('id="due-heading"')[1].split('id="waiting-heading"')[0]
    assert "72-hour follow-up missed" in due and (navigator.get_full_name() or navigator.username) in due
    assert due.index("Missedone") < due.index("Dana Reyes")  # missed high risk before due today
    rows = caseload_rows(body)
    assert rows.index("Missedone") < rows.index("Dana Reyes")
    missed_row = rows[rows.index("Missedone") :].split("</tr>")[0]
    assert "72-hour follow-up missed" in missed_row and ">none<" not in missed_row
    assert reverse("cases:dismiss_follow_up", args=[only_missed.follow_ups.get().pk]) in due


def test_the_overdue_filter_keeps_people_with_a_missed_follow_up(client, navigator, only_missed):
    body = signed_in(client, navigator).get(reverse("cases:caseload"), {"due": "overdue"}).content.decode()
    assert "Missedone" in caseload_rows(body)


def test_a_dismissed_or_completed_missed_follow_up_leaves_the_lists(client, navigator, supervisor, only_missed):
    follow_up = only_missed.follow_ups.get()
    FollowUp.objects.filter(pk=follow_up.pk).update(
        dismissed_at=timezone.now(), dismissed_by=navigator, dismissed_reason="Moved away."
    )
    body = signed_in(client, navigator).get(reverse("cases:caseload")).content.decode()
    assert "72-hour follow-up missed" not in body
    assert "72-hour" not in signed_in(client, supervisor).get(reverse("cases:team")).content.decode()


def test_the_team_view_lists_missed_follow_ups_high_risk_first_with_their_owner(
    client, supervisor, navigator, case, only_missed
):
    body = signed_in(client, supervisor).get(reverse("cases:team")).content.decode()
    table = body.split("Overdue and missed across the team")[1]
    assert table.index("Missedone") < table.index("Dana Reyes")
    row = table[table.index("Missedone") :].split("</tr>")[0]
    assert "missed" in row and str(navigator) in row


def test_the_person_page_shows_the_missed_follow_up_and_never_none(client, navigator, peer, only_missed):
    url = reverse("cases:person", args=[only_missed.individual_id])
    for user in (navigator, peer):
        body = signed_in(client, user).get(url).content.decode()
        assert "72-hour follow-up missed" in body and str(navigator) in body
        assert "Next follow-up: none" not in body


def test_the_person_page_shows_the_next_follow_up(client, navigator, case):
    body = signed_in(client, navigator).get(reverse("cases:person", args=[case.individual_id])).content.decode()
    assert "Next follow-up: 24-hour follow-up" in body


# --- dismissing -------------------------------------------------------------------------------


def test_a_navigator_dismisses_a_missed_follow_up_with_a_reason(client, navigator, only_missed):
    follow_up = only_missed.follow_ups.get()
    url = reverse("cases:dismiss_follow_up", args=[follow_up.pk])
    c = signed_in(client, navigator)
    assert c.get(url).status_code == 200
    refused = c.post(url, {"reason": "  "})
    assert refused.status_code == 400
    follow_up.refresh_from_db()
    assert follow_up.dismissed_at is None
    response = c.post(url, {"reason": "Reached through the shelter staff."})
    assert response.status_code == 302
    follow_up.refresh_from_db()
    assert (follow_up.dismissed_by, follow_up.dismissed_reason) == (navigator, "Reached through the shelter staff.")
    assert c.get(url).status_code == 404  # no longer a missed follow-up on the lists


def test_a_peer_may_dismiss_only_their_own_missed_follow_up(client, peer, only_missed):
    theirs = missed(only_missed, "24h", owner=peer)
    navigators = only_missed.follow_ups.get(label="72h")
    c = signed_in(client, peer)
    assert c.post(reverse("cases:dismiss_follow_up", args=[navigators.pk]), {"reason": "x"}).status_code == 403
    assert c.post(reverse("cases:dismiss_follow_up", args=[theirs.pk]), {"reason": "Moved away."}).status_code == 302


def test_someone_elses_missed_follow_up_is_not_found(client, navigator_elsewhere, paramedic, program, only_missed):
    url = reverse("cases:dismiss_follow_up", args=[only_missed.follow_ups.get().pk])
    stranger_peer = f.UserFactory(program=program, roles=["peer"])
    for user in (navigator_elsewhere, paramedic, stranger_peer):
        assert signed_in(client, user).post(url, {"reason": "x"}).status_code == 404
    assert only_missed.follow_ups.get().dismissed_at is None


# --- the contact form ---------------------------------------------------------------------------


def test_the_contact_form_preselects_no_outcome(client, peer, case):
    body = signed_in(client, peer).get(reverse("cases:log_contact", args=[case.pk])).content.decode()
    outcome = body.split('name="outcome"')
    assert len(outcome) == 3  # two radios
    assert all("checked" not in part.split(">")[0] for part in outcome[1:])


def test_a_contact_without_an_outcome_is_refused_and_nothing_is_saved(client, peer, case):
    now = timezone.localtime().strftime("%Y-%m-%dT%H:%M")
    response = signed_in(client, peer).post(
        reverse("cases:log_contact", args=[case.pk]), {"method": "phone", "occurred_at": now}
    )
    assert response.status_code == 400
    assert "Choose whether you reached the person." in response.content.decode()
    assert not Contact.objects.exists()


def test_a_reached_contact_completes_the_missed_follow_up(client, peer, only_missed):
    now = timezone.localtime().strftime("%Y-%m-%dT%H:%M")
    response = signed_in(client, peer).post(
        reverse("cases:log_contact", args=[only_missed.pk]),
        {"outcome": "reached", "method": "phone", "occurred_at": now},
    )
    assert response.status_code == 302
    follow_up = only_missed.follow_ups.get()
    assert follow_up.done_at is not None and not follow_up.is_missed
