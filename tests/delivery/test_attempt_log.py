"""The attempt log equals what the partner received, and a lost database connection costs seconds.

In process here; tests/delivery/test_connection_loss.py does both with a real worker.
"""

import pytest
from django.db import OperationalError

from referrals import delivery, tasks
from referrals.models import Delivery, DeliveryAttempt


class WorkerDied(BaseException):
    """Stands in for a SIGKILL: nothing after it runs, no except clause of ours catches it."""


def test_the_attempt_is_logged_before_the_request_leaves(receiver, pending, monkeypatch):
    seen_at_send = []
    real_send = delivery.send_webhook

    def send_and_look(d, organization, *, at):
        seen_at_send.append(list(DeliveryAttempt.objects.filter(delivery=d).values_list("completed_at", flat=True)))
        return real_send(d, organization, at=at)

    monkeypatch.setattr(delivery, "send_webhook", send_and_look)
    assert delivery.deliver(pending.pk) == delivery.Result.DELIVERED
    assert seen_at_send == [[None]]  # one row, not yet answered, while the request was on its way
    attempt = DeliveryAttempt.objects.get(delivery=pending)
    assert attempt.status_code == 200
    assert attempt.completed_at is not None
    assert attempt.outcome == "HTTP 200"


def test_a_worker_dying_after_the_request_leaves_shows_an_attempt_with_no_answer(receiver, pending, monkeypatch):
    real_send = delivery.send_webhook

    def send_then_die(d, organization, *, at):
        real_send(d, organization, at=at)
        raise WorkerDied

    monkeypatch.setattr(delivery, "send_webhook", send_then_die)
    with pytest.raises(WorkerDied):
        delivery.deliver(pending.pk)

    assert len(receiver.requests) == 1
    attempt = DeliveryAttempt.objects.get(delivery=pending)
    assert attempt.completed_at is None
    assert "no answer recorded" in attempt.outcome
    assert Delivery.objects.get(pk=pending.pk).state == Delivery.State.PENDING  # the lease brings it back


def test_a_connection_lost_while_recording_is_retried_without_sending_again(receiver, pending, monkeypatch):
    monkeypatch.setattr(delivery, "RECORD_RETRY_PAUSE_SECONDS", 0.01)
    monkeypatch.setattr(delivery.connection, "close", lambda: None)  # the test's one transaction stays
    real_record = delivery._record_outcome
    calls = []

    def lose_the_first(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise OperationalError("server closed the connection unexpectedly")
        return real_record(*args, **kwargs)

    monkeypatch.setattr(delivery, "_record_outcome", lose_the_first)
    assert delivery.deliver(pending.pk) == delivery.Result.DELIVERED
    assert len(receiver.requests) == 1
    assert len(calls) == 2
    assert DeliveryAttempt.objects.filter(delivery=pending, status_code=200).count() == 1


def test_a_connection_lost_after_the_claim_says_which_claim_the_retry_holds(receiver, pending, monkeypatch):
    def broken(*args, **kwargs):
        raise OperationalError("terminating connection due to administrator command")

    monkeypatch.setattr(delivery, "disclosure_allowed", broken)
    with pytest.raises(delivery.ConnectionLost) as lost:
        delivery.deliver(pending.pk, after_attempts=0)
    assert lost.value.after_attempts == 1  # our claim: the retry takes the row at once, lease or not
    assert receiver.requests == []

    monkeypatch.undo()
    assert delivery.deliver(pending.pk, after_attempts=lost.value.after_attempts) == delivery.Result.DELIVERED
    assert len(receiver.requests) == 1


def test_a_connection_lost_before_the_claim_keeps_the_messages_count(pending, monkeypatch):
    def broken(*args, **kwargs):
        raise OperationalError("the database system is shutting down")

    monkeypatch.setattr(delivery.Delivery.objects, "filter", broken)
    with pytest.raises(delivery.ConnectionLost) as lost:
        delivery.deliver(pending.pk, after_attempts=0)
    assert lost.value.after_attempts == 0


def test_the_task_retries_a_lost_connection_with_the_claim_it_held(monkeypatch):
    calls = []

    def deliver(delivery_id, *, after_attempts):
        calls.append(after_attempts)
        if len(calls) == 1:
            raise delivery.ConnectionLost(after_attempts=4)
        return delivery.Result.DELIVERED

    monkeypatch.setattr(tasks.delivery_service, "deliver", deliver)
    monkeypatch.setattr(tasks.db.connection, "close", lambda: None)
    result = tasks.deliver.apply(args=(7, 3))  # eager: Celery runs the retry at once, countdown aside
    assert result.get() == delivery.Result.DELIVERED
    assert calls == [3, 4]


def test_the_task_gives_up_after_its_retries_and_leaves_the_rest_to_the_lease(monkeypatch):
    calls = []

    def always_lost(delivery_id, *, after_attempts):
        calls.append(after_attempts)
        raise delivery.ConnectionLost(after_attempts=after_attempts)

    monkeypatch.setattr(tasks.delivery_service, "deliver", always_lost)
    monkeypatch.setattr(tasks.db.connection, "close", lambda: None)
    result = tasks.deliver.apply(args=(7, 0))
    with pytest.raises(delivery.ConnectionLost):
        result.get()
    assert len(calls) == tasks.CONNECTION_RETRIES + 1
