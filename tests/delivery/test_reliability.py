"""At-least-once delivery with a real worker, a real broker and a real receiver.

The default run is small; CRT_RELIABILITY_SCALE=1 runs the full size (1000 deliveries, ten kills).
docs/reliability.md has the commands and the figures measured.
"""

import contextlib
import os
import random
import threading
import time
from datetime import timedelta

import pytest
from django.conf import settings
from django.db import connection
from django.db.models import Count
from kombu.exceptions import OperationalError
from standardwebhooks.webhooks import Webhook

from inbox.models import Item
from referrals import outbox, tasks
from referrals.models import Delivery, DeliveryAttempt
from tests import factories as f
from tests.delivery.conftest import referral_to
from tests.delivery.receiver import Receiver
from tests.delivery.worker import RedisServer, Worker, database_url_for, publishing_to

SCALE = float(os.environ.get("CRT_RELIABILITY_SCALE", "0.2"))
WORKER_ENV = {"WEBHOOK_TIMEOUT_SECONDS": "2"}  # a 12 s claim lease: killed claims come back soon

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.worker,
    pytest.mark.django_db(transaction=True),  # the role groups come back after each flush (accounts.apps)
]


@pytest.fixture
def slow_receiver(settings):
    """A partner taking 40 ms per answer, so that many deliveries are in flight at any moment."""
    settings.WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]
    with Receiver(latency=0.04) as running:
        yield running


@pytest.fixture
def make_deliveries(slow_receiver, program, person, navigator):
    partner = f.OrganizationFactory(
        channel="webhook", webhook_url=slow_receiver.url, webhook_secret="whsec_" + "c2VjcmV0LWZvci10ZXN0cw=="
    )
    first = referral_to(partner, program=program, individual=person, navigator=navigator)

    def make(count: int) -> list[Delivery]:
        """Referrals sent one by one, each writing its outbox row and kicking after commit."""
        made = []
        for _ in range(count):
            referral = f.ReferralFactory(
                program=program, individual=person, case=first.case, service=first.service, created_by=navigator
            )
            made.append(outbox.enqueue_event(referral, "referral.requested"))
        return made

    make.partner = partner
    return make


@pytest.fixture(autouse=True)
def short_enqueued_grace(monkeypatch):
    """The sweep here runs in this process every second: let it resend a lost message after 15 s."""
    monkeypatch.setattr(outbox, "ENQUEUED_GRACE", timedelta(seconds=15))


@pytest.fixture
def broker_db():
    """Our Redis database starts and ends empty (a killed worker leaves unacknowledged messages)."""
    import redis

    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    client.flushdb()
    yield
    client.flushdb()


def sweep_until_delivered(expected: int, *, timeout: float) -> float:
    """Run the delivery sweep every second (beat does it every 30 s in production) until done."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        with contextlib.suppress(OperationalError):  # the broker is still down: try again next round
            tasks.sweep_deliveries()
        if Delivery.objects.filter(state=Delivery.State.DELIVERED).count() == expected:
            return time.monotonic() - started
        time.sleep(1)
    states = dict(Delivery.objects.values_list("state").annotate(n=Count("pk")).order_by())
    pytest.fail(f"not all {expected} deliveries delivered after {timeout}s: {states}")


def assert_every_delivery_arrived_once_or_more(receiver: Receiver, deliveries, partner) -> int:
    """Every webhook-id arrived, every request verifies; returns the number of duplicates."""
    seen = receiver.webhook_ids()
    assert set(seen) == {d.message_id for d in deliveries}
    verifier = Webhook(partner.webhook_secret)
    for request in receiver.requests:
        verifier.verify(request.body, request.headers)
    assert not Delivery.objects.exclude(state=Delivery.State.DELIVERED).exists()
    assert not Item.objects.exists()
    return sum(seen.values()) - len(seen)


def test_every_delivery_arrives_while_the_worker_is_killed_again_and_again(
    make_deliveries, slow_receiver, broker_db, capsys, tmp_path
):
    count, kills_wanted = max(50, int(1000 * SCALE)), max(4, int(10 * SCALE))
    worker = Worker(
        database_url=database_url_for(settings.DATABASES["default"]["NAME"]),
        broker_url=settings.CELERY_BROKER_URL,
        concurrency=4,
        env=WORKER_ENV,
        directory=tmp_path,
    )
    stop = threading.Event()
    kills = []

    def keep_killing():
        """Let the worker come up and get busy, then SIGKILL it mid-flight and start it again."""
        try:
            while len(kills) < kills_wanted and not stop.is_set():
                worker.wait_ready(timeout=60)
                if stop.wait(random.uniform(0.5, 2.0)):
                    return
                pending = Delivery.objects.system("the test counts what is pending")  # a thread of the test's own
                kills.append(pending.filter(state=Delivery.State.PENDING).count())
                worker.kill()
                worker.start()
        finally:
            connection.close()

    started = time.monotonic()
    worker.start()
    killer = threading.Thread(target=keep_killing, name="killer", daemon=True)
    killer.start()
    try:
        deliveries = make_deliveries(count)
        sweep_until_delivered(count, timeout=120 + 240 * SCALE)
        stop.set()
        killer.join(timeout=60)
    finally:
        stop.set()
        killer.join(timeout=60)
        worker.stop()
    elapsed = time.monotonic() - started

    duplicates = assert_every_delivery_arrived_once_or_more(slow_receiver, deliveries, make_deliveries.partner)
    in_flight_kills = sum(1 for pending in kills if pending > 0)
    assert in_flight_kills >= 2, f"the worker was not killed while deliveries were pending: {kills}"
    # The attempt log holds every request the partner received, kills included: each attempt is
    # logged before its request leaves. It can hold a few more: a request the kill cut off before it
    # had fully arrived (the receiver drops it), at most one per worker process per kill.
    logged = DeliveryAttempt.objects.count()
    received = len(slow_receiver.requests)
    assert received <= logged <= received + 4 * len(kills), (logged, received)
    for message_id, arrived in slow_receiver.webhook_ids().items():
        assert DeliveryAttempt.objects.filter(delivery__message_id=message_id).count() >= arrived
    with capsys.disabled():
        print(
            f"\n[reliability] {count} deliveries, {len(kills)} SIGKILLs ({in_flight_kills} with deliveries pending), "
            f"{received} requests, {logged} attempts logged, {duplicates} duplicates, all delivered in {elapsed:.1f}s"
        )


def test_deliveries_created_while_the_broker_is_down_are_sent_once_it_is_back(
    make_deliveries, slow_receiver, capsys, tmp_path
):
    count = max(20, int(200 * SCALE))
    redis_server = RedisServer(directory=tmp_path).start()
    worker = Worker(
        database_url=database_url_for(settings.DATABASES["default"]["NAME"]),
        broker_url=redis_server.url,
        concurrency=2,
        env=WORKER_ENV,
        directory=tmp_path,
    )
    try:
        with publishing_to(redis_server.url):
            worker.start().wait_ready()
            before = make_deliveries(count // 2)
            deadline = time.monotonic() + 60
            while Delivery.objects.filter(state=Delivery.State.DELIVERED).count() < len(before):
                assert time.monotonic() < deadline, "the kicks alone did not deliver while the broker was up"
                time.sleep(0.2)

            redis_server.stop()
            outage_started = time.monotonic()
            during = make_deliveries(count)  # the outbox is in the database: sending still works
            creating = time.monotonic() - outage_started
            assert Delivery.objects.filter(state=Delivery.State.PENDING).count() == count
            time.sleep(2)
            assert Delivery.objects.filter(state=Delivery.State.PENDING).count() == count  # nothing got through

            redis_server.start()  # same port, empty: every message of the outage is gone
            recovery = sweep_until_delivered(count + len(before), timeout=120)
    finally:
        worker.stop()
        redis_server.stop()

    duplicates = assert_every_delivery_arrived_once_or_more(slow_receiver, before + during, make_deliveries.partner)
    with capsys.disabled():
        print(
            f"\n[reliability] broker outage: {count} referrals sent in {creating:.1f}s while Redis was down; "
            f"all delivered {recovery:.1f}s after it came back; {duplicates} duplicates"
        )
