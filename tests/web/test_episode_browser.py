"""The whole crisis episode in a real browser on a 390x844 phone (issue 12): a clinician adds a new
person (a likely duplicate is offered and declined), records the encounter and opens a case from it;
the schedule appears on the navigator's caseload; a peer logs a contact that completes the 24 h
follow-up; the 72 h one is missed (the sweep runs days later) and stays on the caseload, the person
page and the team view; a supervisor merges the duplicate record; the navigator closes the case.

Days pass with time_machine (the live server runs in this process, so it sees the same clock); each
role signs in again after a jump, as they would. Skipped without Chromium (fails with CI=true), as
tests/web/test_browser.py."""

from datetime import timedelta

import pyotp
import pytest
from django.utils import timezone

from accounts import twofactor
from cases.follow_up_sweep import sweep_due_follow_ups
from cases.models import Case, FollowUp, Individual
from tests import factories as f
from tests.web import test_browser
from tests.web.test_browser import PHONE, _problem, _shot, _sign_in

pytestmark = [pytest.mark.skipif(_problem is not None, reason=_problem or "")]
browser = test_browser.browser  # the fixtures of tests/web/test_browser.py
web_settings = test_browser.web_settings
H = timedelta(hours=1)


def _phone(chromium, base, user, lands_on):
    context = chromium.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    page = context.new_page()
    _sign_in(page, base, user.username, pyotp.TOTP(twofactor.enrol_for_demo(user)), lands_on=lands_on)
    return page


def _fits(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], page.url


def _message(page) -> str:
    return page.locator(".messages").inner_text()


def test_the_whole_episode_on_a_phone(
    web_settings, live_server, browser, time_machine, program, clinician, navigator, peer, supervisor
):
    base = live_server.url
    start = timezone.now()
    time_machine.move_to(start, tick=True)
    existing = f.IndividualFactory(
        program=program, legal_first_name="Dana", legal_last_name="Reyes", date_of_birth="1990-04-02"
    )

    # 1. The clinician adds the person met on the call: a likely duplicate is offered and declined.
    page = _phone(browser, base, clinician, "/cases/people/")
    page.click("text=Add a person")
    page.fill("#id_legal_first_name", "Dana")
    page.fill("#id_legal_last_name", "Reyez")
    page.fill("#id_date_of_birth", "1990-04-02")
    page.click("button:has-text('Add person')")
    page.wait_for_selector("text=This person may already have a record")
    assert page.is_visible(f"a[href='/cases/people/{existing.pk}/']")
    _fits(page)
    page.click("button:has-text('None of these: add a new person') >> nth=0")
    page.wait_for_selector("text=Dana Reyez added.")
    person = Individual.objects.get(legal_last_name="Reyez")

    # 2. The encounter, then "Open a case" on the encounter page: navigator and peer, the schedule shown.
    page.click("text=New encounter")
    page.fill("#id_cad_incident_number", "CAD-2026-004711")
    page.select_option("#id_disposition", "stabilised")
    page.click("button:has-text('Save encounter')")
    page.wait_for_selector("text=Encounter CAD-2026-004711 saved.")
    page.click("a:has-text('Open a case')")
    page.select_option("#id_navigator", str(navigator.pk))
    page.select_option("#id_peer", str(peer.pk))
    schedule = page.locator("#schedule-heading + p + ul").inner_text()
    assert [line.split(" ")[0] for line in schedule.splitlines()] == ["24h", "72h", "7d", "30d"]
    _fits(page)
    _shot(page, "episode-open-case")
    page.click("button:has-text('Open case')")
    page.wait_for_selector("text=Follow-ups: 24h, 72h, 7d, 30d.")
    case = Case.objects.get(individual=person)
    assert (case.navigator, case.peer, case.encounter.cad_incident_number) == (navigator, peer, "CAD-2026-004711")
    assert page.is_visible("text=Next follow-up: 24-hour follow-up")

    # 3. The schedule on the navigator's caseload.
    page = _phone(browser, base, navigator, "/cases/")
    row = page.locator("table.caseload tr", has_text="Dana Reyez")
    assert "24-hour follow-up:" in row.inner_text()
    _fits(page)
    _shot(page, "episode-caseload")

    # 4. A day later the peer reaches Dana: the contact completes the 24 h follow-up.
    time_machine.move_to(start + 24 * H + 10 * timedelta(minutes=1), tick=True)
    page = _phone(browser, base, peer, "/cases/")
    due = page.locator("#due-heading + ul").inner_text()
    assert "Dana Reyez" in due and "24-hour follow-up" in due
    page.click("#due-heading + ul >> text=Log contact")
    assert page.locator("input[name=outcome]:checked").count() == 0
    page.check("input[name=outcome][value=reached]")
    _fits(page)
    page.click("button.save")
    assert "completed the 24-hour follow-up" in _message(page)
    assert FollowUp.objects.get(case=case, label="24h").done_at is not None

    # 5. Nobody reaches her around 72 h; days later the sweep gives up on that follow-up.
    time_machine.move_to(start + 72 * H + 72 * H + H, tick=True)
    sweep_due_follow_ups()
    assert FollowUp.objects.get(case=case, label="72h").is_missed
    page = _phone(browser, base, navigator, "/cases/")
    assert "72-hour follow-up missed" in page.locator("#due-heading + ul").inner_text()
    row = page.locator("table.caseload tr", has_text="Dana Reyez").inner_text()
    assert "72-hour follow-up missed" in row and "none" not in row
    _shot(page, "episode-missed-on-caseload")
    page.click("table.caseload >> text=Dana Reyez")
    assert page.is_visible("text=72-hour follow-up missed")
    assert not page.is_visible("text=Next follow-up: none")
    _fits(page)

    supervisor_page = _phone(browser, base, supervisor, "/cases/team/")
    team = supervisor_page.locator("table", has_text="Dana Reyez").inner_text()
    assert "72-hour follow-up" in team and "missed" in team
    _fits(supervisor_page)
    _shot(supervisor_page, "episode-missed-on-team")

    # 6. The supervisor merges the duplicate: the new record into the one that was already there.
    supervisor_page.goto(f"{base}/cases/people/{person.pk}/")
    supervisor_page.click("text=Merge with a duplicate")
    supervisor_page.click(f"a[href='?other={existing.pk}']")
    supervisor_page.check("input[name=keep][value=other]")
    supervisor_page.fill("#id_reason", "Same person: last name mistyped on scene.")
    supervisor_page.click("button:has-text('Check these records')")
    supervisor_page.wait_for_selector("text=Check before merging")
    supervisor_page.click("button:has-text('Merge these records')")
    supervisor_page.wait_for_selector("text=Records merged")
    survivor = existing
    case.refresh_from_db()
    assert case.individual == survivor

    # 7. The navigator closes the case with a reason; the missed follow-up closes with it.
    page.goto(f"{base}/cases/people/{survivor.pk}/")
    page.click(f"a[href='/cases/cases/{case.pk}/close/']")
    page.select_option("#id_reason", "goals_met")
    _fits(page)
    page.click("button:has-text('Close case')")
    assert f"Case #{case.pk} closed." in _message(page)
    case.refresh_from_db()
    assert (case.status, case.closed_reason) == ("closed", "goals_met")
    assert not FollowUp.objects.filter(case=case).missed().exists()
    assert page.is_visible("button:has-text('Reopen case')")
    _shot(page, "episode-closed")
