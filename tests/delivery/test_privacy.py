"""Nothing that identifies the person leaves in a webhook, an email or a task message."""

import base64
import json
from datetime import timedelta

import pytest
import redis
from django.core import mail
from django.utils import timezone

from referrals import delivery as service
from referrals import outbox, tasks
from referrals.models import Delivery
from tests.delivery.conftest import canary_strings, referral_to
from tests.delivery.helpers import attempt_when_due
from tests.delivery.receiver import Reply


def assert_no_canary(text: str) -> None:
    leaked = [canary for canary in canary_strings() if canary.lower() in text.lower()]
    assert leaked == []


@pytest.fixture
def sent_tasks(monkeypatch):
    """The arguments of every deliver task the outbox would put on the broker."""
    calls = []
    monkeypatch.setattr(
        tasks.deliver, "apply_async", lambda args=None, kwargs=None, **options: calls.append((args, kwargs))
    )
    return calls


def test_webhook_body_and_headers_carry_no_personal_data(
    receiver, referral, sent_tasks, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        delivery = outbox.enqueue_event(referral, "referral.requested")
    service.deliver(delivery.pk)

    (request,) = receiver.requests
    assert_no_canary(request.body.decode())
    assert_no_canary(json.dumps(request.headers))
    assert_no_canary(json.dumps(delivery.payload))
    assert set(json.loads(request.body)["data"]) == {"referral_id", "status"}
    # The task message carries the delivery's primary key and its attempt count, nothing else.
    assert sent_tasks == [((delivery.pk, 0), None)]  # 0: the attempts made so far


def test_notification_email_carries_only_the_referral_number_and_a_link(
    email_partner, program, person, navigator, settings
):
    settings.PUBLIC_BASE_URL = "https://crt.example.gov"
    referral = referral_to(email_partner, program=program, individual=person, navigator=navigator)
    delivery = outbox.enqueue_event(referral, "referral.requested")

    assert service.deliver(delivery.pk) == service.Result.DELIVERED

    (message,) = mail.outbox
    assert message.to == ["intake@riverside.example"]
    assert message.subject == f"New referral #{referral.pk}"
    assert f"https://crt.example.gov/partner/referrals/{referral.pk}/" in message.body
    assert_no_canary(message.subject + message.body + json.dumps(dict(message.extra_headers)))
    delivery.refresh_from_db()
    assert delivery.state == Delivery.State.DELIVERED


def test_a_resent_email_keeps_its_message_id_so_mail_clients_fold_it(email_partner, program, person, navigator):
    referral = referral_to(email_partner, program=program, individual=person, navigator=navigator)
    delivery = outbox.enqueue_event(referral, "referral.reminder")

    first = service.notification_email(delivery, email_partner)
    again = service.notification_email(delivery, email_partner)

    assert first.extra_headers["Message-ID"] == again.extra_headers["Message-ID"]
    assert delivery.message_id in first.extra_headers["Message-ID"]
    assert first.subject == f"Referral #{referral.pk}: reminder"


def test_a_failing_mail_server_is_a_failed_attempt_that_is_retried(email_partner, program, person, navigator, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", 9  # nothing listens there
    referral = referral_to(email_partner, program=program, individual=person, navigator=navigator)
    delivery = outbox.enqueue_event(referral, "referral.requested")

    assert service.deliver(delivery.pk) == service.Result.RETRY

    assert delivery.attempt_log.get().error == "email not sent (ConnectionRefusedError)"


def test_pull_only_partners_get_no_outbox_row(partner_org, program, person, navigator):
    referral = referral_to(partner_org, program=program, individual=person, navigator=navigator)

    assert outbox.enqueue_event(referral, "referral.requested") is None
    assert not Delivery.objects.exists()


def test_revoked_consent_stops_the_next_attempt_before_anything_is_sent(receiver, referral, pending):
    consent = referral.individual.consents.get()
    consent.revoked_at = timezone.now()
    consent.save()

    assert service.deliver(pending.pk) == service.Result.CANCELLED

    assert receiver.requests == []
    pending.refresh_from_db()
    assert pending.state == Delivery.State.CANCELLED
    assert pending.attempt_log.get().error == "not sent: consent no longer allows disclosure to this partner"


@pytest.mark.parametrize("event_type", ["referral.cancelled", "referral.entered-in-error"])
def test_a_stop_notice_still_reaches_the_partner_after_consent_is_revoked(receiver, referral, event_type):
    # The partner already holds the referral; telling it to stop discloses nothing but ids.
    consent = referral.individual.consents.get()
    consent.revoked_at = timezone.now()
    consent.save()
    notice = outbox.enqueue_event(referral, event_type)

    assert service.deliver(notice.pk) == service.Result.DELIVERED

    (request,) = receiver.requests
    assert json.loads(request.body)["type"] == event_type


def test_consent_that_expires_between_retries_stops_the_retry(receiver, referral, pending, time_machine):
    consent = referral.individual.consents.get()
    receiver.script(Reply(500))
    assert service.deliver(pending.pk) == service.Result.RETRY
    pending.refresh_from_db()
    consent.expires_at = pending.next_attempt_at - timedelta(seconds=1)
    consent.save()

    assert attempt_when_due(time_machine, pending) == service.Result.CANCELLED

    assert len(receiver.requests) == 1


@pytest.mark.redis
def test_the_broker_message_carries_the_delivery_id_and_nothing_else(
    referral, settings, django_capture_on_commit_callbacks
):
    broker = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    broker.delete("celery")  # nothing consumes our Redis database during this test

    with django_capture_on_commit_callbacks(execute=True):
        delivery = outbox.enqueue_event(referral, "referral.requested")

    (raw,) = broker.lrange("celery", 0, -1)
    broker.delete("celery")
    assert_no_canary(raw.decode())
    envelope = json.loads(raw)
    args, kwargs, _ = json.loads(base64.b64decode(envelope["body"]))
    assert (envelope["headers"]["task"], args, kwargs) == ("referrals.deliver", [delivery.pk, 0], {})
