"""The referral services, told from the navigator's and the partner's side: making and sending a
referral, who may move it, what every move writes, the chase clock and the outbox."""

from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError

from accounts.roles import Role
from providers.models import NeedDomain, Organization, Service
from referrals import services
from referrals.models import Delivery, Referral, ReferralEvent
from tests import factories as f

NOW = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def clock(time_machine):
    time_machine.move_to(NOW, tick=False)
    return time_machine


@pytest.fixture
def person(program):
    return f.IndividualFactory(program=program)


@pytest.fixture
def housing(partner_org):
    return f.ServiceFactory(organization=partner_org, need_domain=NeedDomain.HOUSING)


@pytest.fixture
def consent(person, partner_org, navigator):
    return f.ConsentFactory(individual=person, recipient_organization=partner_org, recorded_by=navigator)


@pytest.fixture
def draft(person, housing, navigator, consent):
    return services.create_referral(individual=person, service=housing, by=navigator, reason="Needs a bed tonight.")


@pytest.fixture
def sent(draft, navigator):
    return services.send_referral(draft, by=navigator)


def code_of(call) -> str:
    with pytest.raises(ValidationError) as error:
        call()
    return error.value.code


def events(referral) -> list[tuple[str, str]]:
    return list(ReferralEvent.objects.filter(referral=referral).values_list("from_status", "to_status"))


def webhook_org(**fields) -> Organization:
    return f.OrganizationFactory(
        channel=Organization.Channel.WEBHOOK,
        webhook_url="https://partner.example.org/hooks",
        webhook_secret="whsec_c2VjcmV0c2VjcmV0c2VjcmV0",
        **fields,
    )


def email_org() -> Organization:
    return f.OrganizationFactory(channel=Organization.Channel.EMAIL, notification_email="intake@partner.example.org")


# --- making a referral --------------------------------------------------------------------------


def test_create_referral_makes_a_draft_for_the_services_organisation(draft, person, housing, program, navigator):
    assert draft.status == "draft"
    assert (draft.program, draft.individual, draft.service) == (program, person, housing)
    assert draft.organization == housing.organization
    assert draft.need_domain == "housing"
    assert draft.created_by == navigator
    assert draft.requested_at is None and draft.next_action_owner == "" and draft.next_action_due_at is None
    event = ReferralEvent.objects.get(referral=draft)
    assert (event.actor_kind, event.actor_user, event.from_status, event.to_status) == ("staff", navigator, "", "draft")


def test_create_referral_of_another_programs_person_is_not_found_like_a_missing_one(housing, navigator, other_program):
    stranger = f.IndividualFactory(program=other_program)
    missing = f.IndividualFactory.build(program=other_program, pk=999_999)
    for individual in (stranger, missing):
        assert (
            code_of(
                lambda i=individual: services.create_referral(individual=i, service=housing, by=navigator, reason="x")
            )
            == "not_found"
        )
    assert not Referral.objects.exists()


def test_create_referral_with_another_programs_case_is_not_found(person, housing, navigator, other_program):
    foreign_case = f.CaseFactory(program=other_program)
    call = lambda: services.create_referral(  # noqa: E731
        individual=person, service=housing, by=navigator, reason="x", case=foreign_case
    )
    assert code_of(call) == "not_found"


def test_create_referral_refuses_a_case_about_someone_else(person, housing, navigator, program):
    their_case = f.CaseFactory(program=program)
    call = lambda: services.create_referral(  # noqa: E731
        individual=person, service=housing, by=navigator, reason="x", case=their_case
    )
    assert code_of(call) == "invalid"


def test_create_referral_links_the_persons_case(person, housing, navigator, program):
    case = f.CaseFactory(program=program, individual=person)
    referral = services.create_referral(individual=person, service=housing, by=navigator, reason="x", case=case)
    assert referral.case == case


@pytest.mark.parametrize(
    "change", [{"status": Service.Status.INACTIVE}, {"status": Service.Status.TEMPORARILY_CLOSED}, "org_inactive"]
)
def test_create_referral_refuses_a_service_that_is_not_taking_referrals(person, housing, navigator, change):
    if change == "org_inactive":
        Organization.objects.filter(pk=housing.organization_id).update(is_active=False)
    else:
        Service.objects.filter(pk=housing.pk).update(**change)
    housing.refresh_from_db()
    call = lambda: services.create_referral(individual=person, service=housing, by=navigator, reason="x")  # noqa: E731
    assert code_of(call) == "service_unavailable"
    assert not Referral.objects.exists()


def test_partners_and_roles_without_referrals_cannot_create_referrals(
    person, housing, partner_user, partner_credential, paramedic
):
    for actor in (partner_user, partner_credential, paramedic, None):
        call = lambda a=actor: services.create_referral(individual=person, service=housing, by=a, reason="x")  # noqa: E731
        assert code_of(call) == "forbidden"


def test_a_peer_refers_only_people_on_their_caseload(person, housing, peer, program):
    assert (
        code_of(lambda: services.create_referral(individual=person, service=housing, by=peer, reason="x"))
        == "not_found"
    )
    f.CaseFactory(program=program, individual=person, peer=peer)
    assert services.create_referral(individual=person, service=housing, by=peer, reason="x").status == "draft"


@pytest.mark.parametrize(
    "bad",
    [
        {"reason": "   "},
        {"reason": None},
        {"urgency": "whenever"},
        {"includes_part2": "yes"},
        {"shares_contact_details": 1},
        {"service": 7},
        {"individual": "Jo"},
    ],
)
def test_create_referral_rejects_bad_input_and_writes_nothing(person, housing, navigator, bad):
    arguments = {"individual": person, "service": housing, "by": navigator, "reason": "x", **bad}
    assert code_of(lambda: services.create_referral(**arguments)) in {"invalid", "reason_required"}
    assert not Referral.objects.exists()
    assert not ReferralEvent.objects.exists()


# --- sending ------------------------------------------------------------------------------------


def test_send_referral_requests_it_and_starts_the_partners_clock(sent, consent, program):
    assert sent.status == "requested"
    assert sent.consent == consent
    assert sent.requested_at == NOW
    assert sent.business_status == "awaiting_partner"
    assert sent.next_action_owner == "partner"
    assert sent.next_action_due_at == NOW + program.referral_answer_window
    assert sent.chase_level == 0
    assert sent.version == 2
    assert events(sent) == [("", "draft"), ("draft", "requested")]


@pytest.mark.parametrize(
    ("make_org", "expected_channel"), [(webhook_org, "webhook"), (email_org, "email"), (None, None)]
)
def test_send_referral_writes_an_outbox_row_for_webhook_and_email_partners_only(
    person, navigator, make_org, expected_channel
):
    org = make_org() if make_org else f.OrganizationFactory(channel=Organization.Channel.PULL)
    f.ConsentFactory(individual=person, recipient_organization=org, recorded_by=navigator)
    draft = services.create_referral(
        individual=person, service=f.ServiceFactory(organization=org), by=navigator, reason="x"
    )
    assert not Delivery.objects.exists()  # nothing leaves for a draft
    services.send_referral(draft, by=navigator)
    rows = list(Delivery.objects.values_list("channel", "event_type", "referral_id"))
    assert rows == ([(expected_channel, "referral.requested", draft.pk)] if expected_channel else [])


def test_send_referral_without_consent_is_refused_and_changes_nothing(person, housing, navigator):
    draft = services.create_referral(individual=person, service=housing, by=navigator, reason="x")
    assert code_of(lambda: services.send_referral(draft, by=navigator)) == "no_consent"
    draft.refresh_from_db()
    assert (draft.status, draft.version, draft.consent_id) == ("draft", 1, None)
    assert events(draft) == [("", "draft")]


def test_send_referral_refuses_a_service_closed_since_the_draft(draft, navigator, housing):
    Service.objects.filter(pk=housing.pk).update(status=Service.Status.TEMPORARILY_CLOSED)
    assert code_of(lambda: services.send_referral(draft, by=navigator)) == "service_unavailable"


def test_sending_twice_changes_nothing_the_second_time(sent, navigator):
    again = services.send_referral(sent, by=navigator)
    assert again.version == 2
    assert Referral.objects.get(pk=sent.pk).version == 2
    assert len(events(sent)) == 2


def test_cancelling_a_sent_referral_tells_a_webhook_partner(person, navigator):
    org = webhook_org()
    f.ConsentFactory(individual=person, recipient_organization=org, recorded_by=navigator)
    draft = services.create_referral(
        individual=person, service=f.ServiceFactory(organization=org), by=navigator, reason="x"
    )
    services.send_referral(draft, by=navigator)
    cancelled = services.cancel_referral(draft, by=navigator, reason="Person found housing with family.")
    assert cancelled.status_reason == "Person found housing with family."
    assert list(Delivery.objects.order_by("id").values_list("event_type", flat=True)) == [
        "referral.requested",
        "referral.cancelled",
    ]
    assert Delivery.objects.get(event_type="referral.cancelled").payload["data"]["status"] == "cancelled"


def test_cancelling_a_draft_tells_no_one(person, navigator):
    org = webhook_org()
    draft = services.create_referral(
        individual=person, service=f.ServiceFactory(organization=org), by=navigator, reason="x"
    )
    services.cancel_referral(draft, by=navigator, reason="Made by mistake.")
    assert not Delivery.objects.exists()


def test_marking_a_sent_referral_in_error_tells_the_partner(person, navigator):
    org = email_org()
    f.ConsentFactory(individual=person, recipient_organization=org, recorded_by=navigator)
    draft = services.create_referral(
        individual=person, service=f.ServiceFactory(organization=org), by=navigator, reason="x"
    )
    services.send_referral(draft, by=navigator)
    services.mark_entered_in_error(draft, by=navigator, reason="Wrong person.")
    assert list(Delivery.objects.order_by("id").values_list("event_type", flat=True)) == [
        "referral.requested",
        "referral.entered-in-error",
    ]


# --- who may move a referral --------------------------------------------------------------------


def test_staff_of_another_program_get_not_found(sent, navigator_elsewhere):
    assert code_of(lambda: services.cancel_referral(sent, by=navigator_elsewhere, reason="x")) == "not_found"


def test_partner_of_another_organisation_gets_not_found(sent, other_partner_user, other_partner_org):
    other_key = f.PartnerCredentialFactory(organization=other_partner_org)
    for actor in (other_partner_user, other_key):
        assert code_of(lambda a=actor: services.accept_referral(sent, by=a)) == "not_found"


def test_a_partner_cannot_see_a_draft_so_cannot_move_it(draft, partner_credential):
    assert code_of(lambda: services.accept_referral(draft, by=partner_credential)) == "not_found"


def test_a_missing_referral_is_not_found(navigator):
    ghost = Referral(pk=123_456, status="requested")
    assert code_of(lambda: services.cancel_referral(ghost, by=navigator, reason="x")) == "not_found"


def test_a_revoked_credential_or_deactivated_partner_user_gets_not_found(sent, partner_credential, partner_user):
    partner_credential.revoked_at = NOW
    partner_credential.save(update_fields=["revoked_at"])
    partner_user.is_active = False
    partner_user.save(update_fields=["is_active"])
    for actor in (partner_credential, partner_user):
        assert code_of(lambda a=actor: services.accept_referral(sent, by=a)) == "not_found"


def test_a_partner_trying_a_senders_status_is_forbidden(sent, partner_user, partner_credential):
    for actor in (partner_user, partner_credential):
        assert code_of(lambda a=actor: services.cancel_referral(sent, by=a, reason="x")) == "forbidden"
        assert code_of(lambda a=actor: services.mark_entered_in_error(sent, by=a, reason="x")) == "forbidden"


def test_staff_trying_a_partners_status_is_forbidden(sent, navigator, supervisor):
    for actor in (navigator, supervisor):
        assert code_of(lambda a=actor: services.accept_referral(sent, by=a)) == "forbidden"
        assert code_of(lambda a=actor: services.set_business_status(sent, by=a, business_status="enrolled")) == (
            "forbidden"
        )


def test_the_system_cannot_change_a_status(sent):
    assert code_of(lambda: services.cancel_referral(sent, by=None, reason="x")) == "forbidden"
    assert code_of(lambda: services.accept_referral(sent, by=None)) == "forbidden"


def test_a_peer_moves_only_referrals_of_their_caseload(sent, peer, person, program):
    assert code_of(lambda: services.cancel_referral(sent, by=peer, reason="x")) == "not_found"
    f.CaseFactory(program=program, individual=person, peer=peer)
    assert services.cancel_referral(sent, by=peer, reason="Declined.").status == "cancelled"


def test_a_paramedic_cannot_see_referrals(sent, paramedic):
    assert code_of(lambda: services.cancel_referral(sent, by=paramedic, reason="x")) == "not_found"


def test_a_wrong_kind_of_actor_is_bad_input(sent):
    assert code_of(lambda: services.cancel_referral(sent, by="nina", reason="x")) == "invalid"


# --- what each move writes ----------------------------------------------------------------------


def test_each_partner_move_writes_one_event_naming_the_credential_or_the_user(sent, partner_credential, partner_user):
    services.accept_referral(sent, by=partner_credential, note="We have a bed.")
    services.start_referral(sent, by=partner_user)
    first, second = ReferralEvent.objects.filter(referral=sent, from_status__in=["requested", "accepted"])
    assert (first.actor_kind, first.actor_credential, first.actor_user, first.note) == (
        "partner",
        partner_credential,
        None,
        "We have a bed.",
    )
    assert (second.actor_kind, second.actor_user, second.actor_credential) == ("partner", partner_user, None)
    assert events(sent)[-2:] == [("requested", "accepted"), ("accepted", "in-progress")]


def test_accepting_gives_the_partner_seven_windows_and_stops_awaiting(sent, partner_credential, program, clock):
    clock.shift(timedelta(hours=5))
    accepted = services.accept_referral(sent, by=partner_credential)
    assert accepted.next_action_owner == "partner"
    assert accepted.next_action_due_at == NOW + timedelta(hours=5) + 7 * program.referral_answer_window
    assert accepted.business_status == ""
    assert accepted.version == 3


@pytest.mark.parametrize("move", ["start", "hold", "resume"])
def test_working_moves_restart_the_clock_and_the_chase_level(sent, partner_credential, program, clock, move):
    services.accept_referral(sent, by=partner_credential)
    if move == "resume":
        services.hold_referral(sent, by=partner_credential, reason="Waiting for a bed.")
    Referral.objects.filter(pk=sent.pk).update(chase_level=2)
    clock.shift(timedelta(days=2))
    call = {
        "start": lambda: services.start_referral(sent, by=partner_credential),
        "hold": lambda: services.hold_referral(sent, by=partner_credential, reason="Client in hospital."),
        "resume": lambda: services.resume_referral(sent, by=partner_credential),
    }[move]
    moved = call()
    assert moved.chase_level == 0
    assert moved.next_action_due_at == NOW + timedelta(days=2) + 7 * program.referral_answer_window


@pytest.mark.parametrize(
    ("accept_first", "finish"),
    [
        (True, lambda r, p: services.complete_referral(r, by=p, outcome_note="Enrolled.")),
        (True, lambda r, p: services.fail_referral(r, by=p, reason="Could not reach client.")),
        (False, lambda r, p: services.reject_referral(r, by=p, reason="No capacity.")),
    ],
    ids=["complete", "fail", "reject"],
)
def test_a_terminal_status_clears_the_next_action(sent, partner_credential, accept_first, finish):
    if accept_first:
        services.accept_referral(sent, by=partner_credential)
    Referral.objects.filter(pk=sent.pk).update(chase_level=3)
    finished = finish(sent, partner_credential)
    assert finished.status in {"completed", "failed", "rejected"}
    assert (finished.next_action_owner, finished.next_action_due_at, finished.chase_level) == ("", None, 0)


def test_failing_stores_the_reason_and_the_outcome_note_in_one_event(sent, partner_credential):
    services.accept_referral(sent, by=partner_credential)
    before = ReferralEvent.objects.filter(referral=sent).count()
    failed = services.fail_referral(
        sent, by=partner_credential, reason="Could not reach.", outcome_note=" Three calls. "
    )
    assert (failed.status, failed.status_reason, failed.outcome_note) == ("failed", "Could not reach.", "Three calls.")
    assert ReferralEvent.objects.filter(referral=sent).count() == before + 1


def test_completing_stores_the_outcome_note(sent, partner_credential):
    services.accept_referral(sent, by=partner_credential)
    done = services.complete_referral(sent, by=partner_credential, outcome_note="  Moved in on Friday. ")
    assert done.outcome_note == "Moved in on Friday."
    assert ReferralEvent.objects.filter(referral=sent).last().note == "Moved in on Friday."


def test_an_illegal_move_says_what_the_referral_is(sent, partner_credential):
    services.accept_referral(sent, by=partner_credential)
    services.complete_referral(sent, by=partner_credential)
    with pytest.raises(ValidationError) as error:
        services.accept_referral(sent, by=partner_credential)
    assert error.value.code == "invalid_transition"
    assert error.value.messages == ["A referral that is completed cannot become accepted."]


def test_a_stale_copy_that_lost_a_race_gets_conflict(sent, partner_credential, navigator):
    stale = Referral.objects.get(pk=sent.pk)
    services.cancel_referral(sent, by=navigator, reason="Person moved away.")
    with pytest.raises(ValidationError) as error:
        services.accept_referral(stale, by=partner_credential)
    assert error.value.code == "conflict"
    assert "cancelled" in error.value.messages[0]
    assert Referral.objects.get(pk=sent.pk).status == "cancelled"


# --- reasons ------------------------------------------------------------------------------------


@pytest.mark.parametrize("reason", ["", "   \n"])
def test_negative_moves_need_a_reason(sent, navigator, partner_credential, reason):
    assert code_of(lambda: services.cancel_referral(sent, by=navigator, reason=reason)) == "reason_required"
    assert code_of(lambda: services.reject_referral(sent, by=partner_credential, reason=reason)) == "reason_required"
    assert code_of(lambda: services.mark_entered_in_error(sent, by=navigator, reason=reason)) == "reason_required"
    services.accept_referral(sent, by=partner_credential)
    assert code_of(lambda: services.hold_referral(sent, by=partner_credential, reason=reason)) == "reason_required"
    assert code_of(lambda: services.fail_referral(sent, by=partner_credential, reason=reason)) == "reason_required"
    assert Referral.objects.get(pk=sent.pk).status == "accepted"


def test_a_reason_that_is_too_long_or_not_text_is_bad_input(sent, navigator):
    assert code_of(lambda: services.cancel_referral(sent, by=navigator, reason="x" * 501)) == "invalid"
    assert code_of(lambda: services.cancel_referral(sent, by=navigator, reason=42)) == "invalid"
    assert Referral.objects.get(pk=sent.pk).status == "requested"


def test_the_reason_is_kept_while_on_hold_and_cleared_on_resume(sent, partner_credential):
    services.accept_referral(sent, by=partner_credential)
    held = services.hold_referral(sent, by=partner_credential, reason="Client in hospital.")
    assert held.status_reason == "Client in hospital."
    assert services.resume_referral(sent, by=partner_credential).status_reason == ""


# --- progress, appointments and outcome notes ---------------------------------------------------


@pytest.fixture
def accepted(sent, partner_credential):
    return services.accept_referral(sent, by=partner_credential)


def test_set_appointment_moves_the_clock_to_after_the_appointment(accepted, partner_credential, program):
    when = NOW + timedelta(days=3)
    scheduled = services.set_appointment(accepted, by=partner_credential, appointment_at=when)
    assert scheduled.appointment_at == when
    assert scheduled.business_status == "appointment_scheduled"
    assert scheduled.next_action_owner == "partner"
    assert scheduled.next_action_due_at == when + program.follow_up_grace
    assert scheduled.status == "accepted"
    assert events(accepted)[-1] == ("accepted", "accepted")
    version = scheduled.version
    services.set_appointment(accepted, by=partner_credential, appointment_at=when)
    assert Referral.objects.get(pk=accepted.pk).version == version


@pytest.mark.parametrize(
    "when",
    [datetime(2026, 3, 5, 10, 0), NOW - timedelta(days=31), NOW + timedelta(days=800), "tomorrow"],
    ids=["naive", "far-past", "far-future", "text"],
)
def test_set_appointment_rejects_bad_times(accepted, partner_credential, when):
    assert code_of(lambda: services.set_appointment(accepted, by=partner_credential, appointment_at=when)) == "invalid"
    assert Referral.objects.get(pk=accepted.pk).appointment_at is None


def test_an_appointment_needs_an_accepted_referral(sent, partner_credential):
    call = lambda: services.set_appointment(sent, by=partner_credential, appointment_at=NOW)  # noqa: E731
    assert code_of(call) == "invalid_transition"


def test_business_status_and_outcome_note_are_the_partners_and_write_events(accepted, partner_user):
    services.set_business_status(accepted, by=partner_user, business_status="trying_to_reach", note="Left a message.")
    noted = services.record_outcome_note(accepted, by=partner_user, note="Intake booked.")
    assert (noted.business_status, noted.outcome_note) == ("trying_to_reach", "Intake booked.")
    assert ReferralEvent.objects.filter(referral=accepted, from_status="accepted", to_status="accepted").count() == 2
    assert code_of(lambda: services.set_business_status(accepted, by=partner_user, business_status="lost")) == "invalid"
    call = lambda: services.set_business_status(accepted, by=partner_user, business_status="appointment_scheduled")  # noqa: E731
    assert code_of(call) == "invalid"  # an appointment needs its time: set_appointment


def test_a_finished_referral_takes_no_more_progress(accepted, partner_user):
    services.complete_referral(accepted, by=partner_user)
    assert code_of(lambda: services.record_outcome_note(accepted, by=partner_user, note="x")) == "invalid_transition"
    call = lambda: services.set_business_status(accepted, by=partner_user, business_status="enrolled")  # noqa: E731
    assert code_of(call) == "invalid_transition"


# --- the chase clock ----------------------------------------------------------------------------


def test_the_system_moves_the_chase_clock_with_a_system_event(sent):
    due = NOW + timedelta(days=1)
    seen = Referral.objects.get(pk=sent.pk)  # what the sweep read
    assert services.chase_step(seen, now=NOW, owner="navigator", due_at=due, chase_level=2, note="Level 2.")
    assert (seen.next_action_owner, seen.next_action_due_at, seen.chase_level) == ("navigator", due, 2)
    row = Referral.objects.get(pk=sent.pk)
    assert (row.next_action_owner, row.next_action_due_at, row.chase_level, row.status) == (
        "navigator",
        due,
        2,
        "requested",
    )
    event = ReferralEvent.objects.filter(referral=sent).last()
    assert (event.actor_kind, event.actor_user, event.actor_credential, event.note) == (
        "system",
        None,
        None,
        "Level 2.",
    )
    assert (event.from_status, event.to_status) == ("requested", "requested")


def test_a_second_claim_of_the_same_chase_step_writes_nothing(sent):
    first, second = Referral.objects.get(pk=sent.pk), Referral.objects.get(pk=sent.pk)  # a duplicated sweep tick
    due = NOW + timedelta(days=1)
    assert services.chase_step(first, now=NOW, owner="partner", due_at=due, chase_level=1, note="Reminded.")
    version, count = Referral.objects.get(pk=sent.pk).version, ReferralEvent.objects.filter(referral=sent).count()
    assert not services.chase_step(second, now=NOW, owner="partner", due_at=due, chase_level=1, note="Reminded.")
    assert Referral.objects.get(pk=sent.pk).version == version
    assert ReferralEvent.objects.filter(referral=sent).count() == count


def test_an_answered_or_closed_referral_is_not_chased(sent, partner_user, navigator):
    scanned = Referral.objects.get(pk=sent.pk)  # what the sweep read before the partner answered
    services.accept_referral(sent, by=partner_user)
    assert not services.chase_step(scanned, now=NOW, owner="partner", due_at=NOW, chase_level=1, note="Reminded.")
    assert Referral.objects.get(pk=sent.pk).chase_level == 0
    services.cancel_referral(sent, by=navigator, reason="Not needed.")
    call = lambda: services.chase_step(sent, now=NOW, owner="partner", due_at=NOW, chase_level=1, note="x")  # noqa: E731
    assert code_of(call) == "invalid_transition"


def test_the_chase_step_refuses_bad_input(sent):
    naive = datetime(2026, 3, 3, 9, 0)
    for arguments in (
        {"owner": "nobody", "due_at": NOW, "chase_level": 1},
        {"owner": "partner", "due_at": naive, "chase_level": 1},
        {"owner": "partner", "due_at": NOW, "chase_level": -1},
        {"owner": "partner", "due_at": NOW, "chase_level": True},
    ):
        assert code_of(lambda a=arguments: services.chase_step(sent, now=NOW, note="", **a)) == "invalid"
    assert Referral.objects.get(pk=sent.pk).version == sent.version


# --- the cast's roles still hold ---------------------------------------------------------------


def test_the_staff_admin_and_supervisor_act_for_the_program(sent, supervisor, staff_admin):
    assert Role.SUPERVISOR in supervisor.roles
    services.mark_entered_in_error(sent, by=staff_admin, reason="Duplicate of another referral.")
    assert Referral.objects.get(pk=sent.pk).status == "entered-in-error"
