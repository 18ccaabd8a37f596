"""Addresses that match no route answer in the shape of the surface they belong to."""

import pytest


@pytest.mark.parametrize("path", ["/api/v1/no-such-thing/", "/hsds/no-such-thing"])
def test_an_unknown_api_address_is_a_problem_details_404(client, db, path):
    response = client.get(path)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert (body["status"], body["code"]) == (404, "not_found")
    assert {"type", "title", "detail"} <= set(body)


def test_an_unknown_fhir_address_is_an_operation_outcome(client, db):
    response = client.get("/fhir/r4/NoSuchResource/1")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/fhir+json"
    assert response.json()["resourceType"] == "OperationOutcome"


def test_an_unknown_page_is_an_html_404(client, db):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


def test_a_server_error_on_the_api_keeps_the_problem_shape(rf):
    from crt.errors import server_error

    response = server_error(rf.get("/api/v1/partner/referrals/"))
    assert response.status_code == 500
    assert response["Content-Type"] == "application/problem+json"
