"""Every write to the clinical and referral tables leaves a change-history row, whatever the path."""

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import connection

from audit import triggers
from audit.models import ChangeHistory
from cases.models import Case, Individual
from referrals.models import Referral
from tests import factories as f


def history(model, pk=None, operation=None):
    rows = ChangeHistory.objects.filter(table_name=model._meta.db_table)
    if pk is not None:
        rows = rows.filter(row_id=str(pk))
    if operation is not None:
        rows = rows.filter(operation=operation)
    return list(rows.order_by("id"))


def test_every_tracked_table_has_its_history_triggers(db):
    present = triggers.installed(connection)
    per_table = 2 if connection.vendor == "postgresql" else 3  # write+update / insert, update, delete
    for label in triggers.TRACKED:
        table = apps.get_model(label)._meta.db_table
        assert len([name for t, name in present if t == table and "history" in name]) == per_table, label


def test_save_records_the_new_row_and_then_the_old_and_new(program):
    person = f.IndividualFactory(program=program, housing_status="housed")
    (created,) = history(Individual, person.pk)
    assert created.operation == "INSERT" and created.old_row is None
    assert created.new_row["housing_status"] == "housed"
    person.housing_status = "unsheltered"
    person.save(update_fields=["housing_status", "updated_at"])
    updated = history(Individual, person.pk, "UPDATE")[-1]
    assert (updated.old_row["housing_status"], updated.new_row["housing_status"]) == ("housed", "unsheltered")


def test_a_queryset_update_records_each_row(program):
    people = [f.IndividualFactory(program=program) for _ in range(3)]
    Individual.objects.filter(pk__in=[p.pk for p in people]).update(risk_level="high")
    assert sorted(r.row_id for r in history(Individual, operation="UPDATE")) == sorted(str(p.pk) for p in people)
    assert all(r.new_row["risk_level"] == "high" for r in history(Individual, operation="UPDATE"))


def test_an_update_that_changes_nothing_records_nothing(program):
    person = f.IndividualFactory(program=program, risk_level="low")
    Individual.objects.filter(pk=person.pk).update(risk_level="low")
    assert history(Individual, person.pk, "UPDATE") == []


def test_bulk_create_and_bulk_update_are_recorded(program):
    cases = Case.objects.bulk_create(
        [f.CaseFactory.build(program=program, individual=f.IndividualFactory(program=program)) for _ in range(2)]
    )
    assert len(history(Case, operation="INSERT")) == 2
    for case in cases:
        case.risk_level = "high"
    Case.objects.bulk_update(cases, ["risk_level"])
    assert {r.new_row["risk_level"] for r in history(Case, operation="UPDATE")} == {"high"}
    assert len(history(Case, operation="UPDATE")) == 2


def test_raw_sql_writes_are_recorded(program):
    referral = f.ReferralFactory(program=program)
    with connection.cursor() as cursor:
        cursor.execute("UPDATE referrals_referral SET outcome_note = %s WHERE id = %s", ["set by hand", referral.pk])
    (row,) = history(Referral, referral.pk, "UPDATE")
    assert row.new_row["outcome_note"] == "set by hand"


def test_a_delete_records_the_row_as_it_was(program):
    contact = f.SupportContactFactory(individual__program=program, relationship="brother")
    pk = contact.pk
    contact.delete()
    (row,) = history(type(contact), pk, "DELETE")
    assert row.new_row is None and row.old_row["relationship"] == "brother"


def test_migrate_puts_back_triggers_that_went_missing(db):
    """SQLite drops a table's triggers when Django rebuilds the table; every migrate reinstalls."""
    before = triggers.installed(connection)
    triggers.uninstall(connection)
    assert triggers.installed(connection) == set()
    call_command("migrate", verbosity=0)
    assert triggers.installed(connection) == before
    person = f.IndividualFactory()
    assert len(history(Individual, person.pk, "INSERT")) == 1


@pytest.mark.postgres
def test_postgres_records_a_column_added_later_without_reinstalling(program):
    """The PostgreSQL trigger records to_jsonb(NEW): a new column needs no new trigger."""
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE cases_individual ADD COLUMN nickname varchar(20) DEFAULT 'x'")
    person = f.IndividualFactory(program=program)
    assert history(Individual, person.pk, "INSERT")[0].new_row["nickname"] == "x"
