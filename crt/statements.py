"""Querysets compiled once and run as prepared statements, for the few reads on every partner call
(the credential lookup, the referral list's page) and the audit insert that follows them: there,
building and compiling the ORM query, and PostgreSQL planning it, cost more than running it
(docs/performance.md, "Partner API").

A `Statement` is an ordinary queryset, built the ordinary way (through `visible_to` where it reads
a person's data), compiled once. What changes from call to call is given, when the queryset is
built, as a stand-in value (`SENTINEL_INSTANT`, `SENTINEL_TEXT` or another one the caller picks),
and replaced by the real value at each run; everything else is part of the statement, so a caller
keeps one Statement per shape and per fixed value (an organisation's id), in a `StatementCache`.
Rows come back as `values()` dicts, through the same field converters the ORM applies.

On PostgreSQL the statement is bound server-side and prepared on the connection (psycopg keeps the
prepared statements of each connection): planned once per connection, not once per call. Django
turns psycopg's automatic preparation off (for connection poolers) and binds its own queries
client-side, which are never prepared; only statements run here are. Behind PgBouncer in
transaction mode this needs PgBouncer 1.21 or later (max_prepared_statements). Elsewhere (SQLite)
the same SQL runs through Django's cursor. Either way it runs through Django's cursor wrapper, so
query logging, CaptureQueriesContext and execute_wrapper see it like any other query.

`cursor()` alone serves hand-written SQL the same way: the person page's panels and timeline
(cases.panels, cases.timeline), which PostgreSQL took longer to plan than to run.
"""

import sys
from dataclasses import dataclass
from datetime import UTC, datetime

import psycopg
from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import Field

SENTINEL_INSTANT = datetime(1901, 2, 3, 4, 5, 6, 789012, tzinfo=UTC)
SENTINEL_TEXT = "\x1fcrt-statement-value\x1f"  # no key, prefix or choice looks like this


@dataclass(frozen=True)
class _Slot:
    """Where a value given at each run goes, and the field that prepares it."""

    name: str
    field: Field


class Statement:
    """A values() queryset compiled once; `rows(values)` runs it with the stand-ins replaced."""

    def __init__(self, queryset, stand_ins: dict):
        """`stand_ins`: name -> (the value the queryset was built with, the model field it is a
        value of); the field prepares the real value as the ORM would have.

        A person-data queryset must be scoped (crt.scoping) when it is compiled, as when it is run:
        the prepared statement never passes through the queryset's own checks."""
        if require_scope := getattr(queryset, "_require_scope", None):
            require_scope()
        self.using = queryset.db
        connection = connections[self.using]
        compiler = queryset.query.get_compiler(self.using)
        try:
            self.sql, params = compiler.as_sql()
        except EmptyResultSet:  # visible_to(...) gave none(): nothing to run
            self.sql = None
            return
        by_value = {}
        for name, (stand_in, field) in stand_ins.items():
            by_value[_key(field.get_db_prep_value(stand_in, connection))] = _Slot(name, field)
        self.params = [by_value.get(_key(param), param) for param in params]
        missing = set(stand_ins) - {param.name for param in self.params if isinstance(param, _Slot)}
        if missing:
            raise ValueError(f"stand-ins not found in the compiled statement: {sorted(missing)}")
        query = queryset.query
        self.names = [*query.extra_select, *query.values_select, *query.annotation_select]
        self.compiler = compiler
        self.converters = compiler.get_converters([s[0] for s in compiler.select[: compiler.col_count]])

    def rows(self, values: dict) -> list[dict]:
        if self.sql is None:
            return []
        connection = connections[self.using]
        params = [
            param.field.get_db_prep_value(values[param.name], connection) if isinstance(param, _Slot) else param
            for param in self.params
        ]
        with cursor(connection) as c:
            c.execute(self.sql, params)
            rows = c.fetchall()
        if self.converters:
            rows = self.compiler.apply_converters(rows, self.converters)
        names = self.names
        return [dict(zip(names, row, strict=True)) for row in rows]


def _key(value):
    """A parameter as a dict key (lists, which the ORM passes for arrays, are never stand-ins)."""
    return value if isinstance(value, str | int | float | datetime | bool | None) else id(value)


class StatementCache:
    """Statements by key, per database connection (each thread has its own)."""

    def __init__(self, name: str):
        self.attribute = f"_crt_statements_{name}"

    def get(self, key, build):
        """The statement of `key`, made by `build()` (returning a Statement) the first time."""
        connection = connections["default"]
        statements = connection.__dict__.setdefault(self.attribute, {})
        statement = statements.get(key)
        if statement is None:
            statement = statements[key] = build()
        return statement


def cursor(connection):
    """A Django cursor whose statements are bound server-side and prepared, on PostgreSQL; Django's
    own cursor elsewhere."""
    if connection.vendor != "postgresql":
        return connection.cursor()
    connection.ensure_connection()
    raw = connection.connection
    if raw.prepare_threshold is None:
        # Django turns preparation off; let statements that ask for it be prepared, and nothing
        # else (Django's own queries are bound client-side, so never prepared).
        raw.prepare_threshold = sys.maxsize
    return connection._prepare_cursor(_PreparedCursor(raw))  # wrapped as Django wraps its own


class _PreparedCursor(psycopg.Cursor):
    def execute(self, query, params=None, **kwargs):
        return super().execute(query, params, prepare=True, **kwargs)

    def _send_query_prepared(self, name, pgq, *, binary=None):
        self._query = pgq  # what Django's query log reads; psycopg keeps it for unprepared queries only
        return super()._send_query_prepared(name, pgq, binary=binary)
