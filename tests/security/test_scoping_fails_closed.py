"""Scoping fails closed (crt.scoping, docs/decisions/015): a query on a person's data that neither
reads through visible_to nor says it is a system read raises ScopeError when it runs.

The models are found, not listed: every model with a chain of foreign keys to Individual, so a new
one cannot be forgotten. The tests run with the real checks (`scoped`), not the system read the rest
of the suite's setup runs under (tests/conftest.py).
"""

import io
from datetime import timedelta

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django.db.models import Count, ForeignKey
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from cases.models import Case, Contact, FollowUp, Individual, SafetyPlan
from crt.scoping import FailClosedQuerySet, ScopedRequests, ScopeError, in_system_read, system_read, user_reads_only
from tests import factories as f

PROJECT_APPS = ("accounts", "audit", "cases", "inbox", "metrics", "providers", "referrals")
# Person data no foreign key leads to: whole rows of the tracked tables, as JSON.
ALSO_PERSON_DATA = ("audit.ChangeHistory",)


def _reaches_individual(model, seen=()) -> bool:
    if model is Individual:
        return True
    for field in model._meta.concrete_fields:
        target = field.related_model if isinstance(field, ForeignKey) else None
        if target is not None and target not in seen and _reaches_individual(target, (*seen, model)):
            return True
    return False


def person_data_models():
    found = [
        model for model in apps.get_models() if model._meta.app_label in PROJECT_APPS and _reaches_individual(model)
    ]
    return sorted([*found, *(apps.get_model(label) for label in ALSO_PERSON_DATA)], key=lambda m: m._meta.label)


PERSON_DATA = person_data_models()

RUNS = {
    "fetch": lambda qs: list(qs),
    "first": lambda qs: qs.first(),
    "get": lambda qs: qs.get(pk=1),
    "values_list": lambda qs: list(qs.values_list("pk", flat=True)),
    "count": lambda qs: qs.count(),
    "exists": lambda qs: qs.exists(),
    "aggregate": lambda qs: qs.aggregate(n=Count("pk")),
    "iterator": lambda qs: list(qs.iterator()),
    "in_bulk": lambda qs: qs.in_bulk([1]),
    "update": lambda qs: qs.update(pk=0),
    "delete": lambda qs: qs.delete(),
}


def test_the_generated_list_finds_every_kind_of_person_data():
    labels = {model._meta.label for model in PERSON_DATA}
    assert {
        "cases.Individual",
        "cases.Encounter",
        "cases.EncounterResponder",
        "cases.Assessment",
        "cases.Case",
        "cases.FollowUp",
        "cases.Contact",
        "cases.SafetyPlan",
        "cases.Consent",
        "cases.SupportContact",
        "cases.PersonMerge",
        "referrals.Referral",
        "referrals.ReferralEvent",
        "referrals.Delivery",
        "referrals.DeliveryAttempt",
        "inbox.Item",
        "inbox.ItemEvent",
        "inbox.Notification",
        "audit.AccessLog",
        "audit.ChangeHistory",
        "accounts.BreakGlassGrant",
    } <= labels
    assert "accounts.User" not in labels and "providers.Organization" not in labels


@pytest.mark.django_db
@pytest.mark.parametrize("model", PERSON_DATA, ids=lambda m: m._meta.label)
def test_every_person_data_model_fails_closed(scoped, model):
    assert isinstance(model._default_manager.all(), FailClosedQuerySet)
    for run in RUNS.values():
        with pytest.raises(ScopeError, match=model._meta.label):
            run(model._default_manager.filter(pk__gt=0))


@pytest.mark.django_db
@pytest.mark.parametrize("model", PERSON_DATA, ids=lambda m: m._meta.label)
def test_a_system_read_of_each_model_runs(scoped, model):
    assert model._default_manager.system("this test").count() == 0
    with system_read("this test"):
        assert list(model._default_manager.all()) == []


@pytest.mark.django_db
@pytest.mark.parametrize(
    "model",
    [model for model in PERSON_DATA if hasattr(model._default_manager, "visible_to")],
    ids=lambda m: m._meta.label,
)
def test_visible_to_scopes_each_model(scoped, model, navigator):
    assert model._default_manager.visible_to(navigator).filter(pk__gt=0).count() == 0


def test_a_system_read_says_why():
    with pytest.raises(ValueError):
        Case.objects.system("")
    with pytest.raises(ValueError), system_read(""):
        pass


@pytest.fixture
def world(program, navigator, peer, paramedic):
    case = f.CaseFactory(program=program, navigator=navigator)
    f.FollowUpFactory(case=case)
    f.ContactFactory(case=case, made_by=navigator)
    f.SafetyPlanFactory(case=case)
    return case


@pytest.mark.django_db
def test_scoped_reads_return_what_the_user_may_see_and_what_is_built_on_them(world, navigator, peer):
    with user_reads_only():
        assert list(Case.objects.visible_to(navigator).filter(pk=world.pk).values_list("pk", flat=True)) == [world.pk]
        assert Case.objects.visible_to(peer).filter(pk=world.pk).count() == 0  # not on the peer's caseload
        assert Case.objects.visible_to(navigator).open().exists()


@pytest.mark.django_db
def test_a_scoped_query_combined_with_an_unscoped_one_is_unscoped(world, navigator):
    with user_reads_only():
        with pytest.raises(ScopeError):
            list(Case.objects.visible_to(navigator) | Case.objects.all())
        with pytest.raises(ScopeError):
            list(Case.objects.visible_to(navigator).union(Case.objects.all()))
        assert (Case.objects.visible_to(navigator) | Case.objects.visible_to(navigator)).count() == 1


@pytest.mark.django_db
def test_child_rows_are_read_through_their_scoped_parent_of_the_same_kind(world, navigator, paramedic):
    with user_reads_only():
        case = Case.objects.visible_to(navigator).get(pk=world.pk)
        assert case.follow_ups.count() == 1  # a case's follow-ups and contacts: the same rule as the case
        assert len(case.contacts.all()) == 1
        with pytest.raises(ScopeError):
            list(case.safety_plans.all())  # a safety plan has a rule of its own (a paramedic sees it)
        person = Individual.objects.visible_to(paramedic).get(pk=world.individual_id)
        with pytest.raises(ScopeError):
            list(person.cases.all())  # a paramedic sees the person, not their cases
        with pytest.raises(ScopeError):
            list(case.later_cases.all())  # a case's rule is its own person's, not the earlier case's
        unscoped = Case.objects.system("a parent read by the system").get(pk=world.pk)
        assert len(unscoped.safety_plans.all()) == 1  # the system's read extends to the children
        assert SafetyPlan.objects.visible_to(paramedic).filter(case=case).count() == 1


@pytest.mark.django_db
def test_a_parent_read_without_scope_does_not_open_its_children(world):
    with system_read("the parent"):
        case = Case.objects.get(pk=world.pk)  # scoped only by the block, not by the query
    with user_reads_only(), pytest.raises(ScopeError):
        list(case.contacts.all())


@pytest.mark.django_db
def test_writes_of_one_row_and_forward_relations_need_no_scope(world, navigator):
    with user_reads_only():
        contact = Contact.objects.create(
            case=world, made_by=navigator, occurred_at=timezone.now(), method="phone", outcome="reached"
        )
        contact.refresh_from_db()
        assert contact.case.individual_id == world.individual_id  # forward: the base manager


def test_a_request_never_runs_inside_a_system_read():
    """The middleware is first, so nothing in a request (another middleware, a view, a template)
    inherits the system read this test runs under."""
    from django.conf import settings

    assert in_system_read()
    assert settings.MIDDLEWARE[0] == "crt.scoping.ScopedRequests"
    assert ScopedRequests(lambda request: in_system_read())(RequestFactory().get("/")) is False
    assert in_system_read()


@pytest.mark.django_db
def test_a_page_that_read_unscoped_would_fail(client, world, navigator, monkeypatch):
    """Through the test client, a view meets the real checks although the test runs as the system."""
    from cases import views

    def reads_unscoped(request, pk):
        list(FollowUp.objects.filter(case_id=pk))

    monkeypatch.setattr(views, "_visible_case", reads_unscoped)
    client.force_login(navigator)
    with pytest.raises(ScopeError):
        client.get(reverse("cases:log_contact", args=[world.pk]))


@pytest.mark.django_db
def test_migrations_read_person_data_with_plain_managers(scoped):
    """Data migrations use the historical models, whose managers do not check: they run as before."""
    state = MigrationLoader(connection).project_state()
    for model in PERSON_DATA:
        assert state.apps.get_model(model._meta.label)._default_manager.count() == 0


# --- the jobs run as the system ------------------------------------------------------------------


@pytest.fixture
def due_work(program, navigator, partner_org, time_machine):
    now = timezone.now()
    case = f.CaseFactory(program=program, navigator=navigator, opened_at=now - timedelta(days=3))
    f.FollowUpFactory(case=case, owner=navigator, due_at=now - timedelta(days=2))
    f.ReferralFactory(
        program=program,
        individual=case.individual,
        case=case,
        organization=partner_org,
        status="requested",
        requested_at=now - timedelta(days=5),
        next_action_due_at=now - timedelta(days=1),
    )
    return case


@pytest.mark.django_db
def test_the_sweeps_and_inbox_jobs_run_under_the_real_checks(due_work, navigator):
    from cases.sweeps import sweep_follow_ups
    from inbox import sweeps as inbox_sweeps
    from inbox import tasks as inbox_tasks
    from referrals.sweeps import chase_referrals
    from referrals.tasks import sweep_deliveries

    with user_reads_only():
        assert not in_system_read()
        follow_ups = sweep_follow_ups()
        chased = chase_referrals()
        sweep_deliveries()
        for job in (
            inbox_tasks.send_notifications,
            inbox_tasks.queue_digests,
            inbox_tasks.wake_snoozed,
            inbox_sweeps.check_consents,
            inbox_sweeps.high_risk_without_contact,
            inbox_sweeps.nudge_stale_capacity,
            inbox_sweeps.purge,
        ):
            job()
        with pytest.raises(ScopeError):  # and nothing of it leaked out of the jobs
            FollowUp.objects.count()
    assert sum(follow_ups.values()) >= 1 and sum(chased.values()) >= 1
    assert FollowUp.objects.filter(case=due_work, escalation_level__gt=0).exists()


@pytest.mark.django_db
def test_the_metrics_report_command_runs_under_the_real_checks(due_work):
    with user_reads_only():
        call_command("metrics_report", "--month", timezone.now().strftime("%Y-%m"), stdout=io.StringIO())


@pytest.mark.django_db
def test_the_demo_seed_runs_under_the_real_checks(capsys):
    with user_reads_only():
        call_command("seed_demo")
    with pytest.raises(ScopeError), user_reads_only():
        Individual.objects.count()
    assert Individual.objects.exists()
