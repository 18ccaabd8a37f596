"""The OpenAPI schema says what the server enforces, and the server refuses what the schema forbids
(issue 14 item 9): the same rules on both sides, checked value by value against the schema itself.
The bounded schemathesis run of .ci/run (.ci/schemathesis) checks the whole API the same way."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from tests import factories as f
from tests.api.conftest import openapi, token_for

pytestmark = pytest.mark.django_db
SERVICES = "/api/v1/directory/services/"


def parameter_schema(path: str, name: str) -> dict:
    parameters = openapi()["paths"][path]["get"]["parameters"]
    return next(p["schema"] for p in parameters if p["name"] == name)


def body_schema(component: str) -> dict:
    return openapi()["components"]["schemas"][component]


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        ("35.4676,-97.5164", True),
        ("90,180", True),
        ("-90.0,-180.0", True),
        ("0,0", True),
        ("north", False),
        ("35.4676", False),
        ("91,0", False),
        ("0,181", False),
        ("1e1,2", False),
        ("nan,0", False),
        (" 35,-97", False),
        ("35,-97,1", False),
    ],
)
def test_near_is_lat_lng_in_the_schema_and_on_the_server(api_client, navigator, value, valid):
    pattern = parameter_schema(SERVICES, "near")["pattern"]
    assert bool(re.search(pattern, value)) is valid
    response = api_client(navigator).get(SERVICES, {"near": value})
    assert response.status_code == (200 if valid else 400), response.content[:200]


@pytest.mark.parametrize(("value", "valid"), [("es", True), ("en", True), ("spa", False), ("ES", False), ("e", False)])
def test_language_is_iso_639_1_in_the_schema_and_on_the_server(api_client, navigator, value, valid):
    assert bool(re.search(parameter_schema(SERVICES, "language")["pattern"], value)) is valid
    assert api_client(navigator).get(SERVICES, {"language": value}).status_code == (200 if valid else 400)


@pytest.mark.parametrize(
    ("name", "value", "status"),
    [("age", "16", 200), ("age", "2.5", 400), ("age", "131", 400), ("within_km", "600", 400), ("within_km", "0", 400)],
)
def test_directory_numbers_are_refused_outside_their_schema(api_client, navigator, name, value, status):
    schema = parameter_schema(SERVICES, name)
    assert "maximum" in schema
    assert api_client(navigator).get(SERVICES, {name: value}).status_code == status


@pytest.mark.parametrize("value", ["true", "null", "2.5", "0", "-1", "", "\u0661"])
def test_page_size_must_be_a_whole_number(api_client, navigator, value):
    assert parameter_schema("/api/v1/referrals/", "page_size")["type"] == "integer"
    response = api_client(navigator).get("/api/v1/referrals/", {"page_size": value})
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "page_size"


def test_a_page_size_over_100_still_gives_100(api_client, navigator):
    assert api_client(navigator).get("/api/v1/referrals/", {"page_size": "1000"}).status_code == 200


@pytest.mark.parametrize(
    ("path", "query"),
    [
        ("/api/v1/referrals/", "individual=2.5"),
        ("/api/v1/referrals/", "individual=1e300"),
        ("/api/v1/referrals/", "individual=99999999999999999999"),
        ("/api/v1/referrals/", "updated_since="),
        ("/api/v1/cases/", "mine=yes"),
        ("/api/v1/cases/", "mine="),
        ("/api/v1/follow-ups/", "is_open=1"),
        ("/api/v1/consents/", "individual="),
        (SERVICES, "q="),
    ],
)
def test_filters_refuse_what_their_schema_forbids(api_client, navigator, path, query):
    """An id is an integer, a flag true or false, and an empty value is a mistake, not "no filter"."""
    assert api_client(navigator).get(f"{path}?{query}").status_code == 400


def test_id_filters_are_integers_in_the_schema():
    assert parameter_schema("/api/v1/referrals/", "individual") == {
        "type": "integer",
        "minimum": 1,
        "maximum": 2**63 - 1,
    }
    assert parameter_schema("/api/v1/cases/", "mine") == {"type": "boolean"}


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        ("2026-01-05T10:00:00Z", True),
        ("2026-01-05T10:00:00.123-06:00", True),
        ("1999-12-31T23:00:00Z", False),
        ("0350-01-05T10:00:00Z", False),
        ("9999-01-05T10:00:00Z", False),
        ("2026-01-05", False),
    ],
)
def test_year_windows_are_patterns_the_server_holds_to(api_client, navigator, program, value, valid):
    """A time outside the schema's pattern is refused; one inside it is taken unless in the future."""
    field = body_schema("ContactInputRequest")["properties"]["occurred_at"]
    assert bool(re.search(field["pattern"], value)) is valid
    assert "not in the future" in field["description"]
    case = f.CaseFactory(program=program, navigator=navigator, opened_at=timezone.now() - timedelta(days=900))
    body = {"case": case.pk, "occurred_at": value, "method": "phone", "outcome": "reached"}
    response = api_client(navigator).post("/api/v1/contacts/", body, format="json")
    assert response.status_code == (201 if valid else 400), response.content[:300]


def test_dates_of_birth_and_consents_have_their_windows_in_the_schema():
    person = body_schema("IntakePersonInputRequest")["properties"]["date_of_birth"]
    assert re.search(person["pattern"], "1950-02-03") and not re.search(person["pattern"], "1850-02-03")
    consent = body_schema("ConsentInputRequest")["properties"]
    assert "five years" in consent["expires_at"]["description"]
    assert "pattern" in consent["given_at"]


def test_one_recipient_per_consent_in_the_schema_and_on_the_server(api_client, navigator, program, partner_org):
    import jsonschema

    schema = {**body_schema("ConsentInputRequest"), "components": openapi()["components"]}
    validator = jsonschema.Draft202012Validator(schema)
    person = f.IndividualFactory(program=program)
    base = {"individual": person.pk, "method": "written", "given_at": "2026-01-05T10:00:00Z"}
    both = {**base, "recipient_organization": partner_org.pk, "recipient_category": "housing"}
    neither = dict(base)
    one = {**base, "recipient_category": "housing"}
    assert not validator.is_valid(both) and not validator.is_valid(neither) and validator.is_valid(one)

    client = api_client(navigator)
    assert client.post("/api/v1/consents/", both, format="json").status_code == 422
    assert client.post("/api/v1/consents/", neither, format="json").status_code == 422
    assert client.post("/api/v1/consents/", one, format="json").status_code == 201


def test_a_text_field_given_as_a_number_is_refused(api_client, navigator, program):
    case = f.CaseFactory(program=program, navigator=navigator)
    body = {"case": case.pk, "occurred_at": "2026-01-05T10:00:00Z", "method": "text", "outcome": "reached"}
    response = api_client(navigator).post("/api/v1/contacts/", {**body, "next_step": 0}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "next_step"


@pytest.mark.parametrize(("who", "status"), [("supervisor", 200), ("navigator", 403)])
def test_the_metrics_api_takes_staff_tokens_as_the_rest_of_the_api_does(api_client, request, who, status):
    """It answered every bearer token with an undocumented 403; now a supervisor's token reads it and
    anyone else gets the documented 403 problem document."""
    token = token_for(request.getfixturevalue(who))
    response = api_client(token).get("/api/v1/metrics/")
    assert response.status_code == status
    if status != 200:
        assert response["Content-Type"] == "application/problem+json"
    responses = openapi()["paths"]["/api/v1/metrics/"]["get"]["responses"]
    assert {"401", "403"} <= set(responses)


def test_options_is_a_405_not_a_500(api_client, partner_credential):
    response = api_client(partner_credential).options("/api/v1/partner/webhook/")
    assert response.status_code == 405
    assert "GET" in response["Allow"]


def test_coordinates_are_numbers_or_decimal_strings_in_the_schema_as_the_intake_accepts_both():
    from drf_spectacular.generators import SchemaGenerator

    from cases.serializers import IntakeInput

    properties = SchemaGenerator().get_schema(request=None, public=True)["components"]["schemas"]
    longitude = properties["IntakeInputRequest"]["properties"]["longitude"]
    assert {"number", "string"} <= set(longitude["type"])
    base = {"cad_incident_number": "CAD-1", "call_received_at": "2026-11-26T21:04:00-06:00"}
    for value in (0, "-97.5164", -97.5164):
        assert IntakeInput(data={**base, "longitude": value}).is_valid(), value
    assert not IntakeInput(data={**base, "longitude": 181}).is_valid()
