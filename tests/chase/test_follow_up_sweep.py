"""The follow-up sweep: an overdue follow-up alerts its owner after the program's grace, a
supervisor after a second grace, and counts as missed 72 hours after it was due."""

from datetime import timedelta

from cases import follow_up_sweep
from cases.models import FollowUp
from cases.sweeps import sweep_follow_ups
from inbox.alerts import Recipients
from inbox.models import Item
from tests import factories as f
from tests.chase.conftest import START

SECOND = timedelta(seconds=1)
GRACE = timedelta(hours=4)  # the program's default follow_up_grace


def alerts(follow_up):
    return sorted(Item.objects.filter(follow_up=follow_up).values_list("kind", "level", "recipient__username"))


def test_a_follow_up_inside_its_grace_raises_nothing(clock, case):
    follow_up = f.FollowUpFactory(case=case, label="24h", due_at=START)
    clock.move_to(START + GRACE - SECOND)

    assert follow_up_sweep.sweep_due_follow_ups() == {}

    follow_up.refresh_from_db()
    assert follow_up.escalation_level == 0
    assert alerts(follow_up) == []


def test_its_owner_is_alerted_when_the_grace_ends(clock, case, peer):
    follow_up = f.FollowUpFactory(case=case, label="24h", due_at=START, owner=peer)
    clock.move_to(START + GRACE)

    assert follow_up_sweep.sweep_due_follow_ups() == {"owner_alerted": 1}

    follow_up.refresh_from_db()
    assert follow_up.escalation_level == 1
    assert alerts(follow_up) == [("follow_up_overdue", 1, "pete.peer")]


def test_without_an_owner_the_cases_navigator_is_alerted(clock, case):
    follow_up = f.FollowUpFactory(case=case, label="24h", due_at=START, owner=None)
    clock.move_to(START + GRACE)

    follow_up_sweep.sweep_due_follow_ups()

    assert alerts(follow_up) == [("follow_up_overdue", 1, "nina.navigator")]


def test_a_supervisor_is_alerted_after_a_second_grace_and_not_before(clock, case, supervisor):
    follow_up = f.FollowUpFactory(case=case, label="24h", due_at=START)
    clock.move_to(START + GRACE)
    follow_up_sweep.sweep_due_follow_ups()
    clock.move_to(START + 2 * GRACE - SECOND)
    assert follow_up_sweep.sweep_due_follow_ups() == {}

    clock.move_to(START + 2 * GRACE)
    assert follow_up_sweep.sweep_due_follow_ups() == {"supervisor_alerted": 1}

    follow_up.refresh_from_db()
    assert follow_up.escalation_level == 2
    assert alerts(follow_up) == [("follow_up_overdue", 1, "nina.navigator"), ("follow_up_overdue", 2, "sam.supervisor")]


def test_it_is_missed_72_hours_after_it_was_due_and_never_read_again(clock, case, supervisor):
    follow_up = f.FollowUpFactory(case=case, label="24h", due_at=START)
    for at in (START + GRACE, START + 2 * GRACE, START + timedelta(hours=72) - SECOND):
        clock.move_to(at)
        follow_up_sweep.sweep_due_follow_ups()
    follow_up.refresh_from_db()
    assert (follow_up.escalation_level, follow_up.is_missed) == (2, False)

    clock.move_to(START + timedelta(hours=72))
    assert follow_up_sweep.sweep_due_follow_ups() == {"missed": 1}

    follow_up.refresh_from_db()
    assert follow_up.is_missed
    assert not FollowUp.objects.due(START + timedelta(days=365)).exists()
    assert len(alerts(follow_up)) == 2  # missing it raises nothing new; the open alerts stay


def test_a_long_grace_keeps_the_ladder_in_order(clock, case, program, supervisor):
    program.follow_up_grace = timedelta(days=2)
    program.save(update_fields=["follow_up_grace"])
    f.FollowUpFactory(case=case, label="7d", due_at=START)
    steps = []
    for hours in (47, 48, 95, 96, 143, 144):
        clock.move_to(START + timedelta(hours=hours))
        steps.append(list(follow_up_sweep.sweep_due_follow_ups()))

    assert steps == [[], ["owner_alerted"], [], ["supervisor_alerted"], [], ["missed"]]


def test_done_follow_ups_are_never_escalated(clock, case):
    follow_up = f.FollowUpFactory(case=case, label="24h", due_at=START, done_at=START + timedelta(hours=1))
    clock.move_to(START + timedelta(days=10))

    assert follow_up_sweep.sweep_due_follow_ups() == {}
    assert alerts(follow_up) == []


def test_a_follow_up_done_after_the_sweep_read_it_is_not_escalated(clock, case):
    follow_up = f.FollowUpFactory(case=case, label="24h", due_at=START)
    clock.move_to(START + GRACE)
    [[seen]] = list(follow_up_sweep.due_follow_ups(START + GRACE))
    FollowUp.objects.filter(pk=follow_up.pk).update(done_at=START + GRACE)  # the contact is logged

    assert follow_up_sweep.escalate_follow_up(seen, now=START + GRACE, recipients=Recipients()) is None
    assert alerts(follow_up) == []


def test_sweeping_again_at_the_same_instant_changes_nothing(clock, case, supervisor):
    fresh = f.FollowUpFactory(case=case, label="24h", due_at=START + GRACE)
    alerted = f.FollowUpFactory(case=case, label="72h", due_at=START, escalation_level=1)
    old = f.FollowUpFactory(case=case, label="7d", due_at=START - timedelta(hours=72), escalation_level=2)
    clock.move_to(START + 2 * GRACE)

    assert follow_up_sweep.sweep_due_follow_ups() == {"missed": 1, "owner_alerted": 1, "supervisor_alerted": 1}
    assert follow_up_sweep.sweep_due_follow_ups() == {}

    assert Item.objects.count() == 2
    levels = {fu.label: (fu.escalation_level, fu.is_missed) for fu in FollowUp.objects.all()}
    assert levels == {fresh.label: (1, False), alerted.label: (2, False), old.label: (2, True)}


def test_a_follow_up_first_seen_long_overdue_raises_every_alert_it_skipped_at_once(clock, case, supervisor):
    late = f.FollowUpFactory(case=case, label="24h", due_at=START)
    clock.move_to(START + 2 * GRACE)  # the sweep was down until now

    assert follow_up_sweep.sweep_due_follow_ups() == {"supervisor_alerted": 1}
    assert follow_up_sweep.sweep_due_follow_ups() == {}

    assert alerts(late) == [("follow_up_overdue", 1, "nina.navigator"), ("follow_up_overdue", 2, "sam.supervisor")]


def test_a_follow_up_first_seen_past_72_hours_is_missed_with_its_alerts(clock, case, supervisor):
    late = f.FollowUpFactory(case=case, label="24h", due_at=START)
    clock.move_to(START + timedelta(days=4))

    assert follow_up_sweep.sweep_due_follow_ups() == {"missed": 1}

    late.refresh_from_db()
    assert (late.escalation_level, late.is_missed) == (2, True)
    assert alerts(late) == [("follow_up_overdue", 1, "nina.navigator"), ("follow_up_overdue", 2, "sam.supervisor")]


def test_follow_ups_still_inside_their_grace_do_not_hold_up_ready_ones(clock, case, other_program):
    """Each program has its own grace: a batch holds only follow-ups ready for a step."""
    other_program.follow_up_grace = timedelta(hours=1)
    other_program.save(update_fields=["follow_up_grace"])
    for label in ("a", "b", "c"):  # due earlier, but still inside the 4-hour grace
        f.FollowUpFactory(case=case, label=label, due_at=START - timedelta(hours=3))
    elsewhere = f.CaseFactory(program=other_program)
    ready = f.FollowUpFactory(case=elsewhere, label="24h", due_at=START - timedelta(minutes=90), owner=None)

    batches = list(follow_up_sweep.due_follow_ups(START, batch_size=2))

    assert [[fu.pk for fu in batch] for batch in batches] == [[ready.pk]]


def test_the_task_takes_no_arguments_and_returns_only_counts(clock, case):
    f.FollowUpFactory(case=case, label="24h", due_at=START)
    clock.move_to(START + GRACE)

    assert sweep_follow_ups.name == "cases.sweep_follow_ups"
    assert sweep_follow_ups() == {"owner_alerted": 1}
