"""My caseload, finding a person and the person page: scoping, audit, and constant query counts."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from audit.models import AccessLog
from tests import factories as f
from tests.web.conftest import signed_in

pytestmark = pytest.mark.django_db


def _queries(client, url) -> int:
    client.get(url)  # warm: the first page after sign-in also writes the session's clocks
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured)


def _fill_caseload(program, navigator, n):
    for i in range(n):
        case = f.CaseFactory(program=program, navigator=navigator, risk_level="high" if i % 2 else "low")
        f.FollowUpFactory(case=case, label="24h", due_at=timezone.now() - timedelta(hours=1))
        f.FollowUpFactory(case=case, label="4h", due_at=timezone.now() - timedelta(days=4), is_missed=True)
        f.ContactFactory(case=case, made_by=navigator)
        f.ReferralFactory(program=program, individual=case.individual, case=case, next_action_owner="partner")


def test_caseload_shows_risk_overdue_follow_up_and_referral_waiting_on_a_partner(client, navigator, case, service):
    f.ReferralFactory(
        program=case.program, individual=case.individual, case=case, service=service, next_action_owner="partner"
    )
    response = signed_in(client, navigator).get(reverse("cases:caseload"))
    body = response.content.decode()
    assert response.status_code == 200
    assert "Dana Reyes" in body
    assert "Moderate" in body  # the case's risk level
    assert "24-hour follow-up, overdue by 2 h" in body
    assert "Safe Harbor Housing" in body  # referral waiting on the partner
    assert reverse("cases:log_contact", args=[case.pk]) in body


def test_caseload_leaves_out_other_navigators_cases_and_other_programs(client, navigator, case, person_elsewhere):
    colleague = f.UserFactory(program=navigator.program, roles=["navigator"])
    f.CaseFactory(program=navigator.program, navigator=colleague, individual__legal_last_name="Colleaguescase")
    body = signed_in(client, navigator).get(reverse("cases:caseload")).content.decode()
    assert "Dana Reyes" in body
    assert "Colleaguescase" not in body
    assert "Elsewhere" not in body


def test_caseload_filters_by_name_risk_and_due(client, navigator, case):
    f.CaseFactory(program=navigator.program, navigator=navigator, risk_level="low", individual__legal_last_name="Quiet")
    c = signed_in(client, navigator)
    by_name = c.post(reverse("cases:caseload"), {"q": "reyes"}).content.decode()
    assert "Dana Reyes" in by_name and "Quiet" not in by_name.split("People (")[1]
    by_risk = c.get(reverse("cases:caseload"), {"risk": "low"}).content.decode().split("People (")[1]
    assert "Quiet" in by_risk and "Dana Reyes" not in by_risk
    overdue = c.get(reverse("cases:caseload"), {"due": "overdue"}).content.decode().split("People (")[1]
    assert "Dana Reyes" in overdue and "Quiet" not in overdue


def test_peer_sees_the_cases_they_support(client, peer, case):
    body = signed_in(client, peer).get(reverse("cases:caseload")).content.decode()
    assert "Dana Reyes" in body


def test_caseload_query_count_does_not_grow_with_rows(client, program, navigator):
    c = signed_in(client, navigator)
    _fill_caseload(program, navigator, 2)
    few = _queries(c, reverse("cases:caseload"))
    _fill_caseload(program, navigator, 12)
    many = _queries(c, reverse("cases:caseload"))
    assert few == many


def test_caseload_records_who_listed_which_cases(client, navigator, case):
    signed_in(client, navigator).get(reverse("cases:caseload"))
    logged = AccessLog.objects.filter(actor=navigator, action="list", object_type="cases.case")
    assert list(logged.values_list("object_id", "individual_id")) == [(str(case.pk), case.individual_id)]


def test_signed_out_visitor_is_sent_to_sign_in(client, case):
    response = client.get(reverse("cases:caseload"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_partner_user_never_reaches_staff_pages(client, partner_user, case):
    c = signed_in(client, partner_user)
    for url in (reverse("cases:caseload"), reverse("cases:person", args=[case.individual_id])):
        response = c.get(url)
        assert response.status_code in (302, 404)
        assert b"Dana" not in response.content


def test_home_sends_each_role_to_its_start_page(client, navigator, supervisor, paramedic, staff_admin):
    expected = {
        navigator: reverse("cases:caseload"),
        supervisor: reverse("cases:team"),
        paramedic: reverse("cases:people"),
    }
    for user, start in expected.items():
        client.force_login(user)
        assert client.get("/")["Location"] == start
    client.force_login(staff_admin)
    assert b"Find a person" in client.get("/").content


# --- people and the person page ---------------------------------------------------------------


def test_people_search_finds_by_name_and_date_of_birth_within_the_program(client, paramedic, person, person_elsewhere):
    c = signed_in(client, paramedic)
    assert "Dana Reyes" in c.post(reverse("cases:people"), {"q": "dana"}).content.decode()
    by_birth = c.post(reverse("cases:people"), {"q": person.date_of_birth.isoformat()}).content.decode()
    assert "Dana Reyes" in by_birth
    assert "Olive" not in c.post(reverse("cases:people"), {"q": "olive"}).content.decode()


@pytest.mark.parametrize("page", ["cases:people", "cases:caseload"])
def test_a_name_in_the_address_is_refused_and_nothing_is_searched(client, navigator, case, page):
    """As the API refuses ?q= (cases.api): the search boxes post, so a name never sits in a URL."""
    c = signed_in(client, navigator)
    mark = AccessLog.objects.count()
    response = c.get(reverse(page), {"q": "Reyes"})
    assert response.status_code == 400
    body = response.content.decode()
    assert "Dana" not in body and "search box" in body
    assert AccessLog.objects.count() == mark


def test_person_page_puts_safety_notes_before_the_timeline(client, navigator, case):
    f.ContactFactory(case=case, made_by=navigator, note="Talked about housing.")
    f.SafetyPlanFactory(case=case, created_by=navigator)
    f.SupportContactFactory(individual=case.individual, name="Maria Reyes")
    body = signed_in(client, navigator).get(reverse("cases:person", args=[case.individual_id])).content.decode()
    assert body.index("Dog in the yard") < body.index("Timeline") < body.index("Talked about housing.")
    assert "Safety plan" in body and "version 1" in body
    assert "Maria Reyes" in body


def test_person_of_another_program_is_not_found(client, navigator, person_elsewhere):
    response = signed_in(client, navigator).get(reverse("cases:person", args=[person_elsewhere.pk]))
    assert response.status_code == 404


def test_peer_gets_not_found_for_someone_off_their_caseload(client, peer, program):
    stranger = f.IndividualFactory(program=program)
    assert signed_in(client, peer).get(reverse("cases:person", args=[stranger.pk])).status_code == 404


def test_peer_does_not_see_encounters_and_paramedic_does_not_see_contacts(client, peer, paramedic, case):
    encounter = f.EncounterFactory(program=case.program, individual=case.individual, cad_incident_number="CAD-777")
    f.ContactFactory(case=case, note="Peer check-in note.")
    url = reverse("cases:person", args=[case.individual_id])
    peer_view = signed_in(client, peer).get(url).content.decode()
    assert encounter.cad_incident_number not in peer_view and "Peer check-in note." in peer_view
    medic_view = signed_in(client, paramedic).get(url).content.decode()
    assert encounter.cad_incident_number in medic_view and "Peer check-in note." not in medic_view


def test_person_page_records_access_to_each_object_shown(client, navigator, case):
    contact = f.ContactFactory(case=case, made_by=navigator)
    signed_in(client, navigator).get(reverse("cases:person", args=[case.individual_id]))
    logged = set(AccessLog.objects.filter(actor=navigator, action="view").values_list("object_type", "object_id"))
    assert {("cases.individual", str(case.individual_id)), ("cases.contact", str(contact.pk))} <= logged


def test_person_page_query_count_does_not_grow_with_the_timeline(client, navigator, case):
    c = signed_in(client, navigator)
    url = reverse("cases:person", args=[case.individual_id])

    def add(n):
        for _ in range(n):
            f.ContactFactory(case=case, made_by=navigator)
            f.EncounterFactory(program=case.program, individual=case.individual)
            f.ReferralFactory(program=case.program, individual=case.individual, case=case)
            f.SupportContactFactory(individual=case.individual)
            f.ConsentFactory(individual=case.individual, recorded_by=navigator)

    add(1)
    few = _queries(c, url)
    add(8)
    assert _queries(c, url) == few


def test_the_timeline_shows_fifty_events_a_page_newest_first_across_kinds(client, navigator, case):
    # 35 contacts and 35 encounters, interleaved in time: page 1 is the newest 50 of all 70, page 2
    # the other 20; together every event exactly once, in order, and only what is shown is audited.
    now = timezone.now()
    events = []
    for i in range(35):
        contact = f.ContactFactory(
            case=case, made_by=navigator, note=f"note-{i:02d}.", occurred_at=now - timedelta(hours=2 * i)
        )
        encounter = f.EncounterFactory(
            program=case.program,
            individual=case.individual,
            cad_incident_number=f"CAD-T{i:02d}",
            call_received_at=now - timedelta(hours=2 * i + 1),
        )
        events += [("cases.contact", contact.pk, f"note-{i:02d}."), ("cases.encounter", encounter.pk, f"CAD-T{i:02d}")]
    c = signed_in(client, navigator)
    url = reverse("cases:person", args=[case.individual_id])

    def shown(body):
        return sorted((body.index(marker), kind, pk) for kind, pk, marker in events if marker in body)

    first = c.get(url).content.decode()
    second = c.get(url, {"page": 2}).content.decode()

    assert [(kind, pk) for _, kind, pk in shown(first)] == [(kind, pk) for kind, pk, _ in events[:50]]
    assert [(kind, pk) for _, kind, pk in shown(second)] == [(kind, pk) for kind, pk, _ in events[50:]]
    assert "?page=2" in first and "Newer" not in first
    assert "?page=1" in second and "?page=3" not in second
    assert "Nothing older." in c.get(url, {"page": 9}).content.decode()
    assert c.get(url, {"page": "nonsense"}).status_code == 200


def test_the_timeline_audits_only_the_events_on_the_page(client, navigator, case):
    now = timezone.now()
    contacts = [
        f.ContactFactory(case=case, made_by=navigator, occurred_at=now - timedelta(minutes=i)) for i in range(55)
    ]
    signed_in(client, navigator).get(reverse("cases:person", args=[case.individual_id]))

    audited = set(AccessLog.objects.filter(object_type="cases.contact").values_list("object_id", flat=True))
    assert audited == {str(contact.pk) for contact in contacts[:50]}
    assert set(AccessLog.objects.filter(object_type="cases.contact").values_list("individual_id", flat=True)) == {
        case.individual_id
    }


def test_person_page_names_the_safe_channels(client, navigator, case):
    case.individual.safe_contact_channels = ["text", "in_person"]
    case.individual.save()
    body = signed_in(client, navigator).get(reverse("cases:person", args=[case.individual_id])).content.decode()
    assert "Text message, In person" in body


def test_team_page_query_count_does_not_grow_with_overdue_work(client, program, supervisor, navigator):
    c = signed_in(client, supervisor)
    _fill_caseload(program, navigator, 2)
    few = _queries(c, reverse("cases:team"))
    _fill_caseload(program, navigator, 10)
    assert _queries(c, reverse("cases:team")) == few
