"""Fifty racers on one referral, on PostgreSQL: the partner and the navigator press their buttons at
the same moment. select_for_update serialises them, so the history is always one the table allows,
each change is made once, and whoever's move is no longer legal is told "conflict"."""

import threading
from collections import Counter
from itertools import pairwise

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from accounts.roles import roles_of
from providers.models import Organization
from referrals import services
from referrals.models import Delivery, Referral, ReferralEvent
from tests import factories as f

# after each flush, post_migrate recreates the role groups (accounts.apps), so no serialized rollback is needed
pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

RACERS = 50
# The moves these races can make, written out again by hand (DESIGN.md §3).
LEGAL = {
    ("draft", "requested"),
    ("draft", "cancelled"),
    ("requested", "accepted"),
    ("requested", "rejected"),
    ("requested", "cancelled"),
    ("accepted", "cancelled"),
    ("accepted", "in-progress"),
    ("in-progress", "on-hold"),
    ("in-progress", "completed"),
    ("in-progress", "failed"),
    ("in-progress", "cancelled"),
    ("on-hold", "completed"),
    ("on-hold", "failed"),
    ("on-hold", "cancelled"),
}


@pytest.fixture
def cast(program, navigator, partner_org):
    partner_org.channel = Organization.Channel.WEBHOOK
    partner_org.webhook_url = "https://partner.example.org/hooks"
    partner_org.webhook_secret = "whsec_c2VjcmV0c2VjcmV0c2VjcmV0"
    partner_org.save(update_fields=["channel", "webhook_url", "webhook_secret"])
    credential = f.PartnerCredentialFactory(organization=partner_org)
    roles_of(navigator)  # warm the user's caches once, before the threads share the object
    navigator.has_perm("referrals.add_referral")
    return navigator, credential


def referral_in(status: str, cast, program, partner_org) -> Referral:
    """A referral brought to `status` through the services, as in real life."""
    navigator, credential = cast
    person = f.IndividualFactory(program=program)
    f.ConsentFactory(individual=person, recipient_organization=partner_org, recorded_by=navigator)
    service = f.ServiceFactory(organization=partner_org)
    referral = services.create_referral(individual=person, service=service, by=navigator, reason="Needs a bed.")
    road = ["requested", "accepted", "in-progress"]
    steps = {
        "requested": lambda: services.send_referral(referral, by=navigator),
        "accepted": lambda: services.accept_referral(referral, by=credential),
        "in-progress": lambda: services.start_referral(referral, by=credential),
    }
    for step in road[: road.index(status) + 1] if status != "draft" else []:
        steps[step]()
    assert referral.status == status
    return referral


def race(referral: Referral, moves: list[tuple[str, object]]) -> list[tuple[str, str]]:
    """Run every (target status, call) in its own thread, all released at once. Each racer read the
    referral before the race, as a page or an API client would have. Returns (target, outcome)."""
    barrier = threading.Barrier(len(moves))
    outcomes: list[tuple[str, str]] = [("", "")] * len(moves)

    def racer(index: int, target: str, call) -> None:
        try:
            # A thread starts outside the test's system read (tests/conftest.py): the racer's own copy is
            # the test's read; its move meets the real checks.
            copy = Referral.objects.system("the racer's copy, as its page read it").get(pk=referral.pk)
            barrier.wait(timeout=60)
            call(copy)
            outcomes[index] = (target, "done")
        except ValidationError as error:
            outcomes[index] = (target, error.code)
        except Exception as error:  # reported by the caller's assertion
            outcomes[index] = (target, f"crashed: {error!r}")
        finally:
            connection.close()

    threads = [threading.Thread(target=racer, args=(i, *move)) for i, move in enumerate(moves)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads)
    return outcomes


def history(referral: Referral) -> list[tuple[str, str]]:
    return list(ReferralEvent.objects.filter(referral=referral).order_by("id").values_list("from_status", "to_status"))


def check_legal_history(referral: Referral, start: str, outcomes) -> list[str]:
    """The shared verdict of every race; returns the statuses the referral went through."""
    assert {outcome for _, outcome in outcomes} <= {"done", "conflict"}, Counter(outcomes)
    trail = history(referral)
    before = [to for _, to in trail].index(start) + 1  # the events up to the start of the race
    changes = trail[before:]
    assert changes, "someone must win"
    assert changes[0][0] == start
    assert all(step in LEGAL for step in changes), changes
    assert all(a[1] == b[0] for a, b in pairwise(changes)), changes
    went_to = [to for _, to in changes]
    assert len(went_to) == len(set(went_to))  # every change made exactly once
    for target, outcome in outcomes:  # a racer that succeeded sees its status in the history
        assert outcome != "done" or target in went_to
    row = Referral.objects.get(pk=referral.pk)
    assert row.status == (went_to[-1] if went_to else start)
    assert row.version == len(trail)  # one bump per event: no lost update
    return went_to


def half_and_half(first: tuple[str, object], second: tuple[str, object]) -> list[tuple[str, object]]:
    return [first if i % 2 else second for i in range(RACERS)]


def test_reject_and_cancel_race_and_exactly_one_wins(cast, program, partner_org):
    navigator, credential = cast
    referral = referral_in("requested", cast, program, partner_org)
    outcomes = race(
        referral,
        half_and_half(
            ("rejected", lambda r: services.reject_referral(r, by=credential, reason="No beds.")),
            ("cancelled", lambda r: services.cancel_referral(r, by=navigator, reason="Found housing.")),
        ),
    )
    went_to = check_legal_history(referral, "requested", outcomes)
    assert len(went_to) == 1
    winner = went_to[0]
    assert all(outcome == ("done" if target == winner else "conflict") for target, outcome in outcomes)
    cancelled_messages = Delivery.objects.filter(referral=referral, event_type="referral.cancelled").count()
    assert cancelled_messages == (1 if winner == "cancelled" else 0)


def test_complete_and_fail_race_and_exactly_one_wins(cast, program, partner_org):
    _, credential = cast
    partner_user = f.PartnerUserFactory(partner_organization=partner_org)
    roles_of(partner_user)
    referral = referral_in("in-progress", cast, program, partner_org)
    outcomes = race(
        referral,
        half_and_half(
            ("completed", lambda r: services.complete_referral(r, by=credential, outcome_note="Enrolled.")),
            ("failed", lambda r: services.fail_referral(r, by=partner_user, reason="Client moved away.")),
        ),
    )
    went_to = check_legal_history(referral, "in-progress", outcomes)
    assert len(went_to) == 1
    assert all(outcome == ("done" if target == went_to[0] else "conflict") for target, outcome in outcomes)
    assert Counter(outcome for _, outcome in outcomes)["conflict"] == RACERS // 2


def test_accept_and_cancel_race_to_one_of_the_two_legal_histories(cast, program, partner_org):
    navigator, credential = cast
    referral = referral_in("requested", cast, program, partner_org)
    outcomes = race(
        referral,
        half_and_half(
            ("accepted", lambda r: services.accept_referral(r, by=credential)),
            ("cancelled", lambda r: services.cancel_referral(r, by=navigator, reason="Person declined.")),
        ),
    )
    went_to = check_legal_history(referral, "requested", outcomes)
    assert went_to in (["cancelled"], ["accepted", "cancelled"])
    assert all(outcome == "done" for target, outcome in outcomes if target == "cancelled")  # legal either way
    if went_to == ["cancelled"]:
        assert all(outcome == "conflict" for target, outcome in outcomes if target == "accepted")


def test_hold_and_complete_race_without_losing_either_legal_move(cast, program, partner_org):
    _, credential = cast
    referral = referral_in("in-progress", cast, program, partner_org)
    outcomes = race(
        referral,
        half_and_half(
            ("on-hold", lambda r: services.hold_referral(r, by=credential, reason="Client in hospital.")),
            ("completed", lambda r: services.complete_referral(r, by=credential)),
        ),
    )
    went_to = check_legal_history(referral, "in-progress", outcomes)
    assert went_to in (["completed"], ["on-hold", "completed"])
    assert all(outcome == "done" for target, outcome in outcomes if target == "completed")


def test_send_and_cancel_race_and_the_partner_hears_a_consistent_story(cast, program, partner_org):
    navigator, _ = cast
    referral = referral_in("draft", cast, program, partner_org)
    outcomes = race(
        referral,
        half_and_half(
            ("requested", lambda r: services.send_referral(r, by=navigator)),
            ("cancelled", lambda r: services.cancel_referral(r, by=navigator, reason="Made in error.")),
        ),
    )
    went_to = check_legal_history(referral, "draft", outcomes)
    assert went_to in (["cancelled"], ["requested", "cancelled"])
    messages = list(Delivery.objects.filter(referral=referral).order_by("id").values_list("event_type", flat=True))
    # told about the referral and its cancellation, or about nothing at all
    assert messages == (["referral.requested", "referral.cancelled"] if "requested" in went_to else [])
