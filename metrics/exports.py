"""CSV export of measures, and the audit record of every export.

The CSV is long ("tidy"): one figure per line, so every measure and breakdown fits one layout
that a spreadsheet or the city's data team can filter. A suppressed figure has an empty value
and the note "suppressed".
"""

import csv
import logging

from audit.access import Action, Seen, record_access
from crt.spreadsheets import safe_cell
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


def record_export(who, measure: str, period: Period, *, program_id: int | None = None) -> None:
    """Record in the audit log that `who` (a request or a user; None: the report command, which
    names the program instead) exported `measure` for `period`. Raises AuditWriteError if the row
    cannot be written, so no figures leave unrecorded. The row holds ids and the period only, never figures."""
    program_id = getattr(getattr(who, "user", who), "program_id", None) or program_id
    record_access(
        who,
        action=Action.EXPORT,
        objects=[Seen("metrics.measure", measure[:64], individual_id=None, program_id=program_id)],
        detail=f"{period.first_day.isoformat()}..{period.last_day.isoformat()}",
        route="" if who is not None else "metrics_report",
    )
    logger.info("metrics export measure=%s program_id=%s", measure, program_id)


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
                        safe_cell(selection.team),
                        safe_cell(selection.area),
                        table.grouping.key,
                        safe_cell(row.key),
                        safe_cell(row.label),
                        output.key,
                        output.label,
                        UNITS[output.kind],
                        "" if value is None else value,
                        "suppressed" if output.key in row.suppressed else "",
                    ]
                )
                written += 1
    return written
