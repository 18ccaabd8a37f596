"""Idempotency records keep the outcome (which record, ids and flags), not the answer's body."""

from django.db import migrations, models


def outcome_of(body):
    if not isinstance(body, dict):
        return None
    if isinstance(body.get("id"), int):
        return {"id": body["id"]}
    encounter = body.get("encounter")
    if isinstance(encounter, dict) and isinstance(encounter.get("id"), int):  # the CAD intake's answer
        return {
            "encounter": encounter["id"],
            "individual_id": body.get("individual_id"),
            "created_individual": bool(body.get("created_individual")),
            "created_encounter": bool(body.get("created_encounter")),
        }
    return None


def keep_outcomes(apps, schema_editor):
    IdempotencyRecord = apps.get_model("providers", "IdempotencyRecord")
    for record in IdempotencyRecord.objects.filter(response_body__isnull=False).iterator():
        record.outcome = outcome_of(record.response_body)
        record.response_headers = {k: v for k, v in record.response_headers.items() if k == "Location"}
        record.save(update_fields=["outcome", "response_headers"])


class Migration(migrations.Migration):
    dependencies = [
        ("providers", "0002_idempotency_records"),
    ]

    operations = [
        migrations.AddField(
            model_name="idempotencyrecord",
            name="outcome",
            field=models.JSONField(
                blank=True, help_text="Which record the answer was about: ids and flags, no personal data.", null=True
            ),
        ),
        migrations.RunPython(keep_outcomes, migrations.RunPython.noop),
        migrations.RemoveField(model_name="idempotencyrecord", name="response_body"),
    ]
