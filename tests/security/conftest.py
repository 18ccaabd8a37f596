"""Helpers for the security tests: signing in through the real views, authenticators with known
secrets, and Argon2 put back where hashing itself is what is tested."""

import pyotp
import pytest
from django.urls import reverse

from accounts import twofactor
from accounts.roles import Role
from tests import factories as f

PASSWORD = "correct horse battery staple"  # the factories' password
ARGON2 = ["django.contrib.auth.hashers.Argon2PasswordHasher"]


@pytest.fixture
def argon2(settings):
    """Real password hashing (the suite's autouse fixture switches to MD5 for speed)."""
    settings.PASSWORD_HASHERS = ARGON2


def enrol(user) -> pyotp.TOTP:
    """Give `user` an authenticator; returns it, to compute codes with."""
    return pyotp.TOTP(twofactor.enrol_for_demo(user))


def next_code(totp: pyotp.TOTP, steps: int = 1) -> str:
    """A code for a later time step than any used so far (each is accepted once)."""
    import time

    return totp.at(time.time() + 30 * steps)


def password_step(client, username: str, password: str = PASSWORD, *, next_url: str = "", **extra):
    data = {"username": username, "password": password}
    if next_url:
        data["next"] = next_url
    return client.post(reverse("accounts:login"), data, **extra)


def sign_in(client, user, totp: pyotp.TOTP | None = None, *, next_url: str = ""):
    """The full sign-in of an enrolled user through the views; returns the last response."""
    data = {"username": user.username, "password": PASSWORD}
    if next_url:
        data["next"] = next_url
    response = client.post(reverse("accounts:login"), data)
    assert response.status_code == 302, response.content
    if totp is None:
        return response
    assert response.url == reverse("accounts:two_factor")
    return client.post(reverse("accounts:two_factor"), {"code": totp.now()})


@pytest.fixture
def enrolled_navigator(program):
    user = f.UserFactory(username="nora.navigator", program=program, roles=[Role.NAVIGATOR])
    return user, enrol(user)


@pytest.fixture
def enrolled_staff_admin(program):
    user = f.StaffAdminFactory(username="ana.admin", program=program, email="ana@example.org")
    return user, enrol(user)
