"""CSV export of every measure and breakdown: audited, suppressed like the dashboard, spreadsheet-safe."""

import csv
import io

import pytest

from audit.models import AccessLog, Action
from metrics.exports import HEADER
from metrics.measures import MEASURES
from metrics.sources import DIMENSIONS
from tests import factories as f
from tests.metrics.conftest import at, call


def export(client, user, measure="all", query="period=2025-03"):
    client.force_login(user)
    return client.get(f"/metrics/{measure}.csv?{query}")


def rows_of(response):
    return list(csv.DictReader(io.StringIO(response.content.decode())))


def test_all_csv_has_every_measure_with_its_totals_and_every_breakdown(client, supervisor, program, navigator):
    encounter = call(program, disposition="voluntary_crisis_centre", transport_destination="Crisis unit")
    case = f.CaseFactory(program=program, individual=encounter.individual, navigator=navigator, opened_at=at(10))
    f.ReferralFactory(program=program, individual=encounter.individual, case=case, requested_at=at(11))

    response = export(client, supervisor)

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="crt-metrics-all-2025-03-01_2025-03-31.csv"'
    rows = rows_of(response)
    assert list(rows[0]) == HEADER
    assert {row["measure"] for row in rows} == set(MEASURES)
    for measure in MEASURES.values():
        groupings = {row["grouping"] for row in rows if row["measure"] == measure.key}
        assert groupings == {"all", *DIMENSIONS, *measure.splits}, measure.key
    calls = next(r for r in rows if (r["measure"], r["grouping"], r["figure"]) == ("call_volume", "all", "calls"))
    assert (calls["value"], calls["version"], calls["period_start"], calls["unit"]) == ("1", "1", "2025-03-01", "count")


def test_one_measure_csv_holds_only_that_measure(client, supervisor, program):
    call(program, response=12)

    rows = rows_of(export(client, supervisor, "response_time"))

    assert {row["measure"] for row in rows} == {"response_time"}
    median = next(r for r in rows if r["grouping"] == "all" and r["figure"] == "response_median")
    assert (median["value"], median["unit"]) == ("12.0", "minutes")


def test_small_cells_are_empty_and_marked_suppressed(client, supervisor, program, settings):
    settings.METRICS_MIN_CELL_SIZE = 11
    for race in ["white"] * 12 + ["asian"] * 2 + ["black"] * 15:
        call(program, person=f.IndividualFactory(program=program, race_ethnicity=race))

    rows = rows_of(export(client, supervisor, "call_volume"))

    asian = next(r for r in rows if r["group_key"] == "asian" and r["figure"] == "calls")
    assert (asian["value"], asian["note"]) == ("", "suppressed")
    assert next(r for r in rows if r["grouping"] == "all" and r["figure"] == "calls")["value"] == "29"


def test_text_that_a_spreadsheet_would_run_as_a_formula_is_neutralised(client, supervisor, program):
    call(program, call_type="=HYPERLINK(1)")

    rows = rows_of(export(client, supervisor, "call_volume"))

    assert any(r["group"] == "'=HYPERLINK(1)" for r in rows)
    assert not any(value.startswith("=") for r in rows for value in r.values())


def test_every_export_is_recorded_in_the_audit_log_with_ids_only(client, supervisor, program):
    call(program)

    export(client, supervisor, "arrests")

    [row] = AccessLog.objects.filter(action=Action.EXPORT)
    assert (row.actor_id, row.program_id, row.object_type, row.object_id) == (
        supervisor.pk,
        program.pk,
        "metrics.measure",
        "arrests",
    )
    assert row.detail == "2025-03-01..2025-03-31"
    assert row.individual_id is None  # figures, not a person's record


def test_no_figures_leave_when_the_export_cannot_be_recorded(client, supervisor, program, monkeypatch):
    from django.db import DatabaseError

    def refuse(*args, **kwargs):
        raise DatabaseError("audit table unavailable")

    call(program)
    # The audit log's one writer (audit.access.record_access) fails: an export writing its row any
    # other way would still answer with the figures.
    monkeypatch.setattr("audit.access._insert", refuse)
    client.raise_request_exception = False
    response = export(client, supervisor, "arrests")
    assert response.status_code == 500
    assert "arrests" not in response.content.decode()


@pytest.mark.parametrize("who", ["navigator", "peer", "clinician", "paramedic"])
def test_only_supervisors_and_staff_admins_may_export(client, request, who):
    assert export(client, request.getfixturevalue(who)).status_code == 403
    assert not AccessLog.objects.filter(action=Action.EXPORT).exists()


def test_an_unknown_measure_is_not_found_and_a_bad_period_is_refused(client, staff_admin):
    assert export(client, staff_admin, "nothing").status_code == 404
    response = export(client, staff_admin, "arrests", "period=someday")
    assert response.status_code == 400
    assert "is not a period" in response.content.decode()
