"""Carry the open alerts of referrals.Alert over to inbox items, with the cause keys the raisers use
(inbox.services), and a "raised" history row each. Resolved alerts are not carried: nothing is left
to do about them."""

from django.db import migrations


def cause_key(alert) -> str:
    if alert.delivery_id:
        return f"delivery:{alert.delivery_id}:dead"
    if alert.follow_up_id:
        return f"follow_up:{alert.follow_up_id}:overdue:{alert.level}"
    if alert.kind == "appointment_no_outcome":
        return f"referral:{alert.referral_id}:no_outcome"
    return f"referral:{alert.referral_id}:unanswered:{alert.level}"


def forwards(apps, schema_editor):
    Alert = apps.get_model("referrals", "Alert")
    Item = apps.get_model("inbox", "Item")
    ItemEvent = apps.get_model("inbox", "ItemEvent")
    alerts = Alert.objects.filter(resolved_at__isnull=True).select_related("referral", "follow_up__case")
    seen = set()
    for alert in alerts.order_by("created_at", "pk").iterator():
        key = cause_key(alert)
        if key in seen:
            continue
        seen.add(key)
        if alert.referral_id:
            individual_id = alert.referral.individual_id
        elif alert.follow_up_id:
            individual_id = alert.follow_up.case.individual_id
        else:
            individual_id = None
        item = Item.objects.create(
            program_id=alert.program_id,
            kind=alert.kind,
            level=alert.level,
            recipient_id=alert.recipient_id,
            cause_key=key,
            individual_id=individual_id,
            referral_id=alert.referral_id,
            follow_up_id=alert.follow_up_id,
            delivery_id=alert.delivery_id,
            state="open",
            created_at=alert.created_at,
        )
        ItemEvent.objects.create(item=item, action="raised", at=alert.created_at, to_user_id=alert.recipient_id)


class Migration(migrations.Migration):
    dependencies = [
        ("inbox", "0001_initial"),
        ("referrals", "0005_metrics_period_index"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
