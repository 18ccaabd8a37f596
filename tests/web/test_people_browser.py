"""People pages in a real browser on a 390x844 phone: a clinician adds a person after a likely
duplicate is offered and declined, and edits their safe-contact details; a navigator adds a caregiver
with verbal consent to contact; a supervisor merges the duplicate into the first record and its old
link then leads there. No page scrolls sideways. Skipped without Chromium (fails with CI=true), as
tests/web/test_browser.py."""

import pyotp
import pytest

from accounts import twofactor
from cases.models import Consent, Individual, PersonMerge
from tests.web import test_browser
from tests.web.test_browser import PHONE, _problem, _shot, _sign_in

pytestmark = [pytest.mark.skipif(_problem is not None, reason=_problem or "")]
browser = test_browser.browser  # the fixtures of tests/web/test_browser.py
web_settings = test_browser.web_settings


def _no_sideways_scroll(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], page.url


def _phone(chromium, base, user, lands_on):
    context = chromium.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    page = context.new_page()
    _sign_in(page, base, user.username, pyotp.TOTP(twofactor.enrol_for_demo(user)), lands_on=lands_on)
    return page


def test_add_with_a_duplicate_offered_support_network_and_merge_on_a_phone(
    web_settings,
    live_server,
    browser,
    clinician,
    navigator,
    supervisor,
    case,
):
    base = live_server.url
    dana = case.individual  # Dana Reyes, on the navigator's caseload
    dana.date_of_birth = "1990-04-02"
    dana.save()

    page = _phone(browser, base, clinician, "/cases/people/")
    page.click("text=Add a person")
    page.fill("#id_legal_first_name", "Dana")
    page.fill("#id_legal_last_name", "Reyez")
    page.fill("#id_date_of_birth", "1990-04-02")
    page.click("button:has-text('Add person')")
    page.wait_for_selector("text=This person may already have a record")
    assert page.is_visible(f"a[href='/cases/people/{dana.pk}/']")
    _no_sideways_scroll(page)
    _shot(page, "people-duplicate-offered")
    page.click("button:has-text('None of these: add a new person') >> nth=0")
    page.wait_for_selector("text=Dana Reyez added.")
    twin = Individual.objects.get(legal_last_name="Reyez")
    page.click("text=Edit details")
    page.check("#id_is_do_not_contact")
    page.fill("#id_responder_safety_notes", "Knock at the side door.")
    page.click("button:has-text('Save details')")
    page.wait_for_selector("text=Do not contact.")
    _no_sideways_scroll(page)

    page = _phone(browser, base, navigator, "/cases/")
    page.goto(f"{base}/cases/people/{dana.pk}/")
    page.click("text=Add family, caregiver or friend")
    page.fill("#id_name", "Luis Reyes")
    page.fill("#id_relationship", "father")
    page.check("#id_is_caregiver")
    page.click("button:has-text('Add')")
    page.check("input[name=method][value=verbal]")
    page.click("button:has-text('Record consent')")
    page.wait_for_selector("text=A verbal consent needs a witness.")
    page.fill("#id_witness_name", "Pete Peer")
    page.click("button:has-text('Record consent')")
    page.wait_for_selector("text=may contact")
    _no_sideways_scroll(page)
    _shot(page, "people-support-network")
    assert Consent.objects.get(recipient_support_contact__name="Luis Reyes").witness_name == "Pete Peer"

    page = _phone(browser, base, supervisor, "/cases/team/")
    page.goto(f"{base}/cases/people/{twin.pk}/")
    page.click("text=Merge with a duplicate")
    page.click(f"a[href='?other={dana.pk}']")
    page.check("input[name=keep][value=other]")
    page.fill("#id_reason", "Same person: last name mistyped.")
    page.click("button:has-text('Check these records')")
    page.wait_for_selector("text=Check before merging")
    _no_sideways_scroll(page)
    page.click("button:has-text('Merge these records')")
    page.wait_for_selector("text=Records merged")
    merge = PersonMerge.objects.get()
    assert (merge.survivor_id, merge.merged_id, merge.merged_by_id) == (dana.pk, twin.pk, supervisor.pk)
    page.goto(f"{base}/cases/people/{twin.pk}/")
    page.wait_for_selector(f"text=Record #{twin.pk} was merged into this one")
    assert page.url == f"{base}/cases/people/{dana.pk}/"
    assert page.is_visible("text=Knock at the side door.")  # the safety note came with the merge
    _no_sideways_scroll(page)
    _shot(page, "people-merged-old-link")
