"""Every database constraint of cases/: each rejects what it should and accepts its valid neighbour.

A rejected row must fail three ways: the constraint's own `validate`, `full_clean` (so forms and
serializers see it) and the database itself (IntegrityError naming that very constraint). The
helpers here are shared by the constraint tests of the other apps.
"""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.test import override_settings

from cases.models import Case, Consent, Encounter, FollowUpRule, PersonMerge
from tests import factories as f

T0 = datetime(2026, 3, 1, 2, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)

Build = Callable[[], models.Model]


@pytest.fixture(autouse=True, scope="module")
def fast_password_hashing():
    # Argon2 costs about half a second per user here, and these tests never sign anyone in.
    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
        yield


# --- shared helpers ----------------------------------------------------------------------------


def rejects(name: str, case: str, build: Build, *, clean_error_on: str | None = None, marks=()):
    """A row that the constraint `name` must refuse. `build` saves what the row needs, not the row."""
    return pytest.param(name, build, clean_error_on, id=f"{name}-{case}", marks=marks)


def accepts(name: str, case: str, build: Build):
    return pytest.param(name, build, id=f"{name}-{case}")


def constraint_named(model: type[models.Model], name: str) -> models.BaseConstraint:
    for constraint in model._meta.constraints:
        if constraint.name == name:
            return constraint
    raise LookupError(f"{model.__name__} has no constraint named {name}")


def constraint_names(*app_labels: str) -> set[str]:
    return {
        constraint.name
        for label in app_labels
        for model in apps.get_app_config(label).get_models()
        for constraint in model._meta.constraints
    }


def names_constraint(error: IntegrityError, model: type[models.Model], constraint: models.BaseConstraint) -> bool:
    """Whether the database error is this constraint's (not a NOT NULL or another rule's)."""
    diag = getattr(error.__cause__, "diag", None)
    if diag is not None:  # PostgreSQL names the constraint
        return diag.constraint_name == constraint.name
    message = str(error)  # SQLite names check constraints, and lists the columns of unique ones
    if isinstance(constraint, models.CheckConstraint):
        return message == f"CHECK constraint failed: {constraint.name}"
    columns = ", ".join(f"{model._meta.db_table}.{model._meta.get_field(name).column}" for name in constraint.fields)
    return message == f"UNIQUE constraint failed: {columns}"


def assert_database_rejects(obj: models.Model, name: str) -> None:
    model = type(obj)
    with pytest.raises(IntegrityError) as caught, transaction.atomic():
        obj.save()
    assert names_constraint(caught.value, model, constraint_named(model, name)), str(caught.value)


def assert_full_clean_rejects(obj: models.Model, name: str, clean_error_on: str | None) -> None:
    model = type(obj)
    with pytest.raises(ValidationError) as by_constraint:
        constraint_named(model, name).validate(model, obj)
    with pytest.raises(ValidationError) as by_clean:
        obj.full_clean()
    if clean_error_on is None:
        assert set(by_constraint.value.messages) <= set(by_clean.value.messages), by_clean.value.messages
    else:  # the field's own validation reports it first, and Django then skips the constraint
        assert clean_error_on in by_clean.value.error_dict


def assert_accepted(obj: models.Model, name: str) -> None:
    model = type(obj)
    constraint_named(model, name).validate(model, obj)
    obj.full_clean()
    obj.save()
    assert model._base_manager.filter(pk=obj.pk).exists()


def assert_every_constraint_tested(app_labels: tuple[str, ...], rejected: list, accepted: list) -> None:
    in_models = constraint_names(*app_labels)
    assert {param.values[0] for param in rejected} == in_models
    assert {param.values[0] for param in accepted} == in_models


# --- builders: each saves what the row depends on and returns the row unsaved -----------------


def encounter(**fields) -> Encounter:
    fields.setdefault("call_received_at", T0)
    fields.setdefault("dispatched_at", T0 + 2 * MINUTE)
    fields.setdefault("on_scene_at", T0 + 15 * MINUTE)
    fields.setdefault("cleared_at", T0 + 70 * MINUTE)
    individual = f.IndividualFactory()
    return f.EncounterFactory.build(program=individual.program, individual=individual, **fields)


def second_encounter_with_same_cad(*, same_program: bool) -> Encounter:
    first = f.EncounterFactory(cad_incident_number="CAD-0000001")
    program = first.program if same_program else f.ProgramFactory()
    return f.EncounterFactory.build(program=program, individual=None, cad_incident_number="CAD-0000001")


def responder_again(*, same_user: bool):
    first = f.EncounterResponderFactory()
    user = first.user if same_user else f.UserFactory(program=first.encounter.program)
    return f.EncounterResponderFactory.build(encounter=first.encounter, user=user, role="clinician")


def assessment(**fields):
    return f.AssessmentFactory.build(encounter=f.EncounterFactory(), **fields)


def case(**fields) -> Case:
    individual = f.IndividualFactory()
    return f.CaseFactory.build(program=individual.program, individual=individual, **fields)


def follow_up(**fields):
    return f.FollowUpFactory.build(case=f.CaseFactory(), owner=None, **fields)


def follow_up_again(*, same_case: bool):
    first = f.FollowUpFactory(label="24h")
    target = first.case if same_case else f.CaseFactory()
    return f.FollowUpFactory.build(case=target, owner=None, label="24h")


def dismissed_follow_up(**fields):
    target = f.CaseFactory()
    who = f.UserFactory(program=target.program)
    return f.FollowUpFactory.build(case=target, owner=None, dismissed_at=T0, dismissed_by=who, **fields)


def rule(**fields):
    # a new program starts with the default rules, "24h" for any disposition and risk among them
    return FollowUpRule(program=f.ProgramFactory(), disposition="", risk_level="", **fields)


def contact(**fields):
    target = f.CaseFactory()
    return f.ContactFactory.build(case=target, made_by=f.UserFactory(program=target.program), **fields)


def safety_plan(target=None, **fields):
    target = target or f.CaseFactory()
    return f.SafetyPlanFactory.build(case=target, created_by=f.UserFactory(program=target.program), **fields)


def second_safety_plan(*, version: int, is_current: bool, same_case: bool = True):
    first = f.SafetyPlanFactory(version=1, is_current=True)
    return safety_plan(first.case if same_case else None, version=version, is_current=is_current)


def consent(*, to_organization: bool = True, to_support_contact: bool = False, **fields) -> Consent:
    individual = f.IndividualFactory()
    fields.setdefault("given_at", T0)
    fields.setdefault("expires_at", None)
    if "recorded_by" not in fields:
        fields["recorded_by"] = f.UserFactory(program=individual.program)
    if to_support_contact:
        fields["recipient_support_contact"] = f.SupportContactFactory(individual=individual)
        fields.setdefault("purpose", Consent.Purpose.CONTACT)
    return f.ConsentFactory.build(
        individual=individual,
        recipient_organization=f.OrganizationFactory() if to_organization else None,
        **fields,
    )


def merge(*, same_record: bool = False, **fields) -> PersonMerge:
    survivor = f.IndividualFactory()
    merged = survivor if same_record else f.IndividualFactory(program=survivor.program)
    fields.setdefault("merged_by", f.UserFactory(program=survivor.program))
    return PersonMerge(
        program=survivor.program, survivor=survivor, merged=merged, reason="Same person.", merged_at=T0, **fields
    )


def merge_again(*, first_undone: bool) -> PersonMerge:
    first = merge()
    if first_undone:
        first.undone_at, first.undone_by = T0 + MINUTE, first.merged_by
    first.save()
    survivor = f.IndividualFactory(program=first.program)
    return PersonMerge(
        program=first.program,
        survivor=survivor,
        merged=first.merged,
        reason="Same person.",
        merged_at=T0 + MINUTE,
        merged_by=first.merged_by,
    )


REJECTED = [
    rejects(
        "encounter_cad_unique", "same-program-same-number", lambda: second_encounter_with_same_cad(same_program=True)
    ),
    rejects(
        "encounter_dispatched_after_received", "dispatched-before-call", lambda: encounter(dispatched_at=T0 - MINUTE)
    ),
    rejects(
        "encounter_on_scene_after_dispatched",
        "on-scene-before-dispatch",
        lambda: encounter(dispatched_at=T0 + 10 * MINUTE, on_scene_at=T0 + 9 * MINUTE),
    ),
    rejects(
        "encounter_cleared_after_on_scene",
        "cleared-before-on-scene",
        lambda: encounter(on_scene_at=T0 + 15 * MINUTE, cleared_at=T0 + 14 * MINUTE),
    ),
    rejects(
        "encounter_on_scene_after_received",
        "on-scene-before-call",
        lambda: encounter(dispatched_at=None, on_scene_at=T0 - MINUTE, cleared_at=None),
    ),
    rejects(
        "encounter_cleared_after_received",
        "cleared-before-call",
        lambda: encounter(dispatched_at=None, on_scene_at=None, cleared_at=T0 - MINUTE),
    ),
    rejects(
        "assessment_cssrs_recency_needs_behavior",
        "recency-without-q6",
        lambda: assessment(cssrs_behavior=None, cssrs_behavior_past_3_months=False),
    ),
    rejects("encounter_responder_unique", "same-user-twice", lambda: responder_again(same_user=True)),
    rejects("assessment_heart_rate_range", "301", lambda: assessment(heart_rate=301)),
    rejects("assessment_spo2_range", "101", lambda: assessment(spo2=101)),
    rejects("assessment_bp_ordered", "systolic-equals-diastolic", lambda: assessment(systolic_bp=80, diastolic_bp=80)),
    rejects("assessment_bp_ordered", "systolic-below-diastolic", lambda: assessment(systolic_bp=70, diastolic_bp=90)),
    rejects("assessment_temperature_range", "too-cold", lambda: assessment(temperature_c="19.9")),
    rejects("assessment_temperature_range", "too-hot", lambda: assessment(temperature_c="46.1")),
    rejects(
        "assessment_cssrs_recency_needs_behavior",
        "recency-after-no-behaviour",
        lambda: assessment(cssrs_behavior=False, cssrs_behavior_past_3_months=True),
    ),
    rejects(
        "case_closed_has_reason_and_time",
        "closed-without-reason",
        lambda: case(status=Case.Status.CLOSED, closed_at=T0),
    ),
    rejects(
        "case_closed_has_reason_and_time",
        "closed-without-time",
        lambda: case(status=Case.Status.CLOSED, closed_reason=Case.ClosedReason.GOALS_MET),
    ),
    rejects(
        "case_closed_has_reason_and_time",
        "open-with-reason",
        lambda: case(status=Case.Status.OPEN, closed_reason=Case.ClosedReason.MOVED),
    ),
    rejects(
        "case_closed_has_reason_and_time",
        "active-follow-up-with-closed-time",
        lambda: case(status=Case.Status.ACTIVE_FOLLOW_UP, closed_at=T0),
    ),
    rejects("followup_one_per_label", "same-label-same-case", lambda: follow_up_again(same_case=True)),
    rejects("followup_done_or_missed_not_both", "done-and-missed", lambda: follow_up(done_at=T0, is_missed=True)),
    rejects(
        "followup_dismissed_missed_with_reason",
        "dismissed-not-missed",
        lambda: dismissed_follow_up(dismissed_reason="Moved away."),
    ),
    rejects(
        "followup_dismissed_missed_with_reason",
        "dismissed-without-reason",
        lambda: dismissed_follow_up(is_missed=True),
    ),
    rejects("followup_rule_one_per_label", "label-again", lambda: rule(label="24h", offset=timedelta(hours=20))),
    rejects("followup_rule_offset_positive", "zero", lambda: rule(label="now", offset=timedelta(0))),
    rejects("contact_duration_range", "over-a-day", lambda: contact(duration_minutes=1441)),
    rejects(
        "safety_plan_version_unique",
        "same-version-twice",
        lambda: second_safety_plan(version=1, is_current=False),
    ),
    rejects("safety_plan_one_current", "two-current", lambda: second_safety_plan(version=2, is_current=True)),
    rejects("safety_plan_version_positive", "version-zero", lambda: safety_plan(version=0)),
    rejects(
        "consent_one_recipient",
        "organisation-and-category",
        lambda: consent(recipient_category="housing"),
    ),
    rejects("consent_one_recipient", "no-recipient", lambda: consent(to_organization=False)),
    rejects("consent_verbal_has_witness", "verbal-no-witness", lambda: consent(method=Consent.Method.VERBAL)),
    rejects("consent_expires_after_given", "expires-when-given", lambda: consent(expires_at=T0)),
    rejects("consent_expires_after_given", "expires-before-given", lambda: consent(expires_at=T0 - MINUTE)),
    rejects("consent_revoked_after_given", "revoked-before-given", lambda: consent(revoked_at=T0 - MINUTE)),
    rejects(
        "consent_one_recipient",
        "organisation-and-support-contact",
        lambda: consent(to_support_contact=True),
    ),
    rejects("consent_recorded_by_someone", "written-by-no-one", lambda: consent(recorded_by=None)),
    rejects("person_merge_two_records", "one-record-twice", lambda: merge(same_record=True)),
    rejects("person_merge_one_in_force", "merged-twice", lambda: merge_again(first_undone=False)),
    rejects("person_merge_undone_with_who", "undone-by-no-one", lambda: merge(undone_at=T0 + MINUTE)),
]

ACCEPTED = [
    accepts(
        "encounter_cad_unique", "same-number-other-program", lambda: second_encounter_with_same_cad(same_program=False)
    ),
    accepts("encounter_dispatched_after_received", "dispatched-at-call-time", lambda: encounter(dispatched_at=T0)),
    accepts(
        "encounter_dispatched_after_received",
        "not-dispatched",
        lambda: encounter(dispatched_at=None, on_scene_at=None, cleared_at=None),
    ),
    accepts(
        "encounter_on_scene_after_dispatched",
        "on-scene-at-dispatch",
        lambda: encounter(dispatched_at=T0 + MINUTE, on_scene_at=T0 + MINUTE),
    ),
    accepts(
        "encounter_cleared_after_on_scene",
        "cleared-at-on-scene",
        lambda: encounter(on_scene_at=T0 + 15 * MINUTE, cleared_at=T0 + 15 * MINUTE),
    ),
    accepts(
        "encounter_on_scene_after_received",
        "on-scene-at-call-without-dispatch",
        lambda: encounter(dispatched_at=None, on_scene_at=T0, cleared_at=None),
    ),
    accepts(
        "encounter_cleared_after_received",
        "cleared-after-call-only",
        lambda: encounter(dispatched_at=None, on_scene_at=None, cleared_at=T0 + MINUTE),
    ),
    accepts("encounter_responder_unique", "two-responders", lambda: responder_again(same_user=False)),
    accepts("assessment_heart_rate_range", "300", lambda: assessment(heart_rate=300)),
    accepts("assessment_spo2_range", "100", lambda: assessment(spo2=100)),
    accepts("assessment_bp_ordered", "120-over-80", lambda: assessment(systolic_bp=120, diastolic_bp=80)),
    accepts("assessment_bp_ordered", "systolic-only", lambda: assessment(systolic_bp=120, diastolic_bp=None)),
    accepts("assessment_temperature_range", "lowest", lambda: assessment(temperature_c="20.0")),
    accepts("assessment_temperature_range", "highest", lambda: assessment(temperature_c="46.0")),
    accepts(
        "assessment_cssrs_recency_needs_behavior",
        "behaviour-long-ago",
        lambda: assessment(cssrs_behavior=True, cssrs_behavior_past_3_months=False),
    ),
    accepts(
        "assessment_cssrs_recency_needs_behavior",
        "no-behaviour-no-recency",
        lambda: assessment(cssrs_behavior=False, cssrs_behavior_past_3_months=None),
    ),
    accepts(
        "case_closed_has_reason_and_time",
        "closed-with-reason-and-time",
        lambda: case(status=Case.Status.CLOSED, closed_reason=Case.ClosedReason.CONNECTED, closed_at=T0),
    ),
    accepts("case_closed_has_reason_and_time", "open", lambda: case(status=Case.Status.OPEN)),
    accepts("case_closed_has_reason_and_time", "active-follow-up", lambda: case(status=Case.Status.ACTIVE_FOLLOW_UP)),
    accepts("followup_one_per_label", "same-label-other-case", lambda: follow_up_again(same_case=False)),
    accepts("followup_done_or_missed_not_both", "done", lambda: follow_up(done_at=T0)),
    accepts("followup_done_or_missed_not_both", "missed", lambda: follow_up(is_missed=True)),
    accepts(
        "followup_dismissed_missed_with_reason",
        "missed-dismissed-with-reason",
        lambda: dismissed_follow_up(is_missed=True, dismissed_reason="Moved away."),
    ),
    accepts("followup_rule_one_per_label", "new-label", lambda: rule(label="48h", offset=timedelta(hours=48))),
    accepts("followup_rule_offset_positive", "a-minute", lambda: rule(label="1m", offset=MINUTE)),
    accepts("contact_duration_range", "a-whole-day", lambda: contact(duration_minutes=1440)),
    accepts("safety_plan_version_unique", "next-version", lambda: second_safety_plan(version=2, is_current=False)),
    accepts(
        "safety_plan_one_current",
        "current-on-another-case",
        lambda: second_safety_plan(version=1, is_current=True, same_case=False),
    ),
    accepts("safety_plan_version_positive", "version-one", lambda: safety_plan(version=1)),
    accepts("consent_one_recipient", "organisation-only", lambda: consent()),
    accepts(
        "consent_one_recipient",
        "category-only",
        lambda: consent(to_organization=False, recipient_category="housing"),
    ),
    accepts(
        "consent_verbal_has_witness",
        "verbal-with-witness",
        lambda: consent(method=Consent.Method.VERBAL, witness_name="J. Ortiz, paramedic"),
    ),
    accepts("consent_verbal_has_witness", "written-no-witness", lambda: consent(method=Consent.Method.WRITTEN)),
    accepts("consent_expires_after_given", "expires-later", lambda: consent(expires_at=T0 + MINUTE)),
    accepts("consent_revoked_after_given", "revoked-at-once", lambda: consent(revoked_at=T0)),
    accepts(
        "consent_one_recipient",
        "support-contact-only",
        lambda: consent(to_organization=False, to_support_contact=True),
    ),
    accepts(
        "consent_recorded_by_someone",
        "carried-over-flag",
        lambda: consent(to_organization=False, to_support_contact=True, recorded_by=None, method="not_recorded"),
    ),
    accepts("person_merge_two_records", "two-records", lambda: merge()),
    accepts("person_merge_one_in_force", "merged-again-after-undo", lambda: merge_again(first_undone=True)),
    accepts("person_merge_undone_with_who", "in-force", lambda: merge()),
]


@pytest.mark.parametrize(("name", "build", "clean_error_on"), REJECTED)
def test_database_rejects_invalid_row(db, name, build, clean_error_on):
    assert_database_rejects(build(), name)


@pytest.mark.parametrize(("name", "build", "clean_error_on"), REJECTED)
def test_full_clean_rejects_invalid_row(db, name, build, clean_error_on):
    assert_full_clean_rejects(build(), name, clean_error_on)


@pytest.mark.parametrize(("name", "build"), ACCEPTED)
def test_valid_row_is_accepted(db, name, build):
    assert_accepted(build(), name)


def test_every_constraint_of_cases_has_a_rejected_and_an_accepted_row():
    assert_every_constraint_tested(("cases",), REJECTED, ACCEPTED)


def test_a_later_safety_plan_version_can_become_current_once_the_old_one_is_retired(db):
    first = f.SafetyPlanFactory(version=1, is_current=True)
    with transaction.atomic():
        type(first).objects.filter(pk=first.pk).update(is_current=False)
        second = safety_plan(first.case, version=2, is_current=True)
        second.save()
    assert list(type(first).objects.filter(case=first.case).current()) == [second]


# Orderings that the pairwise constraints alone would miss when an intermediate time is unknown.


@pytest.mark.parametrize(
    "times",
    [
        pytest.param(
            {"dispatched_at": None, "on_scene_at": T0 - MINUTE, "cleared_at": None}, id="on-scene-before-call"
        ),
        pytest.param({"dispatched_at": None, "on_scene_at": None, "cleared_at": T0 - MINUTE}, id="cleared-before-call"),
    ],
)
def test_database_rejects_encounter_times_before_the_call(db, times):
    row = encounter(**times)
    try:
        with transaction.atomic():
            row.save()
    except IntegrityError:
        return
    pytest.fail("an encounter time before the call was received was stored")


def test_database_rejects_q6_recency_when_q6_was_not_asked(db):
    # cssrs_behavior=NULL makes "cssrs_behavior = true" NULL, and a CHECK that is NULL passes.
    row = assessment(cssrs_behavior=None, cssrs_behavior_past_3_months=False)
    try:
        with transaction.atomic():
            row.save()
    except IntegrityError:
        return
    pytest.fail("a Q6 recency answer was stored although Q6 itself was never answered")
