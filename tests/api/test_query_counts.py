"""Every list costs the same number of queries for page sizes 1, 10 and 100."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests import factories as f
from tests.api.conftest import credential_for

pytestmark = pytest.mark.django_db
ROWS = 101


def _fill(kind: str, program, navigator, partner_org):
    person = f.IndividualFactory(program=program)
    case = f.CaseFactory(program=program, individual=person, navigator=navigator)
    service = f.ServiceFactory(organization=partner_org)
    if kind == "referral":
        f.ReferralFactory.create_batch(
            ROWS, program=program, individual=person, case=case, service=service, created_by=navigator
        )
    elif kind == "service":
        for item in f.ServiceFactory.create_batch(ROWS, organization=partner_org):
            f.ServiceCapacityFactory(service=item)
            f.ServiceAtLocationFactory(service=item)
    elif kind == "individual":
        f.IndividualFactory.create_batch(ROWS, program=program)
    elif kind == "encounter":
        f.EncounterFactory.create_batch(ROWS, program=program, individual=person)
    elif kind == "case":
        f.CaseFactory.create_batch(ROWS, program=program, individual=person)
    elif kind == "contact":
        f.ContactFactory.create_batch(ROWS, case=case, made_by=navigator)
    elif kind == "follow-up":
        f.FollowUpFactory.create_batch(ROWS, case=case)
    elif kind == "consent":
        f.ConsentFactory.create_batch(
            ROWS, individual=person, recipient_organization=partner_org, recorded_by=navigator
        )


LISTS = [
    ("/api/v1/partner/referrals/", "referral", "partner"),
    ("/api/v1/partner/services/", "service", "partner"),
    ("/api/v1/referrals/", "referral", "staff"),
    ("/api/v1/directory/services/", "service", "staff"),
    ("/api/v1/individuals/", "individual", "staff"),
    ("/api/v1/encounters/", "encounter", "staff"),
    ("/api/v1/cases/", "case", "staff"),
    ("/api/v1/contacts/", "contact", "staff"),
    ("/api/v1/follow-ups/", "follow-up", "staff"),
    ("/api/v1/consents/", "consent", "staff"),
]


def test_every_api_list_is_covered():
    from tests.api.test_permission_matrix import MATRIX

    lists = {name for name, method in MATRIX if name.endswith("-list") and method == "GET"}
    assert len(lists) == len(LISTS)


@pytest.mark.parametrize(("url", "kind", "who"), LISTS, ids=[url for url, _, _ in LISTS])
def test_list_query_count_does_not_grow_with_the_page(url, kind, who, api_client, program, navigator, partner_org):
    _fill(kind, program, navigator, partner_org)
    client = api_client(credential_for(partner_org) if who == "partner" else navigator)
    client.get(url)  # warm the session and the role cache

    counts = {}
    for size in (1, 10, 100):
        with CaptureQueriesContext(connection) as captured:
            response = client.get(url, {"page_size": size})
        assert response.status_code == 200
        assert len(response.json()["results"]) == size
        statements = [q["sql"] for q in captured]
        audit_writes = [sql for sql in statements if 'INSERT INTO "audit_accesslog"' in sql]
        counts[size] = len(statements) - len(audit_writes)
        # The audit rows of a page go in one statement (on SQLite one executemany), not one per row.
        if kind == "service":
            assert audit_writes == []  # the directory holds no personal data
        else:
            assert len(audit_writes) == 1

    assert counts[1] == counts[10] == counts[100], counts
