"""The inbox pages, per role: my items, one item and acting on it, the supervisor's team view, the
count in the navigation, and the email settings on the account page."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from audit.models import AccessLog
from inbox.models import Item, NotificationPreference
from tests import factories as f

pytestmark = pytest.mark.django_db


def signed_in(client, user):
    client.force_login(user)
    return client


@pytest.fixture
def item(program, navigator, referral):
    return f.ItemFactory(program=program, referral=referral, individual=referral.individual, recipient=navigator)


def test_the_navigator_sees_their_item_with_the_person_and_what_to_do(client, item, navigator):
    body = signed_in(client, navigator).get(reverse("inbox:list")).content.decode()
    assert "Partner has not answered a referral" in body
    assert "Canary Quixotic" in body
    assert reverse("cases:person", args=[item.individual_id]) in body
    assert "Call the partner" in body
    logged = AccessLog.objects.filter(actor=navigator, action="list", object_type="cases.individual")
    assert list(logged.values_list("object_id", flat=True)) == [str(item.individual_id)]


def test_the_count_in_the_navigation_is_on_every_staff_page(client, item, navigator):
    c = signed_in(client, navigator)
    for url in (reverse("cases:caseload"), reverse("cases:people"), reverse("accounts:home")):
        body = c.get(url).content.decode()
        assert 'aria-label="1 open items"' in body, url


def test_the_count_costs_one_indexed_query_whatever_the_number_of_items(client, item, navigator):
    c = signed_in(client, navigator)
    c.get(reverse("cases:people"))  # the session's first page writes its idle clock

    def inbox_queries():
        with CaptureQueriesContext(connection) as captured:
            assert c.get(reverse("cases:people")).status_code == 200
        return [q["sql"] for q in captured.captured_queries if "inbox_item" in q["sql"]], len(captured)

    one, total_one = inbox_queries()
    f.ItemFactory.create_batch(30, program=item.program, recipient=navigator, referral=item.referral)
    many, total_many = inbox_queries()
    assert len(one) == len(many) == 1
    assert "COUNT(*)" in one[0]
    assert total_one == total_many


def test_a_person_the_user_may_not_see_is_shown_without_a_name(client, program, peer, referral):
    f.ItemFactory(program=program, referral=referral, individual=referral.individual, recipient=peer)
    body = signed_in(client, peer).get(reverse("inbox:list")).content.decode()
    assert "Canary" not in body and "Quixotic" not in body
    assert "a person you cannot see" in body
    assert reverse("referrals:detail", args=[referral.pk]) not in body


def test_another_programs_items_are_invisible(client, item, navigator_elsewhere):
    c = signed_in(client, navigator_elsewhere)
    assert "Partner has not answered" not in c.get(reverse("inbox:list")).content.decode()
    assert c.get(reverse("inbox:item", args=[item.pk])).status_code == 404
    assert c.post(reverse("inbox:item", args=[item.pk]), {"action": "acknowledge"}).status_code == 404
    assert Item.objects.get(pk=item.pk).state == "open"


def test_a_colleagues_item_is_a_404_for_a_non_supervisor(client, item, peer):
    assert signed_in(client, peer).get(reverse("inbox:item", args=[item.pk])).status_code == 404


def test_opening_an_item_records_it_and_shows_its_history(client, item, navigator):
    body = signed_in(client, navigator).get(reverse("inbox:item", args=[item.pk])).content.decode()
    item.refresh_from_db()
    assert item.opened_at is not None
    assert "Opened by" in body and "Canary Quixotic" in body


def test_resolving_needs_a_note_and_changes_nothing_without_one(client, item, navigator):
    c = signed_in(client, navigator)
    url = reverse("inbox:item", args=[item.pk])
    refused = c.post(url, {"action": "resolve", "resolve-note": ""})
    assert refused.status_code == 400
    assert Item.objects.get(pk=item.pk).state == "open"
    done = c.post(url, {"action": "resolve", "resolve-note": "Partner called back."})
    assert done.status_code == 302
    item.refresh_from_db()
    assert (item.state, item.resolution_note, item.resolved_by) == ("resolved", "Partner called back.", navigator)
    assert 'aria-label="1 open items"' not in c.get(reverse("inbox:list")).content.decode()
    assert "Partner called back." in c.get(reverse("inbox:list") + "?show=resolved").content.decode()


def test_snoozing_from_the_page(client, item, navigator):
    until = timezone.localtime(timezone.now() + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    response = signed_in(client, navigator).post(
        reverse("inbox:item", args=[item.pk]), {"action": "snooze", "snooze-until": until}
    )
    assert response.status_code == 302
    assert Item.objects.get(pk=item.pk).state == "snoozed"


def test_a_supervisor_reassigns_from_the_page_and_a_navigator_cannot(client, item, navigator, peer, supervisor):
    url = reverse("inbox:item", args=[item.pk])
    assert "Give to" not in signed_in(client, navigator).get(url).content.decode()
    signed_in(client, navigator).post(url, {"action": "reassign", "reassign-to": peer.pk})
    assert Item.objects.get(pk=item.pk).recipient == navigator
    c = signed_in(client, supervisor)
    assert "Give to" in c.get(url).content.decode()
    assert c.post(url, {"action": "reassign", "reassign-to": peer.pk}).status_code == 302
    assert Item.objects.get(pk=item.pk).recipient == peer


def test_the_team_view_counts_open_items_by_kind_and_age_and_lists_escalations(
    client, program, item, supervisor, navigator, referral
):
    Item.objects.filter(pk=item.pk).update(created_at=timezone.now() - timedelta(days=4))
    escalated = f.ItemFactory(program=program, referral=referral, recipient=supervisor, level=3)
    follow_up = f.FollowUpFactory(case=referral.case)
    missed = f.ItemFactory(
        program=program, referral=None, follow_up=follow_up, kind="follow_up_overdue", recipient=supervisor, level=2
    )
    f.ItemFactory(program=program, referral=referral, recipient=supervisor, level=2)  # not yet the supervisor's
    f.ItemFactory(program=f.ProgramFactory(), recipient=f.UserFactory())  # another program's
    body = signed_in(client, supervisor).get(reverse("inbox:team")).content.decode()
    row = body.split('<th scope="row">Partner has not answered a referral</th>')[1].split("</tr>")[0]
    assert [cell.split("</td>")[0].split(">")[-1] for cell in row.split("<td")[1:]] == ["2", "0", "1", "0", "3"]
    escalations = body.split("Escalated to you (2)")[1].split("</ul>")[0]
    assert reverse("inbox:item", args=[escalated.pk]) in escalations
    assert reverse("inbox:item", args=[missed.pk]) in escalations


def test_the_team_view_is_for_supervisors(client, navigator):
    assert signed_in(client, navigator).get(reverse("inbox:team")).status_code == 404


def test_team_view_query_count_does_not_grow_with_items(client, program, supervisor, referral, navigator):
    c = signed_in(client, supervisor)
    c.get(reverse("inbox:team"))

    def queries():
        with CaptureQueriesContext(connection) as captured:
            c.get(reverse("inbox:team"))
        return len(captured)

    f.ItemFactory(program=program, referral=referral, individual=referral.individual, recipient=navigator)
    few = queries()
    for _ in range(10):
        person = f.IndividualFactory(program=program)
        f.ItemFactory(
            program=program, referral=None, individual=person, recipient=navigator, kind="high_risk_no_contact"
        )
    assert queries() == few


def test_list_query_count_does_not_grow_with_items(client, program, navigator, referral):
    c = signed_in(client, navigator)
    c.get(reverse("inbox:list"))

    def queries():
        with CaptureQueriesContext(connection) as captured:
            c.get(reverse("inbox:list"))
        return len(captured)

    f.ItemFactory(program=program, referral=referral, individual=referral.individual, recipient=navigator)
    few = queries()
    for _ in range(10):
        other = f.ReferralFactory(program=program)
        f.ItemFactory(program=program, referral=other, individual=other.individual, recipient=navigator)
    assert queries() == few


def test_email_settings_on_the_account_page(client, navigator):
    c = signed_in(client, navigator)
    body = c.get(reverse("accounts:home")).content.decode()
    assert "A daily email with my inbox" in body
    response = c.post(reverse("inbox:preferences"), {"urgent_follow_up": "on", "urgent_declined": "on"})
    assert response.status_code == 302
    saved = NotificationPreference.objects.get(user=navigator)
    assert (saved.daily_digest, saved.urgent_follow_up, saved.urgent_declined) == (False, True, True)


def test_partner_users_have_no_inbox_link_and_are_sent_to_their_area(client, partner_member):
    c = signed_in(client, partner_member)
    assert c.get(reverse("inbox:list")).status_code == 302
    assert reverse("inbox:list") not in c.get(reverse("providers:partner_home")).content.decode()
