"""The audit tables refuse UPDATE and DELETE at the database level, whatever the path: the ORM,
a queryset, raw SQL. Runs on SQLite by default and on PostgreSQL with DATABASE_URL (CI)."""

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from audit import triggers
from audit.models import AccessLog, Action, ChangeHistory
from tests import factories as f


@pytest.fixture
def log_row(db):
    return AccessLog.objects.create(action=Action.VIEW, object_type="cases.individual", object_id="1")


@pytest.fixture
def history_row(db):
    f.IndividualFactory()  # the trigger writes one
    return ChangeHistory.objects.latest("id")


def refused(statement) -> bool:
    """Whether the database refused the statement (in a savepoint: PostgreSQL aborts the transaction)."""
    try:
        with transaction.atomic():
            statement()
    except DatabaseError as error:
        return "append-only" in str(error)
    return False


def raw(sql, params):
    def run():
        with connection.cursor() as cursor:
            cursor.execute(sql, params)

    return run


def test_access_log_rows_cannot_be_changed_or_deleted(log_row):
    log_row.object_id = "2"
    assert refused(log_row.save)
    assert refused(lambda: AccessLog.objects.filter(pk=log_row.pk).update(actor_id=99))
    assert refused(log_row.delete)
    assert refused(AccessLog.objects.all().delete)
    assert refused(raw("UPDATE audit_accesslog SET object_id = %s WHERE id = %s", ["3", log_row.pk]))
    assert refused(raw("DELETE FROM audit_accesslog WHERE id = %s", [log_row.pk]))
    assert AccessLog.objects.get(pk=log_row.pk).object_id == "1"


def test_change_history_rows_cannot_be_changed_or_deleted(history_row):
    assert refused(lambda: ChangeHistory.objects.filter(pk=history_row.pk).update(new_row=None))
    assert refused(raw("UPDATE audit_changehistory SET operation = 'DELETE' WHERE id = %s", [history_row.pk]))
    assert refused(raw("DELETE FROM audit_changehistory WHERE id = %s", [history_row.pk]))
    assert ChangeHistory.objects.filter(pk=history_row.pk, operation="INSERT").exists()


def test_new_audit_rows_can_still_be_added(log_row):
    AccessLog.objects.create(action=Action.LIST, object_type="cases.case", object_id="7", at=timezone.now())
    assert AccessLog.objects.count() == 2


def test_the_append_only_triggers_are_installed(db):
    present = triggers.installed(connection)
    tables = {table for table, name in present if "append_only" in name}
    assert tables == set(triggers.APPEND_ONLY)


@pytest.mark.postgres
def test_postgres_refuses_with_insufficient_privilege(log_row):
    with pytest.raises(DatabaseError) as caught, transaction.atomic():
        AccessLog.objects.filter(pk=log_row.pk).delete()
    assert caught.value.__cause__.sqlstate == "42501"


@pytest.mark.django_db(transaction=True)
def test_flush_still_empties_the_database_and_keeps_the_triggers():
    """The test runner flushes after every transactional test; on SQLite that needs the audit's
    own flush command, which lifts the triggers for the flush only."""
    f.IndividualFactory()
    AccessLog.objects.create(action=Action.VIEW, object_type="cases.individual", object_id="1")
    before = triggers.installed(connection)
    call_command("flush", interactive=False, verbosity=0)
    assert (AccessLog.objects.count(), ChangeHistory.objects.count()) == (0, 0)
    assert triggers.installed(connection) == before
    AccessLog.objects.create(action=Action.VIEW, object_type="cases.individual", object_id="2")
    assert refused(raw("DELETE FROM audit_accesslog", []))  # still append-only afterwards
