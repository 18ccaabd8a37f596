"""Races on PostgreSQL: two partners' requests at the same moment, each on its own connection."""

import threading

import pytest
from django.db import connection

from providers.models import IdempotencyRecord
from referrals.models import Referral, ReferralEvent
from tests import factories as f
from tests.api.conftest import credential_for, openapi

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def race(*calls):
    """Run the calls at once, each in its own thread (and so its own database connection)."""
    openapi()  # built once before the threads: schema generation is not thread-safe
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def run(index, call):
        try:
            barrier.wait()
            results[index] = call()
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


@pytest.fixture
def sent(program, partner_org, navigator):
    return f.ReferralFactory(program=program, service=f.ServiceFactory(organization=partner_org), created_by=navigator)


def test_two_moves_with_the_same_etag_one_wins_the_other_gets_412(api_client, partner_org, sent):
    credential = credential_for(partner_org)
    url = f"/api/v1/partner/referrals/{sent.pk}/"
    tag = f'"{sent.pk}-{sent.version}"'

    def accept():
        return api_client(credential).post(f"{url}accept/", {}, format="json", HTTP_IF_MATCH=tag).status_code

    def reject():
        body = {"reason": "Full."}
        return api_client(credential).post(f"{url}reject/", body, format="json", HTTP_IF_MATCH=tag).status_code

    codes = race(accept, reject)

    assert sorted(codes) == [200, 412]
    sent.refresh_from_db()
    assert sent.status in ("accepted", "rejected")
    assert ReferralEvent.objects.filter(referral=sent).count() == 1


def test_the_same_idempotent_post_twice_at_once_runs_once(api_client, navigator, program, partner_org):
    person = f.IndividualFactory(program=program)
    service = f.ServiceFactory(organization=partner_org)
    body = {"individual": person.pk, "service": service.pk, "reason": "Needs a bed."}

    def create():
        response = api_client(navigator).post("/api/v1/referrals/", body, format="json", HTTP_IDEMPOTENCY_KEY="race-1")
        return response.status_code

    codes = race(create, create)

    assert Referral.objects.count() == 1
    # The second either waited for nothing (409 while the first ran) or got the stored answer (201).
    assert sorted(codes) in ([201, 201], [201, 409])
    assert IdempotencyRecord.objects.get(key="race-1").status_code == 201
