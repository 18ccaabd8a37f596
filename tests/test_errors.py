"""Addresses that match no route answer in the shape of the surface they belong to."""

import json

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


def test_an_unknown_page_is_the_apps_404_inside_the_navigation(client, navigator):
    client.force_login(navigator)
    response = client.get("/no-such-page/")

    assert response.status_code == 404
    html = response.content.decode()
    assert "Nothing here" in html and 'href="/static/crt/app.css"' in html
    assert 'href="/cases/people/"' in html  # the staff navigation: the way back


def test_a_refused_page_is_the_apps_403_and_the_api_keeps_its_shape(client, rf, staff_admin):
    client.force_login(staff_admin)
    response = client.get("/cases/encounters/new/")  # staff admins do not record encounters
    from crt.errors import permission_denied  # after the first request: crt.api imports DRF's settings

    assert response.status_code == 403
    assert "You cannot open this page" in response.content.decode()
    assert 'href="/cases/people/"' in response.content.decode()
    api = permission_denied(rf.get("/api/v1/cases/"))
    assert api["Content-Type"] == "application/problem+json"
    body = json.loads(api.content)
    assert (body["status"], body["code"]) == (403, "forbidden")


def test_a_server_error_page_is_styled_and_stands_alone(rf):
    from crt.errors import server_error

    response = server_error(rf.get("/cases/"))

    assert response.status_code == 500
    assert "Something went wrong on our side" in response.content.decode()
    assert 'href="/static/crt/app.css"' in response.content.decode()


def test_the_favicon_is_the_apps_own(client, db):
    from django.contrib.staticfiles import finders

    response = client.get("/favicon.ico")

    assert response.status_code == 301 and response["Location"] == "/static/crt/favicon.ico"
    with open(finders.find("crt/favicon.ico"), "rb") as icon:
        assert icon.read(4) == b"\x00\x00\x01\x00"  # an ICO file's header
