"""Two PostgreSQL roles: an owner that migrates, and the app's role, which owns nothing.

Triggers keep the audit tables append-only against every write path of the app, but not against the
tables' owner: an owner can TRUNCATE (no row trigger fires), ALTER TABLE ... DISABLE TRIGGER, or
(a superuser) SET session_replication_role = replica. So the app (web, workers, beat) connects as a
role that owns no table and holds only SELECT and INSERT on the audit tables, normal DML elsewhere;
`migrate` connects as the owner (MIGRATE_DATABASE_URL, see audit/management/commands/migrate.py)
and grants the app's role exactly that after every run. docs/deploy.md gives the SQL; decision 010.
"""

from audit.triggers import APPEND_ONLY


def app_role_grants(role: str, quote) -> list[str]:
    """The statements (run as the owner) that give `role` what the app needs and nothing more."""
    r = quote(role)
    audit_tables = ", ".join(quote(table) for table in APPEND_ONLY)
    return [
        f"GRANT USAGE ON SCHEMA public TO {r}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {r}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {r}",
        f"REVOKE UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON {audit_tables} FROM {r}",
        f"REVOKE TRUNCATE, REFERENCES, TRIGGER ON ALL TABLES IN SCHEMA public FROM {r}",
    ]


def owned_by(connection, role: str) -> list[str]:
    """Tables, sequences and functions in the public schema that `role` owns (should be none)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = 'public' AND pg_get_userbyid(c.relowner) = %s "
            "UNION ALL SELECT p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
            "WHERE n.nspname = 'public' AND pg_get_userbyid(p.proowner) = %s ORDER BY 1",
            [role, role],
        )
        return [name for (name,) in cursor.fetchall()]


def grant_app_role(connection, role: str) -> None:
    with connection.cursor() as cursor:
        for statement in app_role_grants(role, connection.ops.quote_name):
            cursor.execute(statement)
