"""Break-glass: a reasoned, time-boxed grant that widens visible_to for one person, tags every
access in the audit log, alerts the supervisors, and ends by itself."""

from datetime import UTC, datetime, timedelta

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError

from accounts.breakglass import end_break_glass, start_break_glass
from accounts.models import BreakGlassGrant, User
from accounts.roles import Role
from audit.access import record_access
from audit.models import AccessLog, Action
from cases.models import Assessment, Case, Contact, Encounter, Individual
from referrals.models import Referral
from tests import factories as f

T0 = datetime(2026, 5, 4, 2, 0, tzinfo=UTC)
REASON = "Family called at 2 a.m.: he is missing and his navigator is off shift."


@pytest.fixture
def frozen(time_machine):
    time_machine.move_to(T0, tick=False)
    return time_machine


@pytest.fixture
def stranger(program):
    """A person of the peer's program who is on nobody's caseload, with a whole record."""
    person = f.IndividualFactory(program=program, legal_first_name="Zelda", legal_last_name="Quartermaine")
    encounter = f.EncounterFactory(program=program, individual=person)
    f.AssessmentFactory(encounter=encounter)
    case = f.CaseFactory(program=program, individual=person, encounter=encounter)
    f.ContactFactory(case=case)
    f.ReferralFactory(program=program, individual=person, case=case)
    return person


@pytest.fixture
def supervisors(program, other_program):
    ours = [f.UserFactory(program=program, roles=[Role.SUPERVISOR], email=f"sup{i}@crt.example.org") for i in (1, 2)]
    f.UserFactory(program=other_program, roles=[Role.SUPERVISOR], email="elsewhere@crt.example.org")
    return ours


def seen(user, person) -> dict[str, int]:
    return {
        model.__name__: model.objects.visible_to(user).filter(**{path: person.pk}).count()
        for model, path in [
            (Individual, "id"),
            (Encounter, "individual"),
            (Assessment, "encounter__individual"),
            (Case, "individual"),
            (Contact, "case__individual"),
            (Referral, "individual"),
        ]
    }


NOTHING = dict.fromkeys(["Individual", "Encounter", "Assessment", "Case", "Contact", "Referral"], 0)
EVERYTHING = dict.fromkeys(NOTHING, 1)


def test_a_grant_shows_the_whole_record_of_that_person_only(peer, stranger, program, frozen):
    other = f.IndividualFactory(program=program)
    assert seen(peer, stranger) == NOTHING
    start_break_glass(peer, stranger, reason=REASON)
    assert seen(peer, stranger) == EVERYTHING  # clinical records too: it is an emergency
    assert Individual.objects.visible_to(peer).filter(pk=other.pk).count() == 0


def test_the_grant_ends_by_itself_at_its_expiry(peer, stranger, frozen):
    start_break_glass(peer, stranger, reason=REASON, minutes=60)
    frozen.move_to(T0 + timedelta(minutes=60) - timedelta(seconds=1), tick=False)
    assert seen(peer, stranger) == EVERYTHING
    frozen.move_to(T0 + timedelta(minutes=60), tick=False)
    assert seen(peer, stranger) == NOTHING


def test_a_grant_can_be_ended_early(peer, stranger, supervisor, frozen):
    grant = start_break_glass(peer, stranger, reason=REASON)
    assert end_break_glass(grant, by=supervisor) is True
    assert seen(peer, stranger) == NOTHING
    assert end_break_glass(grant, by=supervisor) is False


def test_starting_one_is_audited_and_later_accesses_are_tagged(peer, navigator, stranger, frozen):
    grant = start_break_glass(peer, stranger, reason=REASON)
    (started,) = AccessLog.objects.filter(action=Action.BREAK_GLASS)
    assert (started.actor_id, started.individual_id, started.break_glass_id) == (peer.pk, stranger.pk, grant.pk)
    case = Case.objects.visible_to(peer).get(individual=stranger)
    record_access(peer, action=Action.VIEW, objects=[case])
    assert AccessLog.objects.latest("id").break_glass_id == grant.pk
    record_access(navigator, action=Action.VIEW, objects=[case])
    assert AccessLog.objects.latest("id").break_glass_id is None
    frozen.shift(timedelta(hours=2))
    record_access(peer, action=Action.VIEW, objects=[case])
    assert AccessLog.objects.latest("id").break_glass_id is None


def test_the_audit_looks_for_grants_only_while_one_may_be_in_force(
    peer, navigator, stranger, frozen, django_assert_num_queries
):
    case = Case.objects.filter(individual=stranger).first()
    with django_assert_num_queries(1):  # the insert: no one has ever held a grant
        record_access(peer, action=Action.VIEW, objects=[case])
    grant = start_break_glass(peer, stranger, reason=REASON)
    assert User.objects.get(pk=peer.pk).break_glass_until == grant.expires_at
    with django_assert_num_queries(2):  # the grants in force, then the insert
        record_access(peer, action=Action.VIEW, objects=[case])
    assert AccessLog.objects.latest("id").break_glass_id == grant.pk
    frozen.shift(timedelta(hours=2))  # past its end: no lookup again
    peer = User.objects.get(pk=peer.pk)
    with django_assert_num_queries(1):
        record_access(peer, action=Action.VIEW, objects=[case])
    assert AccessLog.objects.latest("id").break_glass_id is None


def test_a_shorter_grant_does_not_cut_short_a_longer_one(peer, stranger, program, frozen):
    long = start_break_glass(peer, stranger, reason=REASON, minutes=60)
    start_break_glass(peer, f.IndividualFactory(program=program), reason=REASON, minutes=5)
    assert User.objects.get(pk=peer.pk).break_glass_until == long.expires_at


def test_the_programs_supervisors_are_emailed_without_personal_data(
    peer, stranger, supervisors, django_capture_on_commit_callbacks, frozen
):
    with django_capture_on_commit_callbacks(execute=True):
        grant = start_break_glass(peer, stranger, reason=REASON)
    (message,) = mail.outbox
    assert sorted(message.to) == sorted(s.email for s in supervisors)
    text = message.subject + message.body
    assert peer.username in text and f"#{stranger.pk}" in text
    assert f"/audit/people/{stranger.pk}/access/" in text
    for private in ("Zelda", "Quartermaine", "missing", "Family called", str(stranger.date_of_birth)):
        assert private not in text
    assert BreakGlassGrant.objects.get(pk=grant.pk).reason == REASON


@pytest.mark.parametrize("reason", ["", "   ", "urgent"])
def test_a_reason_is_required(peer, stranger, reason):
    with pytest.raises(ValidationError):
        start_break_glass(peer, stranger, reason=reason)
    assert not BreakGlassGrant.objects.exists() and not AccessLog.objects.exists()


@pytest.mark.parametrize("minutes", [0, -5, 241])
def test_the_time_box_is_bounded(peer, stranger, minutes):
    with pytest.raises(ValidationError):
        start_break_glass(peer, stranger, reason=REASON, minutes=minutes)


def test_no_break_glass_into_another_program_or_for_partners(navigator_elsewhere, partner_user, stranger):
    for outsider in (navigator_elsewhere, partner_user):
        with pytest.raises(PermissionDenied):
            start_break_glass(outsider, stranger, reason=REASON)
    assert not BreakGlassGrant.objects.exists()


def test_a_grant_never_reaches_across_programs_or_survives_deactivation(navigator_elsewhere, peer, stranger, frozen):
    # a grant row naming another program's person (not something the service makes) shows nothing
    BreakGlassGrant.objects.create(
        user=navigator_elsewhere,
        program=navigator_elsewhere.program,
        individual=stranger,
        reason=REASON,
        started_at=T0,
        expires_at=T0 + timedelta(hours=1),
    )
    assert seen(navigator_elsewhere, stranger) == NOTHING
    start_break_glass(peer, stranger, reason=REASON)
    peer.is_active = False
    assert seen(peer, stranger) == NOTHING


def test_the_constraints_hold_in_the_database(peer, stranger):
    from django.db import IntegrityError, transaction

    for bad in ({"reason": ""}, {"expires_at": T0}):
        values = {"reason": REASON, "started_at": T0, "expires_at": T0 + timedelta(hours=1), **bad}
        with pytest.raises(IntegrityError), transaction.atomic():
            BreakGlassGrant.objects.create(user=peer, program=peer.program, individual=stranger, **values)
