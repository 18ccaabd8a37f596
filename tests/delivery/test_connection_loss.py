"""With a real worker, a real broker and a real receiver: the attempt log after a SIGKILL mid-request,
and a delivery whose worker lost its database connection (pg_terminate_backend) sent within seconds.

docs/reliability.md has the figures these print.
"""

import time
from datetime import timedelta

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from referrals import delivery, outbox
from referrals.models import Delivery, DeliveryAttempt
from tests import factories as f
from tests.delivery.conftest import new_webhook_secret, referral_to
from tests.delivery.receiver import Receiver
from tests.delivery.worker import Worker, database_url_for

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.worker,
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture
def broker_db():
    import redis

    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    client.flushdb()
    yield
    client.flushdb()


def _partner(url):
    return f.OrganizationFactory(channel="webhook", webhook_url=url, webhook_secret=new_webhook_secret())


def _wait_for(predicate, *, timeout: float, what: str, worker: Worker) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if predicate():
            return time.monotonic() - started
        time.sleep(0.1)
    pytest.fail(f"{what} not seen within {timeout}s; worker log:\n{worker.log_tail()}")


def _worker(tmp_path, **env) -> Worker:
    return Worker(
        database_url=database_url_for(settings.DATABASES["default"]["NAME"]),
        broker_url=settings.CELERY_BROKER_URL,
        concurrency=1,
        env={"WEBHOOK_TIMEOUT_SECONDS": "2", **env},
        directory=tmp_path,
    )


def test_a_worker_killed_between_the_request_and_the_commit_leaves_the_attempt_in_the_log(
    settings, broker_db, program, person, navigator, tmp_path, capsys
):
    settings.WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]
    with Receiver(latency=1.5) as receiver:  # the answer takes 1.5 s: the worker dies waiting for it
        partner = _partner(receiver.url)
        referral = referral_to(partner, program=program, individual=person, navigator=navigator)
        worker = _worker(tmp_path)
        try:
            worker.start().wait_ready()
            pending = outbox.enqueue_event(referral, "referral.requested")
            _wait_for(lambda: len(receiver.requests) == 1, timeout=30, what="the request", worker=worker)
            worker.kill()  # the partner holds the request; the worker never hears the answer
        finally:
            worker.stop()

        attempts = list(DeliveryAttempt.objects.filter(delivery=pending))
        assert len(attempts) == len(receiver.requests) == 1
        assert attempts[0].completed_at is None
        assert "no answer recorded" in attempts[0].outcome

        # The lease runs out; the next attempt is logged too, and the log still equals what arrived.
        Delivery.objects.filter(pk=pending.pk).update(next_attempt_at=timezone.now() - timedelta(seconds=1))
        assert delivery.deliver(pending.pk) == delivery.Result.DELIVERED
        assert DeliveryAttempt.objects.filter(delivery=pending).count() == len(receiver.requests) == 2
    with capsys.disabled():
        print(f"\n[reliability] SIGKILL mid-request: {len(receiver.requests)} requests, 2 attempts logged")


def test_a_task_whose_database_connection_is_terminated_mid_request_delivers_within_seconds(
    settings, broker_db, program, person, navigator, tmp_path, capsys
):
    """Celery closes a worker's connection around every task, so the connection a task can lose is
    the one it holds while the request is out: terminated then, the answer is still recorded."""
    settings.WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]
    with Receiver(latency=1.5) as receiver:  # the worker's session sits idle for 1.5 s: terminate it then
        partner = _partner(receiver.url)
        referral = referral_to(partner, program=program, individual=person, navigator=navigator)
        worker = _worker(tmp_path)
        try:
            worker.start().wait_ready()
            pending = outbox.enqueue_event(referral, "referral.requested")  # no sweep runs in this test
            _wait_for(lambda: len(receiver.requests) == 1, timeout=30, what="the request", worker=worker)
            with connection.cursor() as cursor:  # every session of the worker's, none of ours
                cursor.execute(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
                (terminated,) = cursor.fetchone()
            assert terminated >= 1
            took = _wait_for(
                lambda: Delivery.objects.get(pk=pending.pk).state == Delivery.State.DELIVERED,
                timeout=15,
                what="the delivery after its connection was terminated",
                worker=worker,
            )
        finally:
            worker.stop()
    assert len(receiver.requests) == 1  # recorded, not sent again
    assert DeliveryAttempt.objects.filter(delivery=pending, status_code=200, completed_at__isnull=False).count() == 1
    assert "database connection lost" in worker.log_path.read_text()
    with capsys.disabled():
        print(f"\n[reliability] {terminated} worker session(s) terminated mid-request; delivered {took:.1f}s later")
