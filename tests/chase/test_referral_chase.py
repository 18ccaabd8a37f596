"""The referral chase ladder: remind the partner, then tell the navigator, then the supervisor,
each at its time and never before, each once."""

from datetime import timedelta

import pytest

from accounts.roles import Role
from cases.models import FollowUp
from crt import sweeps
from inbox.alerts import Recipients
from inbox.models import Item
from providers.models import Organization
from referrals import chase, services
from referrals.models import Delivery, Referral, ReferralEvent
from referrals.sweeps import chase_referrals
from tests import factories as f
from tests.chase.conftest import START, days

SECOND = timedelta(seconds=1)


def reminders(referral):
    return list(Delivery.objects.filter(referral=referral).values_list("event_type", flat=True))


def alerts(referral):
    return list(Item.objects.filter(referral=referral).values_list("kind", "level", "recipient__username"))


def test_nothing_happens_before_the_answer_window_ends(clock, send_referral):
    referral = send_referral()
    clock.move_to(START + days(1) - SECOND)

    assert chase.chase_due_referrals() == {}

    referral.refresh_from_db()
    assert (referral.chase_level, referral.next_action_due_at) == (0, START + days(1))
    assert reminders(referral) == []


def test_partner_is_reminded_when_the_answer_window_ends(clock, send_referral):
    referral = send_referral()
    clock.move_to(START + days(1))

    assert chase.chase_due_referrals() == {"reminded": 1}

    referral.refresh_from_db()
    assert referral.chase_level == 1
    assert referral.next_action_due_at == START + days(2)  # another window, from now
    assert referral.next_action_owner == Referral.NextActionOwner.PARTNER
    assert reminders(referral) == ["referral.reminder"]
    assert alerts(referral) == []


def test_navigator_is_alerted_one_window_after_the_reminder_and_not_before(clock, send_referral):
    referral = send_referral()
    clock.move_to(START + days(1))
    chase.chase_due_referrals()
    clock.move_to(START + days(2) - SECOND)
    assert chase.chase_due_referrals() == {}

    clock.move_to(START + days(2))
    assert chase.chase_due_referrals() == {"navigator_alerted": 1}

    referral.refresh_from_db()
    assert (referral.chase_level, referral.next_action_due_at) == (2, START + days(3))
    assert alerts(referral) == [("referral_unanswered", 2, "nina.navigator")]
    assert reminders(referral) == ["referral.reminder"]  # the partner is not reminded again


def test_supervisor_is_alerted_after_a_third_window_and_the_chase_stops(clock, send_referral, supervisor):
    referral = send_referral()
    for day in (1, 2):
        clock.move_to(START + days(day))
        chase.chase_due_referrals()
    clock.move_to(START + days(3) - SECOND)
    assert chase.chase_due_referrals() == {}

    clock.move_to(START + days(3))
    assert chase.chase_due_referrals() == {"supervisor_alerted": 1}

    referral.refresh_from_db()
    assert referral.chase_level == 3
    assert referral.next_action_owner == Referral.NextActionOwner.SUPERVISOR
    assert referral.next_action_due_at is None
    assert not Referral.objects.due(START + days(365)).exists()  # the sweep never reads it again
    assert sorted(alerts(referral)) == [
        ("referral_unanswered", 2, "nina.navigator"),
        ("referral_unanswered", 3, "sam.supervisor"),
    ]
    clock.move_to(START + days(30))
    assert chase.chase_due_referrals() == {}


def test_sweeping_again_at_the_same_instant_changes_nothing(clock, send_referral, supervisor):
    referrals = [send_referral(chase_level=level) for level in (0, 1, 2)]
    clock.move_to(START + days(1))

    first = chase.chase_due_referrals()
    second = chase.chase_due_referrals()

    assert first == {"reminded": 1, "navigator_alerted": 1, "supervisor_alerted": 1}
    assert second == {}
    assert Delivery.objects.count() == 1
    assert Item.objects.count() == 2
    assert [r.chase_level for r in Referral.objects.filter(pk__in=[r.pk for r in referrals]).order_by("pk")] == [
        1,
        2,
        3,
    ]


def test_a_stale_read_claims_nothing_and_sends_nothing(clock, send_referral):
    referral = send_referral()
    clock.move_to(START + days(1))
    [[first_read]] = list(chase.due_referrals(START + days(1)))
    [[second_read]] = list(chase.due_referrals(START + days(1)))  # a duplicated tick, or a second beat

    assert chase.chase_referral(first_read, now=START + days(1), recipients=Recipients()) == "reminded"
    assert chase.chase_referral(second_read, now=START + days(1), recipients=Recipients()) is None

    assert reminders(referral) == ["referral.reminder"]


def test_a_referral_answered_after_the_sweep_read_it_is_not_chased(clock, send_referral):
    referral = send_referral()
    clock.move_to(START + days(1))
    [[seen]] = list(chase.due_referrals(START + days(1)))
    # Meanwhile the partner accepts (referrals.services resets the clock).
    Referral.objects.filter(pk=referral.pk).update(status="accepted", next_action_due_at=START + days(8))

    assert chase.chase_referral(seen, now=START + days(1), recipients=Recipients()) is None

    referral.refresh_from_db()
    assert (referral.chase_level, referral.next_action_due_at) == (0, START + days(8))
    assert reminders(referral) == []


@pytest.mark.parametrize(
    ("status", "reason"),
    [
        ("rejected", "no capacity"),
        ("cancelled", "moved away"),
        ("completed", ""),
        ("failed", "lost contact"),
        ("entered-in-error", ""),
        ("draft", ""),
    ],
)
def test_closed_and_draft_referrals_are_never_chased(clock, send_referral, status, reason):
    referral = send_referral(status=status, status_reason=reason, chase_level=0)
    clock.move_to(START + days(60))

    assert chase.chase_due_referrals() == {}

    referral.refresh_from_db()
    assert referral.chase_level == 0
    assert reminders(referral) == []
    assert alerts(referral) == []


def test_pull_only_partner_gets_no_reminder_message_but_the_navigator_and_supervisor_are_alerted(
    clock, send_referral, supervisor
):
    referral = send_referral(organization=f.OrganizationFactory(channel=Organization.Channel.PULL))
    steps = []
    for day in (1, 2, 3):
        clock.move_to(START + days(day))
        steps += list(chase.chase_due_referrals())

    assert steps == ["reminded", "navigator_alerted", "supervisor_alerted"]
    assert reminders(referral) == []
    assert sorted(alerts(referral)) == [
        ("referral_unanswered", 2, "nina.navigator"),
        ("referral_unanswered", 3, "sam.supervisor"),
    ]


def test_webhook_partner_is_reminded_through_the_outbox(clock, send_referral):
    webhook = f.OrganizationFactory(
        channel=Organization.Channel.WEBHOOK, webhook_url="https://hooks.example.org/crt", webhook_secret="whsec_x"
    )
    referral = send_referral(organization=webhook)
    clock.move_to(START + days(1))

    chase.chase_due_referrals()

    delivery = Delivery.objects.get(referral=referral)
    assert (delivery.event_type, delivery.channel, delivery.state) == ("referral.reminder", "webhook", "pending")
    assert delivery.payload["data"]["referral_id"] == referral.pk


def test_the_window_is_the_referrals_own_programs(clock, send_referral, program):
    program.referral_answer_window = timedelta(hours=4)
    program.save(update_fields=["referral_answer_window"])
    referral = send_referral(next_action_due_at=START + timedelta(hours=4))
    clock.move_to(START + timedelta(hours=4))

    chase.chase_due_referrals()

    referral.refresh_from_db()
    assert referral.next_action_due_at == START + timedelta(hours=8)


def test_without_a_case_the_navigator_alert_goes_to_whoever_sent_the_referral(clock, send_referral, navigator):
    referral = send_referral(case=None, individual=f.IndividualFactory(program=navigator.program), chase_level=1)
    clock.move_to(START + days(1))

    chase.chase_due_referrals()

    assert alerts(referral) == [("referral_unanswered", 2, referral.created_by.username)]


def test_an_inactive_navigator_is_passed_over_for_the_sender(clock, send_referral, navigator):
    navigator.is_active = False
    navigator.save(update_fields=["is_active"])
    referral = send_referral(chase_level=1)
    clock.move_to(START + days(1))

    chase.chase_due_referrals()

    assert alerts(referral) == [("referral_unanswered", 2, referral.created_by.username)]


def test_the_supervisor_alert_goes_to_the_programs_first_active_supervisor(clock, send_referral, program):
    f.UserFactory(username="gone.supervisor", program=program, roles=[Role.SUPERVISOR], is_active=False)
    f.UserFactory(username="first.supervisor", program=program, roles=[Role.SUPERVISOR])
    f.UserFactory(username="second.supervisor", program=program, roles=[Role.SUPERVISOR])
    f.UserFactory(username="elsewhere.supervisor", roles=[Role.SUPERVISOR])
    referral = send_referral(chase_level=2)
    clock.move_to(START + days(1))

    chase.chase_due_referrals()

    assert alerts(referral) == [("referral_unanswered", 3, "first.supervisor")]


def test_with_no_supervisor_the_alert_is_still_raised_for_the_program(clock, send_referral, staff_admin):
    referral = send_referral(chase_level=2)
    clock.move_to(START + days(1))

    chase.chase_due_referrals()

    alert = Item.objects.get(referral=referral)
    assert (alert.level, alert.recipient) == (3, None)
    assert list(Item.objects.visible_to(staff_admin)) == [alert]


def test_a_stalled_accepted_referral_climbs_the_same_ladder(clock, send_referral, supervisor):
    referral = send_referral(status="accepted", next_action_due_at=START + days(7))
    steps = []
    for day in (7, 8, 9):
        clock.move_to(START + days(day))
        steps += list(chase.chase_due_referrals())

    assert steps == ["reminded", "navigator_alerted", "supervisor_alerted"]
    assert reminders(referral) == ["referral.reminder"]
    assert sorted(alerts(referral)) == [
        ("referral_unanswered", 2, "nina.navigator"),
        ("referral_unanswered", 3, "sam.supervisor"),
    ]


def test_a_passed_appointment_asks_the_partner_and_gives_the_navigator_a_follow_up(clock, send_referral, program):
    appointment = START + days(2)
    referral = send_referral(
        status="in-progress", appointment_at=appointment, next_action_due_at=appointment + program.follow_up_grace
    )
    clock.move_to(appointment + program.follow_up_grace - SECOND)
    assert chase.chase_due_referrals() == {}

    clock.move_to(appointment + program.follow_up_grace)
    assert chase.chase_due_referrals() == {"outcome_requested": 1}

    assert reminders(referral) == ["referral.outcome_requested"]
    assert alerts(referral) == [("appointment_no_outcome", 1, "nina.navigator")]
    follow_up = FollowUp.objects.get(case=referral.case, label=f"appt-{referral.pk}")
    assert (follow_up.owner.username, follow_up.due_at) == ("nina.navigator", appointment + program.follow_up_grace)
    referral.refresh_from_db()
    assert (referral.chase_level, referral.next_action_due_at) == (1, appointment + program.follow_up_grace + days(1))


def test_still_no_outcome_a_window_later_tells_the_navigator_again(clock, send_referral):
    referral = send_referral(status="accepted", appointment_at=START - days(1), chase_level=0)
    clock.move_to(START + days(1))
    chase.chase_due_referrals()
    clock.move_to(START + days(2))

    assert chase.chase_due_referrals() == {"navigator_alerted": 1}
    assert sorted(alerts(referral)) == [
        ("appointment_no_outcome", 1, "nina.navigator"),
        ("referral_unanswered", 2, "nina.navigator"),
    ]
    assert FollowUp.objects.filter(label=f"appt-{referral.pk}").count() == 1


def test_a_passed_appointment_on_a_referral_without_a_case_still_alerts(clock, send_referral, navigator):
    referral = send_referral(
        case=None, individual=f.IndividualFactory(program=navigator.program), status="accepted", appointment_at=START
    )
    clock.move_to(START + days(1))

    assert chase.chase_due_referrals() == {"outcome_requested": 1}
    assert alerts(referral) == [("appointment_no_outcome", 1, referral.created_by.username)]
    assert not FollowUp.objects.exists()


def test_an_appointment_still_ahead_gets_a_plain_reminder(clock, send_referral):
    referral = send_referral(status="accepted", appointment_at=START + days(5))
    clock.move_to(START + days(1))

    assert chase.chase_due_referrals() == {"reminded": 1}
    assert reminders(referral) == ["referral.reminder"]


def test_a_later_stall_raises_a_new_item_once_the_first_was_resolved(clock, send_referral):
    referral = send_referral(chase_level=1)
    clock.move_to(START + days(1))
    chase.chase_due_referrals()
    first = Item.objects.get(referral=referral)
    # The partner accepts: referrals.services restarts the clock at level 0 and resolves the item.
    referral.refresh_from_db()
    services.accept_referral(referral, by=f.PartnerUserFactory(partner_organization=referral.organization))
    first.refresh_from_db()
    assert (first.state, first.resolved_at) == ("resolved", START + days(1))
    Referral.objects.filter(pk=referral.pk).update(next_action_due_at=START + days(8))

    for day in (8, 9):
        clock.move_to(START + days(day))
        chase.chase_due_referrals()

    again = Item.objects.exclude(pk=first.pk).get(referral=referral)
    assert (again.state, again.created_at, again.level, again.cause_key) == (
        "open",
        START + days(9),
        2,
        first.cause_key,
    )
    clock.move_to(START + days(10))
    Referral.objects.filter(pk=referral.pk).update(chase_level=1, next_action_due_at=START + days(10))
    chase.chase_due_referrals()  # the same step again while its item is open: nothing new
    assert Item.objects.filter(referral=referral).count() == 2


def test_a_hand_edited_referral_past_the_last_level_is_dropped_without_effects(clock, send_referral):
    referral = send_referral(chase_level=3)
    clock.move_to(START + days(1))

    assert chase.chase_due_referrals() == {"stopped": 1}

    referral.refresh_from_db()
    assert (referral.chase_level, referral.next_action_due_at) == (3, None)
    assert alerts(referral) == [] and reminders(referral) == []


def test_the_due_set_is_read_once_then_loaded_in_batches_oldest_first(clock, send_referral, django_assert_num_queries):
    made = [send_referral(next_action_due_at=START - timedelta(minutes=m)) for m in (5, 1, 4, 2, 3)]
    send_referral(next_action_due_at=START + SECOND)  # not due yet

    with django_assert_num_queries(4):  # the ids from the index, then batches of 2, 2 and 1
        batches = [[r.pk for r in batch] for batch in chase.due_referrals(START, batch_size=2)]

    oldest_first = [r.pk for r in sorted(made, key=lambda r: r.next_action_due_at)]
    assert batches == [oldest_first[:2], oldest_first[2:4], oldest_first[4:]]


def test_a_pass_stops_at_its_limit_and_the_next_tick_carries_on(clock, send_referral, monkeypatch):
    monkeypatch.setattr(sweeps, "BATCH_SIZE", 2)
    for _ in range(5):
        send_referral()
    clock.move_to(START + days(1))

    assert chase.chase_due_referrals(limit=3) == {"reminded": 3, "still_due": 2}
    assert chase.chase_due_referrals(limit=3) == {"reminded": 2}
    assert Delivery.objects.count() == 5


def test_the_task_takes_no_arguments_and_returns_only_counts(clock, send_referral):
    send_referral()
    clock.move_to(START + days(1))

    assert chase_referrals.name == "referrals.chase_referrals"
    assert chase_referrals() == {"reminded": 1}


def test_each_step_leaves_a_system_event_and_a_new_version(clock, send_referral):
    referral = send_referral()
    version = referral.version
    clock.move_to(START + days(1))

    chase.chase_due_referrals()

    referral.refresh_from_db()
    assert referral.version == version + 1
    assert referral.updated_at == START + days(1)
    event = ReferralEvent.objects.get(referral=referral)
    assert (event.actor_kind, event.from_status, event.to_status) == ("system", "requested", "requested")
    assert event.note == "Chase: the partner was reminded."


def test_the_clocks_set_by_the_referral_services_drive_the_whole_chase(
    clock, program, case, navigator, partner_org, partner_user, supervisor
):
    """End to end through referrals.services: send, no answer, accept, appointment, no outcome."""
    service = f.ServiceFactory(organization=partner_org)
    f.ConsentFactory(individual=case.individual, recipient_organization=partner_org, recorded_by=navigator)
    draft = services.create_referral(
        individual=case.individual, service=service, case=case, by=navigator, reason="Needs a bed."
    )
    referral = services.send_referral(draft, by=navigator)
    clock.move_to(START + days(1))
    assert chase.chase_due_referrals() == {"reminded": 1}

    referral = services.accept_referral(Referral.objects.get(pk=referral.pk), by=partner_user)
    clock.move_to(START + days(8) - SECOND)  # the partner now has 7 windows
    assert chase.chase_due_referrals() == {}

    appointment = START + days(6)
    services.set_appointment(Referral.objects.get(pk=referral.pk), by=partner_user, appointment_at=appointment)
    clock.move_to(appointment + program.follow_up_grace)
    assert chase.chase_due_referrals() == {"outcome_requested": 1}
    assert alerts(referral) == [("appointment_no_outcome", 1, "nina.navigator")]
    assert FollowUp.objects.filter(case=case, label=f"appt-{referral.pk}").exists()

    services.complete_referral(Referral.objects.get(pk=referral.pk), by=partner_user, outcome_note="Housed.")
    clock.move_to(START + days(60))
    assert chase.chase_due_referrals() == {}


def test_a_referral_whose_step_fails_is_left_due_and_does_not_hold_up_the_others(clock, send_referral, monkeypatch):
    broken, fine = send_referral(), send_referral()
    enqueue = chase.enqueue_event

    def enqueue_or_fail(referral, event_type):
        if referral.pk == broken.pk:
            raise RuntimeError("outbox unavailable")
        return enqueue(referral, event_type)

    monkeypatch.setattr(chase, "enqueue_event", enqueue_or_fail)
    clock.move_to(START + days(1))

    assert chase.chase_due_referrals() == {"failed": 1, "reminded": 1, "still_due": 1}

    broken.refresh_from_db()
    assert (broken.chase_level, broken.next_action_due_at) == (0, START + days(1))  # claim rolled back
    assert not ReferralEvent.objects.filter(referral=broken).exists()
    assert reminders(fine) == ["referral.reminder"]
