"""Attempts logged before completed_at existed were written after their answer: mark them complete."""

from django.db import migrations
from django.db.models import F


def mark_complete(apps, schema_editor):
    DeliveryAttempt = apps.get_model("referrals", "DeliveryAttempt")
    DeliveryAttempt.objects.filter(completed_at__isnull=True).update(completed_at=F("attempted_at"))


class Migration(migrations.Migration):
    dependencies = [("referrals", "0006_delivery_attempt_logged_before_sending")]

    operations = [migrations.RunPython(mark_complete, migrations.RunPython.noop)]
