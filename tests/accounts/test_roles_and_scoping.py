"""Who sees what: every `visible_to` against every kind of actor, and the role groups behind it.

The expected table below is written out by hand from the product's rules (DESIGN.md §1 and §8),
not read from accounts.roles.ACCESS, so that a wrong entry there makes these tests fail.
"""

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth.models import AnonymousUser, Group, Permission
from django.db import models, transaction
from django.test import override_settings
from django.utils import timezone

from accounts.models import BreakGlassGrant, User
from accounts.roles import PERMISSIONS, Role, permissions_of_roles
from cases.models import (
    Assessment,
    Case,
    Consent,
    Contact,
    Encounter,
    EncounterResponder,
    FollowUp,
    Individual,
    PersonMerge,
    SafetyPlan,
    SupportContact,
)
from inbox.models import Item, ItemEvent
from providers.models import PartnerCredential
from referrals.models import Delivery, DeliveryAttempt, Referral, ReferralEvent
from tests import factories as f
from tests.cases.test_constraints import (
    accepts,
    assert_accepted,
    assert_database_rejects,
    assert_full_clean_rejects,
    constraint_names,
    rejects,
)

T0 = datetime(2026, 3, 3, 9, 0, tzinfo=UTC)


@pytest.fixture(autouse=True, scope="module")
def fast_password_hashing():
    # Argon2 costs about half a second per user here, and these tests never sign anyone in.
    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
        yield


# --- the world -----------------------------------------------------------------------------------
#
# Program P has person A (on the peer's caseload) and person B (on another peer's caseload);
# program Q has person C. Each person has one record of every kind. Referrals go to the partner
# organisation "org" unless named otherwise:
#   A, C: requested;  B: accepted;  A_draft: draft;  A_other_org: requested, to "other_org";
#   A_unsent: cancelled while still a draft;  B_unsent: entered in error while still a draft.
# Every referral has one event; the four that were sent have one delivery each.

ACTORS = [
    "navigator",
    "peer",
    "clinician",
    "paramedic",
    "supervisor",
    "staff_admin",
    "navigator_elsewhere",
    "partner_user",
    "other_partner_user",
    "partner_credential",
    "revoked_credential",
    "inactive_user",
    "anonymous",
    "no_roles",
    "staff_no_program",
]

P_PEOPLE = {"A", "B"}
P_REFERRALS = {"A", "B", "A_draft", "A_other_org", "A_unsent", "B_unsent"}
PEER_REFERRALS = {"A", "A_draft", "A_other_org", "A_unsent"}
SENT_TO_ORG = {"A", "B", "C"}
P_ALERTS = {"to_peer", "to_navigator", "to_paramedic", "unaddressed", "to_no_roles", "to_inactive"}

# model -> actor -> labels seen. An actor not listed sees nothing.
PERSON = {
    "navigator": P_PEOPLE,
    "peer": {"A"},
    "clinician": P_PEOPLE,
    "paramedic": P_PEOPLE,  # responders need who the person is and the safety notes
    "supervisor": P_PEOPLE,
    "staff_admin": P_PEOPLE,
    "navigator_elsewhere": {"C"},
}
CLINICAL = {  # peers never read encounter narratives or assessments
    "navigator": P_PEOPLE,
    "clinician": P_PEOPLE,
    "paramedic": P_PEOPLE,
    "supervisor": P_PEOPLE,
    "staff_admin": P_PEOPLE,
    "navigator_elsewhere": {"C"},
}
SAFETY_PLANS = {  # responders need the plan on scene; peers build it for their own caseload
    "navigator": P_PEOPLE,
    "peer": {"A"},
    "clinician": P_PEOPLE,
    "paramedic": P_PEOPLE,
    "supervisor": P_PEOPLE,
    "staff_admin": P_PEOPLE,
    "navigator_elsewhere": {"C"},
}
CARE = {  # the follow-up work; paramedics hand over at the scene
    "navigator": P_PEOPLE,
    "peer": {"A"},
    "clinician": P_PEOPLE,
    "supervisor": P_PEOPLE,
    "staff_admin": P_PEOPLE,
    "navigator_elsewhere": {"C"},
}
REFERRALS = {
    "navigator": P_REFERRALS,
    "peer": PEER_REFERRALS,
    "clinician": P_REFERRALS,
    "supervisor": P_REFERRALS,
    "staff_admin": P_REFERRALS,
    "navigator_elsewhere": {"C"},
    "partner_user": SENT_TO_ORG,  # from both programs, never a draft, never another agency's
    "other_partner_user": {"A_other_org"},
    "partner_credential": SENT_TO_ORG,
}
DELIVERIES = {
    "navigator": {"A", "B", "A_other_org"},
    "peer": {"A", "A_other_org"},
    "clinician": {"A", "B", "A_other_org"},
    "supervisor": {"A", "B", "A_other_org"},
    "staff_admin": {"A", "B", "A_other_org"},
    "navigator_elsewhere": {"C"},
    "partner_user": SENT_TO_ORG,
    "other_partner_user": {"A_other_org"},
    "partner_credential": SENT_TO_ORG,
}
ALERTS = {  # one's own alerts; supervisors and admins the whole program's
    "navigator": {"to_navigator"},
    "peer": {"to_peer"},
    "paramedic": {"to_paramedic"},
    "supervisor": P_ALERTS,
    "staff_admin": P_ALERTS,
    "navigator_elsewhere": {"elsewhere"},
}
EXPECTED: dict[type[models.Model], dict[str, set[str]]] = {
    Individual: PERSON,
    SupportContact: PERSON,
    PersonMerge: PERSON,
    Encounter: CLINICAL,
    Assessment: CLINICAL,
    EncounterResponder: CLINICAL,
    SafetyPlan: SAFETY_PLANS,
    Case: CARE,
    FollowUp: CARE,
    Contact: CARE,
    Consent: CARE,
    Referral: REFERRALS,
    ReferralEvent: REFERRALS,
    Delivery: DELIVERIES,
    DeliveryAttempt: DELIVERIES,
    Item: ALERTS,
    ItemEvent: ALERTS,
    # the peer's break-glass grant to B, long expired: listed for its holder and the reviewers, and
    # (see PERSON, CARE...) no longer showing the peer anything of B
    BreakGlassGrant: {"peer": {"B"}, "supervisor": {"B"}, "staff_admin": {"B"}},
}


@dataclass
class World:
    actors: dict[str, object] = field(default_factory=dict)
    labels: dict[type[models.Model], dict[int, str]] = field(default_factory=dict)

    def add(self, label: str, obj: models.Model) -> models.Model:
        self.labels.setdefault(type(obj), {})[obj.pk] = label
        return obj

    def seen_by(self, model: type[models.Model], actor: str) -> set[str]:
        pks = model.objects.visible_to(self.actors[actor]).values_list("pk", flat=True)
        return {self.labels.get(model, {}).get(pk, f"unknown #{pk}") for pk in pks}


def build_world() -> World:
    world = World()
    p = f.ProgramFactory(name="World P", slug="world-p")
    q = f.ProgramFactory(name="World Q", slug="world-q")
    org = f.OrganizationFactory(name="World Partner")
    other_org = f.OrganizationFactory(name="World Other Partner")
    people = {
        role: f.UserFactory(username=f"world.{role}", program=p, roles=[role])
        for role in [Role.NAVIGATOR, Role.PEER, Role.CLINICIAN, Role.PARAMEDIC, Role.SUPERVISOR]
    }
    other_peer = f.UserFactory(username="world.other-peer", program=p, roles=[Role.PEER])
    elsewhere = f.UserFactory(username="world.elsewhere", program=q, roles=[Role.NAVIGATOR])
    inactive = f.UserFactory(username="world.inactive", program=p, roles=[Role.NAVIGATOR], is_active=False)
    no_roles = f.UserFactory(username="world.no-roles", program=p)
    world.actors = {
        "navigator": people[Role.NAVIGATOR],
        "peer": people[Role.PEER],
        "clinician": people[Role.CLINICIAN],
        "paramedic": people[Role.PARAMEDIC],
        "supervisor": people[Role.SUPERVISOR],
        "staff_admin": f.StaffAdminFactory(username="world.admin", program=p),
        "navigator_elsewhere": elsewhere,
        "partner_user": f.PartnerUserFactory(username="world.partner", partner_organization=org),
        "other_partner_user": f.PartnerUserFactory(username="world.other-partner", partner_organization=other_org),
        "partner_credential": f.PartnerCredentialFactory(organization=org),
        "revoked_credential": f.PartnerCredentialFactory(organization=org, revoked_at=T0),
        "inactive_user": inactive,
        "anonymous": AnonymousUser(),
        "no_roles": no_roles,
        "staff_no_program": f.UserFactory(
            username="world.unplaced", program=None, is_staff=True, roles=[Role.STAFF_ADMIN, Role.SUPERVISOR]
        ),
    }
    navigator = people[Role.NAVIGATOR]
    service = f.ServiceFactory(organization=org)
    other_service = f.ServiceFactory(organization=other_org)
    referrals: dict[str, Referral] = {}
    follow_ups: dict[str, FollowUp] = {}
    deliveries: dict[str, Delivery] = {}

    def referral(label, person, program, created_by, *, to=service, status="requested", sent=True, **extra):
        row = f.ReferralFactory(
            program=program,
            individual=person,
            service=to,
            status=status,
            requested_at=T0 if sent else None,
            created_by=created_by,
            **extra,
        )
        referrals[label] = world.add(label, row)
        world.add(label, f.ReferralEventFactory(referral=row, actor_user=created_by, from_status="", to_status=status))
        if sent:
            deliveries[label] = world.add(label, f.DeliveryFactory(referral=row))
            world.add(label, f.DeliveryAttemptFactory(delivery=deliveries[label]))

    for label, program, case_navigator, case_peer in [
        ("A", p, navigator, people[Role.PEER]),
        ("B", p, navigator, other_peer),
        ("C", q, elsewhere, None),
    ]:
        person = world.add(label, f.IndividualFactory(program=program))
        world.add(label, f.SupportContactFactory(individual=person))
        merged_away = world.add(label, f.IndividualFactory(program=program, merged_into=person))
        world.add(
            label,
            PersonMerge.objects.create(
                program=program,
                survivor=person,
                merged=merged_away,
                reason="One person, two records.",
                merged_by=case_navigator,
                merged_at=T0,
            ),
        )
        encounter = world.add(label, f.EncounterFactory(program=program, individual=person))
        world.add(label, f.AssessmentFactory(encounter=encounter))
        world.add(label, f.EncounterResponderFactory(encounter=encounter, user=case_navigator, role="navigator"))
        case = world.add(
            label,
            f.CaseFactory(
                program=program, individual=person, encounter=encounter, navigator=case_navigator, peer=case_peer
            ),
        )
        follow_ups[label] = world.add(label, f.FollowUpFactory(case=case))
        world.add(label, f.ContactFactory(case=case, made_by=case_navigator))
        world.add(label, f.SafetyPlanFactory(case=case, created_by=case_navigator))
        world.add(label, f.ConsentFactory(individual=person, recipient_organization=org, recorded_by=case_navigator))
        referral(label, person, program, case_navigator, status="accepted" if label == "B" else "requested", case=case)

    person_a, person_b = referrals["A"].individual, referrals["B"].individual
    world.add(
        "B",
        BreakGlassGrant.objects.create(
            user=people[Role.PEER],
            program=p,
            individual=person_b,
            reason="Family called: B missing overnight.",
            started_at=T0,
            expires_at=T0 + timedelta(hours=1),
        ),
    )
    referral("A_draft", person_a, p, navigator, status="draft", sent=False)
    referral("A_other_org", person_a, p, navigator, to=other_service)
    referral("A_unsent", person_a, p, navigator, status="cancelled", sent=False, status_reason="Wrong service.")
    referral("B_unsent", person_b, p, navigator, status="entered-in-error", sent=False)

    for label, program, recipient, subject in [
        ("to_peer", p, people[Role.PEER], {"referral": referrals["A"]}),
        ("to_navigator", p, navigator, {"referral": referrals["B"]}),
        ("to_paramedic", p, people[Role.PARAMEDIC], {"follow_up": follow_ups["A"]}),
        ("unaddressed", p, None, {"delivery": deliveries["B"]}),
        ("to_no_roles", p, no_roles, {"follow_up": follow_ups["B"]}),
        ("to_inactive", p, inactive, {"referral": referrals["A"], "level": 2}),
        ("elsewhere", q, elsewhere, {"referral": referrals["C"]}),
    ]:
        kind = {"referral": "referral_unanswered", "follow_up": "follow_up_overdue", "delivery": "delivery_dead"}
        subject_kind = kind[next(key for key in subject if key in kind)]
        item = world.add(
            label,
            Item.objects.create(
                program=program,
                recipient=recipient,
                kind=subject_kind,
                cause_key=label,
                created_at=timezone.now(),
                **subject,
            ),
        )
        world.add(label, ItemEvent.objects.create(item=item, action=ItemEvent.Action.RAISED, at=timezone.now()))
    return world


@pytest.fixture(scope="class")
def world(django_db_setup, django_db_blocker):
    """Built once for the matrix class, inside a transaction rolled back after it."""
    with django_db_blocker.unblock(), transaction.atomic():
        yield build_world()
        transaction.set_rollback(True)


class TestVisibilityMatrix:
    """Every model with visible_to, against every kind of actor, on one world."""

    @pytest.mark.parametrize("actor", ACTORS)
    @pytest.mark.parametrize("model", list(EXPECTED), ids=lambda model: model.__name__)
    def test_actor_sees_exactly_the_expected_records(self, db, world, model, actor):
        assert world.seen_by(model, actor) == EXPECTED[model].get(actor, set())

    def test_every_model_with_visible_to_is_in_the_matrix(self):
        from django.apps import apps

        scoped = {
            model
            for label in ("accounts", "providers", "cases", "referrals", "inbox")
            for model in apps.get_app_config(label).get_models()
            if hasattr(model.objects, "visible_to")
        }
        assert scoped == set(EXPECTED)


# --- the rules the matrix shows, each one by name -----------------------------------------------


def sent_referral(program, org, **fields) -> Referral:
    person = f.IndividualFactory(program=program)
    fields.setdefault("service", f.ServiceFactory(organization=org))
    return f.ReferralFactory(program=program, individual=person, **fields)


def test_partner_sees_referrals_addressed_to_its_org_but_never_drafts(program, partner_org, partner_user):
    sent = sent_referral(program, partner_org)
    draft = sent_referral(program, partner_org, status="draft", requested_at=None)
    assert list(Referral.objects.visible_to(partner_user)) == [sent]

    Referral.objects.filter(pk=draft.pk).update(status="requested", requested_at=timezone.now())
    assert set(Referral.objects.visible_to(partner_user)) == {sent, draft}


def test_partner_never_sees_a_draft_that_was_cancelled_before_it_was_sent(program, partner_org, partner_credential):
    sent_referral(program, partner_org, status="cancelled", requested_at=None, status_reason="Made in error.")
    sent_referral(program, partner_org, status="entered-in-error", requested_at=None)
    sent_then_cancelled = sent_referral(program, partner_org, status="cancelled", status_reason="Client declined.")
    assert list(Referral.objects.visible_to(partner_credential)) == [sent_then_cancelled]


def test_partner_cannot_see_other_agencies_referrals(program, partner_org, other_partner_org, other_partner_user):
    sent_referral(program, partner_org)
    theirs = sent_referral(program, other_partner_org)
    assert list(Referral.objects.visible_to(other_partner_user)) == [theirs]
    assert not ReferralEvent.objects.visible_to(other_partner_user).filter(referral__organization=partner_org).exists()


def test_partner_user_sees_no_personal_records(program, partner_org, partner_user, partner_credential):
    sent_referral(program, partner_org)
    for model in [Individual, SupportContact, Encounter, Assessment, Case, FollowUp, Contact, SafetyPlan, Consent]:
        assert not model.objects.visible_to(partner_user).exists(), model
        assert not model.objects.visible_to(partner_credential).exists(), model


def test_revoking_a_credential_takes_effect_on_the_next_query(program, partner_org, partner_credential):
    sent = sent_referral(program, partner_org)
    assert list(Referral.objects.visible_to(partner_credential)) == [sent]

    partner_credential.revoked_at = timezone.now()
    partner_credential.save(update_fields=["revoked_at"])

    assert not Referral.objects.visible_to(partner_credential).exists()
    reloaded = PartnerCredential.objects.get(pk=partner_credential.pk)
    assert not Referral.objects.visible_to(reloaded).exists()
    assert not ReferralEvent.objects.visible_to(reloaded).exists()


def test_deactivating_a_user_takes_effect_on_the_next_query(program, navigator, partner_org, partner_user):
    person = f.IndividualFactory(program=program)
    sent_referral(program, partner_org)
    assert person in Individual.objects.visible_to(navigator)
    assert Referral.objects.visible_to(partner_user).exists()

    for user in (navigator, partner_user):
        user.is_active = False
        user.save(update_fields=["is_active"])

    assert not Individual.objects.visible_to(navigator).exists()
    assert not Individual.objects.visible_to(User.objects.get(pk=navigator.pk)).exists()
    assert not Referral.objects.visible_to(partner_user).exists()
    assert not Referral.objects.visible_to(User.objects.get(pk=partner_user.pk)).exists()


def test_deactivating_a_partner_organisation_cuts_off_its_users_and_credentials(
    program, partner_org, partner_user, partner_credential
):
    sent_referral(program, partner_org)
    partner_org.is_active = False
    partner_org.save(update_fields=["is_active"])

    assert not Referral.objects.visible_to(User.objects.get(pk=partner_user.pk)).exists()
    assert not Referral.objects.visible_to(PartnerCredential.objects.get(pk=partner_credential.pk)).exists()
    assert not Delivery.objects.visible_to(User.objects.get(pk=partner_user.pk)).exists()


def test_removing_a_role_takes_effect_for_the_next_request(program, supervisor):
    f.IndividualFactory(program=program)
    assert Individual.objects.visible_to(supervisor).exists()
    supervisor.groups.clear()
    assert not Individual.objects.visible_to(User.objects.get(pk=supervisor.pk)).exists()


def test_user_in_two_role_groups_gets_the_wider_scope(program):
    peer_and_paramedic = f.UserFactory(program=program, roles=[Role.PEER, Role.PARAMEDIC])
    mine = f.CaseFactory(program=program, peer=peer_and_paramedic)
    theirs = f.CaseFactory(program=program)
    for case in (mine, theirs):
        f.EncounterFactory(program=program, individual=case.individual)

    # paramedic is wider on people and encounters; peer is wider on cases
    assert set(Individual.objects.visible_to(peer_and_paramedic)) == {mine.individual, theirs.individual}
    assert {e.individual for e in Encounter.objects.visible_to(peer_and_paramedic)} == {
        mine.individual,
        theirs.individual,
    }
    assert list(Case.objects.visible_to(peer_and_paramedic)) == [mine]


def test_a_staff_member_also_in_the_partner_group_keeps_their_staff_scope(program, partner_org):
    navigator_too = f.UserFactory(program=program, roles=[Role.NAVIGATOR, Role.PARTNER])
    draft = sent_referral(program, partner_org, status="draft", requested_at=None)
    assert list(Referral.objects.visible_to(navigator_too)) == [draft]


def test_partner_user_without_the_partner_role_sees_nothing(program, partner_org):
    sent_referral(program, partner_org)
    ungrouped = f.UserFactory(program=None, partner_organization=partner_org)
    assert not Referral.objects.visible_to(ungrouped).exists()


def test_peer_sees_every_case_of_a_person_on_their_caseload(program, peer):
    current = f.CaseFactory(program=program, peer=peer)
    earlier = f.CaseFactory(
        program=program,
        individual=current.individual,
        status=Case.Status.CLOSED,
        closed_reason=Case.ClosedReason.GOALS_MET,
        closed_at=timezone.now(),
    )
    f.CaseFactory(program=program)
    assert set(Case.objects.visible_to(peer)) == {current, earlier}


def test_being_the_navigator_of_record_puts_a_person_on_a_peer_role_users_caseload(program, peer):
    case = f.CaseFactory(program=program, navigator=peer)
    f.CaseFactory(program=program)
    assert list(Individual.objects.visible_to(peer)) == [case.individual]


def test_a_caseload_in_another_program_does_not_leak_across_programs(program, other_program, peer):
    # a data error put the peer on another program's case: the program filter still holds
    f.CaseFactory(program=other_program, peer=peer)
    assert not Case.objects.visible_to(peer).exists()
    assert not Individual.objects.visible_to(peer).exists()


def test_visible_to_chains_after_other_filters(program, navigator):
    mine = f.CaseFactory(program=program, navigator=navigator)
    f.CaseFactory(program=f.ProgramFactory(), navigator=navigator)
    assert list(Case.objects.open().visible_to(navigator)) == [mine]
    assert list(Case.objects.visible_to(navigator).open()) == [mine]


def test_inbox_items_addressed_to_a_user_without_a_role_stay_hidden_from_them(program):
    nobody = f.UserFactory(program=program)
    f.ItemFactory(
        program=program, recipient=nobody, kind="follow_up_overdue", referral=None, follow_up=f.FollowUpFactory()
    )
    assert not Item.objects.visible_to(nobody).exists()


# --- a constant number of queries ------------------------------------------------------------------


def _caseload_row(model, case, user):
    person = case.individual
    makers = {
        Individual: lambda: person,
        SupportContact: lambda: f.SupportContactFactory(individual=person),
        Case: lambda: case,
        FollowUp: lambda: f.FollowUpFactory(case=case),
        Contact: lambda: f.ContactFactory(case=case, made_by=user),
        SafetyPlan: lambda: f.SafetyPlanFactory(case=case, created_by=user),
        Consent: lambda: f.ConsentFactory(individual=person, recorded_by=user),
        Referral: lambda: f.ReferralFactory(program=case.program, individual=person, created_by=user),
        ReferralEvent: lambda: f.ReferralEventFactory(
            referral=f.ReferralFactory(program=case.program, individual=person, created_by=user)
        ),
        Delivery: lambda: f.DeliveryFactory(
            referral=f.ReferralFactory(program=case.program, individual=person, created_by=user)
        ),
    }
    return makers[model]()


@pytest.mark.parametrize(
    "model",
    [Individual, SupportContact, Case, FollowUp, Contact, SafetyPlan, Consent, Referral, ReferralEvent, Delivery],
    ids=lambda model: model.__name__,
)
def test_caseload_scope_costs_one_query_whatever_the_number_of_rows(program, peer, model, django_assert_num_queries):
    for expected in (1, 10):
        while model.objects.visible_to(peer).count() < expected:
            _caseload_row(model, f.CaseFactory(program=program, peer=peer), peer)
        qs = model.objects.visible_to(peer)
        with django_assert_num_queries(1):  # the caseload is a subquery, not a second round trip
            rows = list(qs)
        assert len(rows) == expected


@pytest.mark.parametrize("model", [Encounter, Assessment], ids=lambda model: model.__name__)
def test_program_scope_costs_one_query_whatever_the_number_of_rows(
    program, paramedic, model, django_assert_num_queries
):
    maker = f.EncounterFactory if model is Encounter else f.AssessmentFactory
    for expected in (1, 10):
        while model.objects.visible_to(paramedic).count() < expected:
            maker(encounter=f.EncounterFactory(program=program)) if model is Assessment else maker(program=program)
        qs = model.objects.visible_to(paramedic)
        with django_assert_num_queries(1):
            rows = list(qs)
        assert len(rows) == expected


@pytest.mark.parametrize("model", [Referral, ReferralEvent, Delivery], ids=lambda model: model.__name__)
def test_partner_scope_costs_one_query_whatever_the_number_of_rows(
    program, partner_org, partner_credential, model, django_assert_num_queries
):
    for expected in (1, 10):
        while model.objects.visible_to(partner_credential).count() < expected:
            sent = sent_referral(program, partner_org)
            if model is ReferralEvent:
                f.ReferralEventFactory(referral=sent)
            if model is Delivery:
                f.DeliveryFactory(referral=sent)
        qs = model.objects.visible_to(partner_credential)
        with django_assert_num_queries(1):
            rows = list(qs)
        assert len(rows) == expected


def test_inbox_item_scope_costs_one_query_whatever_the_number_of_rows(program, supervisor, django_assert_num_queries):
    for expected in (1, 10):
        while Item.objects.visible_to(supervisor).count() < expected:
            f.ItemFactory(program=program, kind="follow_up_overdue", referral=None, follow_up=f.FollowUpFactory())
        qs = Item.objects.visible_to(supervisor)
        with django_assert_num_queries(1):
            rows = list(qs)
        assert len(rows) == expected


# --- the role groups made by the data migration ----------------------------------------------------


def _codes(group: Group) -> set[str]:
    return {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.select_related("content_type")}


def test_the_roles_migration_made_one_group_per_role(db):
    labels = [role.label for role in Role]
    assert sorted(Group.objects.filter(name__in=labels).values_list("name", flat=True)) == sorted(labels)
    assert len(set(labels)) == len(Role)


@pytest.mark.parametrize("role", [role for role in Role if role != Role.STAFF_ADMIN], ids=str)
def test_each_role_group_has_exactly_its_listed_permissions(db, role):
    assert _codes(Group.objects.get(name=role.label)) == set(PERMISSIONS[role])


def test_the_staff_admin_group_has_every_permission_of_our_apps(db):
    ours = Permission.objects.filter(
        content_type__app_label__in=["accounts", "providers", "cases", "referrals", "inbox"]
    )
    codes = {f"{p.content_type.app_label}.{p.codename}" for p in ours.select_related("content_type")}
    assert {"referrals.delete_delivery", "inbox.view_item"} <= codes  # the apps' permissions exist at all
    assert not {code for code in codes if code.endswith("_alert")}  # the model moved to the inbox
    assert _codes(Group.objects.get(name=Role.STAFF_ADMIN.label)) == codes


@pytest.mark.parametrize("role", list(Role), ids=str)
def test_permission_checks_answer_from_the_role_table_what_the_groups_hold(db, role, django_assert_num_queries):
    # accounts.auth reads group permissions from accounts.roles instead of the database: the two must agree.
    user = f.UserFactory(program=f.ProgramFactory())
    user.groups.add(Group.objects.get(name=role.label))
    user = User.objects.get(pk=user.pk)
    held = _codes(Group.objects.get(name=role.label))
    assert permissions_of_roles(frozenset({role})) == held
    with django_assert_num_queries(1):  # the user's roles: nothing per group, no per-user permissions
        assert user.get_all_permissions() == held
        assert all(user.has_perm(code) for code in held)
    assert not user.has_perm("auth.add_group")


def test_a_permission_given_to_a_user_directly_grants_nothing(db):
    # Roles are the only source of permissions (docs/decisions/003): a per-user grant is ignored.
    user = f.UserFactory(program=f.ProgramFactory(), roles=[Role.PEER])
    user.user_permissions.add(Permission.objects.get(codename="add_encounter"))
    user = User.objects.get(pk=user.pk)
    assert not user.has_perm("cases.add_encounter")
    assert user.has_perm("cases.add_contact")  # what the peer role gives


def test_partners_and_peers_hold_no_clinical_permissions(db):
    # a second, hand-written check: an edit of PERMISSIONS alone must not hand these out
    clinical = {"cases.view_encounter", "cases.view_assessment"}
    assert not _codes(Group.objects.get(name=Role.PARTNER.label))
    assert not _codes(Group.objects.get(name=Role.PEER.label)) & clinical
    assert clinical <= _codes(Group.objects.get(name=Role.PARAMEDIC.label))


# --- the user's one constraint -------------------------------------------------------------------


def _user(*, staff: bool, partner: bool) -> User:
    return f.UserFactory.build(
        program=f.ProgramFactory() if staff else None,
        partner_organization=f.OrganizationFactory() if partner else None,
    )


def _grant(**fields) -> BreakGlassGrant:
    person = f.IndividualFactory()
    values = {"reason": "Family called: person missing.", "started_at": T0, "expires_at": T0 + timedelta(hours=1)}
    values.update(fields)
    return BreakGlassGrant(
        user=f.UserFactory(program=person.program), program=person.program, individual=person, **values
    )


USER_REJECTED = [
    rejects("user_staff_or_partner_not_both", "program-and-partner", lambda: _user(staff=True, partner=True)),
    rejects("break_glass_has_reason", "blank", lambda: _grant(reason=""), clean_error_on="reason"),
    rejects("break_glass_expires_after_start", "expires-at-start", lambda: _grant(expires_at=T0)),
]
USER_ACCEPTED = [
    accepts("user_staff_or_partner_not_both", "staff", lambda: _user(staff=True, partner=False)),
    accepts("user_staff_or_partner_not_both", "partner", lambda: _user(staff=False, partner=True)),
    accepts("user_staff_or_partner_not_both", "neither", lambda: _user(staff=False, partner=False)),
    accepts("break_glass_has_reason", "a-reason", _grant),
    accepts("break_glass_expires_after_start", "an-hour-later", _grant),
]


@pytest.mark.parametrize(("name", "build", "clean_error_on"), USER_REJECTED)
def test_database_rejects_a_user_both_staff_and_partner(db, name, build, clean_error_on):
    assert_database_rejects(build(), name)


@pytest.mark.parametrize(("name", "build", "clean_error_on"), USER_REJECTED)
def test_full_clean_rejects_a_user_both_staff_and_partner(db, name, build, clean_error_on):
    assert_full_clean_rejects(build(), name, clean_error_on)


@pytest.mark.parametrize(("name", "build"), USER_ACCEPTED)
def test_a_user_staff_or_partner_or_neither_is_accepted(db, name, build):
    assert_accepted(build(), name)


def test_every_constraint_of_accounts_is_tested():
    assert constraint_names("accounts") == {p.values[0] for p in USER_REJECTED} == {p.values[0] for p in USER_ACCEPTED}


def test_a_users_roles_are_their_role_groups(program):
    user = f.UserFactory(program=program, roles=[Role.PEER, Role.CLINICIAN])
    user.groups.add(Group.objects.create(name="Book club"))
    assert User.objects.get(pk=user.pk).roles == {Role.PEER, Role.CLINICIAN}


def test_an_inactive_users_roles_are_empty(program):
    user = f.UserFactory(program=program, roles=[Role.SUPERVISOR], is_active=False)
    assert user.roles == frozenset()
