"""End to end in a real browser: Chromium (Debian's /usr/bin/chromium), headless, driven by Playwright
against pytest-django's live server.

A navigator signs in with the second factor (a known authenticator secret from
accounts.twofactor.enrol_for_demo, codes computed with pyotp), finds a person, logs a contact on a
390x844 phone viewport, edits the safety plan and sends a referral; the partner accepts it on the
partner page; the navigator sees the new status. Screenshots of the main pages go to screenshots/.

Without Chromium these tests are skipped with the reason printed; with CI=true they fail instead.
"""

import os
import time
from pathlib import Path

import pyotp
import pytest
from django.conf import settings as django_settings
from django.db import connections

from accounts import twofactor
from referrals.models import Referral

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PASSWORD = "correct horse battery staple"  # the factories' password
SCREENSHOTS = Path(django_settings.BASE_DIR) / "screenshots"
PHONE = {"width": 390, "height": 844}


def _browser_problem() -> str | None:
    if not Path(CHROMIUM).exists():
        return f"needs Chromium at {CHROMIUM} (apt-get install chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "needs the playwright package (pip install -r requirements-dev.txt)"
    return None


_problem = _browser_problem()
if _problem and os.environ.get("CI", "").lower() == "true":
    raise RuntimeError(f"CI=true but the browser tests cannot run: {_problem}")
pytestmark = [pytest.mark.skipif(_problem is not None, reason=_problem or "")]


@pytest.fixture
def browser(monkeypatch):
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop on this thread; the test's own ORM calls are still
    # plain synchronous calls (the live server answers from its own thread).
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()
            # While Playwright's loop runs on this thread, Django keeps this thread's database
            # connections apart from its usual ones (asgiref stores them per async context), and
            # nothing would close them: left open, pytest cannot drop the test database at the end.
            connections.close_all()


@pytest.fixture
def web_settings(settings, live_server):
    # The live server speaks plain http on localhost.
    settings.SESSION_COOKIE_SECURE = False
    settings.CSRF_COOKIE_SECURE = False
    settings.ALLOWED_HOSTS = ["localhost", "127.0.0.1"]
    SCREENSHOTS.mkdir(exist_ok=True)
    return settings


def _shot(page, name: str) -> None:
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def _sign_in(page, base: str, username: str, totp: pyotp.TOTP | None = None, *, lands_on: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    if totp is not None:
        page.wait_for_url("**/login/code/")
        page.fill("input[name=code]", totp.at(time.time()))
        page.click("button[type=submit]")
    page.wait_for_url(f"{base}{lands_on}")


def test_navigator_logs_a_contact_plans_and_refers_and_the_partner_accepts(
    web_settings, live_server, browser, navigator, partner_user, case, service, consent
):
    base = live_server.url
    totp = pyotp.TOTP(twofactor.enrol_for_demo(navigator))

    staff = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    page = staff.new_page()
    _sign_in(page, base, navigator.username, totp, lands_on="/cases/")
    page.goto(f"{base}/")
    page.wait_for_url("**/cases/")
    _shot(page, "caseload-phone")

    # Find the person, from the caseload's search.
    page.fill("input[name=q]", "Reyes")
    page.click("form[role=search] button[type=submit]")
    page.click("table.caseload >> text=Dana Reyes")
    assert page.locator(".safety").inner_text().count("Dog in the yard") == 1
    _shot(page, "person-phone")

    # Log a contact: tap "Log contact", tap "Reached" (nothing is preselected; phone is the default
    # method), tap "Save contact".
    page.click("text=Log contact")
    assert page.locator("input[name=outcome]:checked").count() == 0
    page.check("input[name=outcome][value=reached]")
    page.click("button.save")
    assert "completed the 24-hour follow-up" in page.locator(".messages").inner_text()

    # Edit the safety plan.
    page.click("text=Edit safety plan")
    page.fill("input[name=warning_signs-0-text]", "not sleeping")
    page.click("text=Add a sign")  # a new row, added in the page (assets/crt/plan-editor.js)
    page.fill("input[name=warning_signs-1-text]", "pulling away")
    page.fill("input[name=help_contacts-0-name]", "Aunt Rosa")
    page.fill("input[name=help_contacts-0-phone]", "405-555-0102")
    page.click("button.save")
    assert "Safety plan saved as version 1" in page.locator(".messages").inner_text()
    _shot(page, "safety-plan-phone")

    # Send a referral.
    page.click("text=Back to person")
    page.click("text=New referral")
    page.click(f"a[href*='service={service.pk}']")
    assert "Consent on file" in page.locator(".consent").inner_text()
    page.fill("textarea[name=reason]", "Lost housing last week; wants help finding a place.")
    _shot(page, "new-referral-phone")
    page.click("text=Send referral")
    assert page.locator(".status").inner_text() == "Requested"
    referral = Referral.objects.get()

    # The partner finds it first under "New referrals" on the partner page, opens it and accepts it (phone).
    partner = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    partner_page = partner.new_page()
    partner_totp = pyotp.TOTP(twofactor.enrol_for_demo(partner_user))  # partners sign in with a code too
    _sign_in(partner_page, base, partner_user.username, partner_totp, lands_on="/partner/")
    partner_page.goto(f"{base}/partner/")
    _shot(partner_page, "partner-page")
    partner_page.click(f"#new-heading ~ ul #referral-{referral.pk} a")
    _shot(partner_page, "partner-referral-phone")
    partner_page.click(".move-accept button")
    assert "accepted" in partner_page.locator(".messages").inner_text()

    # The navigator sees the new status.
    page.reload()
    assert page.locator(".status").inner_text() == "Accepted"
    _shot(page, "referral-phone")
    referral.refresh_from_db()
    assert referral.status == "accepted"

    # Nothing is wider than a 360 px phone (wide tables scroll inside their own box).
    page.set_viewport_size({"width": 360, "height": 740})
    for path in ("/cases/", f"/cases/people/{referral.individual_id}/", f"/referrals/new/{referral.case_id}/"):
        page.goto(f"{base}{path}")
        assert page.evaluate("document.documentElement.scrollWidth") <= 360, path

    # The same pages on a desktop, and the keyboard's first stop is the skip link.
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{base}/cases/")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    _shot(page, "caseload-desktop")
    page.goto(f"{base}/cases/people/{referral.individual_id}/")
    _shot(page, "person-desktop")
    staff.close()
    partner.close()
