"""The monthly report for the council: every measure, every breakdown, as CSV and printable HTML."""

from dataclasses import dataclass
from pathlib import Path

from django.template.loader import render_to_string

from accounts.models import Program
from metrics.compute import compute
from metrics.exports import record_export, write_csv
from metrics.measures import MEASURES
from metrics.periods import Period, Selection
from metrics.present import sections
from metrics.sources import DIMENSIONS, SPLITS

ORDER = [*DIMENSIONS, *SPLITS]


@dataclass(frozen=True)
class Written:
    csv: Path
    html: Path
    figures: int


def write_report(program: Program, period: Period, directory: Path, *, progress=None) -> Written:
    """Compute every measure for `period` and write `<slug>-<period>.csv` and `.html` to `directory`.

    progress: called with a short description after each step (the command draws its bar with it).
    """
    selection = Selection(program_id=program.pk, period=period)
    results = compute(selection, progress=(lambda key: progress(f"computed {key}")) if progress else None)
    directory.mkdir(parents=True, exist_ok=True)
    stem = f"metrics-{program.slug}-{period.first_day:%Y-%m}"
    csv_path, html_path = directory / f"{stem}.csv", directory / f"{stem}.html"
    with csv_path.open("w", newline="", encoding="utf-8") as out:
        figures = write_csv(results, out)
    if progress:
        progress("wrote CSV")
    html = render_to_string(
        "metrics/report.html",
        {
            "program": program,
            "selection": selection,
            "results": results,
            "sections": sections(results, ORDER),
            "measures": MEASURES.values(),
        },
    )
    html_path.write_text(html, encoding="utf-8")
    if progress:
        progress("wrote HTML")
    record_export(None, "report", period, program_id=program.pk)
    return Written(csv=csv_path, html=html_path, figures=figures)


STEPS = 5  # three sources, the CSV and the HTML: the length of the command's progress bar
