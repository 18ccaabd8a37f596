"""A small world for the page tests: people on the navigator's caseload, one elsewhere, a partner."""

from datetime import timedelta

import pytest
from django.utils import timezone

from tests import factories as f


@pytest.fixture
def person(program):
    return f.IndividualFactory(
        program=program,
        legal_first_name="Dana",
        legal_last_name="Reyes",
        responder_safety_notes="Dog in the yard; knock at the side door.",
        safe_contact_times="after 3 pm",
    )


@pytest.fixture
def case(person, navigator, peer):
    case = f.CaseFactory(program=person.program, individual=person, navigator=navigator, peer=peer)
    f.FollowUpFactory(case=case, label="24h", owner=navigator, due_at=timezone.now() - timedelta(hours=2))
    f.FollowUpFactory(case=case, label="72h", owner=navigator, due_at=timezone.now() + timedelta(days=2))
    return case


@pytest.fixture
def person_elsewhere(other_program, navigator_elsewhere):
    person = f.IndividualFactory(program=other_program, legal_first_name="Olive", legal_last_name="Elsewhere")
    f.CaseFactory(program=other_program, individual=person, navigator=navigator_elsewhere)
    return person


@pytest.fixture
def service(partner_org):
    service = f.ServiceFactory(organization=partner_org, name="Rapid rehousing", languages=["en", "es"])
    f.ServiceCapacityFactory(service=service, available=2, maximum=10)
    f.ServiceAtLocationFactory(service=service)
    return service


@pytest.fixture
def consent(person, partner_org, navigator):
    return f.ConsentFactory(individual=person, recipient_organization=partner_org, recorded_by=navigator)


def signed_in(client, user):
    client.force_login(user)
    return client
