"""The measures through the API for the city's data team: /api/v1/metrics/ and /api/v1/metrics/<measure>/."""

import pytest
from drf_spectacular.generators import SchemaGenerator

from metrics.measures import MEASURES
from metrics.sources import DIMENSIONS
from tests import factories as f
from tests.metrics.conftest import call


def api(client, user, path="", query="period=2025-03"):
    client.force_login(user)
    return client.get(f"/api/v1/metrics/{path}?{query}")


def test_the_list_gives_every_measure_with_its_definition_and_version(client, supervisor):
    body = api(client, supervisor).json()

    assert [m["key"] for m in body["measures"]] == list(MEASURES)
    response_time = next(m for m in body["measures"] if m["key"] == "response_time")
    assert response_time["version"] == 1
    assert response_time["definition"] == MEASURES["response_time"].definition
    assert {"key": "response_median", "label": "Response time: median", "unit": "minutes"} in response_time["figures"]
    assert response_time["url"] == "http://testserver/api/v1/metrics/response_time/"


def test_a_measure_gives_totals_breakdowns_and_splits(client, supervisor, program, settings):
    settings.METRICS_MIN_CELL_SIZE = 1
    call(program, call_source="988", person=f.IndividualFactory(program=program, race_ethnicity="asian"))
    call(program, call_source="911", response=None)

    body = api(client, supervisor, "call_volume/").json()

    assert (body["key"], body["version"], body["min_cell_size"]) == ("call_volume", 1, 1)
    assert body["period"] == {"first_day": "2025-03-01", "last_day": "2025-03-31", "label": "March 2025"}
    assert body["filters"] == {"team": "", "area": ""}
    assert set(body["breakdowns"]) == {"all", *DIMENSIONS, "call_source", "call_type", "month"}
    assert body["breakdowns"]["all"]["rows"] == [
        {"key": None, "label": "All", "values": {"calls": 2, "cancelled": 0}, "suppressed": []}
    ]
    by_source = {r["label"]: r["values"]["calls"] for r in body["breakdowns"]["call_source"]["rows"]}
    assert by_source == {"911 call": 1, "988 transfer": 1}
    assert body["breakdowns"]["race_ethnicity"]["suppressible"] is True


def test_groupings_can_be_chosen_and_suppressed_figures_are_null(client, supervisor, program):
    call(program)

    body = api(client, supervisor, "stabilised_in_place/", "period=2025-03&grouping=age_band").json()

    assert set(body["breakdowns"]) == {"all", "age_band"}
    [row] = body["breakdowns"]["age_band"]["rows"]
    assert row["values"] == {"contacted": None, "stabilised": None, "stabilised_rate": None}
    assert row["suppressed"] == ["contacted", "stabilised", "stabilised_rate"]
    assert body["breakdowns"]["all"]["rows"][0]["values"]["contacted"] == 1  # totals are not suppressed


def test_bad_parameters_are_a_400_in_the_apis_error_shape(client, supervisor):
    response = api(client, supervisor, "arrests/", "period=2025-13")
    assert response.status_code == 400
    assert response.json()["errors"] == [
        {"field": "", "message": "'2025-13' is not a month.", "code": "invalid"},
    ]
    response = api(client, supervisor, "arrests/", "grouping=partner")
    assert response.status_code == 400
    assert response.json()["errors"] == [
        {"field": "grouping", "message": "Unknown grouping 'partner' for this measure.", "code": "invalid"},
    ]
    assert api(client, supervisor, "nothing/").status_code == 404


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("supervisor", 200),
        ("staff_admin", 200),
        ("navigator", 403),
        ("peer", 403),
        ("clinician", 403),
        ("paramedic", 403),
        ("navigator_elsewhere", 403),
    ],
)
def test_only_supervisors_and_staff_admins_may_read_the_api(client, request, who, status):
    user = request.getfixturevalue(who)
    assert api(client, user).status_code == status
    assert api(client, user, "arrests/").status_code == status


def test_a_signed_out_caller_is_refused(client, db):
    """A 401 with the problem shape, as everywhere else in the API (it was an undocumented 403)."""
    for path in ("/api/v1/metrics/", "/api/v1/metrics/arrests/"):
        response = client.get(path)
        assert response.status_code == 401
        assert response["Content-Type"] == "application/problem+json"


def test_a_partner_user_is_refused(client, partner_user):
    assert api(client, partner_user, "arrests/").status_code in (302, 403)  # partner area, or the permission


def test_the_endpoints_are_described_in_the_openapi_schema(db):
    from metrics import urls

    schema = SchemaGenerator(patterns=[*urls.urlpatterns]).get_schema(request=None, public=True)

    assert {"/api/v1/metrics/", "/api/v1/metrics/{measure}/"} <= set(schema["paths"])
    parameters = {p["name"] for p in schema["paths"]["/api/v1/metrics/{measure}/"]["get"]["parameters"]}
    assert {"measure", "period", "start", "end", "team", "area", "grouping"} <= parameters
