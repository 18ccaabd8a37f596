"""Database triggers: audit tables are append-only, and tracked tables keep a change history.

Triggers, not signals or save() overrides, because they see every write path: save(), queryset
update(), bulk_create() and bulk_update(), deletes, and raw SQL. Both vendors get them:

- PostgreSQL: one generic PL/pgSQL function per purpose (`to_jsonb(NEW)`, so a later column is
  recorded without reinstalling anything) and one trigger per table and purpose.
- SQLite (the embedded default): one trigger per table and operation, its column list generated
  from the model. SQLite drops a table's triggers when Django rebuilds the table (most ALTERs do),
  so `install` runs after every `migrate` (post_migrate), idempotently.

What triggers cannot stop: the owner of the schema can drop or disable them, and TRUNCATE fires no
row trigger (Django's `flush`, which tests use, truncates on PostgreSQL). Production runs the app as
a role that holds only INSERT and SELECT on the audit tables; see docs/security.md.
"""

from django.db import transaction
from django.db.backends.base.base import BaseDatabaseWrapper

APPEND_ONLY = ("audit_accesslog", "audit_changehistory")
# The clinical and referral tables whose every change is kept (DESIGN.md §8).
TRACKED = (
    "cases.Individual",
    "cases.SupportContact",
    "cases.Encounter",
    "cases.EncounterResponder",
    "cases.Assessment",
    "cases.SafetyPlan",
    "cases.Consent",
    "cases.Case",
    "cases.Contact",
    "cases.FollowUp",
    "referrals.Referral",
)
_HISTORY_COLUMNS = "table_name, row_id, operation, changed_at, old_row, new_row"

_PG_REFUSE = """
CREATE OR REPLACE FUNCTION audit_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit rows are append-only: % on % refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END $$
"""
_PG_RECORD = """
CREATE OR REPLACE FUNCTION audit_record_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO audit_changehistory (table_name, row_id, operation, changed_at, old_row, new_row)
        VALUES (TG_TABLE_NAME, to_jsonb(NEW) ->> TG_ARGV[0], TG_OP, clock_timestamp(), NULL, to_jsonb(NEW));
    ELSIF TG_OP = 'UPDATE' THEN
        INSERT INTO audit_changehistory (table_name, row_id, operation, changed_at, old_row, new_row)
        VALUES (TG_TABLE_NAME, to_jsonb(NEW) ->> TG_ARGV[0], TG_OP, clock_timestamp(), to_jsonb(OLD), to_jsonb(NEW));
    ELSE
        INSERT INTO audit_changehistory (table_name, row_id, operation, changed_at, old_row, new_row)
        VALUES (TG_TABLE_NAME, to_jsonb(OLD) ->> TG_ARGV[0], TG_OP, clock_timestamp(), to_jsonb(OLD), NULL);
    END IF;
    RETURN NULL;
END $$
"""


def _quote(connection, name: str) -> str:
    return connection.ops.quote_name(name)


def _tracked_tables(connection, apps) -> list[tuple[str, str, list[tuple[str, bool]]]]:
    """(table, primary-key column, [(column, is_json)]) of each tracked model that has a table."""
    existing = set(connection.introspection.table_names())
    tables = []
    for label in TRACKED:
        try:
            model = apps.get_model(label)
        except LookupError:
            continue  # a partial migrate: the model does not exist yet
        table = model._meta.db_table
        if table not in existing:
            continue
        columns = [(field.column, field.get_internal_type() == "JSONField") for field in model._meta.concrete_fields]
        tables.append((table, model._meta.pk.column, columns))
    return tables


# --- PostgreSQL --------------------------------------------------------------------------------


def _postgresql_statements(connection, apps) -> list[str]:
    existing = set(connection.introspection.table_names())
    statements = [_PG_REFUSE, _PG_RECORD]
    for table in APPEND_ONLY:
        if table in existing:
            q = _quote(connection, table)
            statements += [
                f"DROP TRIGGER IF EXISTS audit_append_only ON {q}",
                f"CREATE TRIGGER audit_append_only BEFORE UPDATE OR DELETE ON {q} "
                "FOR EACH ROW EXECUTE FUNCTION audit_refuse_change()",
            ]
    for table, pk, _columns in _tracked_tables(connection, apps):
        q = _quote(connection, table)
        statements += [
            f"DROP TRIGGER IF EXISTS audit_history_write ON {q}",
            f"CREATE TRIGGER audit_history_write AFTER INSERT OR DELETE ON {q} "
            f"FOR EACH ROW EXECUTE FUNCTION audit_record_change('{pk}')",
            f"DROP TRIGGER IF EXISTS audit_history_update ON {q}",
            # a write that changes nothing is not a change
            f"CREATE TRIGGER audit_history_update AFTER UPDATE ON {q} "
            f"FOR EACH ROW WHEN (OLD.* IS DISTINCT FROM NEW.*) EXECUTE FUNCTION audit_record_change('{pk}')",
        ]
    return statements


# --- SQLite ------------------------------------------------------------------------------------

_SQLITE_NOW = "strftime('%Y-%m-%d %H:%M:%f', 'now')"
_JSON_OBJECT_MAX_COLUMNS = 60  # json_object() takes at most 127 arguments in older SQLite builds


def _sqlite_row_json(connection, row: str, columns: list[tuple[str, bool]]) -> str:
    parts = []
    for start in range(0, len(columns), _JSON_OBJECT_MAX_COLUMNS):
        pairs = []
        for column, is_json in columns[start : start + _JSON_OBJECT_MAX_COLUMNS]:
            value = f"{row}.{_quote(connection, column)}"
            pairs.append(f"'{column}', {'json(' + value + ')' if is_json else value}")
        parts.append(f"json_object({', '.join(pairs)})")
    expression = parts[0]
    for part in parts[1:]:
        expression = f"json_patch({expression}, {part})"
    return expression


def _sqlite_statements(connection, apps) -> list[str]:
    existing = set(connection.introspection.table_names())
    statements = []
    for table in APPEND_ONLY:
        if table not in existing:
            continue
        for operation in ("UPDATE", "DELETE"):
            name = f"audit_append_only_{operation.lower()}_{table}"
            statements += [
                f"DROP TRIGGER IF EXISTS {name}",
                f"CREATE TRIGGER {name} BEFORE {operation} ON {_quote(connection, table)} FOR EACH ROW "
                f"BEGIN SELECT RAISE(ABORT, 'audit rows are append-only: {operation} on {table} refused'); END",
            ]
    for table, pk, columns in _tracked_tables(connection, apps):
        q = _quote(connection, table)
        new, old = _sqlite_row_json(connection, "NEW", columns), _sqlite_row_json(connection, "OLD", columns)
        qpk = _quote(connection, pk)
        changed = " OR ".join(f"OLD.{_quote(connection, c)} IS NOT NEW.{_quote(connection, c)}" for c, _ in columns)
        bodies = {
            "INSERT": ("", f"CAST(NEW.{qpk} AS TEXT), 'INSERT', {_SQLITE_NOW}, NULL, {new}"),
            "UPDATE": (f"WHEN {changed} ", f"CAST(NEW.{qpk} AS TEXT), 'UPDATE', {_SQLITE_NOW}, {old}, {new}"),
            "DELETE": ("", f"CAST(OLD.{qpk} AS TEXT), 'DELETE', {_SQLITE_NOW}, {old}, NULL"),
        }
        for operation, (when, values) in bodies.items():
            name = f"audit_history_{operation.lower()}_{table}"
            # names come from the models' metadata, never from input
            insert = f"INSERT INTO audit_changehistory ({_HISTORY_COLUMNS}) VALUES ('{table}', {values})"  # noqa: S608
            statements += [
                f"DROP TRIGGER IF EXISTS {name}",
                f"CREATE TRIGGER {name} AFTER {operation} ON {q} FOR EACH ROW {when}BEGIN {insert}; END",
            ]
    return statements


# --- entry points ------------------------------------------------------------------------------


def install(connection: BaseDatabaseWrapper, apps=None) -> None:
    """Create or replace every audit trigger, in one transaction (no moment without them)."""
    if apps is None:
        from django.apps import apps
    if connection.vendor == "postgresql":
        statements = _postgresql_statements(connection, apps)
    elif connection.vendor == "sqlite":
        statements = _sqlite_statements(connection, apps)
    else:
        raise NotImplementedError(f"No audit triggers for {connection.vendor}: add them before using it.")
    with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


def uninstall(connection: BaseDatabaseWrapper) -> None:
    """Remove every audit trigger (unapplying the audit migrations)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("DROP FUNCTION IF EXISTS audit_refuse_change() CASCADE")
            cursor.execute("DROP FUNCTION IF EXISTS audit_record_change() CASCADE")
    else:
        drop_sqlite(connection)


def drop_sqlite(connection: BaseDatabaseWrapper) -> None:
    """Remove the SQLite triggers (only for `flush`, which deletes every row of every table)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'audit\\_%' ESCAPE '\\'")
        for (name,) in cursor.fetchall():
            cursor.execute(f"DROP TRIGGER IF EXISTS {name}")


def installed(connection: BaseDatabaseWrapper) -> set[tuple[str, str]]:
    """(table, trigger name) of every audit trigger present: for tests and operators."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT c.relname, t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
                "WHERE NOT t.tgisinternal AND t.tgname LIKE 'audit\\_%' AND t.tgenabled <> 'D'"
            )
        else:
            cursor.execute("SELECT tbl_name, name FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'audit%'")
        return set(cursor.fetchall())


def install_after_migrate(sender, *, using, apps=None, **kwargs) -> None:
    from django.db import connections

    install(connections[using], apps)
