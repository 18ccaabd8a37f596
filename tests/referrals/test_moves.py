"""The one table of moves (referrals.moves): it agrees with the state machine, and the API, the FHIR
Task update, the partner page and the staff referral page offer exactly what it says."""

import pytest
from django.urls import reverse

from referrals import moves, services
from referrals.models import PARTNER_SETS, SENDER_SETS, TERMINAL, Status

STATUSES = list(Status.values)


def test_the_partner_table_sets_every_partner_status_and_no_sender_status():
    assert {move.to_status for move in moves.PARTNER_MOVES} - {None} == PARTNER_SETS
    assert {move.to_status for move in moves.SENDER_MOVES} == SENDER_SETS - {Status.DRAFT}


STATUS_MOVES = [move for move in (*moves.PARTNER_MOVES, *moves.SENDER_MOVES) if move.to_status is not None]


@pytest.mark.parametrize("move", STATUS_MOVES, ids=lambda m: m.verb)
@pytest.mark.parametrize("status", STATUSES)
def test_a_status_move_starts_where_the_state_machine_allows(move, status):
    assert move.can_start_from(status) == (status != move.to_status and services.is_legal(status, move.to_status))


def test_moves_that_keep_the_status_start_from_open_statuses_only():
    assert moves.PARTNER["appointment"].from_statuses == {"accepted", "in-progress", "on-hold"}
    assert moves.PARTNER["business-status"].from_statuses == {"requested", "accepted", "in-progress", "on-hold"}


def test_the_partner_page_offers_each_status_its_moves():
    offered = {status: [m.verb for m in moves.offered(moves.PARTNER_MOVES, status)] for status in STATUSES}
    assert offered == {
        "draft": [],
        "requested": ["accept", "reject", "business-status"],
        "accepted": ["start", "hold", "complete", "fail", "appointment", "business-status"],
        "in-progress": ["hold", "complete", "fail", "appointment", "business-status"],
        "on-hold": ["start", "complete", "fail", "appointment", "business-status"],
        **{status: [] for status in TERMINAL},
    }


def test_the_referral_page_offers_cancel_and_entered_in_error_while_the_referral_is_open():
    offered = {status: [m.verb for m in moves.offered(moves.SENDER_MOVES, status)] for status in STATUSES}
    for status in ("draft", "requested", "accepted", "in-progress", "on-hold"):
        assert offered[status] == ["cancel", "entered-in-error"]
    for status in TERMINAL:
        assert offered[status] == []


def test_terminal_moves_are_the_ones_a_page_must_confirm():
    assert {m.verb for m in moves.PARTNER_MOVES if m.is_terminal} == {"reject", "complete", "fail"}


def test_every_partner_move_is_an_api_action_and_the_senders_send_and_cancel_are_too():
    for move in moves.PARTNER_MOVES:
        assert reverse(f"partner-referral-{move.verb}", kwargs={"pk": 1}) == f"/api/v1/partner/referrals/1/{move.verb}/"
    for verb in ("send", "cancel"):
        assert reverse(f"referral-{verb}", kwargs={"pk": 1}) == f"/api/v1/referrals/1/{verb}/"


def test_a_fhir_status_names_the_first_partner_move_that_sets_it():
    assert moves.partner_move_to("in-progress").verb == "start"
    assert moves.partner_move_to("failed").verb == "fail"
    assert moves.partner_move_to("cancelled") is None


def test_make_passes_only_the_inputs_the_move_takes():
    calls = []
    move = moves.Move("x", lambda r, *, by, reason: calls.append((r, by, reason)), ("reason",), "x", Status.CANCELLED)
    move.make("referral", by="someone", reason="Why.", outcome_note="ignored")
    assert calls == [("referral", "someone", "Why.")]
