"""Inbox items, kind by kind: raised once for one cause, never twice, and resolved when the cause ends."""

from datetime import timedelta

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.utils import timezone

from accounts.breakglass import start_break_glass
from cases import follow_up_sweep, intake
from cases import services as case_services
from cases.models import FollowUp
from inbox import housekeeping, notifications
from inbox import services as inbox
from inbox.models import Item, ItemEvent, Kind, Notification, NotificationPreference, State
from referrals import chase
from referrals import services as referral_services
from referrals.models import Referral, ReferralEvent
from tests import factories as f

pytestmark = pytest.mark.django_db


def items(**subject):
    rows = Item.objects.filter(**subject).order_by("kind", "level", "pk")
    return list(rows.values_list("kind", "state", "recipient__username"))


def code_of(call) -> str:
    with pytest.raises(ValidationError) as raised:
        call()
    return raised.value.error_list[0].code


# --- raising ---------------------------------------------------------------------------------------


def test_one_cause_raises_one_item_however_often_it_is_raised(program, navigator):
    first = inbox.raise_item(
        kind=Kind.HIGH_RISK_NO_CONTACT,
        cause_key="case:1:no_contact:0",
        program_id=program.pk,
        recipient_id=navigator.pk,
    )
    again = inbox.raise_item(
        kind=Kind.HIGH_RISK_NO_CONTACT,
        cause_key="case:1:no_contact:0",
        program_id=program.pk,
        recipient_id=navigator.pk,
    )
    assert first is not None and again is None
    assert Item.objects.count() == 1
    assert list(first.events.values_list("action", "to_user")) == [("raised", navigator.pk)]


def test_a_cause_that_recurs_after_its_item_was_resolved_raises_a_new_one_unless_once(program, navigator):
    raise_it = lambda **more: inbox.raise_item(  # noqa: E731
        kind=Kind.FOLLOW_UP_OVERDUE, cause_key="k", program_id=program.pk, recipient_id=navigator.pk, **more
    )
    first = raise_it()
    inbox.resolve_item(first, by=navigator, note="Called her.")
    assert raise_it(once=True) is None
    assert raise_it() is not None
    assert sorted(Item.objects.values_list("state", flat=True)) == ["open", "resolved"]


# --- referrals: the partner's answers --------------------------------------------------------------------


def test_a_partner_declining_raises_a_declined_item_for_the_navigator(referral, partner_member, navigator):
    referral_services.reject_referral(referral, by=partner_member, reason="No beds this month.")
    assert items(referral=referral) == [("referral_declined", "open", navigator.username)]
    item = Item.objects.get(referral=referral)
    assert (item.individual_id, item.is_urgent) == (referral.individual_id, False)
    assert not Notification.objects.exists()  # a routine referral: no email at once


def test_declining_an_urgent_referral_is_urgent_and_emails_the_navigator_at_once(
    referral, partner_member, navigator, django_capture_on_commit_callbacks, settings
):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    Referral.objects.filter(pk=referral.pk).update(urgency=Referral.Urgency.URGENT)
    referral.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=False):
        referral_services.reject_referral(referral, by=partner_member, reason="No beds this month.")
    item = Item.objects.get(referral=referral)
    assert item.is_urgent
    (notification,) = Notification.objects.all()
    assert (notification.key, notification.user, notification.kind) == (f"urgent:{item.pk}", navigator, "urgent")
    assert notifications.send(notification.pk) == "sent"
    (email,) = mail.outbox
    assert email.to == [navigator.email]
    assert f"/inbox/items/{item.pk}/" in email.body
    assert "No beds" not in email.body and "Canary" not in email.body


def test_a_navigator_who_switched_urgent_declines_off_gets_the_item_but_no_email(referral, partner_member, navigator):
    NotificationPreference.objects.create(user=navigator, urgent_declined=False)
    Referral.objects.filter(pk=referral.pk).update(urgency=Referral.Urgency.URGENT)
    referral_services.reject_referral(referral, by=partner_member, reason="No beds this month.")
    assert Item.objects.get(referral=referral).is_urgent
    assert not Notification.objects.exists()


@pytest.mark.parametrize(
    ("finish", "kind"),
    [
        (lambda r, by: referral_services.complete_referral(r, by=by, outcome_note="Housed."), "referral_completed"),
        (lambda r, by: referral_services.fail_referral(r, by=by, reason="Could not reach him."), "referral_failed"),
    ],
)
def test_a_partner_completing_or_failing_tells_the_navigator(referral, partner_member, navigator, finish, kind):
    referral_services.accept_referral(referral, by=partner_member)
    referral_services.start_referral(referral, by=partner_member)
    finish(referral, partner_member)
    assert items(referral=referral) == [(kind, "open", navigator.username)]


def test_the_partner_accepting_resolves_the_unanswered_items_of_the_referral(referral, partner_member, supervisor):
    for _ in range(3):
        Referral.objects.filter(pk=referral.pk).update(next_action_due_at=timezone.now() - timedelta(minutes=1))
        chase.chase_due_referrals()
    assert [level for (level,) in Item.objects.filter(referral=referral).values_list("level")] == [3, 2]
    referral_services.accept_referral(referral, by=partner_member)
    assert set(Item.objects.filter(referral=referral).values_list("state", "resolved_by")) == {("resolved", None)}
    assert set(ItemEvent.objects.filter(item__referral=referral).values_list("action", flat=True)) == {
        "raised",
        "auto_resolved",
    }


def test_an_outcome_resolves_the_appointment_passed_item(referral, partner_member):
    referral_services.accept_referral(referral, by=partner_member)
    Referral.objects.filter(pk=referral.pk).update(
        appointment_at=timezone.now() - timedelta(hours=1), next_action_due_at=timezone.now() - timedelta(minutes=1)
    )
    assert chase.chase_due_referrals() == {"outcome_requested": 1}
    assert items(referral=referral)[0][:2] == ("appointment_no_outcome", "open")
    referral_services.record_outcome_note(referral, by=partner_member, note="Came to the appointment.")
    assert items(referral=referral)[0][:2] == ("appointment_no_outcome", "resolved")


def test_the_sender_cancelling_resolves_every_item_of_the_referral(referral, navigator):
    f.ItemFactory(program=referral.program, referral=referral, recipient=navigator, cause_key="x")
    referral_services.cancel_referral(referral, by=navigator, reason="Moved away.")
    assert items(referral=referral) == [("referral_unanswered", "resolved", navigator.username)]


# --- follow-ups and contacts ----------------------------------------------------------------------------


def _overdue_follow_up(case, **fields):
    return f.FollowUpFactory(case=case, owner=case.navigator, due_at=timezone.now() - timedelta(days=2), **fields)


def test_a_missed_follow_up_is_resolved_by_the_contact_that_answers_it(case, navigator):
    follow_up = _overdue_follow_up(case)
    follow_up_sweep.sweep_due_follow_ups()
    follow_up_sweep.sweep_due_follow_ups()  # a second beat: nothing more
    assert items(follow_up=follow_up)[0] == ("follow_up_overdue", "open", navigator.username)
    count = Item.objects.filter(follow_up=follow_up).count()
    case_services.log_contact(
        case, by=navigator, occurred_at=timezone.now(), method="phone", outcome="reached", follow_up=follow_up
    )
    assert Item.objects.filter(follow_up=follow_up, state=State.RESOLVED).count() == count


def test_a_missed_follow_up_of_a_high_risk_case_is_urgent(case, navigator):
    case.risk_level = "high"
    case.save()
    follow_up = _overdue_follow_up(case)
    follow_up_sweep.sweep_due_follow_ups()
    assert Item.objects.filter(follow_up=follow_up, is_urgent=True).exists()
    assert Notification.objects.filter(kind="urgent", user=navigator).count() == 1


def test_closing_the_case_resolves_its_follow_up_items(case, navigator):
    follow_up = _overdue_follow_up(case)
    follow_up_sweep.sweep_due_follow_ups()
    case_services.close_case(case, by=navigator, reason="goals_met")
    assert {state for _, state, _ in items(follow_up=follow_up)} == {"resolved"}


def test_a_high_risk_person_without_contact_raises_one_item_until_a_contact(case, navigator, settings):
    settings.INBOX_HIGH_RISK_NO_CONTACT_DAYS = 3
    case.risk_level, case.opened_at = "high", timezone.now() - timedelta(days=5)
    case.save()
    assert housekeeping.high_risk_without_contact() == 1
    assert housekeeping.high_risk_without_contact() == 0
    case_services.log_contact(case, by=navigator, occurred_at=timezone.now(), method="phone", outcome="reached")
    assert items(individual=case.individual) == [("high_risk_no_contact", "resolved", navigator.username)]
    assert housekeeping.high_risk_without_contact() == 0  # reached today


# --- consent ---------------------------------------------------------------------------------------------


def test_a_consent_expiring_within_14_days_raises_one_item_per_open_referral(referral, consent, navigator):
    consent.expires_at = timezone.now() + timedelta(days=10)
    consent.save()
    assert housekeeping.consents()["expiring"] == 1
    assert housekeeping.consents()["expiring"] == 0
    assert items(consent=consent) == [("consent_expiring", "open", navigator.username)]


def test_a_revoked_consent_stops_the_chase_and_tells_the_navigator_once(referral, consent, navigator):
    f.ItemFactory(program=referral.program, referral=referral, recipient=navigator, cause_key="unanswered")
    consent.revoked_at = timezone.now() - timedelta(minutes=5)
    consent.save()
    assert housekeeping.consents() == {"stopped": 1, "expiring": 0}
    assert housekeeping.consents() == {"stopped": 0, "expiring": 0}
    referral.refresh_from_db()
    assert (referral.next_action_due_at, referral.next_action_owner, referral.status) == (
        None,
        "navigator",
        "requested",
    )
    assert ReferralEvent.objects.filter(referral=referral, note=referral_services.CONSENT_ENDED_NOTE).count() == 1
    assert items(referral=referral) == [
        ("consent_ended", "open", navigator.username),
        ("referral_unanswered", "resolved", navigator.username),
    ]
    assert not chase.chase_due_referrals(timezone.now() + timedelta(days=30))  # never chased again


def test_an_expired_consent_stops_the_chase_like_a_revoked_one(referral, consent, navigator):
    consent.expires_at = timezone.now() - timedelta(minutes=1)
    consent.save()
    assert referral_services.stop_chase_consent_ended(referral) is True
    assert items(referral=referral) == [("consent_ended", "open", navigator.username)]


def test_a_referral_with_its_consent_in_force_is_left_alone(referral):
    assert referral_services.stop_chase_consent_ended(referral) is False
    assert not Item.objects.exists()


# --- break-glass and deliveries ---------------------------------------------------------------------------


def test_break_glass_raises_an_item_for_the_programs_supervisor(program, peer, supervisor):
    stranger = f.IndividualFactory(program=program)
    grant = start_break_glass(peer, stranger, reason="Crisis call, no navigator on shift.")
    (item,) = Item.objects.all()
    assert (item.kind, item.recipient, item.break_glass, item.individual) == (
        Kind.BREAK_GLASS_USED,
        supervisor,
        grant,
        stranger,
    )
    assert not Item.objects.visible_to(peer).exists()  # the user who broke the glass does not see it


# --- acting on an item ------------------------------------------------------------------------------------


@pytest.fixture
def item(program, navigator, referral):
    return f.ItemFactory(program=program, referral=referral, recipient=navigator)


def test_acknowledge_resolve_and_the_history_they_leave(item, navigator):
    inbox.open_item(item, by=navigator)
    inbox.open_item(item, by=navigator)  # opened once
    inbox.acknowledge_item(item, by=navigator)
    assert code_of(lambda: inbox.resolve_item(item, by=navigator, note="  ")) == "note_required"
    inbox.resolve_item(item, by=navigator, note="Called the partner; they will answer today.")
    item.refresh_from_db()
    assert (item.state, item.resolved_by, item.resolution_note) == (
        "resolved",
        navigator,
        "Called the partner; they will answer today.",
    )
    assert list(item.events.values_list("action", flat=True)) == ["opened", "acknowledged", "resolved"]
    assert code_of(lambda: inbox.acknowledge_item(item, by=navigator)) == "invalid_transition"


def test_snooze_hides_an_item_from_the_count_until_its_time(item, navigator):
    assert inbox.count_for(navigator) == 1
    assert code_of(lambda: inbox.snooze_item(item, by=navigator, until=timezone.now() - timedelta(hours=1))) == (
        "invalid"
    )
    inbox.snooze_item(item, by=navigator, until=timezone.now() + timedelta(hours=2))
    assert inbox.count_for(navigator) == 0
    assert inbox.wake_snoozed() == 0
    assert inbox.wake_snoozed(timezone.now() + timedelta(hours=3)) == 1
    assert inbox.count_for(navigator) == 1
    assert list(item.events.values_list("action", flat=True)) == ["snoozed", "woke"]


def test_only_a_supervisor_reassigns_and_only_to_a_colleague(item, navigator, peer, supervisor, navigator_elsewhere):
    assert code_of(lambda: inbox.reassign_item(item, by=navigator, to=peer)) == "forbidden"
    assert code_of(lambda: inbox.reassign_item(item, by=supervisor, to=navigator_elsewhere)) == "invalid"
    inbox.reassign_item(item, by=supervisor, to=peer)
    item.refresh_from_db()
    assert item.recipient == peer
    assert list(item.events.values_list("action", "to_user")) == [("reassigned", peer.pk)]
    assert inbox.count_for(navigator) == 0 and inbox.count_for(peer) == 1


def test_another_programs_staff_cannot_act_on_an_item(item, navigator_elsewhere, peer):
    assert code_of(lambda: inbox.acknowledge_item(item, by=navigator_elsewhere)) == "not_found"
    assert code_of(lambda: inbox.resolve_item(item, by=peer, note="Not mine.")) == "not_found"


def test_the_count_is_one_query(item, navigator, django_assert_num_queries):
    f.ItemFactory.create_batch(5, program=item.program, recipient=navigator)
    with django_assert_num_queries(1):
        assert inbox.count_for(navigator) == 6


# --- housekeeping -------------------------------------------------------------------------------------------


def test_a_partner_with_stale_capacity_is_nudged_once(program, partner):
    partner.notification_email = "intake@partner.example.org"
    partner.save()
    capacity = f.ServiceCapacityFactory(service=f.ServiceFactory(organization=partner))
    f.ServiceCapacityFactory(service=f.ServiceFactory())  # fresh
    assert housekeeping.stale_capacity() == 0
    type(capacity).objects.filter(pk=capacity.pk).update(
        updated_at=timezone.now() - program.stale_capacity_after - timedelta(hours=1)
    )
    assert housekeeping.stale_capacity() == 1
    assert housekeeping.stale_capacity() == 0
    (nudge,) = Notification.objects.all()
    assert notifications.send(nudge.pk) == "sent"
    assert mail.outbox[0].to == ["intake@partner.example.org"]
    assert "/partner/" in mail.outbox[0].body


def test_purge_deletes_old_resolved_items_and_old_sent_emails_only(item, navigator, settings):
    settings.INBOX_RESOLVED_KEEP_DAYS = 30
    inbox.resolve_item(item, by=navigator, note="Done.")
    kept = f.ItemFactory(program=item.program, recipient=navigator)
    assert housekeeping.purge() == {"items": 0, "notifications": 0}
    later = timezone.now() + timedelta(days=31)
    assert housekeeping.purge(later)["items"] == 2  # the item and its history row
    assert list(Item.objects.values_list("pk", flat=True)) == [kept.pk]


def test_a_failed_email_is_retried_later_and_given_up_after_the_last_attempt(navigator, monkeypatch):
    row = Notification.objects.create(
        key="digest:x", kind="digest", user=navigator, created_at=timezone.now(), next_attempt_at=timezone.now()
    )

    def refuse(self, *args, **kwargs):
        raise OSError("smtp down")

    monkeypatch.setattr("django.core.mail.EmailMessage.send", refuse)
    assert notifications.send(row.pk) == "retry"
    assert notifications.send(row.pk) == "skipped"  # not due yet
    Notification.objects.filter(pk=row.pk).update(
        attempts=notifications.MAX_ATTEMPTS - 1, next_attempt_at=timezone.now()
    )
    assert notifications.send(row.pk) == "dead"


def test_follow_up_missed_sweep_still_answers_a_follow_up_only_once(case):
    # The sweep's claim stays the idempotency key of the escalation (referrals.chase).
    follow_up = _overdue_follow_up(case)
    first = follow_up_sweep.sweep_due_follow_ups()
    assert follow_up_sweep.sweep_due_follow_ups() == {}
    assert first
    assert FollowUp.objects.get(pk=follow_up.pk).escalation_level >= 1


def test_the_count_counts_what_the_orm_query_says(program, navigator, referral, peer):
    f.ItemFactory(program=program, recipient=navigator, referral=referral)  # open
    f.ItemFactory(program=program, recipient=navigator, referral=referral, state="acknowledged")
    f.ItemFactory(
        program=program, recipient=navigator, referral=referral, state="snoozed", snoozed_until=timezone.now()
    )
    f.ItemFactory(program=program, recipient=navigator, referral=referral, state="resolved", resolved_at=timezone.now())
    f.ItemFactory(program=f.ProgramFactory(), recipient=navigator, referral=referral)  # another program's
    f.ItemFactory(program=program, recipient=peer, referral=referral)
    expected = Item.objects.filter(recipient=navigator, program_id=program.pk, state__in=["open", "acknowledged"])
    assert inbox.count_for(navigator) == expected.count() == 2


def test_revoking_a_consent_in_the_app_stops_the_chase_and_tells_the_navigator_at_once(referral, consent, navigator):
    intake.revoke_consent(consent, by=navigator)
    referral.refresh_from_db()
    assert (referral.next_action_due_at, referral.next_action_owner) == (None, "navigator")
    assert items(referral=referral) == [("consent_ended", "open", navigator.username)]
    assert housekeeping.consents() == {"stopped": 0, "expiring": 0}  # nothing left for the hourly job
