"""Sessions: a new id at sign-in, idle and absolute timeouts at their boundaries, and a
deactivated user out on the very next request."""

from datetime import UTC, datetime, timedelta

import pytest
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.models import Session
from django.db import connection
from django.urls import reverse

from tests.security.conftest import sign_in

T0 = datetime(2026, 5, 4, 8, 0, tzinfo=UTC)
IDLE = timedelta(seconds=settings.SESSION_IDLE_SECONDS)
ABSOLUTE = timedelta(seconds=settings.SESSION_COOKIE_AGE)
SECOND = timedelta(seconds=1)


@pytest.fixture
def signed_in_at_t0(client, enrolled_navigator, time_machine):
    time_machine.move_to(T0, tick=False)
    user, totp = enrolled_navigator
    sign_in(client, user, totp)
    return time_machine


def home_status(client) -> int:
    return client.get(reverse("accounts:home")).status_code


def test_the_timeouts_are_fifteen_minutes_idle_and_twelve_hours_absolute():
    assert settings.SESSION_IDLE_SECONDS == 15 * 60
    assert settings.SESSION_COOKIE_AGE == 12 * 60 * 60


def test_signing_in_gives_a_new_session_id(client, enrolled_navigator):
    user, totp = enrolled_navigator
    planted = client.session
    planted["visited"] = True
    planted.save()
    sign_in(client, user, totp)
    now = client.cookies[settings.SESSION_COOKIE_NAME].value
    assert now != planted.session_key
    assert not Session.objects.filter(session_key=planted.session_key).exists()


def test_a_session_survives_just_under_the_idle_timeout(client, signed_in_at_t0):
    signed_in_at_t0.shift(IDLE - SECOND)
    assert home_status(client) == 200
    signed_in_at_t0.shift(IDLE - SECOND)  # activity restarted the idle clock
    assert home_status(client) == 200


def test_the_idle_clock_is_written_at_most_once_a_minute(client, signed_in_at_t0):
    # Each write is a session UPDATE and a commit: pages within a minute of the last write skip it,
    # so the idle timeout counts from at most a minute before the last request.
    session_writes = []

    def count(execute, sql, params, many, context):
        if sql.startswith('UPDATE "django_session"'):
            session_writes.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        signed_in_at_t0.shift(30 * SECOND)
        assert home_status(client) == 200
        signed_in_at_t0.shift(29 * SECOND)
        assert home_status(client) == 200
        assert session_writes == []
        signed_in_at_t0.shift(SECOND)  # a minute after sign-in
        assert home_status(client) == 200
        assert len(session_writes) == 1
    signed_in_at_t0.shift(IDLE - SECOND)  # counted from the write a minute after sign-in
    assert home_status(client) == 200


def test_a_session_idle_for_fifteen_minutes_is_signed_out(client, signed_in_at_t0):
    signed_in_at_t0.shift(IDLE)
    response = client.get(reverse("accounts:home"))
    assert response.status_code == 302 and response.url.startswith(reverse("accounts:login"))
    assert SESSION_KEY not in client.session
    signed_in_at_t0.shift(SECOND)
    assert home_status(client) == 302  # and stays out


def test_an_active_session_ends_twelve_hours_after_sign_in(client, signed_in_at_t0):
    step = IDLE - SECOND
    elapsed = timedelta(0)
    while elapsed + step < ABSOLUTE - SECOND:
        signed_in_at_t0.shift(step)
        elapsed += step
        assert home_status(client) == 200
    signed_in_at_t0.move_to(T0 + ABSOLUTE - SECOND, tick=False)
    assert home_status(client) == 200
    signed_in_at_t0.move_to(T0 + ABSOLUTE, tick=False)
    assert home_status(client) == 302


def test_the_timeouts_apply_to_the_admin_too(client, enrolled_staff_admin, time_machine):
    time_machine.move_to(T0, tick=False)
    user, totp = enrolled_staff_admin
    sign_in(client, user, totp)
    assert client.get("/admin/").status_code == 200
    time_machine.shift(IDLE)
    assert client.get("/admin/").status_code == 302


def test_a_deactivated_user_is_out_on_the_very_next_request(client, signed_in_at_t0, enrolled_navigator):
    user, _totp = enrolled_navigator
    assert home_status(client) == 200
    user.is_active = False
    user.save(update_fields=["is_active"])
    assert home_status(client) == 302
    assert SESSION_KEY not in client.session


def test_a_deactivated_staff_admin_loses_the_admin_on_the_next_request(client, staff_admin):
    client.force_login(staff_admin)
    assert client.get("/admin/").status_code == 200
    type(staff_admin).objects.filter(pk=staff_admin.pk).update(is_active=False)
    assert client.get("/admin/").status_code == 302


def test_signing_out_ends_the_session(client, signed_in_at_t0):
    response = client.post(reverse("accounts:logout"))
    assert response.url == reverse("accounts:login")
    assert home_status(client) == 302
