"""The safety-plan editor as rows, its refusals, the person's copy and the PDF (issue 15 items 1 and 7,
issue 12 item 9's empty plan)."""

import pytest
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.urls import reverse

from cases import plan_pdf, services
from cases.models import SafetyPlan
from tests import factories as f
from tests.plans import pdf_text, plan_post
from tests.web.conftest import signed_in

pytestmark = pytest.mark.django_db


def _edit(case):
    return reverse("cases:safety_plan_edit", args=[case.pk])


def test_rows_are_saved_in_their_order_with_their_fields(client, navigator, case):
    response = signed_in(client, navigator).post(
        _edit(case),
        plan_post(
            warning_signs=["not sleeping", "", "pulling away"],  # an empty row is no entry
            help_contacts=[{"name": "Rosa", "phone": "405-555-0102", "relationship": "aunt"}],
            environment_steps=[{"method": "medication", "step": "sister keeps the pills", "who": "", "status": "done"}],
            participants=[{"name": "Dana", "role": "individual"}],
        ),
    )
    assert response.status_code == 302
    plan = SafetyPlan.objects.get(case=case)
    assert plan.warning_signs == ["not sleeping", "pulling away"]
    assert plan.help_contacts == [{"name": "Rosa", "phone": "405-555-0102", "relationship": "aunt"}]
    assert plan.environment_steps == [{"method": "medication", "step": "sister keeps the pills", "status": "done"}]
    assert plan.participants == [{"name": "Dana", "role": "individual"}]


@pytest.mark.parametrize(
    ("move", "signs"),
    [
        ("up:warning_signs:1", ["b", "a", "c"]),
        ("down:warning_signs:0", ["b", "a", "c"]),
        ("remove:warning_signs:1", ["a", "c"]),
        ("add:warning_signs", ["a", "b", "c", ""]),
        ("up:warning_signs:0", ["a", "b", "c"]),  # the first row cannot go higher
        ("sideways:warning_signs:1", ["a", "b", "c"]),  # not a move: the page as posted
    ],
)
def test_without_javascript_the_row_buttons_rearrange_the_page_and_save_nothing(client, navigator, case, move, signs):
    response = signed_in(client, navigator).post(_edit(case), plan_post(warning_signs=["a", "b", "c"], row=move))
    assert response.status_code == 200
    rows = dict(response.context["editor"].sections[0:1])
    formset = next(iter(rows.values()))
    assert [form["text"].value() or "" for form in formset.forms] == signs
    assert not SafetyPlan.objects.exists()


def test_a_half_filled_row_is_refused_with_what_is_missing_and_nothing_saved(client, navigator, case):
    response = signed_in(client, navigator).post(
        _edit(case), plan_post(warning_signs=["a"], help_contacts=[{"phone": "405-555-0102", "relationship": "aunt"}])
    )
    assert response.status_code == 400
    assert "Fill in the name, or remove this row." in response.content.decode()
    assert "Nothing was saved: the rows marked below need fixing." in response.content.decode()
    assert not SafetyPlan.objects.exists()


def test_a_step_status_is_a_choice(client, navigator, case):
    c = signed_in(client, navigator)
    body = c.get(_edit(case)).content.decode()
    assert '<option value="in_progress">In progress</option>' in body
    response = c.post(_edit(case), plan_post(environment_steps=[{"method": "m", "step": "s", "status": "sort of"}]))
    assert response.status_code == 400
    assert not SafetyPlan.objects.exists()


def test_an_empty_plan_is_refused_and_the_current_version_stays(client, navigator, case):
    current = f.SafetyPlanFactory(case=case, created_by=navigator)
    response = signed_in(client, navigator).post(_edit(case), plan_post(most_important="My kids", warning_signs=[""]))
    assert response.status_code == 400
    assert "An empty safety plan cannot be saved" in response.content.decode()
    assert list(SafetyPlan.objects.values_list("pk", "is_current")) == [(current.pk, True)]


def test_the_service_refuses_an_empty_plan(case, navigator):
    with pytest.raises(ValidationError) as refused:
        services.save_safety_plan(case, by=navigator, most_important="My kids", participants=[])
    assert refused.value.code == "empty_plan"
    first = services.save_safety_plan(case, by=navigator, coping_strategies=["walk"])
    with pytest.raises(ValidationError):
        services.save_safety_plan(case, by=navigator, coping_strategies=[])  # clearing the only section
    assert SafetyPlan.objects.get(is_current=True) == first


def test_editing_shows_the_current_rows_and_one_blank_row_to_fill(client, navigator, case):
    f.SafetyPlanFactory(case=case, created_by=navigator, warning_signs=["not sleeping", "skipping meals"])
    body = signed_in(client, navigator).get(_edit(case)).content.decode()
    assert 'name="warning_signs-0-text" value="not sleeping"' in body
    assert 'name="warning_signs-1-text" value="skipping meals"' in body
    assert 'name="warning_signs-TOTAL_FORMS" value="3"' in body
    assert 'src="/static/crt/plan-editor.js"' in body and "<script>" not in body


FULL = {
    "warning_signs": ["not sleeping", "pulling away from friends", "giving things away", "drinking more"],
    "coping_strategies": ["walk the dog", "play guitar", "a hot shower", "music"],
    "distractions": [{"name": "Library", "place": "Downtown branch"}, {"name": "Cousin Ana", "phone": "405-555-0111"}],
    "help_contacts": [
        {"name": "Łukasz", "phone": "405-555-0102", "relationship": "brother"},
        {"name": "محمد", "phone": "405-555-0103", "relationship": "friend"},
        {"name": "Rosa", "phone": "405-555-0104", "relationship": "aunt"},
    ],
    "professional_contacts": [
        {"name": "Dr. Lee", "phone": "405-555-0199", "note": "weekdays"},
        {"name": "988 Lifeline", "phone": "988"},  # printed once anyway, in the crisis box
    ],
    "environment_steps": [
        {"method": "medication", "step": "Sister keeps the pills", "who": "sister", "status": "done"},
        {"method": "firearm", "step": "Stored at a friend's", "who": "Łukasz", "status": "in_progress"},
    ],
    "most_important": "My kids and my dog.",
    "participants": [{"name": "Nguyễn Thị Ánh", "role": "individual"}, {"name": "Nina", "role": "staff"}],
    "copy_kept_at": "Fridge door",
}


@pytest.fixture
def full_plan(case, navigator):
    person = case.individual
    person.legal_first_name, person.legal_last_name = "Nguyễn Thị", "Ánh"
    person.save()
    return services.save_safety_plan(case, by=navigator, **FULL)


def test_the_pdf_carries_every_script_of_the_plan_as_text(client, navigator, case, full_plan):
    response = signed_in(client, navigator).get(reverse("cases:safety_plan_pdf", args=[case.pk, full_plan.version]))
    assert response["Content-Type"] == "application/pdf"
    text = pdf_text(response.content)
    for name in ("Nguyễn Thị Ánh", "Łukasz", "محمد"):
        assert name in text
    assert b"/FontFile2" in response.content  # the font is embedded
    assert [line for line in text.splitlines() if "988" in line] == ["988 Suicide & Crisis Lifeline, call or text: 988"]
    assert [line for line in text.splitlines() if "911" in line] == ["Emergency: police, fire, ambulance: 911"]


def test_a_full_plan_fits_on_one_or_two_pages(client, navigator, case, full_plan):
    from io import BytesIO

    from pypdf import PdfReader

    response = signed_in(client, navigator).get(reverse("cases:safety_plan_pdf", args=[case.pk, full_plan.version]))
    assert 1 <= len(PdfReader(BytesIO(response.content)).pages) <= 2


def test_without_the_fonts_the_pdf_says_which_package_to_install(monkeypatch, tmp_path, full_plan):
    monkeypatch.setattr(plan_pdf, "FONT_DIR", tmp_path)
    with pytest.raises(ImproperlyConfigured, match="fonts-dejavu-core"):
        plan_pdf.safety_plan_pdf(full_plan)


def test_the_persons_copy_prints_the_crisis_lines_once_with_tap_to_call(client, paramedic, case, full_plan):
    response = signed_in(client, paramedic).get(reverse("cases:safety_plan_copy", args=[case.pk, full_plan.version]))
    body = response.content.decode()
    assert response.status_code == 200
    assert body.count('href="tel:988"') == 1 and body.count('href="tel:911"') == 1
    assert 'href="sms:988"' in body and 'href="sms:911"' not in body
    assert "988 Lifeline" not in body  # the plan's own 988 row is the crisis box's
    assert 'href="tel:4055550103"' in body and "<bdi" in body
    assert "crt/print.css" in body and 'aria-label="Main"' not in body  # no staff navigation on it
