"""Two or three beat processes at once on PostgreSQL: each cause raises one item, each digest and each
urgent email is written once. Threads released together, each on its own connection, as in
tests/chase/test_concurrent_sweeps.py."""

from datetime import timedelta

import pytest
from django.apps import apps
from django.utils import timezone

from accounts.roles import Role, sync_role_groups
from inbox import housekeeping, notifications
from inbox.models import Item, ItemEvent, Notification
from inbox.services import raise_item
from tests import factories as f
from tests.chase.test_concurrent_sweeps import at_once

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def team(settings):
    sync_role_groups(apps)  # a transactional test's flush removed the groups the migration made
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    program = f.ProgramFactory(slug="okc-inbox-concurrent")
    navigator = f.UserFactory(program=program, roles=[Role.NAVIGATOR])
    supervisor = f.UserFactory(program=program, roles=[Role.SUPERVISOR])
    return program, navigator, supervisor


def test_three_processes_raising_the_same_causes_at_once_raise_each_once(team):
    program, navigator, _ = team

    def raise_all():
        return sum(
            raise_item(
                kind="follow_up_overdue",
                cause_key=f"follow_up:{n}:overdue:1",
                program_id=program.pk,
                recipient_id=navigator.pk,
                is_urgent=True,
            )
            is not None
            for n in range(40)
        )

    results = at_once(raise_all, threads=3)
    assert sum(results) == 40
    assert Item.objects.count() == 40
    assert ItemEvent.objects.filter(action="raised").count() == 40
    assert Notification.objects.filter(kind="urgent").count() == 40  # one urgent email per item


def test_two_housekeeping_beats_at_once_raise_each_high_risk_item_once(team):
    program, navigator, _ = team
    for _ in range(20):
        f.CaseFactory(
            program=program, navigator=navigator, risk_level="high", opened_at=timezone.now() - timedelta(days=10)
        )
    results = at_once(housekeeping.high_risk_without_contact, threads=2)
    assert sum(results) == 20
    assert Item.objects.filter(kind="high_risk_no_contact").count() == 20


def test_two_digest_beats_at_once_write_one_digest_per_person(team, settings):
    settings.INBOX_DIGEST_AT = "00:00"
    at = timezone.now()
    at_once(lambda: notifications.queue_digests(at), threads=2)
    assert Notification.objects.filter(kind="digest").count() == 2
    results = at_once(lambda: dict(notifications.send_due(at)), threads=2)
    assert sum(r.get("sent", 0) for r in results) == 2
