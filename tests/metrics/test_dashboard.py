"""The supervisor dashboard: who may see it, what it shows, and what it costs."""

import re

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.shortcuts import resolve_url
from django.test.utils import CaptureQueriesContext

from accounts.roles import Role
from cases.models import Encounter
from metrics import periods
from metrics.access import selection_for
from metrics.compute import compute
from metrics.sources import SPLITS
from tests import factories as f
from tests.metrics.conftest import at, call

URL = "/metrics/?period=2025-03"


def get(client, user, url=URL):
    client.force_login(user)
    return client.get(url)


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
def test_only_supervisors_and_staff_admins_see_the_dashboard(client, request, who, status):
    assert get(client, request.getfixturevalue(who)).status_code == status


def test_a_partner_user_never_sees_the_dashboard(client, partner_user):
    response = get(client, partner_user)

    # Refused by the view (403), or kept in the partner area before it (a redirect to partner home).
    assert response.status_code in (302, 403)
    assert "Program metrics" not in response.content.decode()


def test_a_signed_out_visitor_is_sent_to_sign_in(client, db):
    response = client.get(URL)

    assert response.status_code == 302
    assert response["Location"] == f"{resolve_url(settings.LOGIN_URL)}?next=/metrics/%3Fperiod%3D2025-03"


def test_a_supervisor_without_a_program_sees_nothing(client, db):
    lost = f.UserFactory(program=None, roles=[Role.SUPERVISOR])

    assert get(client, lost).status_code == 403


def test_a_supervisor_sees_their_own_programs_figures_only(client, supervisor, program, other_program):
    for _ in range(3):
        call(program, call_source="988")
    for _ in range(5):
        call(other_program, call_source="988")

    response = get(client, supervisor)

    totals = dict(response.context["sections"][0].totals)
    assert totals["Calls"] == "3"
    assert response.context["selection"].program_id == program.pk


def test_every_chart_has_an_accessible_table_beside_it(client, supervisor, program):
    call(program, call_type="Welfare check", transport_destination="Crisis unit", disposition="voluntary_crisis_centre")

    html = get(client, supervisor, URL + "&breakdown=race_ethnicity").content.decode()

    charts = re.findall(r'<svg class="chart"[^>]*role="img" aria-labelledby="([^"]+)"', html)
    tables = re.findall(r'<table aria-describedby="(chart-[^"]+)-caption"', html)
    assert len(charts) == len(tables) > 13  # every measure by race, plus the splits
    assert [labels.split()[0].removesuffix("-title") for labels in charts] == tables
    assert 'id="chart-call_volume-month-title"' in html and "<polyline" not in html  # one month: a point
    assert "Program metrics" in html and 'href="/static/metrics/metrics.css"' in html


def test_the_breakdown_picker_changes_the_breakdown(client, supervisor, program):
    call(program)

    response = get(client, supervisor, URL + "&breakdown=language")

    titles = [figure.title for figure in response.context["sections"][0].figures]
    assert "Calls by primary language" in titles
    assert not any("race" in title for title in titles)


def test_labels_from_free_text_are_escaped(client, supervisor, program):
    call(program, call_type='<script>alert("x")</script>')

    html = get(client, supervisor).content.decode()

    assert "<script>alert" not in html
    assert "&lt;script&gt;alert" in html


def test_team_and_area_pickers_list_the_programs_teams_and_filter(client, supervisor, program, other_program):
    call(program, team="CRT 1", area="Downtown")
    call(program, team="CRT 2", area="Midtown")
    call(other_program, team="Tulsa 9", area="Brookside")

    response = get(client, supervisor, URL + "&team=CRT+2")

    assert response.context["teams"] == ["CRT 1", "CRT 2"]
    assert response.context["areas"] == ["Downtown", "Midtown"]
    assert dict(response.context["sections"][0].totals)["Calls"] == "1"
    assert '<option value="CRT 2" selected>' in response.content.decode()


def test_a_bad_period_is_refused_with_the_reason(client, supervisor):
    response = get(client, supervisor, "/metrics/?period=2025-13")

    assert response.status_code == 400
    assert "is not a month" in response.content.decode()


def test_a_custom_period_needs_both_dates(client, supervisor):
    assert get(client, supervisor, "/metrics/?start=2025-03-01").status_code == 400
    response = get(client, supervisor, "/metrics/?start=2025-03-01&end=2025-03-15")
    assert response.status_code == 200
    assert response.context["selection"].period.last_day.isoformat() == "2025-03-15"


def test_suppressed_cells_are_marked_in_the_tables(client, supervisor, program, settings):
    settings.METRICS_MIN_CELL_SIZE = 11
    for race in ["white"] * 12 + ["asian"] * 2 + ["black"] * 15:
        call(program, person=f.IndividualFactory(program=program, race_ethnicity=race))

    html = get(client, supervisor, URL + "&breakdown=race_ethnicity").content.decode()

    assert '<td class="num suppressed" data-label="Calls">suppressed</td>' in html
    assert "groups under 11 suppressed" in html
    # ...and the page says why, in a sentence, above each table that has suppressed groups.
    assert "2 of 3 groups are hidden: a group of fewer than 11 people" in html


def test_the_page_opens_on_the_measures_own_categories_not_on_a_breakdown_by_person(client, supervisor, program):
    for race in ["white", "asian", "black"]:
        call(program, call_source="988", person=f.IndividualFactory(program=program, race_ethnicity=race))

    response = get(client, supervisor)

    titles = [figure.title for figure in response.context["sections"][0].figures]
    assert titles == ["Calls by call source", "Calls by call type", "Calls by month"]
    assert "suppressed" not in response.content.decode()  # a small program still sees its figures
    assert '<option value="none" selected>' in response.content.decode()


def populate(program, navigators, partners, calls):
    """`calls` encounters, each with a case on one of the navigators and a referral to a partner."""
    services = [f.ServiceFactory(organization=partner) for partner in partners]
    for k in range(calls):
        encounter = call(program, at(1 + k % 28), team=f"CRT {k % 3}", call_type=f"type {k % 4}")
        case = f.CaseFactory(
            program=program, individual=encounter.individual, encounter=encounter, navigator=navigators[k % 2],
            opened_at=encounter.cleared_at,
        )  # fmt: skip
        f.ReferralFactory(
            program=program, individual=encounter.individual, case=case, service=services[k % len(services)],
            requested_at=encounter.cleared_at,
        )  # fmt: skip
    Encounter.objects.filter(program=program, disposition="").update(disposition="stabilised")


def test_the_dashboards_query_count_does_not_grow_with_the_data(
    client, supervisor, program, navigator, partner_org, django_assert_num_queries
):
    other = f.UserFactory(program=program, roles=[Role.NAVIGATOR])
    client.force_login(supervisor)
    populate(program, [navigator, other], [partner_org], calls=2)
    client.get(URL)  # the first page after sign-in also writes the session's clocks
    cache.clear()
    with CaptureQueriesContext(connection) as small:
        assert client.get(URL).status_code == 200
    few = len(small)  # now: every request empties Django's query log
    populate(program, [navigator, other], [partner_org, *f.OrganizationFactory.create_batch(4)], calls=40)
    client.get(URL)  # the session's clock may be due again if filling took over a minute
    cache.clear()  # read the team and area pickers again, as the first time

    with django_assert_num_queries(few):
        assert client.get(URL).status_code == 200


def test_the_figures_take_a_fixed_number_of_statements(
    supervisor, program, navigator, partner_org, django_assert_num_queries
):
    populate(program, [navigator, f.UserFactory(program=program, roles=[Role.NAVIGATOR])], [partner_org], calls=12)
    selection = selection_for(supervisor, periods.month(2025, 3))

    # The counts of encounters, referrals and open cases: one statement each; the times of
    # encounters and of referrals: one each; partner names; navigator names.
    with django_assert_num_queries(7):
        results = compute(selection, groupings=["race_ethnicity", *SPLITS])
    assert results.total("call_volume").values["calls"] == 12
