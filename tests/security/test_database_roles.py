"""The app's PostgreSQL role cannot get rid of audit rows (issue 14 item 3).

The test database is owned by the role the tests connect as (the owner); the app's role (CRT_APP_ROLE,
default crt_app, which .ci/run creates) gets exactly what `migrate` grants it (audit.roles), and a
second connection as that role tries every way out the outside test found: TRUNCATE, ALTER TABLE ...
DISABLE TRIGGER, SET session_replication_role, plus DELETE, UPDATE and DROP TRIGGER. All are refused;
INSERT and SELECT on the audit tables, and normal DML elsewhere, work.
"""

import os

import psycopg
import pytest
from django.db import connection

from audit import triggers
from audit.models import AccessLog, Action
from audit.roles import app_role_grants, grant_app_role, owned_by

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
APP_ROLE = os.environ.get("CRT_APP_ROLE", "crt_app")


@pytest.fixture
def app_cursor(db):
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s AND NOT rolsuper", [APP_ROLE])
        if cursor.fetchone() is None:
            pytest.fail(f"No role {APP_ROLE} (not a superuser): .ci/run creates it; docs/deploy.md gives the SQL.")
    grant_app_role(connection, APP_ROLE)
    settings = connection.settings_dict
    with psycopg.connect(
        dbname=settings["NAME"],
        user=APP_ROLE,
        host=settings["HOST"] or None,
        port=settings["PORT"] or None,
        autocommit=True,
    ) as app:
        yield app.cursor()
    with connection.cursor() as cursor:  # the grants go with the test database; leave no rows behind
        cursor.execute("REVOKE ALL ON ALL TABLES IN SCHEMA public FROM " + connection.ops.quote_name(APP_ROLE))


def refused(cursor, sql: str) -> bool:
    try:
        cursor.execute(sql)
    except psycopg.errors.InsufficientPrivilege:
        return True
    return False


@pytest.mark.parametrize("table", triggers.APPEND_ONLY)
def test_the_app_role_cannot_truncate_disable_triggers_or_replicate_around_them(app_cursor, table):
    assert refused(app_cursor, f"TRUNCATE {table}")
    assert refused(app_cursor, f"ALTER TABLE {table} DISABLE TRIGGER ALL")
    assert refused(app_cursor, f"ALTER TABLE {table} DISABLE TRIGGER audit_append_only")
    assert refused(app_cursor, f"DROP TRIGGER audit_append_only ON {table}")
    assert refused(app_cursor, "SET session_replication_role = replica")
    assert refused(app_cursor, f"DELETE FROM {table}")  # noqa: S608 (our own table names)
    assert refused(app_cursor, f"UPDATE {table} SET id = id")  # noqa: S608
    assert refused(app_cursor, f"DROP TABLE {table}")


def test_the_app_role_may_add_and_read_audit_rows_and_work_elsewhere(app_cursor):
    row = AccessLog(action=Action.VIEW, object_type="cases.individual", object_id="1")
    fields = [field for field in AccessLog._meta.concrete_fields if not field.primary_key]
    columns = ", ".join(field.column for field in fields)
    values = [field.get_db_prep_save(getattr(row, field.attname), connection) for field in fields]
    placeholders = ", ".join(["%s"] * len(values))
    sql = f"INSERT INTO audit_accesslog ({columns}) VALUES ({placeholders}) RETURNING id"  # noqa: S608
    app_cursor.execute(sql, values)
    (row_id,) = app_cursor.fetchone()
    app_cursor.execute("SELECT count(*) FROM audit_accesslog WHERE id = %s", [row_id])
    assert app_cursor.fetchone() == (1,)
    app_cursor.execute("UPDATE cases_individual SET preferred_name = preferred_name WHERE id = -1")
    app_cursor.execute("DELETE FROM cases_individual WHERE id = -1")


def test_the_app_role_owns_nothing(app_cursor):
    assert owned_by(connection, APP_ROLE) == []


def test_the_grants_are_the_ones_deploy_md_gives():
    from pathlib import Path

    deploy = Path(__file__).resolve().parents[2].joinpath("docs/deploy.md").read_text()
    for statement in app_role_grants("crt_app", lambda name: name):
        assert statement in deploy, statement
