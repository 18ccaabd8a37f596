from django.db import migrations


def sync_role_groups(apps, schema_editor):
    # The staff admin role holds every permission of our apps, the new models' included.
    from accounts.roles import sync_role_groups

    sync_role_groups(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0003_security_twofactor_lockout_breakglass"),
        ("referrals", "0002_partner_event_names_one_actor"),
    ]

    operations = [migrations.RunPython(sync_role_groups, migrations.RunPython.noop)]
