"""Security headers on pages, the admin and /healthz; a CSP without inline script or style; the
admin's own templates checked for what would break under it; check --deploy clean."""

import base64
import hashlib
import os
import re
import subprocess
import sys
from pathlib import Path

import django
import pytest
from django.conf import settings
from django.urls import reverse

from crt.middleware import ADMIN_INLINE_STYLE_HASHES

ROOT = Path(__file__).resolve().parents[2]
ADMIN_TEMPLATES = Path(django.__file__).parent / "contrib" / "admin" / "templates"


def assert_secure_headers(response):
    csp = response["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in csp.split(";"))
    assert directives["default-src"] == "'self'"
    assert directives["script-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert directives["object-src"] == "'none'"
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp and "nonce-" not in csp
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"
    assert "no-store" in response["Cache-Control"]
    assert re.fullmatch(r"[0-9a-f]{32}", response["X-Request-ID"])
    return directives


def test_login_page_healthz_and_signed_in_pages_carry_the_headers(client, db, navigator):
    for url in (reverse("accounts:login"), "/healthz"):
        directives = assert_secure_headers(client.get(url))
        assert directives["style-src"] == "'self'"
    client.force_login(navigator)
    assert_secure_headers(client.get(reverse("accounts:home")))


def test_admin_pages_carry_the_headers_with_only_the_one_inline_style_block_allowed(client, staff_admin, program):
    client.force_login(staff_admin)
    for url in ("/admin/", reverse("admin:cases_individual_changelist"), reverse("admin:providers_service_add")):
        response = client.get(url)
        assert response.status_code == 200
        directives = assert_secure_headers(response)
        assert directives["style-src"] == "'self' " + " ".join(ADMIN_INLINE_STYLE_HASHES)


def test_errors_carry_the_headers_too(client, db):
    assert_secure_headers(client.get("/no-such-page/"))


def test_hsts_on_https(client, db):
    response = client.get(reverse("accounts:login"), secure=True)
    assert response["Strict-Transport-Security"].startswith("max-age=31536000")


def test_a_public_answer_may_opt_out_of_no_store(rf):
    from django.http import HttpResponse

    from crt.middleware import SecurityHeadersMiddleware

    def public_view(request):
        response = HttpResponse("directory")
        response["Cache-Control"] = "public, max-age=300"
        return response

    response = SecurityHeadersMiddleware(public_view)(rf.get("/hsds/services"))
    assert response["Cache-Control"] == "public, max-age=300"


def test_every_request_gets_its_own_request_id(client, db):
    ids = {client.get("/healthz")["X-Request-ID"] for _ in range(3)}
    assert len(ids) == 3
    assert client.get("/healthz", HTTP_X_REQUEST_ID="chosen-by-client")["X-Request-ID"] != "chosen-by-client"


# --- Django's admin under this policy ----------------------------------------------------------


def test_the_admin_policy_hash_is_that_of_djangos_only_inline_style_block():
    """change_list.html renders one <style> block when a ModelAdmin turns both action bars off."""
    source = (ADMIN_TEMPLATES / "admin" / "change_list.html").read_text()
    blocks = re.findall(r"<style>(.*?)</style>", source, re.S)
    assert len(blocks) == 1
    digest = base64.b64encode(hashlib.sha256(blocks[0].encode()).digest()).decode()
    assert f"'sha256-{digest}'" in ADMIN_INLINE_STYLE_HASHES


def test_djangos_admin_templates_have_no_other_inline_script_or_style():
    """What the strict policy would block: inline <script>, <style>, style="..." and on...= handlers."""
    offending = []
    for template in ADMIN_TEMPLATES.rglob("*.html"):
        text = template.read_text()
        name = str(template.relative_to(ADMIN_TEMPLATES))
        for script in re.findall(r"<script\b[^>]*>", text):
            if "src=" not in script:
                offending.append((name, script))
        if "<style" in text and name != "admin/change_list.html":
            offending.append((name, "<style>"))
        offending += [(name, attr) for attr in re.findall(r"\s(style|on[a-z]+)\s*=", text)]
    assert offending == []


# --- the deployment check ----------------------------------------------------------------------


def test_check_deploy_passes_with_production_settings():
    env = {
        "PATH": os.environ["PATH"],
        "DEBUG": "false",
        "SECRET_KEY": "check-deploy-" + "Zq7Lm2Xv9Tb4Rn8Kd3Wf6Hy1Pc5Gs0Ju" + "a" * 15,
        "ALLOWED_HOSTS": "crt.example.org",
        "CRT_VAR_DIR": "/tmp/crt-security-check",
    }
    assert len(env["SECRET_KEY"]) == 60
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("setting", ["SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE", "SESSION_COOKIE_HTTPONLY"])
def test_cookies_are_secure_outside_development(setting):
    assert getattr(settings, setting) is True
