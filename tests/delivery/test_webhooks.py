"""Webhook attempts against a real local HTTP receiver: signing, and each kind of answer."""

import json
from datetime import timedelta
from email.utils import format_datetime

import pytest
from django.utils import timezone
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from crt import backoff
from inbox.models import Item
from inbox.models import Kind as ItemKind
from referrals import delivery as service
from referrals import outbox
from referrals.models import Delivery
from tests.delivery.conftest import new_webhook_secret
from tests.delivery.helpers import attempt_when_due
from tests.delivery.receiver import Reply

Result = service.Result


def test_webhook_verifies_with_the_partners_secret_and_carries_the_thin_payload(receiver, webhook_partner, pending):
    assert service.deliver(pending.pk) == Result.DELIVERED

    (request,) = receiver.requests
    payload = Webhook(webhook_partner.webhook_secret).verify(request.body, request.headers)
    assert payload == {
        "type": "referral.requested",
        "timestamp": pending.payload["timestamp"],
        "data": {"referral_id": pending.referral_id, "status": "requested"},
    }
    assert request.webhook_id == pending.message_id
    assert request.headers["content-type"] == "application/json"
    pending.refresh_from_db()
    assert pending.state == Delivery.State.DELIVERED
    assert pending.delivered_at is not None
    assert pending.last_status_code == 200


def test_webhook_is_refused_by_a_verifier_holding_another_secret(receiver, pending):
    service.deliver(pending.pk)

    (request,) = receiver.requests
    with pytest.raises(WebhookVerificationError):
        Webhook(new_webhook_secret()).verify(request.body, request.headers)


def test_during_rotation_both_the_new_and_the_previous_secret_verify(receiver, webhook_partner, pending):
    previous = new_webhook_secret()
    webhook_partner.webhook_previous_secret = previous
    webhook_partner.webhook_previous_secret_expires_at = timezone.now() + timedelta(days=7)
    webhook_partner.save()

    service.deliver(pending.pk)

    (request,) = receiver.requests
    assert len(request.headers["webhook-signature"].split(" ")) == 2
    Webhook(webhook_partner.webhook_secret).verify(request.body, request.headers)
    Webhook(previous).verify(request.body, request.headers)


def test_an_expired_previous_secret_no_longer_signs(receiver, webhook_partner, pending):
    previous = new_webhook_secret()
    webhook_partner.webhook_previous_secret = previous
    webhook_partner.webhook_previous_secret_expires_at = timezone.now() - timedelta(minutes=1)
    webhook_partner.save()

    service.deliver(pending.pk)

    (request,) = receiver.requests
    assert len(request.headers["webhook-signature"].split(" ")) == 1
    with pytest.raises(WebhookVerificationError):
        Webhook(previous).verify(request.body, request.headers)


def test_a_500_is_retried_later_with_the_same_webhook_id_and_a_fresh_signature(
    receiver, webhook_partner, pending, time_machine
):
    receiver.script(Reply(500))

    assert attempt_when_due(time_machine, pending) == Result.RETRY
    pending.refresh_from_db()
    assert pending.state == Delivery.State.PENDING
    assert pending.last_status_code == 500
    assert pending.next_attempt_at > timezone.now()
    assert service.deliver(pending.pk) == Result.SKIPPED  # not due yet: nothing is sent

    assert attempt_when_due(time_machine, pending) == Result.DELIVERED

    first, second = receiver.requests
    assert first.webhook_id == second.webhook_id == pending.message_id
    assert int(second.headers["webhook-timestamp"]) > int(first.headers["webhook-timestamp"])
    Webhook(webhook_partner.webhook_secret).verify(second.body, second.headers)
    assert [(a.status_code, a.error) for a in pending.attempt_log.all()] == [(500, "HTTP 500"), (200, "")]


def test_a_partner_too_slow_to_answer_is_a_timed_out_attempt_that_is_retried(receiver, pending, settings):
    settings.WEBHOOK_TIMEOUT_SECONDS = 1
    receiver.script(Reply(200, sleep=2.5))

    assert service.deliver(pending.pk) == Result.RETRY

    (attempt,) = pending.attempt_log.all()
    assert attempt.status_code is None
    assert attempt.error == "timed out after 1s"
    assert 900 <= attempt.duration_ms < 2500
    pending.refresh_from_db()
    assert pending.state == Delivery.State.PENDING
    assert pending.next_attempt_at >= timezone.now() + backoff.MIN_DELAY - timedelta(seconds=2)


def test_a_429_waits_as_long_as_retry_after_says_in_seconds(receiver, pending):
    receiver.script(Reply(429, headers={"Retry-After": "120"}))
    before = timezone.now()

    assert service.deliver(pending.pk) == Result.RETRY

    pending.refresh_from_db()
    assert pending.last_status_code == 429
    assert before + timedelta(seconds=119) <= pending.next_attempt_at <= timezone.now() + timedelta(seconds=121)


def test_a_429_waits_until_a_retry_after_http_date(receiver, pending):
    when = (timezone.now() + timedelta(minutes=30)).replace(microsecond=0)
    receiver.script(Reply(429, headers={"Retry-After": format_datetime(when, usegmt=True)}))

    service.deliver(pending.pk)

    pending.refresh_from_db()
    assert abs(pending.next_attempt_at - when) < timedelta(seconds=5)


def test_a_retry_after_longer_than_the_cap_is_capped(receiver, pending):
    receiver.script(Reply(503, headers={"Retry-After": str(30 * 24 * 3600)}))

    service.deliver(pending.pk)

    pending.refresh_from_db()
    assert pending.next_attempt_at <= timezone.now() + backoff.RETRY_AFTER_CAP


def test_a_redirect_is_a_failed_attempt_and_is_never_followed(receiver, pending):
    receiver.script(Reply(301, headers={"Location": receiver.url + "elsewhere"}))

    assert service.deliver(pending.pk) == Result.RETRY

    assert [r.path for r in receiver.requests] == ["/"]
    pending.refresh_from_db()
    assert pending.last_status_code == 301
    assert pending.last_error == "HTTP 301: redirect not followed"


def test_a_410_disables_the_partners_webhook_cancels_and_tells_the_navigator(
    receiver, webhook_partner, pending, referral, navigator
):
    receiver.script(Reply(410))

    assert service.deliver(pending.pk) == Result.CANCELLED

    webhook_partner.refresh_from_db()
    assert webhook_partner.webhook_disabled_at is not None
    pending.refresh_from_db()
    assert pending.state == Delivery.State.CANCELLED
    assert pending.next_attempt_at is None
    (alert,) = Item.objects.all()
    assert (alert.kind, alert.delivery_id, alert.referral_id, alert.recipient) == (
        ItemKind.DELIVERY_DEAD,
        pending.pk,
        referral.pk,
        navigator,
    )


def test_after_a_410_later_deliveries_to_that_partner_are_cancelled_unsent(receiver, pending, referral):
    receiver.script(Reply(410))
    service.deliver(pending.pk)
    later = outbox.enqueue_event(referral, "referral.cancelled")

    assert service.deliver(later.pk) == Result.CANCELLED

    assert len(receiver.requests) == 1
    assert later.attempt_log.get().error == "not sent: partner webhook is disabled"


def test_an_inactive_partner_gets_nothing_and_the_navigator_is_told(receiver, webhook_partner, pending):
    webhook_partner.is_active = False
    webhook_partner.save()

    assert service.deliver(pending.pk) == Result.CANCELLED

    assert receiver.requests == []
    assert Item.objects.filter(delivery=pending, kind=ItemKind.DELIVERY_DEAD).count() == 1


def test_a_delivery_is_dead_after_the_last_attempt_with_exactly_one_alert(
    receiver, pending, referral, navigator, time_machine
):
    receiver.default = Reply(500)
    results = [attempt_when_due(time_machine, pending) for _ in range(service.MAX_ATTEMPTS)]

    assert results == [Result.RETRY] * (service.MAX_ATTEMPTS - 1) + [Result.DEAD]
    pending.refresh_from_db()
    assert (pending.state, pending.attempts, pending.next_attempt_at) == (Delivery.State.DEAD, 15, None)
    assert pending.attempt_log.count() == service.MAX_ATTEMPTS
    assert receiver.webhook_ids() == {pending.message_id: service.MAX_ATTEMPTS}
    # Running the task again, or raising the alert again, changes nothing.
    assert service.deliver(pending.pk) == Result.SKIPPED
    service._alert_navigator(pending)
    (alert,) = Item.objects.all()
    assert (alert.kind, alert.recipient, alert.referral, alert.program_id) == (
        ItemKind.DELIVERY_DEAD,
        navigator,
        referral,
        referral.program_id,
    )


def test_the_retry_schedule_spans_about_three_days(receiver, pending, time_machine):
    receiver.default = Reply(502)
    first = timezone.now()
    for _ in range(service.MAX_ATTEMPTS):
        attempt_when_due(time_machine, pending)

    span = pending.attempt_log.last().attempted_at - first
    # Full jitter draws each wait from [0, ceiling]: the expected span is 3 days and it can never
    # exceed the sum of the ceilings (about 6 days).
    assert timedelta(hours=12) < span <= timedelta(minutes=8733) + timedelta(hours=1)


def test_a_client_error_other_than_410_or_429_is_dead_after_five_attempts(receiver, pending, time_machine):
    receiver.default = Reply(404)

    results = [attempt_when_due(time_machine, pending) for _ in range(service.MAX_MISCONFIGURED_ATTEMPTS)]

    assert results[-1] == Result.DEAD
    assert results[:-1] == [Result.RETRY] * (service.MAX_MISCONFIGURED_ATTEMPTS - 1)
    assert Item.objects.filter(delivery=pending).count() == 1


def test_a_delivered_message_is_not_sent_again_when_the_task_runs_twice(receiver, pending):
    assert service.deliver(pending.pk) == Result.DELIVERED
    assert service.deliver(pending.pk) == Result.SKIPPED

    assert len(receiver.requests) == 1


def test_a_partner_that_is_down_is_a_connection_failure_that_is_retried(webhook_partner, pending, settings):
    settings.WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]
    webhook_partner.webhook_url = "http://127.0.0.1:9/"  # discard port: nothing listens
    webhook_partner.save()

    assert service.deliver(pending.pk) == Result.RETRY

    assert pending.attempt_log.get().error == "connection failed (ConnectionError)"


def test_the_body_is_exactly_the_stored_payload(receiver, pending):
    service.deliver(pending.pk)

    (request,) = receiver.requests
    assert json.loads(request.body) == pending.payload


def test_each_dead_delivery_of_a_referral_raises_its_own_alert(receiver, pending, referral, time_machine):
    receiver.default = Reply(404)
    reminder = outbox.enqueue_event(referral, "referral.reminder")

    for delivery in (pending, reminder):
        results = [attempt_when_due(time_machine, delivery) for _ in range(service.MAX_MISCONFIGURED_ATTEMPTS)]
        assert results[-1] == Result.DEAD

    # Dead-delivery alerts are unique per delivery, so each message that never arrived is told once.
    alerts = Item.objects.filter(referral=referral, kind=ItemKind.DELIVERY_DEAD)
    assert sorted(alerts.values_list("delivery_id", flat=True)) == sorted([pending.pk, reminder.pk])
