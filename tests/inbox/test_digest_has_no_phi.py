"""The inbox's emails (daily digest, urgent item, capacity nudge) carry counts, item numbers and links,
never a person's details: a canary test like tests/attack/test_no_phi_in_sinks.py."""

from datetime import datetime, time, timedelta

import pytest
from django.core import mail
from django.utils import timezone

from inbox import notifications
from inbox.models import Kind, Notification
from inbox.services import raise_item
from referrals import services as referral_services
from referrals.models import Referral
from tests import factories as f
from tests.attack.conftest import build_side, leaked

pytestmark = pytest.mark.django_db


@pytest.fixture
def side(program, partner_org, navigator, peer):
    import datetime as dt

    return build_side(
        program=program, partner_org=partner_org, navigator=navigator, peer=peer, born=dt.date(1947, 2, 9)
    )


def _after_digest_time():
    local = timezone.localtime()
    at = timezone.make_aware(datetime.combine(local.date(), time(23, 59)))
    return at if at > timezone.now() else timezone.now()


def test_no_inbox_email_carries_a_persons_details(side, navigator, supervisor, partner_member_of):
    referral = side.referral
    Referral.objects.filter(pk=referral.pk).update(urgency=Referral.Urgency.URGENT, status="requested")
    referral.refresh_from_db()
    partner = partner_member_of(referral.organization)
    reason = f"Declined because {side.texts['first']} {side.texts['last']} was rude"
    referral_services.reject_referral(referral, by=partner, reason=reason)  # urgent: an email at once
    for kind, key in [(Kind.FOLLOW_UP_OVERDUE, "fu"), (Kind.HIGH_RISK_NO_CONTACT, "hr"), (Kind.CONSENT_EXPIRING, "ce")]:
        raise_item(
            kind=kind,
            cause_key=key,
            program_id=side.program.pk,
            recipient_id=navigator.pk,
            individual_id=side.person.pk,
            referral=referral,
        )
    capacity = side.capacity
    type(capacity).objects.filter(pk=capacity.pk).update(updated_at=timezone.now() - timedelta(days=60))
    referral.organization.notification_email = "intake@partner.example.org"
    referral.organization.save()
    from inbox import housekeeping

    housekeeping.stale_capacity()
    assert notifications.queue_digests(_after_digest_time()) == 2  # the navigator and the supervisor
    results = notifications.send_due(_after_digest_time())
    assert results["sent"] == Notification.objects.count() == 4  # urgent, two digests, the nudge

    kinds = {email.subject.split(":")[0] for email in mail.outbox}
    assert kinds == {"Urgent", "Your inbox today", "Please update your capacity"}
    digest = next(email for email in mail.outbox if email.to == [navigator.email] and "today" in email.subject)
    assert "5 open items" in digest.body  # the side's own, the decline and the three above and "/inbox/" in digest.body
    everything = "\n".join(f"{email.subject}\n{email.body}\n{email.extra_headers}" for email in mail.outbox)
    assert leaked(everything, [*side.canaries(), reason, "rude"]) == []


def test_two_digest_runs_on_one_day_send_one_digest_each(navigator, supervisor):
    at = _after_digest_time()
    assert notifications.queue_digests(at) == 2
    assert notifications.queue_digests(at) == 0
    notifications.send_due(at)
    notifications.send_due(at)
    assert sorted(email.to[0] for email in mail.outbox) == sorted([navigator.email, supervisor.email])


def test_no_digest_before_the_configured_time_or_for_those_who_switched_it_off(navigator, supervisor, settings):
    settings.INBOX_DIGEST_AT = "07:00"
    local = timezone.localtime()
    early = timezone.make_aware(datetime.combine(local.date(), time(6, 30)))
    assert notifications.queue_digests(early) == 0
    from inbox.models import NotificationPreference

    NotificationPreference.objects.create(user=supervisor, daily_digest=False)
    assert notifications.queue_digests(early + timedelta(hours=1)) == 1
    assert Notification.objects.get().user == navigator


@pytest.fixture
def partner_member_of():
    return lambda organization: f.PartnerUserFactory(partner_organization=organization)
