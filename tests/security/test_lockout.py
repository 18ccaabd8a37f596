"""The account lockout: bounded password checks per account, whatever the attacker varies."""

from datetime import UTC, datetime, timedelta

import pytest
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.contrib.auth.hashers import Argon2PasswordHasher, MD5PasswordHasher
from django.test import Client
from django.urls import reverse

from accounts import lockout
from accounts.forms import INVALID_LOGIN, LOCKED
from accounts.models import LoginFailure
from accounts.roles import Role
from tests import factories as f
from tests.security.conftest import enrol, password_step

T0 = datetime(2026, 5, 4, 8, 0, tzinfo=UTC)


@pytest.fixture
def hasher_calls(monkeypatch):
    """Every password evaluation (verify, and encode for the dummy hash of unknown usernames) of
    the hashers in use here, counted."""
    calls: list[str] = []
    for hasher in (Argon2PasswordHasher, MD5PasswordHasher):
        for name in ("verify", "encode"):
            original = getattr(hasher, name)

            def counted(self, *args, _original=original, _name=name, **kwargs):
                calls.append(_name)
                return _original(self, *args, **kwargs)

            monkeypatch.setattr(hasher, name, counted)
    return calls


@pytest.fixture
def target(program):
    return f.UserFactory(username="tara.target", program=program, roles=[Role.NAVIGATOR])


@pytest.fixture
def argon2_target(argon2, program):
    """A navigator whose password is hashed with Argon2, as in production."""
    return f.UserFactory(username="tara.target", program=program, roles=[Role.NAVIGATOR])


def errors(response) -> list[str]:
    return response.context["form"].non_field_errors()


def test_a_thousand_guesses_in_an_hour_cost_at_most_twenty_password_evaluations(
    client, argon2_target, hasher_calls, time_machine, settings
):
    target = argon2_target
    settings.TRUSTED_PROXY_COUNT = 1  # even an X-Forwarded-For the app believes cannot help
    time_machine.move_to(T0, tick=False)
    hasher_calls.clear()
    for guess in range(1000):
        address = f"203.0.{guess // 250}.{guess % 250 + 1}"
        response = password_step(
            client, target.username, f"guess-{guess}", REMOTE_ADDR=address, HTTP_X_FORWARDED_FOR=address
        )
        assert response.status_code == 200  # the form again, never a sign-in
        time_machine.shift(timedelta(seconds=3.59))  # 1,000 guesses spread over the hour
    assert len(hasher_calls) <= 20
    assert len(hasher_calls) == settings.LOCKOUT_MAX_FAILURES  # the first five; every other was refused
    assert errors(response) == [LOCKED]


def test_once_locked_even_the_right_password_is_not_evaluated(client, argon2_target, hasher_calls):
    target = argon2_target
    for guess in range(settings.LOCKOUT_MAX_FAILURES):
        password_step(client, target.username, f"wrong-{guess}")
    hasher_calls.clear()
    response = password_step(client, target.username)
    assert hasher_calls == []
    assert errors(response) == [LOCKED]
    assert SESSION_KEY not in client.session


def test_spoofed_forwarded_for_does_not_reset_the_count(client, target, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    for guess in range(settings.LOCKOUT_MAX_FAILURES + 3):
        spoofed = f"198.51.100.{guess + 1}"
        response = password_step(client, target.username, f"wrong-{guess}", HTTP_X_FORWARDED_FOR=spoofed)
    assert errors(response) == [LOCKED]
    assert LoginFailure.objects.filter(user=target).count() == settings.LOCKOUT_MAX_FAILURES
    assert len(set(LoginFailure.objects.values_list("ip", flat=True))) == settings.LOCKOUT_MAX_FAILURES


def test_the_lock_lifts_when_the_oldest_failure_leaves_the_window(client, target, time_machine):
    time_machine.move_to(T0, tick=False)
    for guess in range(settings.LOCKOUT_MAX_FAILURES):
        password_step(client, target.username, f"wrong-{guess}")
        time_machine.shift(timedelta(minutes=1))
    time_machine.move_to(T0 + settings.LOCKOUT_WINDOW - timedelta(seconds=1), tick=False)
    assert lockout.is_locked(target.username)
    time_machine.move_to(T0 + settings.LOCKOUT_WINDOW, tick=False)
    assert not lockout.is_locked(target.username)
    # one slot is free again: one more wrong guess is evaluated, and locks it again
    assert errors(password_step(client, target.username, "wrong-again")) == [LOCKED]
    time_machine.move_to(T0 + settings.LOCKOUT_WINDOW + timedelta(minutes=1), tick=False)
    response = password_step(client, target.username)
    assert response.status_code == 302  # on to the second factor


def test_guesses_arriving_while_one_is_being_evaluated_share_its_budget(client, target, hasher_calls, monkeypatch):
    """A burst of parallel guesses: while the first password is being evaluated, ten more arrive.
    Each check is claimed before it is evaluated, so only four of them are; six are refused.
    Counting failures after evaluation (django-axes) would evaluate all eleven."""
    counted_verify = MD5PasswordHasher.verify
    burst: list[list[str]] = []

    def verify_while_a_burst_arrives(self, password, encoded):
        if not burst:
            burst.append([])
            burst.extend(list(errors(password_step(Client(), target.username, f"parallel-{n}"))) for n in range(10))
        return counted_verify(self, password, encoded)

    monkeypatch.setattr(MD5PasswordHasher, "verify", verify_while_a_burst_arrives)
    first = password_step(client, target.username, "first")
    # four more are evaluated (the fourth fills the budget, so it already answers "locked")
    assert burst[1:] == [[INVALID_LOGIN]] * 3 + [[LOCKED]] * 7
    assert LOCKED in first.content.decode()  # (its context also holds the burst's forms: read the page)
    assert hasher_calls.count("verify") == settings.LOCKOUT_MAX_FAILURES  # (MD5's verify calls its encode)


def test_unknown_usernames_are_refused_and_locked_exactly_like_real_ones(client, target):
    answers = {}
    for username in (target.username, "nobody.here"):
        first = password_step(client, username, "wrong")
        for guess in range(settings.LOCKOUT_MAX_FAILURES):
            last = password_step(client, username, f"wrong-{guess}")
        answers[username] = (first.status_code, errors(first), last.status_code, errors(last))
    assert answers[target.username] == answers["nobody.here"] == (200, [INVALID_LOGIN], 200, [LOCKED])


def test_changing_the_case_of_the_username_gives_no_more_guesses(client, target):
    for guess, spelling in enumerate(["tara.target", "TARA.TARGET", "Tara.Target", " tara.target ", "tArA.tArGeT"]):
        password_step(client, spelling, f"wrong-{guess}")
    assert lockout.is_locked("tara.target")


def test_a_successful_password_check_is_not_counted_as_a_failure(client, target):
    password_step(client, target.username)
    assert not LoginFailure.objects.exists()


def test_wrong_second_factor_codes_count_towards_the_lockout(client, program):
    user = f.UserFactory(username="sid.second", program=program, roles=[Role.NAVIGATOR])
    totp = enrol(user)
    password_step(client, user.username)
    for _ in range(settings.LOCKOUT_MAX_FAILURES - 1):
        response = client.post(reverse("accounts:two_factor"), {"code": "000000"})
        assert response.status_code == 200
    client.post(reverse("accounts:two_factor"), {"code": "000000"})  # the fifth failure
    response = client.post(reverse("accounts:two_factor"), {"code": totp.now()})
    assert response.status_code == 302 and response.url == reverse("accounts:login")
    assert SESSION_KEY not in client.session
    assert lockout.is_locked(user.username)
    assert LoginFailure.objects.filter(kind=LoginFailure.Kind.SECOND_FACTOR).count() == 5


def test_a_staff_admin_can_unlock_an_account(client, target):
    for guess in range(settings.LOCKOUT_MAX_FAILURES):
        password_step(client, target.username, f"wrong-{guess}")
    assert lockout.clear(target) == settings.LOCKOUT_MAX_FAILURES
    assert password_step(client, target.username).status_code == 302


def test_typed_usernames_are_never_stored(client, target):
    password_step(client, "someone-typed-their-password-here", "wrong")
    stored = LoginFailure.objects.get()
    assert stored.user is None
    assert "someone" not in stored.account_key
