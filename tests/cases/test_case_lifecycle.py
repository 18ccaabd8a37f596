"""Closing a case decides its open referrals (leave open or cancel) and closes its follow-ups with it;
reopening within the program's window opens the same case again, later a new one linked to it."""

from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from cases import services
from cases.models import Case, Encounter, FollowUp
from referrals.models import Referral, ReferralEvent
from tests import factories as f

NOW = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
H = timedelta(hours=1)
D = 24 * H


@pytest.fixture(autouse=True)
def clock(time_machine):
    time_machine.move_to(NOW, tick=False)
    return time_machine


@pytest.fixture
def person(program):
    return f.IndividualFactory(program=program)


@pytest.fixture
def case(person, navigator, peer):
    encounter = f.EncounterFactory(
        program=person.program,
        individual=person,
        call_received_at=NOW - 2 * H,
        dispatched_at=NOW - 2 * H,
        on_scene_at=NOW - 2 * H,
        cleared_at=NOW - H,
        disposition=Encounter.Disposition.STABILISED,
    )
    return services.open_case(individual=person, by=navigator, encounter=encounter, peer=peer)


def referral(case, status):
    return f.ReferralFactory(program=case.program, individual=case.individual, case=case, status=status)


def code_of(call) -> str:
    with pytest.raises(ValidationError) as error:
        call()
    return error.value.code


# --- opening --------------------------------------------------------------------------------------


def test_a_clinician_opens_a_case_for_a_navigator_and_a_peer(person, clinician, navigator, peer):
    opened = services.open_case(individual=person, by=clinician, navigator=navigator, peer=peer)
    assert (opened.navigator, opened.peer, opened.status) == (navigator, peer, "open")
    assert list(opened.follow_ups.values_list("label", flat=True)) == ["24h", "72h", "7d", "30d"]


def test_a_paramedic_and_a_peer_cannot_open_a_case(person, paramedic, peer):
    assert code_of(lambda: services.open_case(individual=person, by=paramedic)) == "forbidden"
    assert code_of(lambda: services.open_case(individual=person, by=peer)) == "not_found"


# --- closing ----------------------------------------------------------------------------------------


def test_closing_cancels_or_keeps_each_open_referral_as_decided(case, navigator):
    sent = referral(case, "requested")
    accepted = referral(case, "accepted")
    draft = referral(case, "draft")
    done = referral(case, "completed")
    assert [r.pk for r in services.referrals_to_decide(case)] == [sent.pk, accepted.pk, draft.pk]

    services.close_case(
        case, by=navigator, reason="connected", referrals={sent.pk: "cancel", accepted.pk: "keep", draft.pk: "cancel"}
    )
    statuses = dict(Referral.objects.values_list("pk", "status"))
    assert statuses == {sent.pk: "cancelled", accepted.pk: "accepted", draft.pk: "cancelled", done.pk: "completed"}
    event = ReferralEvent.objects.filter(referral=sent, to_status="cancelled").get()
    assert event.actor_user == navigator and "Connected to ongoing care" in event.note


@pytest.mark.parametrize(
    "decisions",
    [None, {}, "cancel", {"1": "cancel"}, {True: "cancel"}],
    ids=["none", "empty", "not-a-dict", "text-key", "bool-key"],
)
def test_closing_refuses_undecided_referrals_and_changes_nothing(case, navigator, decisions):
    open_one = referral(case, "requested")
    assert code_of(lambda: services.close_case(case, by=navigator, reason="goals_met", referrals=decisions)) == (
        "invalid"
    )
    case.refresh_from_db()
    open_one.refresh_from_db()
    assert (case.status, open_one.status) == ("open", "requested")
    assert FollowUp.objects.filter(case=case).count() == 4


def test_closing_refuses_a_decision_on_another_cases_or_a_bad_word(case, navigator, program):
    open_one = referral(case, "requested")
    other = referral(f.CaseFactory(program=program), "requested")
    for decisions in ({open_one.pk: "cancel", other.pk: "keep"}, {open_one.pk: "maybe"}):
        assert code_of(lambda d=decisions: services.close_case(case, by=navigator, reason="moved", referrals=d)) == (
            "invalid"
        )
    assert Referral.objects.get(pk=other.pk).status == "requested"


def test_closing_closes_the_follow_ups_missed_and_due_with_the_reason(case, navigator, clock):
    missed = FollowUp.objects.get(case=case, label="24h")
    FollowUp.objects.filter(pk=missed.pk).update(is_missed=True, missed_at=NOW)
    clock.shift(4 * D)  # the 72h one is due, not yet missed
    services.close_case(case, by=navigator, reason="goals_met")
    rows = FollowUp.objects.filter(case=case).order_by("due_at")
    assert [(r.label, r.is_missed, r.dismissed_by_id) for r in rows] == [
        ("24h", True, navigator.pk),
        ("72h", True, navigator.pk),
    ]
    assert {r.dismissed_reason for r in rows} == {"Case closed: Goals met."}
    assert not FollowUp.objects.missed().filter(case=case).exists()


# --- reopening ------------------------------------------------------------------------------------


def test_a_case_closed_recently_reopens_with_a_fresh_schedule(case, navigator, clock):
    services.close_case(case, by=navigator, reason="declined")
    clock.shift(10 * D)
    reopened = services.reopen_case(case, by=navigator)
    assert reopened.pk == case.pk
    assert (reopened.status, reopened.closed_reason, reopened.closed_at, reopened.times_reopened) == (
        "open",
        "",
        None,
        1,
    )
    fresh = FollowUp.objects.filter(case=case, label__endswith="+1").order_by("due_at")
    assert [(fu.label, fu.due_at - timezone.now()) for fu in fresh] == [
        ("24h+1", 24 * H),
        ("72h+1", 72 * H),
        ("7d+1", 7 * D),
        ("30d+1", 30 * D),
    ]
    assert code_of(lambda: services.reopen_case(case, by=navigator)) == "invalid_transition"  # it is open


def test_a_case_closed_too_long_ago_continues_in_a_new_linked_case(case, navigator, peer, program, clock):
    program.case_reopen_window = 14 * D
    program.save()
    services.close_case(case, by=navigator, reason="goals_met")
    clock.shift(15 * D)
    later = services.reopen_case(case, by=navigator)
    assert later.pk != case.pk
    assert (later.previous_case, later.navigator, later.peer, later.status) == (case, navigator, peer, "open")
    assert Case.objects.get(pk=case.pk).status == "closed"
    assert services.reopen_case(case, by=navigator) == later  # asking twice opens nothing more
    assert Case.objects.filter(individual=case.individual).count() == 2


def test_a_new_linked_case_leaves_out_who_has_left_the_team(case, navigator, peer, supervisor, clock):
    services.close_case(case, by=navigator, reason="goals_met")
    clock.shift(60 * D)
    peer.is_active = False
    peer.save()
    later = services.reopen_case(case, by=supervisor)
    assert (later.navigator, later.peer) == (navigator, None)


def test_only_roles_that_close_cases_reopen_them(case, navigator, peer, clinician, navigator_elsewhere):
    services.close_case(case, by=navigator, reason="goals_met")
    assert code_of(lambda: services.reopen_case(case, by=peer)) == "forbidden"
    assert code_of(lambda: services.reopen_case(case, by=clinician)) == "forbidden"
    assert code_of(lambda: services.reopen_case(case, by=navigator_elsewhere)) == "not_found"
    assert Case.objects.get(pk=case.pk).status == "closed"
