"""Referral and caseload measures against hand-computed fixtures, edge cases included."""

from datetime import timedelta

import pytest

from accounts.roles import Role
from cases.models import Case
from referrals.models import ReferralEvent
from tests import factories as f
from tests.metrics.conftest import at, by, call, total

pytestmark = pytest.mark.usefixtures("no_suppression")


def referral(program, service, requested_at, status="requested", **fields):
    reason = {"rejected": "No capacity", "cancelled": "Client moved", "failed": "No-show"}.get(status, "")
    return f.ReferralFactory(
        program=program, service=service, requested_at=requested_at, status=status, status_reason=reason, **fields
    )


def answered(referral, to_status, hours_after_request):
    event = f.ReferralEventFactory(referral=referral, from_status="requested", to_status=to_status)
    when = referral.requested_at + timedelta(hours=hours_after_request)
    ReferralEvent.objects.filter(pk=event.pk).update(created_at=when)  # created_at is set on insert
    return event


@pytest.fixture
def sent(program, other_program, partner_org, other_partner_org):
    """Five referrals sent in March (three to Safe Harbor, two to Riverside) and four that do not count."""
    housing = f.ServiceFactory(organization=partner_org)
    recovery = f.ServiceFactory(organization=other_partner_org)
    r1 = referral(program, housing, at(3, 10), status="completed")
    answered(r1, "accepted", 4)
    r2 = referral(program, housing, at(5, 10), status="rejected")
    answered(r2, "rejected", 24)
    referral(program, housing, at(7, 10))  # no answer yet: still open
    r4 = referral(program, recovery, at(10, 10), status="cancelled")
    answered(r4, "accepted", 2)  # accepted, then cancelled by the navigator: still "accepted"
    r5 = referral(program, recovery, at(12, 8), status="in-progress")
    answered(r5, "accepted", 26)
    # Not counted: a draft never sent, one entered in error, one sent in February, another program's.
    referral(program, housing, None, status="draft")
    referral(program, housing, at(8), status="entered-in-error")
    referral(program, housing, at(28, 10, month=2), status="completed")
    referral(other_program, housing, at(8))


def test_referrals_made_accepted_completed_and_still_open(sent, program):
    # Answers after 4, 24, 2 and 26 hours: sorted 2 4 24 26, median 14, p90 at 2.7: 24 + 0.7 x 2 = 25.4.
    assert total(program, "referrals") == {
        "made": 5,
        "accepted": 3,
        "completed": 1,
        "open": 2,
        "accepted_rate": 60.0,
        "completed_rate": 20.0,
        "first_answer_n": 4,
        "first_answer_median": 14.0,
        "first_answer_p90": 25.4,
    }


def test_referral_figures_and_first_answer_times_per_partner(sent, program):
    per_partner = by(program, "referrals", "partner")

    assert list(per_partner) == ["Riverside Recovery", "Safe Harbor Housing"]
    assert per_partner["Safe Harbor Housing"] == {
        "made": 3,
        "accepted": 1,
        "completed": 1,
        "open": 1,
        "accepted_rate": 33.3,
        "completed_rate": 33.3,
        "first_answer_n": 2,
        "first_answer_median": 14.0,
        "first_answer_p90": 22.0,
    }
    assert per_partner["Riverside Recovery"]["first_answer_median"] == 14.0
    assert per_partner["Riverside Recovery"]["first_answer_p90"] == 23.6
    assert (per_partner["Riverside Recovery"]["made"], per_partner["Riverside Recovery"]["accepted"]) == (2, 2)


def test_a_referral_counts_as_accepted_by_its_status_even_without_a_recorded_event(program, partner_org):
    referral(program, f.ServiceFactory(organization=partner_org), at(3), status="accepted")

    figures = total(program, "referrals")
    assert (figures["accepted"], figures["first_answer_n"]) == (1, 0)


def test_referrals_follow_the_team_and_area_of_their_case_encounter(program, partner_org):
    service = f.ServiceFactory(organization=partner_org)
    for team in ("CRT 1", "CRT 2"):
        encounter = call(program, team=team, area="Downtown")
        case = f.CaseFactory(program=program, individual=encounter.individual, encounter=encounter)
        referral(program, service, at(11), individual=encounter.individual, case=case)
    referral(program, service, at(11))  # no case: only in the unfiltered figures

    assert total(program, "referrals")["made"] == 3
    assert total(program, "referrals", team="CRT 1")["made"] == 1
    assert total(program, "referrals", area="Downtown")["made"] == 2


@pytest.fixture
def navigators(program):
    nina = f.UserFactory(program=program, first_name="Nina", last_name="Navigator", roles=[Role.NAVIGATOR])
    noah = f.UserFactory(program=program, first_name="Noah", last_name="Navigator", roles=[Role.NAVIGATOR])
    return nina, noah


def case(program, navigator, opened_at, closed_at=None, reason=Case.ClosedReason.CONNECTED, **fields):
    closed = {"status": "closed", "closed_at": closed_at, "closed_reason": reason} if closed_at else {}
    return f.CaseFactory(program=program, navigator=navigator, opened_at=opened_at, **closed, **fields)


def test_open_caseload_counts_cases_open_at_the_end_of_the_period_per_navigator(program, other_program, navigators):
    nina, noah = navigators
    case(program, nina, at(1, month=2), risk_level="high")  # open since February
    case(program, nina, at(10), closed_at=at(20))  # closed within March: not open at the end
    case(program, nina, at(15), closed_at=at(5, month=4))  # closed after the end: open then
    case(program, noah, at(31, 23, 0))
    case(program, noah, at(1, 0, 0, month=4))  # opened at the first instant after March
    case(program, None, at(2), risk_level="high")  # nobody's yet
    case(program, noah, at(2), closed_at=at(2, month=4), reason=Case.ClosedReason.DUPLICATE)  # never counts
    case(other_program, None, at(2))

    assert total(program, "open_caseload") == {"open_cases": 4, "high_risk": 2}
    assert {k: v["open_cases"] for k, v in by(program, "open_caseload", "navigator").items()} == {
        "Nina Navigator": 2,
        "Noah Navigator": 1,
        "Unassigned": 1,
    }


def test_open_caseload_of_a_period_not_over_is_counted_now(program, navigators):
    nina, _ = navigators
    case(program, nina, at(1))
    case(program, nina, at(10), closed_at=at(12))
    case(program, nina, at(18))  # opened after "now"

    assert total(program, "open_caseload", as_of=at(15)) == {"open_cases": 1, "high_risk": 0}


def test_open_caseload_follows_the_team_of_the_encounter_the_case_was_opened_from(program, navigators):
    nina, _ = navigators
    encounter = call(program, team="CRT 3")
    case(program, nina, at(10), encounter=encounter, individual=encounter.individual)
    case(program, nina, at(10))

    assert total(program, "open_caseload", team="CRT 3")["open_cases"] == 1
