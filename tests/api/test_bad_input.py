"""Input the database or the parser cannot take is a 400 in the surface's error shape, never a 500
(crt.inputs): UTC offsets beyond +/-15:59, JSON nested thousands deep, NUL characters in query
strings, a page number past any OFFSET. The old answers were 500s (on PostgreSQL for the offsets and
NULs; everywhere for the nesting and the page number)."""

import logging
import re

import pytest
from django.db import connection

from tests import factories as f
from tests.api.conftest import openapi

pytestmark = pytest.mark.django_db
FAR_OFFSET = "2026-06-28T13:38:50-22:09"
NESTED = "[" * 5000


def assert_problem_400(response) -> None:
    assert response.status_code == 400, response.content[:300]
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["status"] == 400


@pytest.mark.parametrize(
    ("who", "path"),
    [
        ("partner", f"/api/v1/partner/referrals/?updated_since={FAR_OFFSET}"),
        ("navigator", f"/api/v1/referrals/?updated_since={FAR_OFFSET}"),
        ("navigator", f"/api/v1/individuals/?updated_since={FAR_OFFSET}"),
        ("navigator", f"/api/v1/follow-ups/?due_before={FAR_OFFSET}"),
        ("anonymous", f"/hsds/services?modified_after={FAR_OFFSET}"),
    ],
)
def test_a_date_time_filter_with_an_offset_beyond_1559_is_a_400(api_client, navigator, partner_credential, who, path):
    as_ = {"partner": partner_credential, "navigator": navigator, "anonymous": None}[who]
    response = api_client(as_).get(path.replace("+", "%2B"))
    assert_problem_400(response)
    assert "15:59" in str(response.json())


@pytest.mark.parametrize("offset", ["+15:59", "-15:59", "Z", "+05:30"])
def test_offsets_postgresql_takes_are_accepted(api_client, navigator, offset):
    response = api_client(navigator).get("/api/v1/referrals/", {"updated_since": f"2026-06-28T13:38:50{offset}"})
    assert response.status_code == 200


def test_fhir_last_updated_beyond_1559_is_an_operation_outcome_400(api_client, partner_credential):
    response = api_client(partner_credential).get("/fhir/r4/Task", {"_lastUpdated": f"ge{FAR_OFFSET}"})
    assert response.status_code == 400
    assert response.json()["resourceType"] == "OperationOutcome"


def _post_operations() -> list[str]:
    paths = []
    for template, item in openapi()["paths"].items():
        if "post" in item:
            paths.append(re.sub(r"\{[^}]+\}", "1", template))
    return paths


@pytest.mark.parametrize("path", _post_operations())
def test_json_nested_thousands_deep_is_refused_on_every_api_post(
    api_client, navigator, partner_credential, staff_admin, path
):
    as_ = partner_credential if path.startswith("/api/v1/partner/") else navigator
    response = api_client(as_).generic("POST", path, NESTED, content_type="application/json")
    # Some operations answer 403/404 before reading the body; none may fail on it.
    assert response.status_code < 500, response.content[:300]
    assert response["Content-Type"] == "application/problem+json"


def test_nested_json_on_a_referral_post_is_a_400(api_client, navigator):
    response = api_client(navigator).generic("POST", "/api/v1/referrals/", NESTED, content_type="application/json")
    assert_problem_400(response)
    assert "nested" in response.json()["detail"]


def test_json_nested_beyond_the_limit_but_parseable_is_a_400(api_client, navigator):
    body = "[" * 200 + "]" * 200
    response = api_client(navigator).generic("POST", "/api/v1/referrals/", body, content_type="application/json")
    assert_problem_400(response)


def test_nested_json_on_fhir_put_task_is_a_400(api_client, partner_credential, program, partner_org):
    referral = f.ReferralFactory(program=program, service=f.ServiceFactory(organization=partner_org))
    response = api_client(partner_credential).generic(
        "PUT", f"/fhir/r4/Task/{referral.pk}", NESTED, content_type="application/fhir+json", HTTP_IF_MATCH="*"
    )
    assert response.status_code == 400, response.content[:300]
    assert response.json()["resourceType"] == "OperationOutcome"


@pytest.mark.parametrize("listing", ["services", "organizations", "service_at_locations"])
def test_a_nul_in_an_hsds_search_is_a_400(client, listing):
    response = client.get(f"/hsds/{listing}?search=a%00b")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"


@pytest.mark.parametrize(
    "path", ["/admin/cases/individual/?risk_level__exact=%00", "/admin/referrals/referral/?status__exact=%00"]
)
def test_a_nul_in_an_admin_change_list_filter_is_a_400(client, staff_admin, path):
    client.force_login(staff_admin)
    assert client.get(path).status_code == 400


def test_a_nul_in_a_staff_page_query_is_a_400_and_other_queries_pass(client, navigator):
    client.force_login(navigator)
    assert client.get("/?x=%00").status_code == 400
    assert client.get("/api/v1/referrals/?updated_since=%00").status_code == 400
    assert client.get("/api/v1/referrals/?updated_since=2026-01-01").status_code == 200


@pytest.mark.parametrize("page", ["9223372036854775807", "99999999999999999999999"])
def test_a_page_past_the_end_of_hsds_is_an_empty_page(client, page):
    f.ServiceFactory()
    response = client.get(f"/hsds/services?page={page}")
    assert response.status_code == 200
    body = response.json()
    assert body["contents"] == [] and body["total_items"] == 1


@pytest.mark.django_db(transaction=True)
def test_the_api_error_handler_answers_500_outside_a_transaction_too(rf, caplog):
    """An unexpected error in autocommit mode (no atomic block) is a problem document, not a
    TransactionManagementError from set_rollback."""
    from crt.api import exception_handler

    assert not connection.in_atomic_block
    with caplog.at_level(logging.CRITICAL):
        response = exception_handler(RuntimeError("boom"), {"view": object(), "request": rf.get("/api/v1/")})
    assert response.status_code == 500
    assert response.data["code"] == "server_error"
