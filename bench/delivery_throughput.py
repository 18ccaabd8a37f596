"""Benchmark of partner delivery: webhooks delivered per second by a real worker, against a floor.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/crt_bench_delivery \\
    CELERY_BROKER_URL=redis://127.0.0.1:6379/5 \\
        .venv/bin/python bench/delivery_throughput.py --deliveries 2000 --concurrency 4

What runs: a `celery -A crt worker` subprocess (prefork, --concurrency), Redis as the broker, and the
tests' local receiver (tests/delivery/receiver.py: a threaded HTTP server on 127.0.0.1 answering 200).
The timed part starts when the first deliver task is published and ends when the last Delivery row
is marked delivered: publishing one task per delivery (what the sweep and the outbox kick do), the
claim, the consent check, signing, the HTTP request, and recording the attempt.

The floor, measured in the same run on the same Redis: sequential LPUSH + BRPOP round trips of a
message the size of a real deliver task message. It is what moving the messages through the broker
costs with nothing else done; the ratio says how much of that rate the full delivery path keeps.

Use a database of its own: the script migrates it, creates the database if it is missing, and
deletes the rows it made when it ends. The broker's default queue must be empty (nothing else
consuming that Redis database).
"""

import argparse
import base64
import os
import statistics
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crt.settings")
os.environ.setdefault("SECRET_KEY", "bench-only-not-secret")
os.environ.setdefault("LOG_LEVEL", "WARNING")
os.environ["WEBHOOK_ALLOWED_HOSTS"] = "127.0.0.1"  # the local receiver


def ensure_database(url: str) -> None:
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--deliveries", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=4, help="worker processes")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds the receiver waits per answer")
    args = parser.parse_args()

    database_url = os.environ.get("DATABASE_URL", "")
    broker_url = os.environ.get("CELERY_BROKER_URL", "")
    if not database_url.startswith("postgres") or not broker_url.startswith("redis://"):
        sys.exit("Set DATABASE_URL=postgres://... (a database of its own) and CELERY_BROKER_URL=redis://...")
    ensure_database(database_url)

    import django

    django.setup()
    import redis
    from django.core.management import call_command

    from crt.scoping import system_read
    from tests.delivery.receiver import Receiver
    from tests.delivery.worker import Worker

    call_command("migrate", verbosity=0)
    broker = redis.Redis.from_url(broker_url)
    if broker.llen("celery"):
        sys.exit("The broker's default queue is not empty: is another worker or test using this Redis database?")

    # The worker runs the product's deliver task, a system read of its own (referrals.delivery);
    # here the script reads and deletes only the rows it made for the run.
    with (
        system_read("the benchmark makes its deliveries, waits for them and deletes them"),
        Receiver(latency=args.latency) as receiver,
    ):
        made = make_rows(receiver.url, args.deliveries + 2 * args.concurrency)
        warm_up, timed = made["deliveries"][: 2 * args.concurrency], made["deliveries"][2 * args.concurrency :]
        message_size = deliver_message_size(broker)
        floor_rate = redis_floor(broker, message_size, count=max(args.deliveries, 1000))

        worker = Worker(database_url=database_url, broker_url=broker_url, concurrency=args.concurrency)
        try:
            worker.start().wait_ready(timeout=120)
            run(
                receiver, warm_up, timeout=120
            )  # each pool process imports, connects to the database, opens its session
            elapsed = run(receiver, timed, timeout=600)
        finally:
            worker.stop()
        duplicates = sum(receiver.webhook_ids().values()) - len(receiver.webhook_ids())
        durations = attempt_durations(timed)
        delete_rows(made)

    rate = len(timed) / elapsed
    print(f"delivery: {len(timed)} webhooks delivered in {elapsed:.2f} s = {rate:.1f}/s")
    print(f"  worker --concurrency={args.concurrency}, receiver latency {args.latency * 1000:.0f} ms, ")
    print(f"  attempt duration (HTTP request) median {statistics.median(durations):.0f} ms, duplicates {duplicates}")
    print(f"floor: sequential Redis LPUSH+BRPOP of {message_size}-byte messages = {floor_rate:.0f}/s")
    print(f"ratio: delivery rate / floor = {rate / floor_rate:.3f} ({floor_rate / rate:.0f}x the floor's time)")


def make_rows(url: str, count: int) -> dict:
    """One partner, one person and `count` referrals, each with a pending webhook delivery (no kick)."""
    from django.utils import timezone

    from accounts.models import Program, User
    from cases.models import Case, Consent, Individual
    from providers.models import NeedDomain, Organization, Service
    from referrals.models import Delivery, Referral

    tag = uuid.uuid4().hex[:8]
    now = timezone.now()
    program = Program.objects.create(name=f"Bench {tag}", slug=f"bench-{tag}")
    user = User.objects.create(username=f"bench-{tag}", program=program)
    person = Individual.objects.create(program=program, legal_first_name="Bench", legal_last_name=tag)
    case = Case.objects.create(program=program, individual=person, navigator=user, opened_at=now)
    partner = Organization.objects.create(
        name=f"Bench partner {tag}",
        channel=Organization.Channel.WEBHOOK,
        webhook_url=url,
        webhook_secret="whsec_" + base64.b64encode(os.urandom(24)).decode(),
    )
    service = Service.objects.create(organization=partner, name="Bench service", need_domain=NeedDomain.HOUSING)
    consent = Consent.objects.create(
        individual=person,
        recipient_organization=partner,
        method=Consent.Method.WRITTEN,
        given_at=now,
        recorded_by=user,
    )
    referrals = Referral.objects.bulk_create(
        Referral(
            program=program,
            individual=person,
            case=case,
            service=service,
            organization=partner,
            need_domain=service.need_domain,
            reason="bench",
            consent=consent,
            status="requested",
            requested_at=now,
            created_by=user,
        )
        for _ in range(count)
    )
    deliveries = Delivery.objects.bulk_create(
        Delivery(
            referral=referral,
            organization=partner,
            channel=Delivery.Channel.WEBHOOK,
            event_type="referral.requested",
            message_id=f"msg_{uuid.uuid4().hex}",
            payload={
                "type": "referral.requested",
                "timestamp": now.isoformat(),
                "data": {"referral_id": referral.pk, "status": "requested"},
            },
            next_attempt_at=now,
        )
        for referral in referrals
    )
    return {
        "program": program,
        "user": user,
        "person": person,
        "case": case,
        "partner": partner,
        "service": service,
        "consent": consent,
        "deliveries": [d.pk for d in deliveries],
    }


def run(receiver, delivery_ids: list[int], *, timeout: float) -> float:
    """Publish one deliver task per id and wait until every row is delivered; the seconds it took.

    It watches the receiver (in memory) until every request has arrived, and only then the database,
    so that its polling does not load the database it measures."""
    from referrals.models import Delivery
    from referrals.tasks import deliver

    arrived_before = len(receiver.requests)
    started = time.monotonic()
    for delivery_id in delivery_ids:
        deliver.delay(delivery_id, 0)  # as the outbox kick does: no attempt made yet
    rows = Delivery.objects.filter(pk__in=delivery_ids, state=Delivery.State.DELIVERED)
    while len(receiver.requests) - arrived_before < len(delivery_ids) or rows.count() < len(delivery_ids):
        if time.monotonic() - started > timeout:
            sys.exit(f"only {rows.count()} of {len(delivery_ids)} delivered after {timeout} s")
        time.sleep(0.02)
    return time.monotonic() - started


def deliver_message_size(broker) -> int:
    """Bytes of one real deliver task message as it sits in Redis (published, read, removed)."""
    from referrals.tasks import deliver

    deliver.delay(2**62, 0)  # no such delivery: the message is only measured, never consumed
    raw = broker.lpop("celery")
    return len(raw)


def redis_floor(broker, size: int, *, count: int) -> float:
    key = f"bench:floor:{uuid.uuid4().hex}"
    message = b"x" * size
    try:
        started = time.monotonic()
        for _ in range(count):
            broker.lpush(key, message)
            broker.brpop([key], timeout=5)
        return count / (time.monotonic() - started)
    finally:
        broker.delete(key)


def attempt_durations(delivery_ids: list[int]) -> list[int]:
    from referrals.models import DeliveryAttempt

    return list(DeliveryAttempt.objects.filter(delivery_id__in=delivery_ids).values_list("duration_ms", flat=True))


def delete_rows(made: dict) -> None:
    from referrals.models import Delivery, Referral

    Delivery.objects.filter(organization=made["partner"]).delete()  # attempts go with them
    Referral.objects.filter(organization=made["partner"]).delete()
    for name in ("consent", "case", "person", "service", "partner", "user", "program"):
        made[name].delete()


if __name__ == "__main__":
    main()
