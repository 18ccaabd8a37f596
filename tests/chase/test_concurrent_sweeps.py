"""Two or three sweeps at once on PostgreSQL (a second beat, a duplicated tick, a redelivered task):
every reminder is sent and every alert raised exactly once."""

import threading
import time
from datetime import timedelta

import pytest
from django.apps import apps
from django.db import connection
from django.utils import timezone

from accounts.roles import Role, sync_role_groups
from cases import follow_up_sweep
from cases.models import FollowUp
from inbox.alerts import Recipients
from inbox.models import Item
from providers.models import Organization
from referrals import chase, outbox
from referrals.models import Delivery, Referral, ReferralEvent
from tests import factories as f

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def at_once(work, *, threads: int) -> list:
    """Run work() in that many threads released together, each on its own connection."""
    barrier = threading.Barrier(threads)
    results, errors = [], []

    def run():
        try:
            barrier.wait(timeout=30)
            results.append(work())
        except Exception as error:  # reported below, with the thread's own traceback
            errors.append(error)
        finally:
            connection.close()

    workers = [threading.Thread(target=run) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    assert errors == []
    assert len(results) == threads
    return results


@pytest.fixture
def kicks(monkeypatch):
    """The outbox's after-commit kicks, recorded instead of sent to the broker."""
    sent: list[int] = []
    lock = threading.Lock()

    def record(delivery_id: int) -> None:
        with lock:
            sent.append(delivery_id)

    monkeypatch.setattr(outbox, "kick", record)
    return sent


@pytest.fixture
def team(settings):
    sync_role_groups(apps)  # a transactional test's flush removed the groups the migration made
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    program = f.ProgramFactory(slug="okc-concurrent")
    navigator = f.UserFactory(program=program, roles=[Role.NAVIGATOR])
    f.UserFactory(program=program, roles=[Role.SUPERVISOR])
    partner = f.OrganizationFactory(channel=Organization.Channel.EMAIL, notification_email="intake@example.org")
    return program, navigator, partner


def step_totals(results: list[dict]) -> dict[str, int]:
    totals: dict[str, int] = {}
    for counts in results:
        for step, n in counts.items():
            if step not in ("already_claimed", "still_due"):  # both depend on the other threads' timing
                totals[step] = totals.get(step, 0) + n
    return totals


def test_three_sweeps_at_once_make_each_referral_step_exactly_once(team, kicks):
    program, navigator, partner = team
    past = timezone.now() - timedelta(minutes=5)
    service = f.ServiceFactory(organization=partner)
    made = {"reminded": [], "navigator_alerted": [], "supervisor_alerted": [], "outcome_requested": []}
    for i in range(60):
        case = f.CaseFactory(program=program, navigator=navigator)
        fields = {"program": program, "individual": case.individual, "case": case, "service": service}
        fields |= {"next_action_due_at": past - timedelta(seconds=i), "next_action_owner": "partner"}
        if i % 4 == 3:
            made["outcome_requested"].append(
                f.ReferralFactory(**fields, status="accepted", appointment_at=past - timedelta(days=1))
            )
        else:
            step = ["reminded", "navigator_alerted", "supervisor_alerted"][i % 4]
            made[step].append(f.ReferralFactory(**fields, chase_level=i % 4))
    now = timezone.now()

    results = at_once(lambda: chase.chase_due_referrals(now), threads=3)

    assert step_totals(results) == dict.fromkeys(made, 15)
    assert (
        sorted(Delivery.objects.values_list("event_type", flat=True))
        == ["referral.outcome_requested"] * 15 + ["referral.reminder"] * 15
    )
    assert sorted(kicks) == sorted(Delivery.objects.values_list("pk", flat=True))  # one kick each, after commit
    assert Item.objects.filter(kind="referral_unanswered", level=2).count() == 15
    assert Item.objects.filter(kind="referral_unanswered", level=3).count() == 15
    assert Item.objects.filter(kind="appointment_no_outcome", level=1).count() == 15
    assert FollowUp.objects.filter(label__startswith="appt-").count() == 15
    assert ReferralEvent.objects.filter(actor_kind="system").count() == 60
    # And a duplicated tick for the same instant, afterwards, finds nothing to do.
    assert chase.chase_due_referrals(now) == {}


def test_three_sweeps_at_once_raise_each_follow_up_alert_exactly_once(team):
    program, navigator, _ = team
    now = timezone.now()
    grace = program.follow_up_grace
    for i in range(45):
        case = f.CaseFactory(program=program, navigator=navigator)
        overdue = [grace, 2 * grace, timedelta(hours=80)][i % 3] + timedelta(seconds=i)
        f.FollowUpFactory(case=case, label="24h", due_at=now - overdue, escalation_level=i % 3)

    results = at_once(lambda: follow_up_sweep.sweep_due_follow_ups(now), threads=3)

    assert step_totals(results) == {"owner_alerted": 15, "supervisor_alerted": 15, "missed": 15}
    assert Item.objects.filter(kind="follow_up_overdue", level=1).count() == 15
    assert Item.objects.filter(kind="follow_up_overdue", level=2).count() == 15
    assert FollowUp.objects.filter(is_missed=True).count() == 15
    assert follow_up_sweep.sweep_due_follow_ups(now) == {}


def test_a_sweep_waiting_on_a_row_another_sweep_is_claiming_finds_it_taken(team, kicks, monkeypatch):
    """Force the race: the first claim holds its row lock while the second sweep tries the same row."""
    program, navigator, partner = team
    case = f.CaseFactory(program=program, navigator=navigator)
    referral = f.ReferralFactory(
        program=program,
        individual=case.individual,
        case=case,
        service=f.ServiceFactory(organization=partner),
        next_action_due_at=timezone.now() - timedelta(minutes=1),
        next_action_owner="partner",
    )
    now = timezone.now()
    [[first_read]] = list(chase.due_referrals(now))
    [[second_read]] = list(chase.due_referrals(now))
    claimed, release = threading.Event(), threading.Event()
    make_step = chase._make_referral_step

    def slow_step(*args, **kwargs):
        claimed.set()
        assert release.wait(timeout=30)
        return make_step(*args, **kwargs)

    monkeypatch.setattr(chase, "_make_referral_step", slow_step)
    outcome = {}

    def sweep(name, seen):
        try:
            outcome[name] = chase.chase_referral(seen, now=now, recipients=Recipients())
        finally:
            connection.close()

    first = threading.Thread(target=sweep, args=("first", first_read))
    first.start()
    assert claimed.wait(timeout=30)  # the first claim's UPDATE is done, its transaction still open
    second = threading.Thread(target=sweep, args=("second", second_read))
    second.start()
    time.sleep(0.5)
    assert second.is_alive()  # blocked on the row lock held by the first claim
    release.set()
    first.join(timeout=30)
    second.join(timeout=30)

    assert outcome == {"first": "reminded", "second": None}
    assert Delivery.objects.filter(referral=referral).count() == 1
    assert Referral.objects.get(pk=referral.pk).chase_level == 1
