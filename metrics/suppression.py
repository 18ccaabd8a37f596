"""Small-cell suppression of demographic breakdowns, to protect the people behind small numbers.

Rules, applied to each breakdown table (one measure by one demographic dimension):

1. A count from 1 to threshold - 1 is suppressed. Zero is published: it tells nothing about anyone.
2. A rate is a count of a count: where the complement (denominator - numerator) is from 1 to
   threshold - 1 and the denominator is published, the numerator is suppressed, since "48 of 50"
   names the 2 as surely as "2 of 50".
3. Complementary suppression: the table's total is published, so a column with exactly one
   suppressed cell could be recovered by subtraction; the next smallest non-zero cell of that
   column is suppressed too.
4. A figure computed from a suppressed count is suppressed: a rate with either count suppressed,
   a median or 90th percentile whose number of timed records is suppressed.

Suppressed figures are returned as None and listed in Row.suppressed. Whole-program totals and a
measure's own splits (call source, partner, navigator...) are not breakdowns by person and are not
suppressed. The threshold is METRICS_MIN_CELL_SIZE (default 11).
"""

from django.conf import settings

DEFAULT_MIN_CELL_SIZE = 11


def min_cell_size() -> int:
    return getattr(settings, "METRICS_MIN_CELL_SIZE", DEFAULT_MIN_CELL_SIZE)


def suppress(rows, outputs, threshold: int) -> None:
    """Suppress small cells of one breakdown table in place (rows are metrics.compute.Row)."""
    counts = [o.key for o in outputs if o.kind == "count"]
    rates = [o for o in outputs if o.kind == "percent"]

    def small(value) -> bool:
        return value is not None and 0 < value < threshold

    for row in rows:
        row.suppressed.update(key for key in counts if small(row.values[key]))
        for rate in rates:
            numerator, denominator = rate.depends_on
            if denominator not in row.suppressed and small(row.values[denominator] - row.values[numerator]):
                row.suppressed.add(numerator)

    for key in counts:
        hidden = [row for row in rows if key in row.suppressed]
        if len(hidden) != 1:
            continue
        shown = [row for row in rows if key not in row.suppressed and row.values[key] > 0]
        if shown:
            min(shown, key=lambda row: row.values[key]).suppressed.add(key)

    for row in rows:
        row.suppressed.update(o.key for o in outputs if any(dep in row.suppressed for dep in o.depends_on))
        for key in row.suppressed:
            row.values[key] = None
