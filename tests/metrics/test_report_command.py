"""manage.py metrics_report --month YYYY-MM: the month's CSV and printable HTML, with a progress bar."""

import csv
import io
import logging

import pytest
from django.core.management import CommandError, call_command
from django.utils.html import escape

from audit.models import AccessLog, Action
from metrics.measures import MEASURES
from tests import factories as f
from tests.metrics.conftest import call


def run(*args):
    out, err = io.StringIO(), io.StringIO()
    call_command("metrics_report", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_the_month_report_is_written_as_csv_and_printable_html(program, tmp_path, settings, caplog):
    settings.METRICS_MIN_CELL_SIZE = 11
    for race in ["white"] * 12 + ["asian"] * 2 + ["black"] * 13:
        call(program, person=f.IndividualFactory(program=program, race_ethnicity=race, legal_last_name="Zedwick"))

    with caplog.at_level(logging.INFO, logger="metrics.exports"):
        out, err = run("--month", "2025-03", "--output-dir", str(tmp_path))

    csv_path, html_path = tmp_path / "metrics-okc-2025-03.csv", tmp_path / "metrics-okc-2025-03.html"
    rows = list(csv.DictReader(csv_path.open(encoding="utf-8")))
    assert {row["measure"] for row in rows} == set(MEASURES)
    assert (
        next(r for r in rows if (r["measure"], r["grouping"], r["figure"]) == ("call_volume", "all", "calls"))["value"]
        == "27"
    )
    assert any(r["note"] == "suppressed" for r in rows)
    html = html_path.read_text(encoding="utf-8")
    assert "Oklahoma City CRT: program metrics, March 2025" in html
    for measure in MEASURES.values():
        assert f'id="{measure.key}"' in html
        assert escape(measure.definition.split("\n")[0]) in html
    assert html.count('<svg class="chart"') == html.count("<table aria-describedby=") > 50
    assert "Zedwick" not in html and "Zedwick" not in csv_path.read_text(encoding="utf-8")
    assert f"Wrote {len(rows):,} figures to {csv_path}" in out
    assert "metrics 2025-03" in err and "5/5" in err  # the progress bar, on stderr
    [row] = AccessLog.objects.filter(action=Action.EXPORT)  # the report is an audited export
    assert (row.actor_id, row.program_id, row.object_id, row.route) == (None, program.pk, "report", "metrics_report")
    assert row.detail == "2025-03-01..2025-03-31"


def test_a_bad_month_or_an_unknown_program_stops_with_a_message(program, other_program, tmp_path):
    with pytest.raises(CommandError, match="is not a month"):
        run("--month", "2025-3x", "--output-dir", str(tmp_path))
    with pytest.raises(CommandError, match="Name the program"):
        run("--month", "2025-03", "--output-dir", str(tmp_path))
    with pytest.raises(CommandError, match="No program with the slug 'nowhere'"):
        run("--month", "2025-03", "--program", "nowhere", "--output-dir", str(tmp_path))
    run("--month", "2025-03", "--program", "tulsa", "--output-dir", str(tmp_path), "--no-progress")
    assert (tmp_path / "metrics-tulsa-2025-03.html").exists()


@pytest.mark.parametrize(
    ("month", "message"),
    [
        ("9999-12", "is not a month we can report: check the year"),
        ("1999-12", "Choose a period between 2000 and"),
        ("0202-05", "Choose a period between 2000 and"),
        ("2099-01", "Choose a period between 2000 and"),
    ],
)
def test_a_mistyped_year_stops_with_a_message_and_writes_nothing(program, tmp_path, month, message):
    with pytest.raises(CommandError, match=message):
        run("--month", month, "--output-dir", str(tmp_path))
    assert list(tmp_path.iterdir()) == []
    assert not AccessLog.objects.filter(action=Action.EXPORT).exists()


def test_the_definitions_can_be_written_for_the_docs(db, tmp_path):
    target = tmp_path / "metrics.md"

    run("--write-definitions", str(target))

    assert target.read_text(encoding="utf-8").startswith("# Program metrics: definitions")
