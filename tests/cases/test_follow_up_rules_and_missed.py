"""Follow-up rules per program (the schedule a new case gets) and missed follow-ups that stay owed
until a reached contact completes them or someone dismisses them with a reason."""

import importlib
from datetime import UTC, datetime, timedelta

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.utils import timezone

from cases import services
from cases.follow_up_sweep import sweep_due_follow_ups
from cases.models import Encounter, FollowUp, FollowUpRule
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


def encounter_for(person, *, disposition=Encounter.Disposition.STABILISED):
    return f.EncounterFactory(
        program=person.program,
        individual=person,
        call_received_at=NOW - 2 * H,
        dispatched_at=NOW - 2 * H,
        on_scene_at=NOW - 2 * H,
        cleared_at=NOW - H,
        disposition=disposition,
    )


def schedule(case) -> list[tuple[str, timedelta, int | None]]:
    cleared = NOW - H
    rows = FollowUp.objects.filter(case=case).order_by("due_at").values_list("label", "due_at", "owner_id")
    return [(label, due_at - cleared, owner) for label, due_at, owner in rows]


def code_of(call) -> str:
    with pytest.raises(ValidationError) as error:
        call()
    return error.value.code


# --- rules --------------------------------------------------------------------------------------


def test_a_new_program_starts_with_the_schedule_that_used_to_be_hard_coded(program):
    rows = set(FollowUpRule.objects.filter(program=program).values_list("disposition", "risk_level", "label", "offset"))
    assert rows == {
        ("", "", "24h", 24 * H),
        ("", "", "72h", 72 * H),
        ("", "", "7d", 7 * D),
        ("", "", "30d", 30 * D),
        ("", "high", "4h", 4 * H),
        ("unable_to_locate", "", "24h", 24 * H),
        ("unable_to_locate", "high", "4h", 4 * H),
    }
    assert set(FollowUpRule.objects.filter(program=program).values_list("owner", flat=True)) == {"navigator"}


def test_the_data_migration_gives_existing_programs_the_default_rules_once(program, other_program):
    FollowUpRule.objects.filter(program=program).delete()
    kept = FollowUpRule.objects.filter(program=other_program).first()
    kept.offset = 30 * H
    kept.save()
    migration = importlib.import_module("cases.migrations.0004_default_follow_up_rules")
    migration.add_default_rules(apps, None)
    assert FollowUpRule.objects.filter(program=program).count() == 7
    kept.refresh_from_db()
    assert kept.offset == 30 * H  # a program that has rules keeps them
    assert FollowUpRule.objects.filter(program=other_program).count() == 7


def test_a_case_follows_its_programs_rules_by_disposition_and_risk(program, person, navigator, peer):
    FollowUpRule.objects.create(
        program=program, disposition="refused", label="48h", offset=48 * H, owner=FollowUpRule.Owner.PEER
    )
    FollowUpRule.objects.create(program=program, disposition="refused", risk_level="moderate", label="6h", offset=6 * H)
    refused = encounter_for(person, disposition="refused")
    case = services.open_case(individual=person, by=navigator, encounter=refused, peer=peer, risk_level="moderate")
    assert schedule(case) == [("6h", 6 * H, navigator.pk), ("48h", 48 * H, peer.pk)]

    other = f.IndividualFactory(program=program)
    stabilised = services.open_case(individual=other, by=navigator, encounter=encounter_for(other), risk_level="high")
    assert [label for label, _, _ in schedule(stabilised)] == ["4h", "24h", "72h", "7d", "30d"]


def test_a_peer_owned_rule_falls_back_to_the_navigator_when_the_case_has_no_peer(program, person, navigator):
    FollowUpRule.objects.filter(program=program, label="72h", disposition="").update(owner=FollowUpRule.Owner.PEER)
    case = services.open_case(individual=person, by=navigator, encounter=encounter_for(person))
    assert {label: owner for label, _, owner in schedule(case)}["72h"] == navigator.pk


def test_changing_a_rule_changes_new_cases_only(program, person, navigator, peer):
    first = services.open_case(individual=person, by=navigator, encounter=encounter_for(person), peer=peer)
    rule = FollowUpRule.objects.get(program=program, disposition="", risk_level="", label="72h")
    rule.offset = 48 * H
    rule.owner = FollowUpRule.Owner.PEER
    rule.save()
    FollowUpRule.objects.create(program=program, label="14d", offset=14 * D)

    assert ("72h", 72 * H, navigator.pk) in schedule(first)
    assert "14d" not in [label for label, _, _ in schedule(first)]
    again = services.open_case(individual=person, by=navigator, encounter=first.encounter)
    assert again == first and len(schedule(first)) == 4  # opening it again adds nothing

    other = f.IndividualFactory(program=program)
    second = services.open_case(individual=other, by=navigator, encounter=encounter_for(other), peer=peer)
    assert ("72h", 48 * H, peer.pk) in schedule(second)
    assert "14d" in [label for label, _, _ in schedule(second)]


def test_another_programs_rules_do_not_apply(program, other_program, person, navigator):
    FollowUpRule.objects.create(program=other_program, label="1h", offset=H)
    case = services.open_case(individual=person, by=navigator, encounter=encounter_for(person))
    assert [label for label, _, _ in schedule(case)] == ["24h", "72h", "7d", "30d"]


# --- missed follow-ups --------------------------------------------------------------------------


@pytest.fixture
def case(person, navigator, peer):
    return services.open_case(individual=person, by=navigator, encounter=encounter_for(person), peer=peer)


def missed(case, label: str, clock) -> FollowUp:
    """Let the sweep give up on the follow-up (72 h after it was due)."""
    follow_up = FollowUp.objects.get(case=case, label=label)
    clock.move_to(follow_up.due_at + 72 * H + H, tick=False)
    sweep_due_follow_ups()
    follow_up.refresh_from_db()
    assert follow_up.is_missed
    return follow_up


def test_the_sweep_records_when_a_follow_up_was_missed_and_it_stays_owed(case, clock):
    follow_up = missed(case, "24h", clock)
    assert follow_up.missed_at == NOW - H + 24 * H + 72 * H + H
    assert list(FollowUp.objects.missed().filter(case=case)) == [follow_up]
    assert follow_up in FollowUp.objects.outstanding()


def test_a_reached_contact_completes_the_missed_follow_up_first(case, peer, clock):
    follow_up = missed(case, "24h", clock)
    contact = services.log_contact(
        case, by=peer, occurred_at=timezone.now(), method="phone", outcome="reached", note="Back home, doing ok."
    )
    follow_up.refresh_from_db()
    assert contact.follow_up_id == follow_up.pk
    assert (follow_up.done_at, follow_up.is_missed, follow_up.missed_at is not None) == (timezone.now(), False, True)
    assert not FollowUp.objects.missed().filter(case=case).exists()


def test_an_attempt_leaves_the_missed_follow_up_owed(case, peer, clock):
    follow_up = missed(case, "24h", clock)
    services.log_contact(case, by=peer, occurred_at=timezone.now(), method="phone", outcome="attempted")
    assert list(FollowUp.objects.missed().filter(case=case)) == [follow_up]


def test_dismissing_a_missed_follow_up_needs_a_reason_and_takes_it_off_the_lists(case, navigator, clock):
    follow_up = missed(case, "24h", clock)
    for reason in ("", "   ", "x" * 301, None):
        assert code_of(lambda r=reason: services.dismiss_follow_up(follow_up, by=navigator, reason=r)) == "invalid"
    follow_up.refresh_from_db()
    assert follow_up.dismissed_at is None

    services.dismiss_follow_up(follow_up, by=navigator, reason="Moved to his sister's in Tulsa.")
    follow_up.refresh_from_db()
    assert (follow_up.dismissed_by, follow_up.dismissed_reason) == (navigator, "Moved to his sister's in Tulsa.")
    assert follow_up.is_missed and follow_up.dismissed_at == timezone.now()
    assert not FollowUp.objects.missed().filter(case=case).exists()
    again = services.dismiss_follow_up(follow_up, by=navigator, reason="Another reason.")
    assert again.dismissed_reason == "Moved to his sister's in Tulsa."  # dismissing again changes nothing


def test_only_a_missed_follow_up_is_dismissed(case, navigator):
    open_one = FollowUp.objects.get(case=case, label="72h")
    assert code_of(lambda: services.dismiss_follow_up(open_one, by=navigator, reason="No.")) == "invalid_transition"


def test_who_may_dismiss_a_missed_follow_up(case, peer, program, navigator_elsewhere, clock):
    follow_up = missed(case, "24h", clock)  # the navigator's
    assert code_of(lambda: services.dismiss_follow_up(follow_up, by=peer, reason="x")) == "forbidden"
    assert code_of(lambda: services.dismiss_follow_up(follow_up, by=navigator_elsewhere, reason="x")) == "not_found"
    stranger_peer = f.UserFactory(program=program, roles=["peer"])
    assert code_of(lambda: services.dismiss_follow_up(follow_up, by=stranger_peer, reason="x")) == "not_found"
    FollowUp.objects.filter(pk=follow_up.pk).update(owner=peer)
    follow_up.refresh_from_db()
    services.dismiss_follow_up(follow_up, by=peer, reason="Reached through the shelter staff.")
    assert FollowUp.objects.get(pk=follow_up.pk).dismissed_by == peer
