"""The hourly purge of Idempotency-Key records: older than 24 hours goes, anything younger stays."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from accounts.roles import Role
from crt.celery import app
from crt.idempotency import IDEMPOTENCY_TTL
from providers.models import IdempotencyRecord
from providers.sweeps import purge_idempotency_keys
from tests import factories as f
from tests.api.conftest import token_for

pytestmark = pytest.mark.django_db


def record(key: str, age: timedelta, *, finished: bool = True) -> IdempotencyRecord:
    return IdempotencyRecord.objects.create(
        owner="user:1",
        key=key,
        method="POST",
        path="/api/v1/contacts/",
        request_hash="0" * 64,
        status_code=201 if finished else None,
        outcome={"id": 1} if finished else None,
        created_at=timezone.now() - age,
    )


def test_keys_are_kept_24_hours():
    assert timedelta(hours=24) == IDEMPOTENCY_TTL


def test_the_purge_deletes_only_keys_older_than_24_hours(time_machine):
    time_machine.move_to(timezone.now(), tick=False)
    record("fresh", timedelta(minutes=1))
    record("last-second", timedelta(hours=24))
    record("just-over", timedelta(hours=24, seconds=1))
    record("old-and-unfinished", timedelta(days=3), finished=False)

    assert purge_idempotency_keys() == 2

    assert sorted(IdempotencyRecord.objects.values_list("key", flat=True)) == ["fresh", "last-second"]


def test_the_purge_twice_is_the_purge_once(time_machine):
    time_machine.move_to(timezone.now(), tick=False)
    record("old", timedelta(days=2))

    assert (purge_idempotency_keys(), purge_idempotency_keys()) == (1, 0)


def test_a_key_the_purge_keeps_still_replays_its_answer(api_client, program, time_machine):
    time_machine.move_to(timezone.now(), tick=False)
    cad = f.UserFactory(program=program, roles=[Role.CLINICIAN])
    client = api_client(token_for(cad))  # a token: no session to time out over the day
    body = {
        "cad_incident_number": "CAD-5",
        "call_received_at": timezone.now().isoformat(),
        "call_type": "Welfare check",
        "person": {"legal_first_name": "A", "legal_last_name": "B"},
    }
    first = client.post("/api/v1/encounters/intake/", body, format="json", HTTP_IDEMPOTENCY_KEY="cad-5")
    time_machine.shift(IDEMPOTENCY_TTL - timedelta(minutes=1))
    purge_idempotency_keys()

    again = client.post("/api/v1/encounters/intake/", body, format="json", HTTP_IDEMPOTENCY_KEY="cad-5")

    assert first.status_code == again.status_code == 201
    assert again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()


def test_beat_runs_the_purge_hourly_and_a_worker_knows_the_task():
    entry = settings.CELERY_BEAT_SCHEDULE["purge-idempotency-keys"]

    assert entry == {"task": "crt.purge_idempotency_keys", "schedule": 3600}
    app.loader.import_default_modules()  # what a worker does at start: autodiscovery included
    assert "crt.purge_idempotency_keys" in app.tasks
