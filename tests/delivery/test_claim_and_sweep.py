"""One attempt at a time per delivery; the sweep finds what is due; the outbox kicks after commit."""

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from referrals import delivery as service
from referrals import outbox, tasks
from referrals.models import Delivery
from tests import factories as f
from tests.delivery.receiver import Reply


def test_a_second_call_while_the_first_is_sending_sends_nothing(receiver, pending, monkeypatch):
    real_send = service.send_webhook
    second = []

    def send_while_another_call_arrives(*args, **kwargs):
        second.append(service.deliver(pending.pk))  # the redelivered message, or a second worker
        return real_send(*args, **kwargs)

    monkeypatch.setattr(service, "send_webhook", send_while_another_call_arrives)

    assert service.deliver(pending.pk) == service.Result.DELIVERED

    assert second == [service.Result.SKIPPED]
    assert len(receiver.requests) == 1


def test_a_claim_whose_lease_ran_out_is_taken_over_and_the_late_answer_does_not_overwrite(
    receiver, pending, monkeypatch, time_machine
):
    """A worker stuck past its lease: the row is retried, and the stuck attempt's outcome is only logged."""
    real_send = service.send_webhook
    takeover = []

    def stuck_past_the_lease(*args, **kwargs):
        if takeover:  # the second attempt sends normally
            return real_send(*args, **kwargs)
        time_machine.shift(service.claim_lease() + timedelta(seconds=1))
        takeover.append(None)
        takeover[0] = service.deliver(pending.pk)  # the sweep retries the row whose lease ran out
        return real_send(*args, **kwargs)  # the stuck attempt finally gets its (500) answer

    monkeypatch.setattr(service, "send_webhook", stuck_past_the_lease)
    receiver.script(Reply(200), Reply(500))  # the takeover is answered first, the stuck attempt last
    time_machine.move_to(timezone.now(), tick=True)

    assert service.deliver(pending.pk) == service.Result.SUPERSEDED

    assert takeover == [service.Result.DELIVERED]
    pending.refresh_from_db()
    assert (pending.state, pending.attempts, pending.last_status_code) == (Delivery.State.DELIVERED, 2, 200)
    assert pending.attempt_log.count() == 2


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_workers_racing_for_one_delivery_send_it_once(receiver, pending):
    receiver.default = Reply(200, sleep=0.3)
    start = threading.Barrier(2)
    results = []

    def worker():
        try:
            start.wait()
            results.append(service.deliver(pending.pk))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)

    assert sorted(results) == sorted([service.Result.DELIVERED, service.Result.SKIPPED])
    assert len(receiver.requests) == 1


@pytest.fixture
def enqueued(db, monkeypatch):
    ids = []
    monkeypatch.setattr(tasks.deliver, "delay", ids.append)
    return ids


def test_the_sweep_enqueues_due_pending_deliveries_oldest_first(enqueued):
    now = timezone.now()
    late = f.DeliveryFactory(next_attempt_at=now - timedelta(minutes=5))
    due = f.DeliveryFactory(next_attempt_at=now - timedelta(seconds=1))
    f.DeliveryFactory(next_attempt_at=now + timedelta(minutes=5))  # not yet
    f.DeliveryFactory(state=Delivery.State.DELIVERED, delivered_at=now, next_attempt_at=now - timedelta(hours=1))

    assert tasks.sweep_deliveries() == 2

    assert enqueued == [late.pk, due.pk]


def test_the_sweep_enqueues_a_bounded_batch(enqueued, monkeypatch):
    monkeypatch.setattr(tasks, "SWEEP_BATCH", 3)
    referral = f.ReferralFactory()
    for _ in range(5):
        f.DeliveryFactory(referral=referral, next_attempt_at=timezone.now() - timedelta(minutes=1))

    assert tasks.sweep_deliveries() == 3
    assert len(enqueued) == 3


def test_the_sweep_reads_due_rows_in_one_query(enqueued, django_assert_num_queries):
    f.DeliveryFactory(next_attempt_at=timezone.now() - timedelta(minutes=1))

    with django_assert_num_queries(1):  # SELECT id ... WHERE state = 'pending' AND next_attempt_at <= now
        tasks.sweep_deliveries()


def test_the_task_takes_a_primary_key_and_runs_the_attempt(receiver, pending):
    assert tasks.deliver.run(pending.pk) == service.Result.DELIVERED


def test_the_outbox_kicks_the_worker_only_after_commit(
    referral, enqueued, monkeypatch, django_capture_on_commit_callbacks
):
    sent = []
    monkeypatch.setattr(tasks.deliver, "apply_async", lambda args, **options: sent.append(args))

    with django_capture_on_commit_callbacks() as callbacks:
        delivery = outbox.enqueue_event(referral, "referral.requested")
        assert sent == []

    assert len(callbacks) == 1
    callbacks[0]()
    assert sent == [(delivery.pk,)]


def test_a_broker_that_cannot_be_reached_does_not_undo_or_break_the_change(
    referral, monkeypatch, django_capture_on_commit_callbacks
):
    attempts = []

    def broker_down(*args, **options):
        attempts.append(args)
        raise ConnectionRefusedError(111, "Connection refused")

    monkeypatch.setattr(tasks.deliver, "apply_async", broker_down)

    with django_capture_on_commit_callbacks(execute=True):
        first = outbox.enqueue_event(referral, "referral.requested")
    with django_capture_on_commit_callbacks(execute=True):
        second = outbox.enqueue_event(referral, "referral.reminder")

    assert Delivery.objects.pending_due(timezone.now()).filter(pk__in=[first.pk, second.pk]).count() == 2
    # After one failure the outbox stops knocking for a while and leaves both to the sweep.
    assert attempts == [((first.pk,),)]
