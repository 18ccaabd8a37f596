"""Compute measures: one SQL statement per source, whatever the number of measures and groups.

For a source (encounters, referrals, open cases) the ORM builds the per-row facts of every
requested measure: a 1/0 flag per count, a number of seconds (or NULL) per duration, and the
row's group in every requested grouping. One statement aggregates those facts for every grouping,
so the costly part (reading the rows, probing contacts and later encounters) is paid once.

On PostgreSQL every grouping is a grouping set, and percentiles are percentile_cont:

    SELECT GROUPING(g0, g1), g0, g1, SUM(f0_0), COUNT(f1_0), percentile_cont(ARRAY[0.5, 0.9]) ...
    FROM (<the ORM's SELECT of facts>) AS facts GROUP BY GROUPING SETS ((), (g0), (g1))

Elsewhere (SQLite) the facts are materialised once and grouped once per grouping:

    WITH facts AS MATERIALIZED (<the ORM's SELECT of facts>)
    SELECT 'all', NULL, SUM(f0_0), COUNT(f1_0) ... FROM facts
    UNION ALL SELECT 'age_band', CAST(g0 AS TEXT), SUM(f0_0), ... FROM facts GROUP BY g0 ...

and one more statement reads the timed facts for percentiles interpolated in Python the same way.
The number of statements depends on the sources asked for, never on the data.
"""

import math
from collections import defaultdict
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.db import connection

from metrics import sources as s
from metrics.measures import MEASURES, PERCENTILES, Count, Duration, Measure, Output, Rate
from metrics.periods import Selection
from metrics.sql import flag, only_where
from metrics.suppression import min_cell_size, suppress
from providers.models import Organization

UNITS = {"minutes": 60.0, "hours": 3600.0}
INTEGER_KEYS = {"month", "partner", "navigator"}


@dataclass
class Row:
    key: object  # the group's key (None for "all")
    label: str
    values: dict
    suppressed: set = field(default_factory=set)


@dataclass
class Table:
    measure: Measure
    grouping: s.Grouping
    rows: list[Row]

    @property
    def is_suppressible(self) -> bool:
        return self.grouping.is_demographic


@dataclass
class Results:
    selection: Selection
    min_cell_size: int
    tables: dict  # (measure key, grouping key) -> Table

    def table(self, measure_key: str, grouping: str) -> Table | None:
        return self.tables.get((measure_key, grouping))

    def total(self, measure_key: str) -> Row:
        return self.tables[(measure_key, "all")].rows[0]

    def tables_of(self, measure_key: str) -> list[Table]:
        return [table for (key, _), table in self.tables.items() if key == measure_key]


def compute(selection: Selection, measures=None, groupings=None, *, use_sql_percentiles=None, progress=None):
    """Every requested measure for every requested grouping it supports ("all" is always included).

    measures: Measure objects or keys (default: every measure); groupings: grouping keys (default:
    every grouping of each measure); use_sql_percentiles: force the portable path with False;
    progress: called with each source's key after its statement ran.
    """
    chosen = [MEASURES[m] if isinstance(m, str) else m for m in (measures or MEASURES.values())]
    wanted = None if groupings is None else {"all", *groupings}
    if use_sql_percentiles is None:
        use_sql_percentiles = connection.vendor == "postgresql"
    threshold = min_cell_size()
    tables = {}
    for source in s.SOURCES.values():
        of_source = [m for m in chosen if m.source is source]
        if not of_source:
            continue
        plan = _Plan(source, selection, of_source, wanted)
        raw = plan.run(use_sql_percentiles)
        for m in of_source:
            for grouping in plan.groupings_of[m.key]:
                tables[(m.key, grouping)] = Table(m, s.GROUPINGS[grouping], plan.rows(m, grouping, raw))
        if progress:
            progress(source.key)
    _label(tables)
    for table in tables.values():
        table.rows.sort(key=lambda row, g=table.grouping.key: s.sort_key(g, row.key, row.label))
        if table.is_suppressible:
            suppress(table.rows, table.measure.outputs, threshold)
    return Results(selection=selection, min_cell_size=threshold, tables=tables)


class _Plan:
    """The statements for one source: which facts and groups to select, and how to read them back.

    Count facts are booleans, aggregated with COUNT(*) FILTER: PostgreSQL can hash every grouping
    set in one pass. Duration facts (seconds) go to a statement of their own, since percentiles
    need sorted input: sorting only the few timed columns is much cheaper than sorting every fact.
    """

    def __init__(self, source, selection, measures, wanted):
        self.source, self.selection, self.measures = source, selection, measures
        expressions = source.groupings()
        self.groupings_of = {
            m.key: [g for g in m.groupings if wanted is None or g in wanted] for m in measures
        }  # fmt: skip
        used = sorted({g for gs in self.groupings_of.values() for g in gs} - {"all"})
        self.group_columns = {g: f"g{k}" for k, g in enumerate(used)}
        self.group_expressions = {self.group_columns[g]: expressions[g] for g in used}
        self.columns = {m.key: m.columns(selection.as_of) for m in measures}
        self.counts, self.durations = {}, {}  # fact name -> expression
        self.fact_of = {}  # (measure key, column key) -> fact name ("*": every row)
        self.users = defaultdict(set)  # fact name -> keys of the measures reading it
        for m in measures:
            for column in self.columns[m.key]:
                if isinstance(column, Rate):
                    continue
                if isinstance(column, Count) and column.when is None:
                    name = "*"
                else:
                    pool, prefix = (self.counts, "c") if isinstance(column, Count) else (self.durations, "d")
                    expression = (
                        flag(column.when) if isinstance(column, Count) else only_where(column.when, column.seconds)
                    )
                    # The same condition in several measures ("people met") is computed once.
                    name = next((n for n, e in pool.items() if e == expression), None)
                    if name is None:
                        name = f"{prefix}{len(pool)}"
                        pool[name] = expression
                self.fact_of[(m.key, column.key)] = name
                self.users[name].add(m.key)

    def _facts_sql(self, facts: dict) -> tuple[str, list]:
        rows = self.source.rows(self.selection).annotate(**self.group_expressions, **facts)
        return rows.values(*self.group_expressions, *facts).order_by().query.sql_with_params()

    def _count_aggregates(self, measures=None) -> list[str]:
        """COUNT(*) for every row, COUNT(*) FILTER for each fact; NULL where no measure in `measures` reads it."""
        out = []
        for name in ["*", *self.counts]:
            present = measures is None or bool(self.users[name] & measures)
            aggregate = "COUNT(*)" if name == "*" else f"COUNT(*) FILTER (WHERE {name})"
            out.append(aggregate if present else "NULL")
        return out

    def _duration_aggregates(self) -> list[str]:
        fractions = ", ".join(str(f) for _, _, f in PERCENTILES)
        out = []
        for name in self.durations:
            out += [f"COUNT({name})", f"percentile_cont(ARRAY[{fractions}]) WITHIN GROUP (ORDER BY {name})"]
        return out

    def _grouping_sets(self, inner: str, aggregates: list[str]) -> str:
        """PostgreSQL: one pass over the facts, every grouping a grouping set."""
        keys = list(self.group_columns.values())
        bits = f"GROUPING({', '.join(keys)})" if keys else "0"
        select = ", ".join([bits, *keys, *aggregates])
        sets = ", ".join(["()", *(f"({key})" for key in keys)])
        return f"SELECT {select} FROM ({inner}) AS facts GROUP BY GROUPING SETS ({sets})"  # noqa: S608 (our names)

    def _union(self, inner: str) -> str:
        """Elsewhere (SQLite): the facts materialised once, then one GROUP BY per grouping."""
        branches = []
        for grouping in ["all", *self.group_columns]:
            measures = {m.key for m in self.measures if grouping in self.groupings_of[m.key]}
            column = self.group_columns.get(grouping)
            key = f"CAST({column} AS TEXT)" if column else "NULL"
            select = ", ".join([f"'{grouping}'", key, *self._count_aggregates(measures)])
            group_by = f" GROUP BY {column}" if column else ""
            branches.append(f"SELECT {select} FROM facts{group_by}")  # noqa: S608 (our own names)
        return f"WITH facts AS MATERIALIZED ({inner}) " + " UNION ALL ".join(branches)

    def _records(self, cursor, postgres: bool):
        """(grouping, key as text or None, the aggregates) of each row of a statement."""
        if not postgres:
            for record in cursor.fetchall():
                yield record[0], record[1], record[2:]
            return
        names = list(self.group_columns)
        everything = (1 << len(names)) - 1
        for record in cursor.fetchall():
            bits, keys, values = record[0], record[1 : 1 + len(names)], record[1 + len(names) :]
            if bits == everything:
                yield "all", None, values
                continue
            k = len(names) - (everything ^ bits).bit_length()  # GROUPING's first column is its top bit
            yield names[k], None if keys[k] is None else str(keys[k]), values

    def statements(self, use_sql_percentiles: bool) -> list[tuple[str, list]]:
        """The SQL this plan runs: the counts, then (if any) the durations."""
        postgres = connection.vendor == "postgresql"
        inner, params = self._facts_sql(self.counts)
        out = [(self._grouping_sets(inner, self._count_aggregates()) if postgres else self._union(inner), params)]
        if self.durations:
            inner, params = self._facts_sql(self.durations)
            if use_sql_percentiles:
                out.append((self._grouping_sets(inner, self._duration_aggregates()), params))
            else:
                out.append((self._timed_values(inner), params))
        return out

    def run(self, use_sql_percentiles: bool) -> dict:
        """{grouping: {key text: {fact name: count, or {"n", "percentiles"} for a duration}}}."""
        postgres = connection.vendor == "postgresql"
        statements = self.statements(use_sql_percentiles)
        raw = defaultdict(dict)
        with connection.cursor() as cursor:
            cursor.execute(*statements[0])
            for grouping, key, values in self._records(cursor, postgres):
                raw[grouping][key] = dict(zip(["*", *self.counts], values, strict=True))
            if not self.durations:
                return raw
            cursor.execute(*statements[1])
            if use_sql_percentiles:
                for grouping, key, values in self._records(cursor, postgres):
                    cells = raw[grouping].setdefault(key, {})
                    for k, name in enumerate(self.durations):
                        cells[name] = {"n": values[2 * k], "percentiles": values[2 * k + 1]}
            else:
                self._interpolate(cursor, raw)
        return raw

    def _timed_values(self, inner: str) -> str:
        """Portable: the timed facts themselves, for percentiles interpolated in Python."""
        keys = [f"CAST({column} AS TEXT)" for column in self.group_columns.values()]
        where = " OR ".join(f"{name} IS NOT NULL" for name in self.durations)
        return f"SELECT {', '.join([*keys, *self.durations])} FROM ({inner}) AS facts WHERE {where}"  # noqa: S608

    def _interpolate(self, cursor, raw) -> None:
        groups, durations = list(self.group_columns), list(self.durations)
        values = defaultdict(list)  # (grouping, key, fact name) -> seconds
        for record in cursor.fetchall():
            keys, seconds = record[: len(groups)], record[len(groups) :]
            for name, value in zip(durations, seconds, strict=True):
                if value is None:
                    continue
                values[("all", None, name)].append(value)
                for grouping, key in zip(groups, keys, strict=True):
                    values[(grouping, key, name)].append(value)
        fractions = [f for _, _, f in PERCENTILES]
        for grouping, by_key in raw.items():
            for key, cells in by_key.items():
                for name in durations:
                    ordered = sorted(values.get((grouping, key, name), ()))
                    percentiles = [percentile_cont(ordered, f) for f in fractions] if ordered else None
                    cells[name] = {"n": len(ordered), "percentiles": percentiles}

    def rows(self, measure: Measure, grouping: str, raw) -> list[Row]:
        out = []
        for key, cells in raw.get(grouping, {}).items():
            if key is None and grouping != "all":
                continue  # a row outside this split (a transport destination of a call with no transport)
            values = {}
            for column in self.columns[measure.key]:
                if isinstance(column, Count):
                    values[column.key] = int(cells.get(self.fact_of[(measure.key, column.key)]) or 0)
                elif isinstance(column, Duration):
                    cell = cells.get(self.fact_of[(measure.key, column.key)]) or {}
                    values[f"{column.key}_n"] = int(cell.get("n") or 0)
                    found = cell.get("percentiles") or [None] * len(PERCENTILES)
                    for (suffix, _, _), seconds in zip(PERCENTILES, found, strict=True):
                        values[f"{column.key}_{suffix}"] = _in_unit(seconds, column.unit)
                else:
                    values[column.key] = _percent(values[column.numerator], values[column.denominator])
            if grouping in INTEGER_KEYS and key is not None:
                key = int(key)
            out.append(Row(key=key, label="All" if grouping == "all" else "", values=values))
        return out


def percentile_cont(ordered: list[float], fraction: float) -> float:
    """The value at `fraction` of a sorted list, interpolated between neighbours (as percentile_cont)."""
    position = fraction * (len(ordered) - 1)
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def _in_unit(seconds, unit: str):
    return None if seconds is None else round(seconds / UNITS[unit], 1)


def _percent(numerator: int, denominator: int):
    return None if not denominator else round(100.0 * numerator / denominator, 1)


def _label(tables) -> None:
    """Give every row its label: static ones from the code lists, partners and navigators by id."""
    wanted = defaultdict(set)
    for table in tables.values():
        if table.grouping.key in ("partner", "navigator"):
            wanted[table.grouping.key].update(row.key for row in table.rows)
    names = {"partner": {}, "navigator": {0: "Unassigned"}}
    if wanted["partner"]:
        names["partner"] = dict(Organization.objects.filter(pk__in=wanted["partner"]).values_list("pk", "name"))
    if wanted["navigator"] - {0}:
        users = get_user_model().objects.filter(pk__in=wanted["navigator"] - {0})
        names["navigator"] |= {
            u.pk: u.get_full_name() or u.username for u in users.only("first_name", "last_name", "username")
        }
    for table in tables.values():
        grouping = table.grouping.key
        for row in table.rows:
            if grouping == "all":
                continue
            if grouping in names:
                row.label = names[grouping].get(row.key, f"#{row.key}")
            else:
                row.label = s.static_label(grouping, row.key)


def output(measure_key: str, key: str) -> Output:
    return next(o for o in MEASURES[measure_key].outputs if o.key == key)
