"""The Columbia suicide-severity screener's triage rule, written out answer by answer.

Q1 wish to be dead, Q2 non-specific thoughts: low. Q3 thoughts with a method: moderate.
Q4 intent, Q5 a plan: high. Q6 behaviour within three months: high; longer ago: moderate.
Every answer no: no risk identified. Nothing asked: unknown (None).
"""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cases.models import Assessment, derive_cssrs_risk

QUESTIONS = ["wish_dead", "suicidal_thoughts", "method", "intent", "plan", "behavior", "behavior_past_3_months"]
ORDER = [None, "none", "low", "moderate", "high"]  # None: nothing was asked


def screen(**yes) -> dict:
    """Every question answered no, except those given."""
    answers = dict.fromkeys(QUESTIONS, False)
    answers["behavior_past_3_months"] = None  # only asked after a yes to Q6
    return answers | yes


@pytest.mark.parametrize(
    ("answers", "expected"),
    [
        pytest.param(dict.fromkeys(QUESTIONS), None, id="nothing-asked"),
        pytest.param(screen(), "none", id="all-no"),
        pytest.param(screen(behavior=False, behavior_past_3_months=None), "none", id="all-no-q6-no"),
        pytest.param(screen(wish_dead=True), "low", id="q1-only"),
        pytest.param(screen(suicidal_thoughts=True), "low", id="q2-only"),
        pytest.param(screen(wish_dead=True, suicidal_thoughts=True), "low", id="q1-and-q2"),
        pytest.param(screen(suicidal_thoughts=True, method=True), "moderate", id="q3"),
        pytest.param(screen(method=True), "moderate", id="q3-alone"),
        pytest.param(screen(suicidal_thoughts=True, intent=True), "high", id="q4"),
        pytest.param(screen(suicidal_thoughts=True, plan=True), "high", id="q5"),
        pytest.param(screen(suicidal_thoughts=True, method=True, intent=True, plan=True), "high", id="q3-q4-q5"),
        pytest.param(screen(behavior=True, behavior_past_3_months=True), "high", id="q6-within-3-months"),
        pytest.param(screen(behavior=True, behavior_past_3_months=False), "moderate", id="q6-longer-ago"),
        pytest.param(
            screen(wish_dead=True, behavior=True, behavior_past_3_months=False), "moderate", id="q1-and-q6-longer-ago"
        ),
        pytest.param(screen(method=True, behavior=True, behavior_past_3_months=True), "high", id="q3-and-q6-recent"),
        # the screener's skip logic: a no to Q2 skips Q3 to Q5
        pytest.param(screen(wish_dead=True, method=None, intent=None, plan=None), "low", id="q1-yes-q3-to-q5-skipped"),
        pytest.param(
            screen(method=None, intent=None, plan=None, behavior=True, behavior_past_3_months=True),
            "high",
            id="skipped-to-q6-recent",
        ),
        pytest.param({**dict.fromkeys(QUESTIONS), "behavior": False}, "none", id="only-q6-asked-no"),
    ],
)
def test_risk_follows_the_screener_triage_rule(answers, expected):
    assert derive_cssrs_risk(**answers) == expected


@pytest.mark.parametrize(
    ("field", "expected"),
    [
        ("cssrs_wish_dead", "low"),
        ("cssrs_suicidal_thoughts", "low"),
        ("cssrs_method", "moderate"),
        ("cssrs_intent", "high"),
        ("cssrs_plan", "high"),
        ("cssrs_behavior", "moderate"),
    ],
)
def test_assessment_feeds_each_screener_field_to_the_rule(field, expected):
    answers = {f"cssrs_{question}": False for question in QUESTIONS[:6]}
    assessment = Assessment(kind=Assessment.Kind.CSSRS, **(answers | {field: True}))
    assert assessment.derived_risk() == expected


def test_assessment_reads_q6_recency_from_its_own_field():
    recent = Assessment(kind=Assessment.Kind.CSSRS, cssrs_behavior=True, cssrs_behavior_past_3_months=True)
    assert recent.derived_risk() == "high"


def test_assessment_with_no_screener_answers_has_no_derived_risk():
    assert Assessment(kind=Assessment.Kind.MEDICAL).derived_risk() is None


answer = st.sampled_from([None, False, True])
screens = st.fixed_dictionaries(dict.fromkeys(QUESTIONS, answer))


@given(screens, st.sampled_from(QUESTIONS))
def test_risk_never_decreases_when_a_no_becomes_a_yes(answers, question):
    flipped = answers | {question: True}
    before = derive_cssrs_risk(**(answers | {question: False}))
    after = derive_cssrs_risk(**flipped)
    assert ORDER.index(after) >= ORDER.index(before), (answers, question)


@given(screens, st.sampled_from(QUESTIONS))
def test_risk_never_decreases_when_an_unasked_question_is_answered_yes(answers, question):
    before = derive_cssrs_risk(**(answers | {question: None}))
    after = derive_cssrs_risk(**(answers | {question: True}))
    assert ORDER.index(after) >= ORDER.index(before), (answers, question)


@given(screens)
def test_risk_is_always_a_known_level(answers):
    assert derive_cssrs_risk(**answers) in ORDER
