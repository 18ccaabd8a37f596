"""record_access and the surfaces using it now: one audit row per object read or written through
the admin, written before the page is rendered; no page at all when the write fails."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import DatabaseError
from django.http import HttpResponse
from django.urls import reverse

from audit.access import AuditMissing, AuditWriteError, audited, record_access
from audit.models import AccessLog, Action
from cases.models import Contact, Individual
from crt.client_ip import client_ip
from tests import factories as f


@pytest.fixture
def staff_client(client, staff_admin):
    client.force_login(staff_admin)
    return client


@pytest.fixture
def failing_audit(monkeypatch):
    def refuse(*args, **kwargs):
        raise DatabaseError("could not extend file: No space left on device")

    monkeypatch.setattr("audit.access._insert", refuse)


def rows(**filters):
    return list(AccessLog.objects.filter(**filters).order_by("id"))


def test_a_changelist_records_exactly_one_row_per_person_listed(staff_client, staff_admin, program, other_program):
    people = [f.IndividualFactory(program=program) for _ in range(3)]
    f.IndividualFactory(program=other_program)  # not listed, not recorded
    response = staff_client.get(reverse("admin:cases_individual_changelist"), REMOTE_ADDR="192.0.2.7")
    logged = rows(action=Action.LIST)
    assert sorted(row.object_id for row in logged) == sorted(str(p.pk) for p in people)
    for row in logged:
        assert row.object_type == "cases.individual"
        assert row.individual_id == int(row.object_id)
        assert row.program_id == program.pk
        assert row.actor_id == staff_admin.pk and row.credential_id is None
        assert row.route == "admin:cases_individual_changelist"
        assert row.ip == "192.0.2.7"
        assert row.request_id == response["X-Request-ID"]
        assert row.break_glass_id is None


def test_a_change_page_records_the_record_and_what_is_shown_inline(staff_client, program):
    person = f.IndividualFactory(program=program)
    contacts = [f.SupportContactFactory(individual=person) for _ in range(2)]
    assert staff_client.get(reverse("admin:cases_individual_change", args=[person.pk])).status_code == 200
    logged = {(row.object_type, row.object_id, row.individual_id) for row in rows(action=Action.VIEW)}
    assert logged == {("cases.individual", str(person.pk), person.pk)} | {
        ("cases.supportcontact", str(c.pk), person.pk) for c in contacts
    }
    assert AccessLog.objects.count() == 3  # exactly one row per object read


def test_the_person_is_found_through_relations_for_deeper_records(staff_client, program):
    assessment = f.AssessmentFactory(encounter__program=program)
    staff_client.get(reverse("admin:cases_assessment_change", args=[assessment.pk]))
    (row,) = rows(action=Action.VIEW)
    assert (row.object_type, row.individual_id, row.program_id) == (
        "cases.assessment",
        assessment.encounter.individual_id,
        program.pk,
    )


def test_when_the_audit_cannot_be_written_no_personal_data_is_returned(staff_client, program, failing_audit):
    person = f.IndividualFactory(program=program, legal_first_name="Zelda", legal_last_name="Quartermaine")
    staff_client.raise_request_exception = False
    for url in (
        reverse("admin:cases_individual_changelist"),
        reverse("admin:cases_individual_change", args=[person.pk]),
    ):
        response = staff_client.get(url)
        assert response.status_code == 500
        assert b"Quartermaine" not in response.content and b"Zelda" not in response.content


def test_record_access_raises_when_it_cannot_write(program, navigator, failing_audit):
    with pytest.raises(AuditWriteError):
        record_access(navigator, action=Action.VIEW, objects=[f.IndividualFactory(program=program)])


def test_a_partner_credential_and_the_system_are_recorded_as_such(program, partner_credential):
    referral = f.ReferralFactory(program=program, organization=partner_credential.organization)
    assert record_access(partner_credential, action=Action.VIEW, objects=[referral], route="api:x") == 1
    by_credential = AccessLog.objects.latest("id")
    record_access(
        None,
        action=Action.DISCLOSE,
        objects=[referral],
        recipient=referral.organization,
        purpose="referral",
        detail="name, phone, referral reason",
        route="task:referrals.deliver",
    )
    by_system = AccessLog.objects.latest("id")
    assert (by_credential.actor_id, by_credential.credential_id) == (None, partner_credential.pk)
    assert (by_system.actor_id, by_system.credential_id, by_system.route) == (None, None, "task:referrals.deliver")
    assert by_system.individual_id == referral.individual_id
    assert AccessLog.objects.get(pk=by_system.pk).recipient_id == referral.organization_id


def test_every_column_of_a_batch_is_written_and_reads_back(rf, program, navigator, time_machine):
    # record_access writes with one raw statement (an unnest on PostgreSQL, an executemany on SQLite):
    # what the ORM reads back must be what it was given, the time included (filters and order use it).
    at = datetime(2026, 3, 4, 5, 6, 7, 891011, tzinfo=UTC)
    time_machine.move_to(at, tick=False)
    people = [f.IndividualFactory(program=program) for _ in range(3)]
    contact = f.ContactFactory(case=f.CaseFactory(program=program, individual=people[0]))
    request = rf.get("/people/", REMOTE_ADDR="192.0.2.7")
    request.user, request.request_id = navigator, "req-123"
    assert record_access(request, action=Action.VIEW, objects=[*people, contact], detail="d", route="r") == 4

    written = list(AccessLog.objects.filter(at=at).order_by("id"))
    assert [(row.object_type, row.object_id, row.individual_id) for row in written] == [
        *[("cases.individual", str(person.pk), person.pk) for person in people],
        ("cases.contact", str(contact.pk), people[0].pk),
    ]
    for row in written:
        assert (row.at, row.actor_id, row.credential_id, row.action, row.program_id) == (
            at,
            navigator.pk,
            None,
            Action.VIEW,
            program.pk,
        )
        assert (row.ip, row.request_id, row.route, row.detail, row.break_glass_id) == (
            "192.0.2.7",
            "req-123",
            "r",
            "d",
            None,
        )
    assert (
        AccessLog.objects.filter(at__gt=at - timedelta(microseconds=1), at__lt=at + timedelta(microseconds=1)).count()
        == 4
    )


def test_relations_the_caller_loaded_spare_the_lookup_of_whose_record_it_is(
    program, navigator, django_assert_num_queries
):
    case = f.CaseFactory(program=program)
    for _ in range(3):
        f.ContactFactory(case=case)
    plain = list(Contact.objects.filter(case=case))
    with django_assert_num_queries(2):  # the contacts' person and program, the insert
        record_access(navigator, action=Action.VIEW, objects=plain)
    loaded = list(
        Contact.objects.filter(case=case).select_related("case").only("id", "case__individual_id", "case__program_id")
    )
    with django_assert_num_queries(1):
        record_access(navigator, action=Action.VIEW, objects=loaded)
    assert {(row.individual_id, row.program_id) for row in AccessLog.objects.filter(object_type="cases.contact")} == {
        (case.individual_id, program.pk)
    }
    assert AccessLog.objects.filter(object_type="cases.contact").count() == 6


# --- the address recorded ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("proxies", "forwarded", "expected"),
    [
        (0, "198.51.100.9", "10.0.0.2"),  # no proxy of ours: the header is the client's own words
        (1, "198.51.100.9", "198.51.100.9"),
        (1, "6.6.6.6, 198.51.100.9", "198.51.100.9"),  # the client prepended a lie
        (2, "6.6.6.6, 198.51.100.9, 10.0.0.1", "198.51.100.9"),
        (2, "198.51.100.9", "10.0.0.2"),  # did not pass through both proxies
        (1, "not-an-address", "10.0.0.2"),
    ],
)
def test_the_client_address_trusts_only_our_own_proxies(rf, settings, proxies, forwarded, expected):
    settings.TRUSTED_PROXY_COUNT = proxies
    request = rf.get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR=forwarded)
    assert client_ip(request) == expected


def test_the_admin_records_the_forwarded_address_behind_a_trusted_proxy(staff_client, program, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    f.IndividualFactory(program=program)
    staff_client.get(
        reverse("admin:cases_individual_changelist"),
        REMOTE_ADDR="10.0.0.1",
        HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.5",
    )
    assert {row.ip for row in rows()} == {"203.0.113.5"}


# --- the API mixin and the view decorator -------------------------------------------------------


@pytest.mark.urls("tests.security.drf_urls")
def test_the_api_mixin_records_each_object_of_the_page_before_serialising(client, navigator, program):
    people = [f.IndividualFactory(program=program) for _ in range(3)]
    client.force_login(navigator)
    page = client.get("/people/")
    assert page.status_code == 200 and len(page.json()["results"]) == 2
    assert [row.object_id for row in rows(action=Action.LIST)] == [str(p.pk) for p in people[:2]]
    client.get(f"/people/{people[2].pk}/")
    assert [row.object_id for row in rows(action=Action.VIEW)] == [str(people[2].pk)]


@pytest.mark.urls("tests.security.drf_urls")
def test_the_api_mixin_returns_no_data_when_the_audit_fails(client, navigator, program, failing_audit):
    person = f.IndividualFactory(program=program, legal_last_name="Quartermaine")
    client.force_login(navigator)
    client.raise_request_exception = False
    for url in ("/people/", f"/people/{person.pk}/"):
        response = client.get(url)
        assert response.status_code == 500
        assert b"Quartermaine" not in response.content


def test_an_audited_view_that_forgets_to_record_fails_closed(rf, navigator, program):
    person = f.IndividualFactory(program=program)

    @audited
    def forgetful(request):
        return HttpResponse(Individual.objects.get(pk=person.pk).legal_last_name)

    @audited
    def careful(request):
        record_access(request, action=Action.VIEW, objects=[person])
        return HttpResponse(person.legal_last_name)

    request = rf.get("/")
    request.user = navigator
    with pytest.raises(AuditMissing):
        forgetful(request)
    assert careful(rf.get("/")).status_code == 200
