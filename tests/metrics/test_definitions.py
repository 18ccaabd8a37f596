"""Every measure carries its definition and version, and docs/metrics.md is written from them."""

from pathlib import Path

from django.conf import settings

from metrics.docs import definitions_markdown
from metrics.measures import MEASURES
from metrics.sources import ENCOUNTERS

DOCS = Path(settings.BASE_DIR) / "docs" / "metrics.md"
EXPECTED = {
    "call_volume",
    "response_time",
    "time_on_scene",
    "stabilised_in_place",
    "transports",
    "involuntary_holds",
    "law_enforcement",
    "arrests",
    "field_contact",
    "repeat_crisis",
    "follow_up_contact",
    "referrals",
    "open_caseload",
}


def test_the_issue_measures_are_all_there():
    assert set(MEASURES) == EXPECTED


def test_every_measure_has_a_definition_a_version_and_a_charted_figure():
    for measure in MEASURES.values():
        assert measure.version >= 1, measure.key
        assert len(measure.definition.split()) >= 25, f"{measure.key}: the definition is too thin"
        assert "Counted" in measure.definition or "Denominator" in measure.definition, measure.key
        assert measure.headline in {o.key for o in measure.outputs}, measure.key


def test_every_encounter_measure_says_what_happens_to_cancelled_calls():
    for measure in MEASURES.values():
        if measure.source is ENCOUNTERS:
            assert "ancelled" in measure.definition, measure.key


def test_every_figure_is_a_count_a_time_or_a_percentage():
    kinds = {o.kind for measure in MEASURES.values() for o in measure.outputs}
    assert kinds == {"count", "percent", "minutes", "hours"}


def test_docs_metrics_md_is_written_from_the_definitions():
    written = DOCS.read_text(encoding="utf-8")

    assert written == definitions_markdown(), (
        "docs/metrics.md is out of date: .venv/bin/python manage.py metrics_report --write-definitions docs/metrics.md"
    )
    for measure in MEASURES.values():
        assert measure.definition in written
        assert f"`{measure.key}`, version {measure.version}" in written
