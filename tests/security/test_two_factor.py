"""The second factor: required for every staff sign-in, the admin's included; enrolment; recovery
codes; partners on the same form but only into partner pages."""

import re
from datetime import UTC, datetime, timedelta
from io import StringIO

import pyotp
import pytest
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.contrib.auth.views import LoginView
from django.core.management import CommandError, call_command
from django.urls import URLPattern, URLResolver, get_resolver, resolve, reverse

from accounts import twofactor
from accounts.models import RecoveryCode, TwoFactorDevice
from accounts.roles import Role
from accounts.views import admin_login
from tests import factories as f
from tests.security.conftest import enrol, password_step, sign_in

T0 = datetime(2026, 5, 4, 8, 0, tzinfo=UTC)


@pytest.fixture
def frozen(time_machine):
    time_machine.move_to(T0, tick=False)
    return time_machine


def signed_in(client) -> bool:
    return SESSION_KEY in client.session


def test_a_password_alone_does_not_sign_staff_in(client, enrolled_navigator):
    user, _totp = enrolled_navigator
    response = password_step(client, user.username)
    assert response.url == reverse("accounts:two_factor")
    assert not signed_in(client)
    assert client.get(reverse("accounts:home")).status_code == 302
    assert client.get("/admin/").status_code == 302


def test_the_right_code_signs_staff_in(client, enrolled_navigator, frozen):
    user, totp = enrolled_navigator
    response = sign_in(client, user, totp)
    assert response.status_code == 302 and response.url == reverse(settings.LOGIN_REDIRECT_URL)
    assert int(client.session[SESSION_KEY]) == user.pk


def test_a_wrong_code_does_not_sign_in(client, enrolled_navigator, frozen):
    user, totp = enrolled_navigator
    password_step(client, user.username)
    response = client.post(reverse("accounts:two_factor"), {"code": totp.at(T0 - timedelta(minutes=5))})
    assert response.status_code == 200
    assert "not accepted" in response.content.decode()
    assert not signed_in(client)


def test_a_code_is_accepted_only_once(client, enrolled_navigator, frozen):
    user, totp = enrolled_navigator
    sign_in(client, user, totp)
    client.post(reverse("accounts:logout"))
    password_step(client, user.username)
    response = client.post(reverse("accounts:two_factor"), {"code": totp.now()})
    assert response.status_code == 200
    assert not signed_in(client)


def test_a_code_sent_by_two_requests_at_once_is_accepted_once(enrolled_navigator, frozen, monkeypatch):
    """The second request reads the authenticator after the first has matched the code but before it
    has recorded the code's use. The use is recorded with a conditional UPDATE, so exactly one of the
    two is accepted; a read-check-save (django-otp's TOTPDevice.verify_token) accepts both."""
    user, totp = enrolled_navigator
    code = totp.now()
    matching_step = twofactor._matching_step
    other_request: list[bool] = []

    def the_other_request_arrives_meanwhile(secret, typed):
        step = matching_step(secret, typed)
        if not other_request:
            other_request.append(False)
            other_request[0] = twofactor.verify(user, code)
        return step

    monkeypatch.setattr(twofactor, "_matching_step", the_other_request_arrives_meanwhile)
    first = twofactor.verify(user, code)
    assert other_request == [True]
    assert first is False


def test_a_code_may_be_typed_with_spaces(client, enrolled_navigator, frozen):
    user, totp = enrolled_navigator
    password_step(client, user.username)
    code = totp.now()
    response = client.post(reverse("accounts:two_factor"), {"code": f"{code[:3]} {code[3:]}"})
    assert response.status_code == 302 and signed_in(client)


def test_the_second_step_must_follow_the_first_within_five_minutes(client, enrolled_navigator, frozen):
    user, totp = enrolled_navigator
    password_step(client, user.username)
    frozen.shift(timedelta(minutes=5, seconds=1))
    response = client.post(reverse("accounts:two_factor"), {"code": totp.now()})
    assert response.url == reverse("accounts:login")
    assert not signed_in(client)


def test_the_admin_signs_in_through_the_same_two_step_login(client, enrolled_staff_admin, frozen):
    user, totp = enrolled_staff_admin
    assert resolve("/admin/login/").func is admin_login
    first = client.get("/admin/")
    assert first.url.startswith(reverse("admin:login"))
    second = client.get(first.url)
    assert second.url == reverse("accounts:login") + "?next=/admin/"
    sign_in(client, user, None, next_url="/admin/")
    assert client.get("/admin/").status_code == 302  # password only: still not in
    response = client.post(reverse("accounts:two_factor"), {"code": totp.now()})
    assert response.url == "/admin/"
    assert client.get("/admin/").status_code == 200


def test_no_other_login_view_is_routed():
    """accounts.views is the only caller of login(): a routed LoginView (django.contrib.auth.urls,
    rest_framework.urls) would let a password alone sign in."""

    def views(patterns):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                yield from views(pattern.url_patterns)
            elif isinstance(pattern, URLPattern):
                yield pattern.callback

    login_views = [
        v for v in views(get_resolver().url_patterns) if issubclass(getattr(v, "view_class", object), LoginView)
    ]
    assert login_views == []


def test_an_unenrolled_staff_member_enrols_and_gets_recovery_codes_once(client, program, frozen):
    user = f.UserFactory(username="nell.new", program=program, roles=[Role.NAVIGATOR])
    assert password_step(client, user.username).url == reverse("accounts:enrol")
    page = client.get(reverse("accounts:enrol"))
    body = page.content.decode()
    assert "<svg" in body and "style=" not in body  # the QR code is inline SVG, no inline style
    secret = client.session["crt_pending_login"]["secret"]
    assert " ".join(secret[i : i + 4] for i in range(0, len(secret), 4)) in body  # also shown as text
    wrong = client.post(reverse("accounts:enrol"), {"code": "123456"})
    assert wrong.status_code == 200 and not TwoFactorDevice.objects.filter(user=user).exists()
    response = client.post(reverse("accounts:enrol"), {"code": pyotp.TOTP(secret).now()})
    assert response.url == reverse("accounts:recovery_codes")
    assert signed_in(client)
    shown = client.get(reverse("accounts:recovery_codes"))
    codes = shown.context["shown"]["codes"]
    assert len(codes) == 10 and len(set(codes)) == 10
    assert all(re.fullmatch(r"[a-z2-7]{4}(-[a-z2-7]{4}){3}", code) for code in codes)
    again = client.get(reverse("accounts:recovery_codes"))
    assert again.context["shown"] is None
    assert codes[0] not in again.content.decode()


def test_recovery_codes_are_stored_only_as_digests(program):
    user = f.UserFactory(program=program)
    codes = twofactor.new_recovery_codes(user)
    stored = list(RecoveryCode.objects.filter(user=user).values_list("code_hash", flat=True))
    assert len(stored) == len(codes)
    assert not any(code.replace("-", "") in digest or code in digest for code in codes for digest in stored)


def test_a_recovery_code_signs_in_once(client, enrolled_navigator, frozen):
    user, _totp = enrolled_navigator
    first, second = twofactor.new_recovery_codes(user)[:2]
    password_step(client, user.username)
    response = client.post(reverse("accounts:recovery"), {"code": first.upper()})
    assert response.url == reverse(settings.LOGIN_REDIRECT_URL) and signed_in(client)
    client.post(reverse("accounts:logout"))
    password_step(client, user.username)
    reused = client.post(reverse("accounts:recovery"), {"code": first})
    assert reused.status_code == 200 and not signed_in(client)
    assert client.post(reverse("accounts:recovery"), {"code": second}).url == reverse(settings.LOGIN_REDIRECT_URL)
    assert twofactor.remaining_recovery_codes(user) == 8


def test_a_password_never_replaces_an_enrolled_authenticator(client, enrolled_navigator):
    user, _totp = enrolled_navigator
    password_step(client, user.username)
    assert client.get(reverse("accounts:enrol")).url == reverse("accounts:two_factor")
    assert TwoFactorDevice.objects.get(user=user).secret == twofactor.demo_secret(user.username)


def test_new_recovery_codes_need_a_current_code(client, enrolled_navigator, frozen):
    user, totp = enrolled_navigator
    old = twofactor.new_recovery_codes(user)
    sign_in(client, user, totp)
    refused = client.post(reverse("accounts:recovery_codes"), {"code": "000000"})
    assert refused.context["shown"] is None
    frozen.shift(timedelta(seconds=30))
    fresh = client.post(reverse("accounts:recovery_codes"), {"code": totp.now()}).context["shown"]["codes"]
    assert set(fresh).isdisjoint(old)
    assert not twofactor.use_recovery_code(user, old[0])


def test_partner_user_signs_in_on_the_same_form_into_partner_pages_only(client, partner_user, settings):
    totp = enrol(partner_user)
    assert password_step(client, partner_user.username, next_url="/admin/").url == reverse("accounts:two_factor")
    response = client.post(reverse("accounts:two_factor"), {"code": totp.now()})
    assert response.url == settings.PARTNER_HOME_URL  # a staff page as "next" is not honoured
    assert signed_in(client)
    for staff_page in ("/admin/", reverse("audit:access_history", args=[1]), "/api/v1/referrals/"):
        assert client.get(staff_page).url == settings.PARTNER_HOME_URL
    assert client.get(settings.PARTNER_HOME_URL).status_code == 200


def test_a_partner_user_without_an_authenticator_enrols_at_first_sign_in(client, partner_user, settings):
    response = password_step(client, partner_user.username)
    assert response.url == reverse("accounts:enrol")
    assert not signed_in(client)  # a password alone reaches no partner page
    assert client.get(settings.PARTNER_HOME_URL).status_code == 302
    page = client.get(reverse("accounts:enrol"))
    assert page.status_code == 200
    secret = client.session["crt_pending_login"]["secret"]
    done = client.post(reverse("accounts:enrol"), {"code": pyotp.TOTP(secret).now()})
    assert done.url == reverse("accounts:recovery_codes")
    assert signed_in(client)
    codes = client.get(done.url)
    assert len(codes.context["shown"]["codes"]) == settings.RECOVERY_CODE_COUNT
    assert codes.context["shown"]["next"] == settings.PARTNER_HOME_URL
    assert client.get(settings.PARTNER_HOME_URL).status_code == 200


def test_a_partner_user_with_an_authenticator_is_asked_for_it(client, partner_user):
    totp = enrol(partner_user)
    assert password_step(client, partner_user.username).url == reverse("accounts:two_factor")
    assert client.post(reverse("accounts:two_factor"), {"code": totp.now()}).status_code == 302
    assert signed_in(client)


def test_enrol_for_demo_gives_the_same_known_secret_every_time(program):
    user = f.UserFactory(username="demo.nav", program=program)
    secret = twofactor.enrol_for_demo(user)
    assert twofactor.enrol_for_demo(user) == secret
    assert twofactor.verify(user, pyotp.TOTP(secret).now())


def test_totp_code_command_refuses_outside_development(program, settings):
    enrol(f.UserFactory(username="demo.nav", program=program))
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG=true"):
        call_command("totp_code", "demo.nav")


def test_totp_code_command_prints_the_current_code_in_development(program, settings, frozen):
    totp = enrol(f.UserFactory(username="demo.nav", program=program))
    settings.DEBUG = True
    out = StringIO()
    call_command("totp_code", "demo.nav", stdout=out)
    assert out.getvalue().strip() == totp.now()
