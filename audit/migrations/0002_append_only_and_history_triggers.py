"""Database triggers: the audit tables refuse UPDATE and DELETE; the clinical and referral tables
record every change in audit_changehistory. PostgreSQL and SQLite each get their own SQL
(audit.triggers); post_migrate reinstalls them after every migrate, since SQLite loses a table's
triggers when Django rebuilds the table."""

from django.db import migrations


def install(apps, schema_editor):
    from audit import triggers

    triggers.install(schema_editor.connection, apps)


def uninstall(apps, schema_editor):
    from audit import triggers

    triggers.uninstall(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0001_access_log_and_change_history"),
        ("cases", "0002_encounter_times_after_call_and_q6_recency"),
        ("referrals", "0002_partner_event_names_one_actor"),
    ]

    operations = [migrations.RunPython(install, uninstall)]
