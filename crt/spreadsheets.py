"""What a CSV cell may hold once a spreadsheet opens it: the one guard against CSV (formula) injection.

Every CSV this project writes (metrics exports, the accounting of disclosures) passes each free-text
cell through `safe_cell`.
"""

# A spreadsheet runs a cell starting with one of these as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value) -> str:
    """`value` as text (None: empty), with a leading quote when a spreadsheet would run it as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text
