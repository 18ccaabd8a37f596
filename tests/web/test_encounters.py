"""Encounter entry and edit, and the assessment form with the C-SSRS screener, as responders use them:
who may write, who may only read, who gets a 404, what is saved, and what is refused with nothing saved."""

import importlib.util
import os
import time
from datetime import timedelta
from pathlib import Path

import pyotp
import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts import twofactor
from accounts.breakglass import start_break_glass
from audit.models import AccessLog
from cases.models import Assessment, Encounter, EncounterResponder, Individual
from tests import factories as f
from tests.web.conftest import signed_in

pytestmark = pytest.mark.django_db


def _local(dt) -> str:
    return timezone.localtime(dt).strftime("%Y-%m-%dT%H:%M")


def _call(**overrides) -> dict:
    received = timezone.now() - timedelta(hours=2)
    return {
        "cad_incident_number": "CAD-2026-0042",
        "call_source": "911",
        "call_received_at": _local(received),
        "dispatched_at": _local(received + timedelta(minutes=3)),
        "on_scene_at": _local(received + timedelta(minutes=15)),
        "cleared_at": _local(received + timedelta(minutes=70)),
        "team": "CRT-2",
        "law_enforcement": "requested",
        "reason_for_call": "Neighbour worried.",
        "interventions": ["de_escalation", "safety_planning"],
        "disposition": "stabilised",
        **overrides,
    }


def _screen(**answers) -> dict:
    return {
        "kind": "cssrs",
        "performed_at": _local(timezone.now() - timedelta(minutes=90)),
        "heart_rate": "96",
        **{f"cssrs_{name}": value for name, value in answers.items()},
    }


@pytest.fixture
def encounter(person):
    return f.EncounterFactory(program=person.program, individual=person, cad_incident_number="CAD-2026-0001")


# --- new and edit -------------------------------------------------------------------------------


def test_paramedic_records_an_encounter_for_a_person_with_the_team(client, paramedic, clinician, person):
    response = signed_in(client, paramedic).post(
        reverse("cases:encounter_new", args=[person.pk]), {**_call(), "responders": [paramedic.pk, clinician.pk]}
    )
    encounter = Encounter.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("cases:encounter", args=[encounter.pk])
    assert (encounter.individual, encounter.created_by, encounter.team) == (person, paramedic, "CRT-2")
    assert (encounter.law_enforcement, encounter.interventions) == ("requested", ["de_escalation", "safety_planning"])
    assert set(EncounterResponder.objects.values_list("user", "role")) == {
        (paramedic.pk, "paramedic"),
        (clinician.pk, "clinician"),
    }
    assert AccessLog.objects.filter(actor=paramedic, action="create", object_id=str(encounter.pk)).exists()


def test_clinician_records_an_encounter_where_the_person_was_not_located(client, clinician):
    response = signed_in(client, clinician).post(
        reverse("cases:encounter_new_unknown"), _call(disposition="unable_to_locate", on_scene_at="", cleared_at="")
    )
    assert response.status_code == 302
    encounter = Encounter.objects.get()
    assert (encounter.individual, encounter.disposition) == (None, "unable_to_locate")
    assert "person not identified" in client.get(response["Location"]).content.decode()


def test_clinician_edits_the_disposition(client, clinician, encounter):
    c = signed_in(client, clinician)
    url = reverse("cases:encounter_edit", args=[encounter.pk])
    assert 'value="CAD-2026-0001"' in c.get(url).content.decode()  # the form starts from what is saved
    times = {name: _local(getattr(encounter, name)) for name in ("call_received_at", "dispatched_at", "on_scene_at")}
    response = c.post(
        url,
        {
            **_call(cad_incident_number="CAD-2026-0001", cleared_at=""),
            **times,
            "disposition": "voluntary_crisis_centre",
        },
    )
    assert response.status_code == 302
    encounter.refresh_from_db()
    assert (encounter.disposition, encounter.cleared_at) == ("voluntary_crisis_centre", None)


def test_times_out_of_order_are_a_field_error_and_nothing_is_saved(client, paramedic, person):
    received = timezone.now() - timedelta(hours=2)
    response = signed_in(client, paramedic).post(
        reverse("cases:encounter_new", args=[person.pk]),
        _call(dispatched_at="", on_scene_at=_local(received - timedelta(minutes=5))),
    )
    assert response.status_code == 400
    assert "Must be after call received" in response.content.decode()
    assert not Encounter.objects.exists()


def test_a_cad_number_already_used_is_refused_by_the_service_on_its_field(client, paramedic, person, encounter):
    response = signed_in(client, paramedic).post(
        reverse("cases:encounter_new", args=[person.pk]), _call(cad_incident_number="CAD-2026-0001")
    )
    assert response.status_code == 400
    assert "already recorded" in response.content.decode()
    assert Encounter.objects.count() == 1


def test_encounter_form_needs_the_csrf_token(paramedic, person):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(paramedic)
    response = browser.post(reverse("cases:encounter_new", args=[person.pk]), _call())
    assert response.status_code == 403
    assert not Encounter.objects.exists()


# --- the encounter page and its assessments -----------------------------------------------------


def test_a_screen_saves_the_risk_the_server_derives_and_raises_the_persons_risk(client, paramedic, encounter, person):
    c = signed_in(client, paramedic)
    url = reverse("cases:encounter", args=[encounter.pk])
    response = c.post(url, {**_screen(suicidal_thoughts="yes", behavior="yes", behavior_past_3_months="yes")})
    assert response.status_code == 302
    screen = Assessment.objects.get(encounter=encounter)
    assert (screen.risk_level, screen.heart_rate, screen.performed_by) == ("high", 96, paramedic)
    assert (screen.cssrs_suicidal_thoughts, screen.cssrs_plan) == (True, None)
    assert Individual.objects.get(pk=person.pk).risk_level == "high"
    assert "C-SSRS risk: high" in c.get(response["Location"]).content.decode()


def test_recency_without_a_yes_to_question_six_is_a_field_error_and_nothing_is_saved(client, clinician, encounter):
    response = signed_in(client, clinician).post(
        reverse("cases:encounter", args=[encounter.pk]), _screen(behavior="no", behavior_past_3_months="yes")
    )
    assert response.status_code == 400
    assert "Asked only after a yes to question 6" in response.content.decode()
    assert not Assessment.objects.exists()


def test_an_assessment_before_the_call_is_refused_by_the_service_on_its_field(client, clinician, encounter):
    before = _local(encounter.call_received_at - timedelta(hours=1))
    response = signed_in(client, clinician).post(
        reverse("cases:encounter", args=[encounter.pk]), {**_screen(intent="yes"), "performed_at": before}
    )
    assert response.status_code == 400
    assert "cannot be before the call" in response.content.decode()
    assert not Assessment.objects.exists()


def test_encounter_page_loads_the_screener_script_from_a_file(client, paramedic, encounter):
    body = signed_in(client, paramedic).get(reverse("cases:encounter", args=[encounter.pk])).content.decode()
    assert "crt/cssrs.js" in body and "<script>" not in body and "style=" not in body
    assert 'id="cssrs-risk"' in body and 'id="q-cssrs_behavior_past_3_months"' in body
    assert 'data-cssrs="behavior"' in body


def test_encounter_page_records_the_access_to_the_encounter_and_its_assessments(client, navigator, encounter):
    screen = f.AssessmentFactory(encounter=encounter)
    signed_in(client, navigator).get(reverse("cases:encounter", args=[encounter.pk]))
    logged = set(AccessLog.objects.filter(actor=navigator, action="view").values_list("object_type", "object_id"))
    assert {("cases.encounter", str(encounter.pk)), ("cases.assessment", str(screen.pk))} <= logged


def test_encounter_page_query_count_does_not_grow_with_the_assessments(client, clinician, paramedic, encounter):
    c = signed_in(client, clinician)
    url = reverse("cases:encounter", args=[encounter.pk])
    f.EncounterResponderFactory(encounter=encounter, user=paramedic)
    f.AssessmentFactory(encounter=encounter, performed_by=paramedic)
    c.get(url)  # warm the session and the role cache

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert c.get(url).status_code == 200
        return len(captured)

    few = queries()
    for _ in range(8):
        f.AssessmentFactory(encounter=encounter, performed_by=clinician)
    assert queries() == few


# --- who may do what ----------------------------------------------------------------------------


def test_navigator_reads_an_encounter_but_cannot_write(client, navigator, encounter, person):
    c = signed_in(client, navigator)
    page = c.get(reverse("cases:encounter", args=[encounter.pk]))
    assert page.status_code == 200
    body = page.content.decode()
    assert "CAD-2026-0001" in body and "Add an assessment" not in body and "Edit encounter" not in body
    assert c.get(reverse("cases:encounter_edit", args=[encounter.pk])).status_code == 403
    assert c.get(reverse("cases:encounter_new", args=[person.pk])).status_code == 403
    assert c.post(reverse("cases:encounter", args=[encounter.pk]), _screen(intent="yes")).status_code == 403
    assert not Assessment.objects.exists()


def test_peer_gets_not_found_for_every_encounter_page(client, peer, case):
    encounter = f.EncounterFactory(program=case.program, individual=case.individual)
    c = signed_in(client, peer)
    for url in (
        reverse("cases:encounter", args=[encounter.pk]),
        reverse("cases:encounter_edit", args=[encounter.pk]),
        reverse("cases:encounter_new", args=[case.individual_id]),
        reverse("cases:encounter_new_unknown"),
    ):
        assert c.get(url).status_code == 404


def test_peer_with_a_break_glass_grant_reads_that_persons_encounter_but_cannot_write(client, peer, encounter, person):
    start_break_glass(peer, person, reason="On scene with him; need his history.")
    c = signed_in(client, peer)
    assert c.get(reverse("cases:encounter", args=[encounter.pk])).status_code == 200
    assert c.get(reverse("cases:encounter_edit", args=[encounter.pk])).status_code == 404
    logged = AccessLog.objects.get(actor=peer, action="view", object_type="cases.encounter")
    assert logged.break_glass_id is not None


def test_another_programs_encounter_and_person_are_not_found(client, paramedic, person_elsewhere):
    encounter = f.EncounterFactory(program=person_elsewhere.program, individual=person_elsewhere)
    c = signed_in(client, paramedic)
    for url in (
        reverse("cases:encounter", args=[encounter.pk]),
        reverse("cases:encounter_edit", args=[encounter.pk]),
        reverse("cases:encounter_new", args=[person_elsewhere.pk]),
    ):
        response = c.get(url)
        assert response.status_code == 404 and b"Olive" not in response.content
    assert c.post(reverse("cases:encounter", args=[encounter.pk]), _screen(intent="yes")).status_code == 404
    assert not Assessment.objects.exists()


def test_person_page_and_people_list_link_to_encounter_entry_for_responders_only(
    client, paramedic, navigator, encounter, person
):
    new = reverse("cases:encounter_new", args=[person.pk])
    medic = signed_in(client, paramedic)
    assert new in medic.get(reverse("cases:person", args=[person.pk])).content.decode()
    assert (
        reverse("cases:encounter", args=[encounter.pk])
        in medic.get(reverse("cases:person", args=[person.pk])).content.decode()
    )
    people = medic.post(reverse("cases:people"), {"q": "Reyes"}).content.decode()
    assert new in people and reverse("cases:encounter_new_unknown") in people
    assert new not in signed_in(client, navigator).get(reverse("cases:person", args=[person.pk])).content.decode()


# --- the screener in a real browser -------------------------------------------------------------


def _no_browser() -> str | None:
    if not Path("/usr/bin/chromium").exists():
        return "needs Chromium at /usr/bin/chromium (apt-get install chromium)"
    if importlib.util.find_spec("playwright") is None:
        return "needs the playwright package (pip install -r requirements-dev.txt)"
    return None


@pytest.mark.skipif(_no_browser() is not None and os.environ.get("CI") != "true", reason=_no_browser() or "")
@pytest.mark.django_db(transaction=True)
def test_the_screener_shows_the_derived_risk_as_it_is_answered_and_asks_6b_only_after_a_yes(
    settings, live_server, monkeypatch, paramedic, program
):
    from playwright.sync_api import sync_playwright

    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = False
    settings.ALLOWED_HOSTS = ["localhost", "127.0.0.1"]
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    encounter = f.EncounterFactory(program=program, individual=f.IndividualFactory(program=program))
    secret = pyotp.TOTP(twofactor.enrol_for_demo(paramedic))
    base = live_server.url
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--headless", "--no-sandbox"])
        try:
            page = browser.new_page()
            errors = []
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.on(
                "console", lambda message: "Content Security Policy" in message.text and errors.append(message.text)
            )
            page.goto(f"{base}/accounts/login/")
            page.fill("input[name=username]", paramedic.username)
            page.fill("input[name=password]", "correct horse battery staple")
            page.click("button[type=submit]")
            page.wait_for_url("**/login/code/")
            page.fill("input[name=code]", secret.at(time.time()))
            page.click("button[type=submit]")
            page.wait_for_url(f"{base}/cases/people/")
            page.goto(f"{base}{reverse('cases:encounter', args=[encounter.pk])}")
            risk = page.locator("#cssrs-risk")
            recency = page.locator("#q-cssrs_behavior_past_3_months")
            assert risk.inner_text() == "not asked yet" and recency.is_hidden()
            page.check("input[name=cssrs_wish_dead][value=yes]")
            assert risk.inner_text() == "Low"
            page.check("input[name=cssrs_method][value=yes]")
            assert risk.inner_text() == "Moderate"
            page.check("input[name=cssrs_behavior][value=yes]")
            assert recency.is_visible()
            page.check("input[name=cssrs_behavior_past_3_months][value=yes]")
            assert risk.inner_text() == "High"
            page.check("input[name=cssrs_behavior][value=no]")  # 6b is hidden again, and its answer cleared
            assert recency.is_hidden() and risk.inner_text() == "Moderate"
            page.click("text=Save assessment")
            assert "C-SSRS risk: moderate" in page.locator(".messages").inner_text()
            assert not errors  # no script error, and no Content-Security-Policy refusal
        finally:
            browser.close()
    screen = Assessment.objects.get(encounter=encounter)
    assert (screen.risk_level, screen.cssrs_behavior, screen.cssrs_behavior_past_3_months) == ("moderate", False, None)
