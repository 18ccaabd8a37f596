"""Every role, every page its navigation reaches, on a 360 px phone and a 1280 px desktop.

The demo data (seed_demo) is loaded, then each role signs in once (password and second factor) and
walks the app from its own navigation: the links of the top bar, then every link in those pages'
content, and so on, visiting one page per URL pattern (the first person page found stands for every
person page). No page list is typed here: a page added to the app and linked from where its users
work is walked the next time this runs.

Each page, at 360x800 and at 1280x800, fails the test when it:
- answers anything but 200, or sends the user to another page (a link the user may not follow);
- is wider than the phone, or puts content in a box that scrolls sideways (at 360 px);
- has an axe-core violation of impact "serious" or "critical" (axe-core vendored under
  tests/web/vendor/axe-core/, evaluated in the page by the test, never fetched);
- asks any other host for anything;
- weighs more than 150 KB with everything it loads (the API docs page excepted);
- logs a console error or throws (a Content-Security-Policy refusal is a console error).

Screenshots go to screenshots/pages/ (ignored by git) with a summary.json of what was measured.
Without Chromium the test is skipped with the reason printed; with CI=true it fails instead.
"""

import io
import json
import time
from pathlib import Path
from urllib.parse import urldefrag, urlsplit

import pyotp
import pytest
from django.core.management import call_command
from django.urls import Resolver404, resolve
from drf_spectacular.generators import SchemaGenerator

from accounts.models import TwoFactorDevice
from demo import data as demo_data
from tests.web.test_browser import _problem, browser, web_settings  # noqa: F401  (fixtures)

pytestmark = [pytest.mark.skipif(_problem is not None, reason=_problem or "")]

AXE = (Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js").read_text()
OUT = Path(__file__).resolve().parents[2] / "screenshots" / "pages"
WIDTHS = (360, 1280)
HEIGHT = 800
MAX_BYTES = 150 * 1024
HEAVY_PAGES = {"api-docs"}  # Swagger UI's own script and stylesheet: the one page allowed past MAX_BYTES
MAX_PATTERNS = 60  # a guard against a crawl that never ends (a link that makes a new pattern each time)
ROLES = {  # role -> the first demo user of that role (demo/data.py)
    "navigator": "nina.navigator",
    "peer": "pete.peer",
    "clinician": "cleo.clinician",
    "paramedic": "pam.paramedic",
    "supervisor": "sam.supervisor",
    "staff_admin": "ada.admin",
    "partner_user": demo_data.PARTNER_USERS[0][0],
}
NOT_PAGES = ("/admin/", "/static/", "/accounts/logout/")  # Django's own console, files, a POST-only URL
FILE_SUFFIXES = (".csv", ".pdf", ".json", ".ics", ".png", ".svg", ".ico")

# In the page: the widest thing there is, and any box that scrolls sideways with content hidden in it.
SIDEWAYS = """() => {
  const width = document.documentElement.clientWidth;
  const boxes = [];
  for (const el of document.querySelectorAll('body *')) {
    const style = getComputedStyle(el);
    if (['auto', 'scroll'].includes(style.overflowX) && el.scrollWidth > el.clientWidth + 1) {
      boxes.push(el.tagName.toLowerCase() + (el.className ? '.' + String(el.className).split(' ').join('.') : '')
                 + ' ' + el.scrollWidth + '>' + el.clientWidth);
    }
  }
  return {page: document.documentElement.scrollWidth, width, boxes};
}"""
WEIGHT = """() => performance.getEntriesByType('navigation').concat(performance.getEntriesByType('resource'))
  .reduce((sum, e) => sum + Math.max(e.transferSize || 0, e.encodedBodySize || 0), 0)"""
AXE_RUN = """async () => {
  const result = await axe.run(document, {resultTypes: ['violations']});
  return result.violations.map(v => ({id: v.id, impact: v.impact, nodes: v.nodes.length,
                                      where: v.nodes.slice(0, 3).map(n => n.target.join(' '))}));
}"""


def _pattern(path: str) -> str | None:
    """One name per page kind: the URL pattern's name (every person page is 'cases:person')."""
    try:
        match = resolve(path)
    except Resolver404:
        return None
    return match.view_name or match.route


def _sign_in(page, base: str, username: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", demo_data.DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()
    if "/login/code/" in page.url:
        secret = TwoFactorDevice.objects.get(user__username=username).secret
        page.fill("input[name=code]", pyotp.TOTP(secret).at(time.time()))
        page.click("button[type=submit]")
        page.wait_for_load_state()
    assert "/accounts/login/" not in page.url, f"{username} could not sign in"


def _links(page, base: str, selector: str, consoles: set | None = None) -> list[str]:
    """The app's own page links under `selector`; links into the operations console go to `consoles`."""
    hrefs = page.eval_on_selector_all(selector, "els => els.filter(a => !a.hasAttribute('download')).map(a => a.href)")
    found = []
    for href in hrefs:
        url, _fragment = urldefrag(href)
        if not url.startswith(base + "/"):
            continue
        path = urlsplit(url).path
        if path.startswith("/admin/") and consoles is not None:
            consoles.add(url)
        if path.startswith(NOT_PAGES) or path.endswith(FILE_SUFFIXES):
            continue
        found.append(url)
    return found


def _visit(page, url: str, role: str, key: str, width: int, summary: dict, problems: list, base: str) -> None:
    where = f"{role} {key} at {width} px ({url.removeprefix(base)})"
    page.set_viewport_size({"width": width, "height": HEIGHT})
    errors, foreign = [], []

    def console(message):
        if message.type == "error":
            errors.append(message.text)

    def thrown(error):
        errors.append(str(error))

    def off_host(request):
        if not request.url.startswith((base + "/", "data:", "blob:", "about:")):
            foreign.append(request.url)

    page.on("console", console)
    page.on("pageerror", thrown)
    page.on("request", off_host)
    try:
        response = page.goto(url)
        page.wait_for_load_state("load")
        if key in HEAVY_PAGES:
            page.wait_for_selector(".opblock", timeout=15_000)  # Swagger UI draws after fetching the schema
        status = response.status if response else 0
        landed = _pattern(urlsplit(page.url).path)
        weight = page.evaluate(WEIGHT)
        sideways = page.evaluate(SIDEWAYS)
        page.evaluate(AXE)
        violations = page.evaluate(AXE_RUN)
        header = page.evaluate("(document.querySelector('header') || {offsetHeight: 0}).offsetHeight")
        page.screenshot(path=str(OUT / f"{role}-{key.replace(':', '-')}-{width}.png"), full_page=True)
    finally:
        page.remove_listener("request", off_host)
        page.remove_listener("console", console)
        page.remove_listener("pageerror", thrown)
    bad = [v for v in violations if v["impact"] in ("serious", "critical")]
    summary.setdefault(f"{role} {key}", {})[width] = {
        "url": url.removeprefix(base),
        "status": status,
        "bytes": weight,
        "header_px": header,
        "scroll_width": sideways["page"],
        "sideways_boxes": sideways["boxes"],
        "axe_serious_or_critical": bad,
        "axe_other": [f"{v['id']} ({v['impact']})" for v in violations if v not in bad],
        "console_errors": errors,
        "other_hosts": foreign,
    }
    if status != 200:
        problems.append(f"{where}: answered {status}")
    if landed != key:
        problems.append(f"{where}: the link led to {page.url.removeprefix(base)} instead")
    if width == WIDTHS[0] and (sideways["page"] > sideways["width"] or sideways["boxes"]):
        problems.append(f"{where}: scrolls sideways (page {sideways['page']} px; boxes {sideways['boxes']})")
    for v in bad:
        problems.append(f"{where}: axe {v['impact']} {v['id']} x{v['nodes']} at {v['where']}")
    if foreign:
        problems.append(f"{where}: asked other hosts for {foreign}")
    if weight > MAX_BYTES and key not in HEAVY_PAGES:
        problems.append(f"{where}: {weight} bytes, over {MAX_BYTES}")
    if errors:
        problems.append(f"{where}: console errors {errors}")


def _walk(chromium, base: str, role: str, username: str, summary: dict, problems: list) -> list[str]:
    context = chromium.new_context(viewport={"width": WIDTHS[0], "height": HEIGHT})
    page = context.new_page()
    try:
        _sign_in(page, base, username)
        queue = _links(page, base, "header nav a[href]")
        assert queue, f"{role}: the top bar has no navigation links"
        seen: dict[str, str] = {}  # pattern -> the URL that stood for it
        consoles: set[str] = set()  # links into Django's admin: not walked, but they must open
        while queue and len(seen) < MAX_PATTERNS:
            url = queue.pop(0)
            key = _pattern(urlsplit(url).path)
            if key is None or key in seen:
                continue
            seen[key] = url
            for width in WIDTHS:
                _visit(page, url, role, key, width, summary, problems, base)
            queue.extend(_links(page, base, "header nav a[href], main a[href]", consoles))
        assert len(seen) < MAX_PATTERNS, f"{role}: the walk found {MAX_PATTERNS}+ kinds of page: {sorted(seen)}"
        for url in sorted(consoles):
            status = context.request.get(url, max_redirects=0).status
            if status != 200:
                problems.append(f"{role}: a link to {url.removeprefix(base)} answers {status}")
        return sorted(seen)
    finally:
        context.close()


def test_every_page_of_every_role_reads_on_a_phone_and_a_desktop(web_settings, live_server, browser):  # noqa: F811
    call_command("seed_demo", stdout=io.StringIO())
    # Build the OpenAPI schema once before the live server's threads do: drf-spectacular loads some
    # classes lazily on first use, and two threads doing that at once answered /api/schema/ with a 500.
    SchemaGenerator().get_schema(request=None, public=True)
    OUT.mkdir(parents=True, exist_ok=True)
    base = live_server.url
    summary: dict = {}
    problems: list[str] = []
    walked = {role: _walk(browser, base, role, username, summary, problems) for role, username in ROLES.items()}
    (OUT / "summary.json").write_text(json.dumps({"walked": walked, "pages": summary}, indent=1))
    # Every role reached more than its landing page (a broken navigation would walk nothing).
    assert all(len(pages) >= 2 for pages in walked.values()), walked
    assert not problems, "\n".join(problems)
