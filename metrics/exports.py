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


def record_export(who, measure: str, period: Period, *, program_id: int | None = None) -> None:
    """Record in the audit log that `who` (a request or a user; None: the report command, which
    names the program instead) exported `measure` for `period`. Raises if the row cannot be written,
    so no figures leave unrecorded. The row holds ids and the period only, never figures."""
    from django.db import DatabaseError
    from django.utils import timezone

    from audit.access import AuditWriteError, context_of
    from audit.models import AccessLog, Action

    user = getattr(who, "user", who)
    context = context_of(who, "" if who is not None else "metrics_report")
    try:
        AccessLog.objects.create(
            at=timezone.now(),
            actor_id=context.actor_id,
            action=Action.EXPORT,
            object_type="metrics.measure",
            object_id=measure[:64],
            program_id=getattr(user, "program_id", None) or program_id,
            route=context.route[:200],
            ip=context.ip,
            request_id=context.request_id,
            detail=f"{period.first_day.isoformat()}..{period.last_day.isoformat()}",
        )
    except DatabaseError as error:
        raise AuditWriteError("The export could not be recorded, so nothing is returned.") from error
    logger.info("metrics export measure=%s program_id=%s", measure, getattr(user, "program_id", None) or program_id)


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
