"""CSV export of measures, and the audit record of every export.

The CSV is long ("tidy"): one figure per line, so every measure and breakdown fits one layout
that a spreadsheet or the city's data team can filter. A suppressed figure has an empty value
and the note "suppressed".
"""

import csv
import logging

from metrics.compute import Results
from metrics.periods import Period

logger = logging.getLogger("metrics.exports")

HEADER = [
    "measure",
    "version",
    "period_start",
    "period_end",
    "as_of",
    "team",
    "area",
    "grouping",
    "group_key",
    "group",
    "figure",
    "figure_label",
    "unit",
    "value",
    "note",
]
UNITS = {"count": "count", "percent": "percent", "minutes": "minutes", "hours": "hours"}


def record_export(user, measure: str, period: Period, *, program_id: int | None = None) -> None:
    """Record that `user` exported `measure` for `period` (user None: the report command, which
    names the program instead).

    For now a log line with ids only (never names or figures); the audit app will take this over,
    and every export already goes through here.
    """
    logger.info(
        "metrics export user_id=%s program_id=%s measure=%s period=%s..%s",
        getattr(user, "pk", None),
        getattr(user, "program_id", program_id),
        measure,
        period.first_day.isoformat(),
        period.last_day.isoformat(),
    )


def _safe(text) -> str:
    """Neutralise spreadsheet formulas in free text (call types, destinations, partner names)."""
    text = "" if text is None else str(text)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def write_csv(results: Results, out) -> int:
    """Write every table of `results` to the file `out`; return the number of figures written."""
    selection = results.selection
    writer = csv.writer(out)
    writer.writerow(HEADER)
    written = 0
    for table in results.tables.values():
        measure = table.measure
        for row in table.rows:
            for output in measure.outputs:
                value = row.values[output.key]
                writer.writerow(
                    [
                        measure.key,
                        measure.version,
                        selection.period.first_day.isoformat(),
                        selection.period.last_day.isoformat(),
                        selection.as_of.isoformat(timespec="seconds"),
                        _safe(selection.team),
                        _safe(selection.area),
                        table.grouping.key,
                        _safe("" if row.key is None else row.key),
                        _safe(row.label),
                        output.key,
                        output.label,
                        UNITS[output.kind],
                        "" if value is None else value,
                        "suppressed" if output.key in row.suppressed else "",
                    ]
                )
                written += 1
    return written
