"""In a real browser (as tests/web/test_browser.py): a partner declines a referral on the partner page,
the navigator's inbox count goes up on the page they have open, and the navigator opens the item on a
phone and resolves it with a note; the count goes back down."""

import pyotp
from django.utils import timezone

from accounts import twofactor
from inbox.models import Item
from referrals.models import Referral
from tests import factories as f
from tests.web.test_browser import PHONE, _shot, _sign_in, browser, pytestmark, web_settings  # noqa: F401


def test_a_partner_declines_and_the_navigator_resolves_it_from_the_inbox(
    web_settings,  # noqa: F811
    live_server,
    browser,  # noqa: F811
    navigator,
    partner_user,
    case,
    service,
    consent,
):
    referral = f.ReferralFactory(
        program=case.program,
        individual=case.individual,
        case=case,
        service=service,
        consent=consent,
        created_by=navigator,
        status="requested",
        requested_at=timezone.now(),
    )
    base = live_server.url
    totp = pyotp.TOTP(twofactor.enrol_for_demo(navigator))
    staff = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    page = staff.new_page()
    _sign_in(page, base, navigator.username, totp, lands_on="/cases/")
    assert page.locator(".inbox-link .count").count() == 0  # nothing in the inbox yet

    partner = browser.new_context(viewport={"width": 1280, "height": 900})
    partner_page = partner.new_page()
    partner_totp = pyotp.TOTP(twofactor.enrol_for_demo(partner_user))  # partners sign in with a code too
    _sign_in(partner_page, base, partner_user.username, partner_totp, lands_on="/partner/")
    partner_page.goto(f"{base}/partner/referrals/{referral.pk}/reject/")  # the decline asks for a reason
    partner_page.fill(".move-form textarea[name=reason]", "No openings until next month.")
    partner_page.click(".move-form button[type=submit]")
    partner_page.wait_for_load_state()
    assert Referral.objects.get(pk=referral.pk).status == "rejected"

    page.reload()
    assert page.locator(".inbox-link .count").inner_text() == "1"
    page.click(".inbox-link")
    page.wait_for_url(f"{base}/inbox/")
    _shot(page, "inbox-phone")
    page.click("text=Partner declined a referral")
    assert "No openings until next month." in page.locator(".panel").first.inner_text()
    assert "Dana Reyes" in page.locator(".panel").first.inner_text()
    _shot(page, "inbox-item-phone")
    page.fill("textarea[name=resolve-note]", "Found another shelter with space; referral sent there.")
    page.click("button:text('Resolve')")
    page.wait_for_url(f"{base}/inbox/")
    assert "Resolved." in page.locator(".messages").inner_text()
    assert page.locator(".inbox-link .count").count() == 0
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    item = Item.objects.get(referral=referral)
    assert (item.kind, item.state, item.resolved_by) == ("referral_declined", "resolved", navigator)
    staff.close()
    partner.close()
