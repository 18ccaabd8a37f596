"""The data generators: manage.py seed_demo (demo and training data) and seed_bulk (benchmarks)."""

import base64
import io
import itertools
from collections import Counter, defaultdict
from datetime import timedelta

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import connection, transaction
from django.utils import timezone

from accounts.models import User
from accounts.roles import Role
from cases.models import Assessment, Case, Encounter, FollowUp, Individual, SafetyPlan
from demo import data as d
from providers.models import Organization
from referrals.models import (
    OPEN,
    PARTNER_SETS,
    REASON_REQUIRED,
    SENDER_SETS,
    TRANSITIONS,
    Delivery,
    Referral,
    ReferralEvent,
    Status,
)
from tests import factories as f

SEEDED_MODELS = [
    "accounts.Program",
    "accounts.User",
    "providers.Organization",
    "providers.Service",
    "providers.Location",
    "providers.ServiceAtLocation",
    "providers.ServiceCapacity",
    "providers.PartnerCredential",
    "cases.Individual",
    "cases.SupportContact",
    "cases.Encounter",
    "cases.EncounterResponder",
    "cases.Assessment",
    "cases.Case",
    "cases.FollowUp",
    "cases.Contact",
    "cases.SafetyPlan",
    "cases.Consent",
    "referrals.Referral",
    "referrals.ReferralEvent",
    "referrals.Delivery",
    "referrals.DeliveryAttempt",
    "inbox.Item",
]


def model_counts() -> dict[str, int]:
    labels = ("auth", "accounts", "providers", "cases", "referrals", "inbox")
    return {m._meta.label: m.objects.count() for label in labels for m in apps.get_app_config(label).get_models()}


def seed_demo() -> str:
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def seed_bulk(*args: str) -> str:
    out = io.StringIO()
    call_command("seed_bulk", *args, "--no-progress", stdout=out, stderr=io.StringIO())
    return out.getvalue()


# --- seed_demo ------------------------------------------------------------------------------------


@pytest.fixture(scope="class")
def demo(django_db_setup, django_db_blocker):
    """The demo data, made once for the tests of a class and rolled back after them (seeding is
    the slow part; the tests only read). Yields what the command printed."""
    with django_db_blocker.unblock(), transaction.atomic():
        yield seed_demo()
        transaction.set_rollback(True)


class TestSeedDemo:
    def test_seed_demo_run_twice_creates_no_duplicates(self, demo, db):
        assert demo.startswith("Created")  # the first run, on an empty database
        after_first = model_counts()
        output = seed_demo()

        assert model_counts() == after_first
        assert "nothing created" in output
        assert {label: after_first[label] for label in SEEDED_MODELS if after_first[label] == 0} == {}
        assert after_first["cases.Individual"] == 50
        assert after_first["providers.Organization"] == len(d.ORGANIZATIONS)

    def test_seed_demo_covers_every_referral_status_disposition_and_delivery_state(self, demo, db):

        assert set(Referral.objects.values_list("status", flat=True)) == set(Status.values)
        assert set(Encounter.objects.values_list("disposition", flat=True)) == set(Encounter.Disposition.values)
        assert set(Delivery.objects.values_list("state", flat=True)) >= {"delivered", "pending", "dead"}
        assert set(ReferralEvent.objects.values_list("actor_kind", flat=True)) == set(ReferralEvent.ActorKind.values)
        assert set(Case.objects.values_list("status", flat=True)) == set(Case.Status.values)

    def test_seed_demo_deliveries_are_thin_and_logged(self, demo, db):

        for delivery in Delivery.objects.prefetch_related("attempt_log").select_related("referral"):
            assert delivery.organization.channel != Organization.Channel.PULL
            assert set(delivery.payload) == {"type", "timestamp", "data"}  # ids and status only, never PHI
            assert set(delivery.payload["data"]) == {"referral_id", "status"}
            assert delivery.attempts == len(delivery.attempt_log.all())
            if delivery.state == Delivery.State.DEAD and delivery.event_type == "referral.requested":
                assert delivery.inbox_items.get().recipient == delivery.referral.case.navigator
        chased = Referral.objects.filter(chase_level=1).exclude(organization__channel=Organization.Channel.PULL)
        assert chased.exists()
        for referral in chased:
            assert referral.deliveries.filter(event_type="referral.reminder").exists()
            assert referral.events.filter(actor_kind=ReferralEvent.ActorKind.SYSTEM).exists()

    def test_seed_demo_referral_histories_follow_the_workflow(self, demo, db):

        for referral in Referral.objects.prefetch_related("events"):
            moves = [e for e in referral.events.all() if e.actor_kind != ReferralEvent.ActorKind.SYSTEM]
            assert (moves[0].from_status, moves[0].to_status) == ("", Status.DRAFT)
            for before, after in itertools.pairwise(moves):
                assert after.from_status == before.to_status
                assert after.to_status in TRANSITIONS[before.to_status] | {Status.ENTERED_IN_ERROR}
                assert after.created_at >= before.created_at
            assert moves[-1].to_status == referral.status
            for event in moves:
                expected = "partner" if event.to_status in PARTNER_SETS else "staff"
                assert event.to_status in PARTNER_SETS | SENDER_SETS
                assert event.actor_kind == expected, (referral.pk, event)
            if referral.status in REASON_REQUIRED:
                assert referral.status_reason
            assert (referral.requested_at is None) == (referral.status == Status.DRAFT)
            if referral.status in OPEN:
                assert referral.next_action_owner and referral.next_action_due_at
            assert referral.version == referral.events.count()
            assert referral.created_at == moves[0].created_at

    def test_seed_demo_rows_pass_every_model_validation(self, demo, db):

        for label in SEEDED_MODELS:
            model = apps.get_model(label)
            for obj in model.objects.all():
                # field validation (choices, lengths, e-mail and URL formats): the database has
                # already enforced the uniqueness and check constraints by accepting the rows
                obj.full_clean(validate_unique=False, validate_constraints=False)

    def test_seed_demo_keeps_exactly_one_current_safety_plan_per_case(self, demo, db):

        plans = defaultdict(list)
        for plan in SafetyPlan.objects.all():
            plans[plan.case_id].append(plan)
        assert plans
        for versions in plans.values():
            assert [p.is_current for p in sorted(versions, key=lambda p: p.version)][-1] is True
            assert sum(p.is_current for p in versions) == 1
            assert sorted(p.version for p in versions) == list(range(1, len(versions) + 1))
        assert Counter(len(v) for v in plans.values()).keys() >= {1, 2, 3}

    def test_seed_demo_derives_cssrs_risk_from_the_answers(self, demo, db):

        screens = Assessment.objects.filter(kind=Assessment.Kind.CSSRS)
        assert {a.risk_level for a in screens} >= {"none", "low", "moderate", "high"}
        for assessment in screens:
            assert assessment.risk_level == assessment.derived_risk()

    def test_seed_demo_has_done_missed_and_overdue_follow_ups(self, demo, db):
        now = timezone.now()

        assert set(FollowUp.objects.values_list("label", flat=True)) == {"24h", "72h", "7d", "30d"}
        assert FollowUp.objects.filter(done_at__isnull=False, completed_by__isnull=False).exists()
        assert FollowUp.objects.filter(is_missed=True).exists()
        assert FollowUp.objects.due(now).exists()
        assert not Individual.objects.filter(is_do_not_contact=True, cases__follow_ups__isnull=False).exists()

    def test_seed_demo_directory_uses_safe_channels_and_fake_hosts(self, demo, db):

        webhooks = Organization.objects.filter(channel=Organization.Channel.WEBHOOK)
        assert webhooks.exists()
        for org in webhooks:
            assert org.webhook_url.startswith("https://") and ".example.org/" in org.webhook_url
            assert org.webhook_secret.startswith("whsec_")
            assert len(base64.b64decode(org.webhook_secret.removeprefix("whsec_"))) == 24
        for org in Organization.objects.filter(channel=Organization.Channel.EMAIL):
            assert org.notification_email.endswith(".example.org")
        assert Organization.objects.filter(may_receive_part2=True).exists()
        assert Organization.objects.filter(locations__is_confidential=True).count() == 1
        stale = timezone.now() - timedelta(days=14)
        capacities = apps.get_model("providers.ServiceCapacity").objects
        assert capacities.filter(updated_at__lt=stale).exists() and capacities.filter(updated_at__gte=stale).exists()


def test_demo_logins_sign_in_with_their_role(client, db, settings):
    # seeded here, not by the class fixture: the password hashers of a test apply to its own run
    settings.PUBLIC_BASE_URL = "http://127.0.0.1:8123"  # what bin/run sets when RUN_PORT=8123
    output = seed_demo()

    assert "App:      http://127.0.0.1:8123/ " in output and "http://127.0.0.1:8123/admin/" in output
    assert d.DEMO_PASSWORD in output
    for username, _first, _last, role in d.STAFF:
        user = User.objects.get(username=username)
        assert user.roles == {role}
        assert user.is_staff and user.program.slug == d.PROGRAM_SLUG
    for username, *_ in d.PARTNER_USERS:
        partner = User.objects.get(username=username)
        assert partner.roles == {Role.PARTNER}
        assert not partner.is_staff and partner.program is None and partner.partner_organization is not None
    # one printed login per role, and each signs in (Argon2 is slow on purpose: one login per role)
    printed = {role: next(u for u, *_, r in d.STAFF if r == role) for role in {r for *_, r in d.STAFF}}
    printed[Role.PARTNER] = d.PARTNER_USERS[0][0]
    for role, username in printed.items():
        assert f"{role.label:<26} {username}" in output
        assert client.login(username=username, password=d.DEMO_PASSWORD), username
        assert client.get("/admin/").status_code == (200 if role == Role.STAFF_ADMIN else 302)  # staff admins' console


# --- seed_bulk ------------------------------------------------------------------------------------


def assert_bulk_shape(individuals: int, *, runs: int = 1) -> None:
    """What seed_bulk promises for N people: one encounter and case each, one or two referrals
    (two for every third person), and one event per step of each referral's history."""
    referrals = runs * (individuals + (individuals + 2) // 3)
    assert Individual.objects.count() == runs * individuals
    assert Encounter.objects.count() == runs * individuals
    assert Case.objects.count() == runs * individuals
    assert Referral.objects.count() == referrals
    history = {
        Status.DRAFT: 1,
        Status.REQUESTED: 2,
        Status.ACCEPTED: 3,
        Status.REJECTED: 3,
        Status.CANCELLED: 3,
        Status.ENTERED_IN_ERROR: 3,
        Status.IN_PROGRESS: 4,
        Status.ON_HOLD: 4,
        Status.COMPLETED: 5,
        Status.FAILED: 5,
    }
    expected_events = sum(history[s] for s in Referral.objects.values_list("status", flat=True))
    assert ReferralEvent.objects.count() == expected_events
    assert not Referral.objects.open().filter(next_action_due_at__isnull=True).exists()
    assert not Individual.objects.filter(encounters__isnull=True).exists()


def test_seed_bulk_creates_the_expected_counts(db):
    output = seed_bulk("--individuals", "300", "--batch-size", "128")

    assert_bulk_shape(300)
    assert ("COPY" if connection.vendor == "postgresql" else "bulk_create") in output
    now = timezone.now()
    created = Referral.objects.values_list("created_at", flat=True)
    assert min(created) < now - timedelta(days=300)  # spread over two years, not stamped "now"
    assert max(created) > now - timedelta(days=60)
    assert len(set(Referral.objects.values_list("status", flat=True))) >= 8
    assert Referral.objects.values("organization").distinct().count() >= 5
    assert Referral.objects.due(now).exists()  # the chase sweep has work


def test_seed_bulk_rows_pass_every_model_validation(db):
    seed_bulk("--individuals", "60")

    for model in (Individual, Encounter, Case, Referral, ReferralEvent):
        for obj in model.objects.all():
            obj.full_clean(validate_unique=False, validate_constraints=False)


def test_seed_bulk_reuses_the_existing_directory(db):
    service = f.ServiceFactory(need_domain="housing")

    seed_bulk("--individuals", "20")

    assert set(Referral.objects.values_list("service", flat=True)) == {service.pk}
    assert Organization.objects.count() == 1
    # the partner's moves need an actor: a revoked credential whose key nobody has
    credential = service.organization.credentials.get()
    assert credential.revoked_at is not None
    assert ReferralEvent.objects.filter(actor_kind="partner").exclude(actor_credential=credential).count() == 0


def test_seed_bulk_runs_again_without_colliding(db):
    seed_bulk("--individuals", "40", "--batch-size", "15")
    seed_bulk("--individuals", "40", "--batch-size", "15")

    assert_bulk_shape(40, runs=2)
    numbers = list(Encounter.objects.values_list("cad_incident_number", flat=True))
    assert len(set(numbers)) == 80
    assert len({n.split("-")[0] for n in numbers}) == 2  # one prefix per run
    # the sequences still hand out fresh keys after rows were written with reserved ones
    highest = max(Individual.objects.values_list("pk", flat=True))
    assert f.IndividualFactory(program=Individual.objects.first().program).pk > highest


def test_seed_bulk_orm_writer_works_on_any_database(db):
    output = seed_bulk("--individuals", "45", "--writer", "orm", "--batch-size", "20")

    assert "bulk_create" in output
    assert_bulk_shape(45)


@pytest.mark.postgres
def test_seed_bulk_writes_with_copy_on_postgresql(db):
    output = seed_bulk("--individuals", "300", "--writer", "copy", "--batch-size", "100")

    assert "with COPY" in output
    assert_bulk_shape(300)
    assert (
        Referral.objects.filter(requested_at__isnull=False).count() == Referral.objects.exclude(status="draft").count()
    )
    # the identity sequences moved past the copied rows: an ordinary insert does not collide
    highest = max(Referral.objects.values_list("pk", flat=True))
    assert f.ReferralFactory(program=Individual.objects.first().program).pk > highest
