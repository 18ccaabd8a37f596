"""The chase task, sent through Redis, run by a real Celery worker process against the test database."""

import os
import signal
import subprocess
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings
from django.db import connection
from django.utils import timezone

from accounts.roles import Role, sync_role_groups
from crt.celery import app
from inbox.models import Item
from referrals.models import Referral
from referrals.sweeps import chase_referrals
from tests import factories as f

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [pytest.mark.redis, pytest.mark.worker, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def url_of_the_test_database() -> str:
    db = connection.settings_dict
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture
def worker(tmp_path):
    log = tmp_path / "worker.log"
    app.control.purge()  # nothing left over from earlier runs on this broker
    command = [sys.executable, "-m", "celery", "-A", "crt", "worker", "--concurrency=1", "--loglevel=INFO"]
    command += ["--without-mingle", "--without-gossip", "-n", f"chase-{uuid.uuid4().hex[:8]}@%h"]
    env = {**os.environ, "DATABASE_URL": url_of_the_test_database(), "CELERY_BROKER_URL": settings.CELERY_BROKER_URL}
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT)
    yield process, log
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


def test_a_real_worker_runs_the_chase_and_alerts_the_navigator(worker):
    process, log = worker
    sync_role_groups(apps)  # a transactional test's flush removed the groups the migration made
    program = f.ProgramFactory(slug="okc-worker")
    navigator = f.UserFactory(program=program, roles=[Role.NAVIGATOR])
    case = f.CaseFactory(program=program, navigator=navigator)
    referral = f.ReferralFactory(
        program=program,
        individual=case.individual,
        case=case,
        chase_level=1,  # reminded a window ago; the next step is the navigator's alert
        next_action_owner="partner",
        next_action_due_at=timezone.now() - timedelta(minutes=1),
    )

    result = chase_referrals.delay()  # no arguments: nothing about the person crosses the broker

    deadline = time.monotonic() + 90
    while not Item.objects.filter(referral=referral).exists():
        if process.poll() is not None or time.monotonic() > deadline:
            print(log.read_text()[-4000:])  # the worker's own words, for whoever reads the failure
            pytest.fail("the worker did not raise the alert")
        time.sleep(0.25)
    alert = Item.objects.get(referral=referral)
    assert (alert.kind, alert.level, alert.recipient_id) == ("referral_unanswered", 2, navigator.pk)
    assert Referral.objects.get(pk=referral.pk).chase_level == 2
    assert result.get(timeout=30) == {"navigator_alerted": 1}
