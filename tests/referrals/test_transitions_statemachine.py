"""The referral state machine against a table written out here by hand from DESIGN.md §3 (not
imported from referrals.models, so a wrong table there cannot agree with itself): every move from
every status, who may make it, and a random walk of random actors that must never break it."""

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule, run_state_machine_as_test

from accounts.roles import Role
from referrals import services
from referrals.models import Referral, ReferralEvent
from tests import factories as f

STATUSES = [
    "draft",
    "requested",
    "accepted",
    "rejected",
    "cancelled",
    "in-progress",
    "on-hold",
    "completed",
    "failed",
    "entered-in-error",
]
LEGAL = {
    ("draft", "requested"),
    ("draft", "cancelled"),
    ("requested", "accepted"),
    ("requested", "rejected"),
    ("requested", "cancelled"),
    ("accepted", "in-progress"),
    ("accepted", "on-hold"),
    ("accepted", "cancelled"),
    ("accepted", "completed"),
    ("accepted", "failed"),
    ("in-progress", "on-hold"),
    ("in-progress", "cancelled"),
    ("in-progress", "completed"),
    ("in-progress", "failed"),
    ("on-hold", "in-progress"),
    ("on-hold", "cancelled"),
    ("on-hold", "completed"),
    ("on-hold", "failed"),
    # any status that is not final may be marked as entered in error
    ("draft", "entered-in-error"),
    ("requested", "entered-in-error"),
    ("accepted", "entered-in-error"),
    ("in-progress", "entered-in-error"),
    ("on-hold", "entered-in-error"),
}
FINAL = {"rejected", "cancelled", "completed", "failed", "entered-in-error"}
SENDER_MOVES = {"requested", "cancelled", "entered-in-error"}
PARTNER_MOVES = {"accepted", "rejected", "in-progress", "on-hold", "completed", "failed"}
NEEDS_REASON = {"rejected", "cancelled", "on-hold", "failed", "entered-in-error"}
OPEN = {"requested", "accepted", "in-progress", "on-hold"}

MOVES = {
    "requested": lambda r, by, reason: services.send_referral(r, by=by),
    "accepted": lambda r, by, reason: services.accept_referral(r, by=by),
    "rejected": lambda r, by, reason: services.reject_referral(r, by=by, reason=reason),
    "cancelled": lambda r, by, reason: services.cancel_referral(r, by=by, reason=reason),
    "in-progress": lambda r, by, reason: services.start_referral(r, by=by),
    "on-hold": lambda r, by, reason: services.hold_referral(r, by=by, reason=reason),
    "completed": lambda r, by, reason: services.complete_referral(r, by=by),
    "failed": lambda r, by, reason: services.fail_referral(r, by=by, reason=reason),
    "entered-in-error": lambda r, by, reason: services.mark_entered_in_error(r, by=by, reason=reason),
}
NOW = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
SEEN: Counter[str] = Counter()  # outcomes of the random walk, to show that it went everywhere


def test_the_hand_written_table_is_consistent_with_itself():
    assert set(MOVES) == SENDER_MOVES | PARTNER_MOVES
    assert not SENDER_MOVES & PARTNER_MOVES
    assert all(source not in FINAL for source, _ in LEGAL)
    assert {target for _, target in LEGAL} == set(MOVES)


@pytest.fixture
def in_status(program, partner_org, navigator):
    """in_status("on-hold"): a referral that got there by the usual road, consent on file."""

    def make(status: str) -> Referral:
        person = f.IndividualFactory(program=program)
        f.ConsentFactory(individual=person, recipient_organization=partner_org, recorded_by=navigator)
        return f.ReferralFactory(
            program=program,
            individual=person,
            service=f.ServiceFactory(organization=partner_org),
            created_by=navigator,
            status=status,
            requested_at=None if status == "draft" else NOW,
            status_reason="Because." if status in NEEDS_REASON else "",
        )

    return make


def code_of(call) -> str | None:
    try:
        call()
    except ValidationError as error:
        return error.code
    return None


def expected_code(source: str, target: str, actor_side: str) -> str | None:
    if actor_side == "partner" and source == "draft":
        return "not_found"  # partners do not see drafts
    if (target in SENDER_MOVES) != (actor_side == "sender"):
        return "forbidden"
    if source == target or (source, target) in LEGAL:
        return None
    return "invalid_transition"


ALL_PAIRS = [(source, target) for source in STATUSES for target in MOVES]


@pytest.mark.parametrize(("source", "target"), ALL_PAIRS, ids=[f"{s}->{t}" for s, t in ALL_PAIRS])
def test_every_move_from_every_status_follows_the_table(in_status, navigator, partner_credential, source, target):
    referral = in_status(source)
    actor, side = (navigator, "sender") if target in SENDER_MOVES else (partner_credential, "partner")
    before = ReferralEvent.objects.filter(referral=referral).count()

    code = code_of(lambda: MOVES[target](referral, actor, "A reason."))

    assert code == expected_code(source, target, side)
    row = Referral.objects.get(pk=referral.pk)
    added = list(ReferralEvent.objects.filter(referral=referral).values_list("from_status", "to_status"))[before:]
    if (source, target) in LEGAL and code is None:
        assert row.status == target
        assert row.version == 2
        assert added == [(source, target)]
    else:  # refused, or a repeat of the move already made: nothing changes
        assert row.status == source
        assert row.version == 1
        assert added == []


PARTNERS_LEGAL = sorted(p for p in LEGAL if p[1] in PARTNER_MOVES)
SENDERS_LEGAL_AFTER_SENDING = sorted(p for p in LEGAL if p[1] in SENDER_MOVES and p[0] != "draft")


@pytest.mark.parametrize(("source", "target"), PARTNERS_LEGAL, ids=[f"{s}->{t}" for s, t in PARTNERS_LEGAL])
def test_a_sender_can_never_make_a_partners_move(in_status, navigator, source, target):
    referral = in_status(source)
    assert code_of(lambda: MOVES[target](referral, navigator, "A reason.")) == "forbidden"
    assert Referral.objects.get(pk=referral.pk).status == source


@pytest.mark.parametrize(
    ("source", "target"),
    SENDERS_LEGAL_AFTER_SENDING,
    ids=[f"{s}->{t}" for s, t in SENDERS_LEGAL_AFTER_SENDING],
)
def test_a_partner_can_never_make_a_senders_move(in_status, partner_user, source, target):
    referral = in_status(source)
    assert code_of(lambda: MOVES[target](referral, partner_user, "A reason.")) == "forbidden"
    assert Referral.objects.get(pk=referral.pk).status == source


REASONED = sorted(p for p in LEGAL if p[1] in NEEDS_REASON)


@pytest.mark.parametrize(("source", "target"), REASONED, ids=[f"{s}->{t}" for s, t in REASONED])
def test_a_move_that_needs_a_reason_is_refused_without_one(in_status, navigator, partner_credential, source, target):
    referral = in_status(source)
    actor = navigator if target in SENDER_MOVES else partner_credential
    assert code_of(lambda: MOVES[target](referral, actor, " ")) == "reason_required"
    assert Referral.objects.get(pk=referral.pk).status == source
    assert not ReferralEvent.objects.filter(referral=referral).exists()


# --- random actors, random moves ----------------------------------------------------------------


class RandomActors(RuleBasedStateMachine):
    """One referral, seven actors, two copies of the referral (one kept fresh by the services, one
    read long ago), and an oracle built from the table above. Every step checks the outcome the
    oracle predicts; the invariants check the row and its events."""

    def __init__(self):
        super().__init__()
        program = f.ProgramFactory()
        elsewhere = f.ProgramFactory()
        org = f.OrganizationFactory()
        other_org = f.OrganizationFactory()
        navigator = f.UserFactory(program=program, roles=[Role.NAVIGATOR])
        person = f.IndividualFactory(program=program)
        f.ConsentFactory(individual=person, recipient_organization=org, recorded_by=navigator)
        service = f.ServiceFactory(organization=org)
        self.actors = {
            "navigator": (navigator, "sender"),
            "supervisor": (f.UserFactory(program=program, roles=[Role.SUPERVISOR]), "sender"),
            "navigator elsewhere": (f.UserFactory(program=elsewhere, roles=[Role.NAVIGATOR]), "stranger"),
            "partner key": (f.PartnerCredentialFactory(organization=org), "partner"),
            "partner user": (f.PartnerUserFactory(partner_organization=org), "partner"),
            "other partner": (f.PartnerUserFactory(partner_organization=other_org), "stranger"),
            "system": (None, "system"),
        }
        self.person, self.service = person, service
        self.next_referral()

    @precondition(lambda self: self.status in FINAL)
    @rule()
    def next_referral(self):
        """A fresh draft once the last referral is final, so the walk keeps going."""
        self.referral = services.create_referral(
            individual=self.person, service=self.service, by=self.actors["navigator"][0], reason="x"
        )
        self.copies = {"fresh": self.referral, "old": Referral.objects.get(pk=self.referral.pk)}
        self.status = "draft"
        self.sent = False  # partners see a referral only once it was sent
        self.version = 1
        self.events = 1
        self.history = ["draft"]

    def predict(self, side: str, target: str, seen: str, with_reason: bool) -> str | None:
        if side == "system":
            return "forbidden"
        if side == "stranger" or (side == "partner" and not self.sent):
            return "not_found"
        if (target in SENDER_MOVES) != (side == "sender"):
            return "forbidden"
        if self.status == target:
            return None
        if (self.status, target) not in LEGAL:
            if seen != self.status and (seen, target) in LEGAL:
                return "conflict"
            return "invalid_transition"
        if target in NEEDS_REASON and not with_reason:
            return "reason_required"
        return None

    @rule(
        # moves that go forward come up more often, so that walks get past the first steps
        to=st.sampled_from(["requested", "accepted", "in-progress", "on-hold"] * 3 + sorted(MOVES)),
        who=st.sampled_from(["the right side"] * 4 + ["the other side", "a stranger", "the system"]),
        pick=st.integers(0, 1),
        copy=st.sampled_from(["fresh", "fresh", "old"]),
        with_reason=st.sampled_from([True, True, True, False]),
    )
    def move(self, to, who, pick, copy, with_reason):
        senders, partners = ["navigator", "supervisor"], ["partner key", "partner user"]
        right, wrong = (senders, partners) if to in SENDER_MOVES else (partners, senders)
        actor = {
            "the right side": right,
            "the other side": wrong,
            "a stranger": ["navigator elsewhere", "other partner"],
            "the system": ["system", "system"],
        }[who][pick]
        by, side = self.actors[actor]
        instance = self.copies[copy]
        expected = self.predict(side, to, instance.status, with_reason)

        code = code_of(lambda: MOVES[to](instance, by, "Because." if with_reason else ""))

        assert code == expected, (actor, to, copy, self.history)
        SEEN[code or "done"] += 1
        if code is None:
            if self.status != to:
                self.sent = self.sent or to == "requested"
                self.status = to
                self.version += 1
                self.events += 1
                self.history.append(to)
                SEEN[f"reached {to}"] += 1
            assert instance.status == self.status  # the caller's copy is brought up to date

    @rule(copy=st.sampled_from(["fresh", "old"]), level=st.integers(0, 3))
    def chase(self, copy, level):
        """The sweep's step on the copy it read: claimed only while the row is still as read."""
        instance = self.copies[copy]
        row = Referral.objects.get(pk=self.referral.pk)
        due = NOW + timedelta(days=level)

        def step():
            return services.chase_step(instance, now=NOW, owner="navigator", due_at=due, chase_level=level, note="x")

        if instance.status not in OPEN:
            assert code_of(step) == "invalid_transition"
            return
        expected = instance.version == row.version
        assert step() == expected
        if expected:
            self.version += 1
            self.events += 1

    @rule()
    def read_again(self):
        self.copies["old"] = Referral.objects.get(pk=self.referral.pk)

    @invariant()
    def the_row_and_its_events_match_the_oracle(self):
        row = Referral.objects.get(pk=self.referral.pk)
        assert (row.status, row.version) == (self.status, self.version)
        trail = list(ReferralEvent.objects.filter(referral=row).order_by("id").values_list("from_status", "to_status"))
        assert len(trail) == self.events
        moves = [(a, b) for a, b in trail[1:] if a != b]
        assert [b for _, b in moves] == self.history[1:]  # exactly one event per change of status
        assert all(step in LEGAL for step in moves)
        assert all(a == b and a in OPEN for a, b in trail[1:] if a == b)  # bookkeeping only while open
        if row.status in FINAL:
            assert (row.next_action_owner, row.next_action_due_at) == ("", None)


def test_random_actors_never_break_the_table(db, time_machine):
    time_machine.move_to(NOW, tick=False)
    SEEN.clear()
    run_state_machine_as_test(
        RandomActors,
        # The same walk every run: the coverage asserted below must not depend on the draw (a random
        # walk of 80 runs once reached no final status).
        settings=settings(
            derandomize=True,
            max_examples=80,
            stateful_step_count=30,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
    # the walk went everywhere: refusals of every kind, and referrals that got to the end
    assert {"done", "not_found", "forbidden", "invalid_transition"} <= set(SEEN), SEEN
    assert any(SEEN[f"reached {status}"] for status in FINAL), SEEN
    assert SEEN["reached accepted"], SEEN
