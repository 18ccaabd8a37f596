"""The one guard against CSV injection, used by every CSV the project writes (metrics exports and the
accounting of disclosures; their own tests show it on the way out)."""

import pytest

from crt.spreadsheets import FORMULA_STARTS, safe_cell


@pytest.mark.parametrize("start", FORMULA_STARTS)
def test_a_cell_a_spreadsheet_would_run_is_quoted(start):
    assert safe_cell(f"{start}HYPERLINK(1)") == f"'{start}HYPERLINK(1)"


@pytest.mark.parametrize(("value", "cell"), [("Harbor House", "Harbor House"), (None, ""), (42, "42"), ("", "")])
def test_other_cells_are_left_as_they_are(value, cell):
    assert safe_cell(value) == cell


def test_every_formula_start_is_guarded():
    assert set(FORMULA_STARTS) == {"=", "+", "-", "@", "\t", "\r"}
