"""docs/metrics.md, written from the measures themselves so the two cannot drift apart.

Regenerate after changing a measure:
    .venv/bin/python manage.py metrics_report --write-definitions docs/metrics.md
"""

from metrics.measures import MEASURES
from metrics.sources import DIMENSIONS, SOURCES, SPLITS
from metrics.sql import AGE_BANDS
from metrics.suppression import DEFAULT_MIN_CELL_SIZE

INTRO = f"""# Program metrics: definitions

What each figure of the program dashboard, the CSV exports, the API (`/api/v1/metrics/`) and the
monthly council report (`manage.py metrics_report --month YYYY-MM`) counts. This file is written
from the code (`metrics/measures.py`): each measure's definition is the docstring of the function
that computes it, and carries a version that changes whenever the definition does.

## Common rules

- **Period.** Whole local days in the program's time zone. A record belongs to the period by its
  own time: an encounter by when the call was received, a referral by when it was sent to the
  partner. Open caseload is counted at the end of the period (or now, for a period not yet over).
- **As of.** Outcomes (a referral accepted, a follow-up contact, a repeat crisis) are read as the
  data stands when the figures are computed; every page, file and API answer says when that was.
  Windows that have not closed yet (24 h, 72 h, 30 days) are left out until they have.
- **Team and area filters** are those of the call (the encounter); referrals and cases take them
  from the encounter their case was opened from, and are left out of a filtered view without one.
- **Breakdowns by person**: {", ".join(g.title.lower() for g in DIMENSIONS.values())}. Age is taken
  at the time of the record, in bands: {", ".join(label for _, label, _ in AGE_BANDS)}. A call with no
  identified person, or a person with the value not recorded, is counted as "Unknown". The dashboard
  opens with none of them (on a small program nearly every such group is suppressed); the CSV, the
  API and the council report carry them all.
- **Splits** are a measure's own categories ({", ".join(g.title.lower() for g in SPLITS.values())}).
- **Small cells.** In breakdowns by person, counts from 1 to {DEFAULT_MIN_CELL_SIZE - 1} are suppressed (the threshold
  is the setting METRICS_MIN_CELL_SIZE, default {DEFAULT_MIN_CELL_SIZE}); zero is shown. So is a numerator whose
  complement in a rate is that small while the rate's denominator is shown ("48 of 50" names the
  2), one more cell of any column with only one suppressed (else the total gives it away), and every
  rate or time computed from a suppressed count. Totals and a measure's own splits are not
  suppressed. Differences between figures of different measures, or between differently filtered
  views, are not protected: publish these tables, not extracts built from many filtered views.
- **Percentiles** (median, 90th percentile) interpolate between the two nearest values, as
  PostgreSQL's `percentile_cont` does.

## Sources

""" + "\n".join(f"- **{source.key}**: {source.title.lower()}." for source in SOURCES.values())


def definitions_markdown() -> str:
    parts = [INTRO, "\n## Measures\n"]
    for measure in MEASURES.values():
        figures = "\n".join(f"  - `{o.key}`: {o.label} ({o.kind})" for o in measure.outputs)
        splits = ", ".join(SPLITS[s].title.lower() for s in measure.splits) or "none"
        parts.append(
            f"### {measure.title}\n\n"
            f"`{measure.key}`, version {measure.version}. Source: {measure.source.key}. Splits: {splits}.\n\n"
            f"{measure.definition}\n\n"
            f"Figures:\n\n{figures}\n"
        )
    return "\n".join(parts)
