"""Every program gets the schedule that was hard-coded until now as its follow-up rules.

The rows are written out here (not imported) so that this migration keeps meaning what it meant;
cases.services.DEFAULT_FOLLOW_UP_RULES gives new programs the same rows.
"""

from datetime import timedelta

from django.db import migrations

H = timedelta(hours=1)
# (disposition, risk level, label, offset); "" is "any". Every follow-up is the navigator's.
ROWS = (
    ("", "", "24h", 24 * H),
    ("", "", "72h", 72 * H),
    ("", "", "7d", 7 * 24 * H),
    ("", "", "30d", 30 * 24 * H),
    ("", "high", "4h", 4 * H),
    ("unable_to_locate", "", "24h", 24 * H),
    ("unable_to_locate", "high", "4h", 4 * H),
)


def add_default_rules(apps, schema_editor):
    Program = apps.get_model("accounts", "Program")
    FollowUpRule = apps.get_model("cases", "FollowUpRule")
    for program in Program.objects.all():
        if FollowUpRule.objects.filter(program=program).exists():
            continue
        FollowUpRule.objects.bulk_create(
            FollowUpRule(program=program, disposition=d, risk_level=r, label=label, offset=offset, owner="navigator")
            for d, r, label, offset in ROWS
        )


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0007_program_case_reopen_window"),
        ("cases", "0003_follow_up_rules_missed_and_reopen"),
    ]

    operations = [migrations.RunPython(add_default_rules, migrations.RunPython.noop)]
