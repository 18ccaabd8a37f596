"""Schemathesis against /api/schema/, once per role: no 5xx, and every answer as the schema says.

Bounded (a few generated requests per operation and role) so `make test` stays fast. The app is
called in process through WSGI, inside the test's database transaction.
"""

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from accounts.roles import Role
from tests import factories as f
from tests.api.conftest import credential_for, token_for

pytestmark = pytest.mark.django_db

ROLES = ["anonymous", "navigator", "peer", "supervisor", "integration", "partner_a", "partner_b"]


@pytest.fixture
def api_schema(db, settings):
    settings.ALLOWED_HOSTS = ["localhost", "testserver"]
    settings.API_THROTTLE_RATE = "100000/min"
    # As Django's test client does: the WSGI calls run inside the test's transaction, so the end of
    # a request must not close the connection.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield schemathesis.openapi.from_wsgi("/api/schema/", get_wsgi_application())
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


@pytest.fixture
def auth_headers(request, client, program, partner_org, other_partner_org):
    """Headers for every role, made once per test (a session cookie, a staff token or a partner key)."""
    person = f.IndividualFactory(program=program)
    service = f.ServiceFactory(organization=partner_org)
    f.ReferralFactory(program=program, individual=person, service=service)
    users = {
        "navigator": f.UserFactory(program=program, roles=[Role.NAVIGATOR]),
        "peer": f.UserFactory(program=program, roles=[Role.PEER]),
        "supervisor": f.UserFactory(program=program, roles=[Role.SUPERVISOR]),
    }
    headers = {"anonymous": {}}
    for role, user in users.items():
        client.force_login(user)
        headers[role] = {"Cookie": f"sessionid={client.cookies['sessionid'].value}"}
    cad = f.UserFactory(program=program, roles=[Role.CLINICIAN])
    headers["integration"] = {"Authorization": f"Bearer {token_for(cad).key}"}  # a staff API token
    headers["partner_a"] = {"Authorization": f"Bearer {credential_for(partner_org).key}"}
    headers["partner_b"] = {"Authorization": f"Bearer {credential_for(other_partner_org).key}"}
    return headers


def test_api_answers_as_its_schema_says_for_every_role(api_schema, auth_headers):
    failures = []
    operations = [result.ok() for result in api_schema.get_all_operations()]
    # The metrics app's endpoints are tested by that app (tests/metrics); these are ours.
    operations = [op for op in operations if not op.path.startswith("/api/v1/metrics/")]
    assert len(operations) > 30

    for operation in operations:

        @hypothesis_settings(
            max_examples=3, deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck)
        )
        @given(case=operation.as_strategy())
        def check(case):
            for role in ROLES:
                # Schema-valid input may still break a business rule (422, 412, 428): not a failure.
                case.call_and_validate(headers=auth_headers[role], excluded_checks=[positive_data_acceptance])

        try:
            check()
        except Exception as error:  # every operation's failure is reported together
            failures.append(f"{operation.label}: {str(error)[:1500]}")
    assert not failures, "\n\n".join(failures)
