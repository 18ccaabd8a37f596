"""Turn computed measures into what pages and the printed report show: formatted figures, a chart
per table, and the table itself (the chart's accessible twin)."""

from dataclasses import dataclass, field

from django.utils.safestring import SafeString

from metrics import svg
from metrics.compute import Results, Row, Table

SUPPRESSED = "suppressed"
NO_DATA = "no data"


def figure_text(value, kind: str, *, suppressed: bool = False) -> str:
    if suppressed:
        return SUPPRESSED
    if value is None:
        return NO_DATA
    if kind == "count":
        return f"{value:,}"
    if kind == "percent":
        return f"{value:.1f} %"
    if kind == "minutes":
        return f"{value:.1f} min"
    return f"{value:.1f} h"


@dataclass
class Cell:
    text: str
    is_suppressed: bool = False
    label: str = ""  # the column's name, shown before the figure when a phone shows the row as a card


@dataclass
class Figure:
    """One chart and the table beside it."""

    chart_id: str
    title: str
    chart: SafeString
    headers: list[str]
    rows: list[tuple[str, list[Cell]]]
    is_suppressible: bool
    suppressed_rows: int = 0  # rows with at least one suppressed figure


@dataclass
class Section:
    key: str
    title: str
    version: int
    summary: str
    definition: str
    totals: list[tuple[str, str]]
    figures: list[Figure] = field(default_factory=list)


def _cells(table: Table, row: Row) -> list[Cell]:
    return [
        Cell(
            figure_text(row.values[o.key], o.kind, suppressed=o.key in row.suppressed),
            o.key in row.suppressed,
            o.label,
        )
        for o in table.measure.outputs
    ]


def figure(table: Table) -> Figure:
    measure, grouping = table.measure, table.grouping
    headline = next(o for o in measure.outputs if o.key == measure.headline)
    chart_id = f"chart-{measure.key}-{grouping.key}"
    title = f"{headline.label} by {grouping.title.lower()}"
    points = [
        svg.Point(
            label=row.label if grouping.key != "month" else _short_month(row.label),
            value=row.values[headline.key],
            text=figure_text(row.values[headline.key], headline.kind, suppressed=headline.key in row.suppressed),
        )
        for row in table.rows
    ]
    draw = svg.line_chart if grouping.key == "month" else svg.bar_chart
    return Figure(
        chart_id=chart_id,
        title=title,
        chart=draw(chart_id, title, points),
        headers=[grouping.title, *(o.label for o in measure.outputs)],
        rows=[(row.label, _cells(table, row)) for row in table.rows],
        is_suppressible=table.is_suppressible,
        suppressed_rows=sum(1 for row in table.rows if row.suppressed),
    )


def _short_month(label: str) -> str:
    name, _, year = label.partition(" ")
    return f"{name[:3]} {year}"


def sections(results: Results, groupings: list[str]) -> list[Section]:
    """One section per measure: its totals, then a figure per grouping asked for that it has."""
    out = []
    measures = []
    for table in results.tables.values():
        if table.measure not in measures:
            measures.append(table.measure)
    for measure in measures:
        total = results.total(measure.key)
        section = Section(
            key=measure.key,
            title=measure.title,
            version=measure.version,
            summary=measure.summary,
            definition=measure.definition,
            totals=[(o.label, figure_text(total.values[o.key], o.kind)) for o in measure.outputs],
        )
        for grouping in groupings:
            table = results.table(measure.key, grouping)
            if table is not None and grouping != "all":
                section.figures.append(figure(table))
        out.append(section)
    return out
