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
@pytest.mark.django_db(transaction=True)
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
    """The (delivery id, attempts so far) of every deliver task the sweep publishes."""
    messages = []
    monkeypatch.setattr(tasks.deliver, "delay", lambda *args: messages.append(args))
    return messages


def test_the_sweep_enqueues_due_pending_deliveries_oldest_first(enqueued):
    now = timezone.now()
    late = f.DeliveryFactory(next_attempt_at=now - timedelta(minutes=5))
    due = f.DeliveryFactory(next_attempt_at=now - timedelta(seconds=1))
    f.DeliveryFactory(next_attempt_at=now + timedelta(minutes=5))  # not yet
    f.DeliveryFactory(state=Delivery.State.DELIVERED, delivered_at=now, next_attempt_at=now - timedelta(hours=1))

    assert tasks.sweep_deliveries() == 2

    assert enqueued == [(late.pk, 0), (due.pk, 0)]


def test_a_delivery_waiting_in_the_queue_is_not_enqueued_again_by_the_next_sweeps(enqueued, time_machine):
    delivery = f.DeliveryFactory(next_attempt_at=timezone.now())
    time_machine.move_to(timezone.now() + timedelta(seconds=1), tick=False)
    tasks.sweep_deliveries()

    time_machine.shift(timedelta(seconds=30))
    assert tasks.sweep_deliveries() == 0  # the next tick: still queued, left alone

    time_machine.shift(outbox.ENQUEUED_GRACE)
    assert tasks.sweep_deliveries() == 1  # the message must have been lost: send another
    assert enqueued == [(delivery.pk, 0), (delivery.pk, 0)]


def test_a_sweep_message_is_honoured_although_the_sweep_moved_next_attempt_at(receiver, pending, enqueued):
    tasks.sweep_deliveries()

    ((delivery_id, attempts),) = enqueued
    assert service.deliver(delivery_id, after_attempts=attempts) == service.Result.DELIVERED


def test_a_stale_or_duplicated_message_finds_the_attempt_made_and_does_nothing(receiver, pending, time_machine):
    receiver.script(Reply(500))
    assert service.deliver(pending.pk, after_attempts=0) == service.Result.RETRY

    time_machine.move_to(timezone.now() + timedelta(days=1), tick=True)  # long due again
    assert service.deliver(pending.pk, after_attempts=0) == service.Result.SKIPPED  # the same message, twice

    assert len(receiver.requests) == 1
    assert service.deliver(pending.pk, after_attempts=1) == service.Result.DELIVERED


def test_rows_the_broker_refused_stay_due_for_the_next_sweep(db, monkeypatch):
    now = timezone.now() - timedelta(seconds=1)
    first, second = f.DeliveryFactory(next_attempt_at=now), f.DeliveryFactory(next_attempt_at=now)
    published = []

    def broker_fails_on_the_second(delivery_id, attempts):
        if published:
            raise ConnectionRefusedError(111, "Connection refused")
        published.append(delivery_id)

    monkeypatch.setattr(tasks.deliver, "delay", broker_fails_on_the_second)

    with pytest.raises(ConnectionRefusedError):
        tasks.sweep_deliveries()

    first.refresh_from_db()
    second.refresh_from_db()
    assert first.next_attempt_at > timezone.now()  # published: left alone for ENQUEUED_GRACE
    assert second.next_attempt_at == now  # refused: still due


def test_the_sweep_works_in_batches_and_stops_at_its_limit_for_one_tick(enqueued, monkeypatch):
    monkeypatch.setattr(outbox, "SWEEP_BATCH", 3)
    monkeypatch.setattr(outbox, "SWEEP_MAX_BATCHES", 2)
    referral = f.ReferralFactory()
    for _ in range(8):
        f.DeliveryFactory(referral=referral, next_attempt_at=timezone.now() - timedelta(minutes=1))

    assert tasks.sweep_deliveries() == 6
    assert tasks.sweep_deliveries() == 2  # the next tick takes the rest
    assert len({delivery_id for delivery_id, _ in enqueued}) == 8


def test_the_sweep_costs_two_queries_per_batch(enqueued, django_assert_num_queries):
    referral = f.ReferralFactory()
    for _ in range(3):
        f.DeliveryFactory(referral=referral, next_attempt_at=timezone.now() - timedelta(minutes=1))

    with django_assert_num_queries(2):
        # SELECT id, attempts ... WHERE state = 'pending' AND next_attempt_at <= now ... LIMIT 500
        # UPDATE ... SET next_attempt_at = now + grace WHERE (still due) AND id IN (enqueued)
        tasks.sweep_deliveries()


def test_the_task_takes_a_primary_key_and_runs_the_attempt(receiver, pending):
    assert tasks.deliver.run(pending.pk, 0) == service.Result.DELIVERED
    assert tasks.deliver.run(pending.pk, 0) == service.Result.SKIPPED


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
    assert sent == [(delivery.pk, 0)]


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
    assert attempts == [((first.pk, 0),)]
