"""Alerts moved to the inbox app (inbox.Item); inbox 0002 carried the open ones over. The Alert
content type goes too, with its permissions, so no role group keeps a permission on a model that
no longer exists."""

from django.db import migrations


def drop_alert_content_type(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    ContentType.objects.filter(app_label="referrals", model="alert").delete()  # its permissions cascade


class Migration(migrations.Migration):
    dependencies = [
        ("referrals", "0007_delivery_attempts_before_logging_were_complete"),
        ("inbox", "0002_alerts_to_items"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.DeleteModel(name="Alert"),
        migrations.RunPython(drop_alert_content_type, migrations.RunPython.noop),
    ]
