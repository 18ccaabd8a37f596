"""A small named cast, so that a test reads like a sentence, and the rules for service-backed tests.

Tests marked `postgres` or `redis` need that real service. Outside CI they are skipped, with the
reason printed, when the service is not configured or not reachable; with CI=true they must run,
so a missing service fails the run instead of hiding behind a skip.
"""

import os

import pytest
from django.conf import settings
from hypothesis import settings as hypothesis_settings

from accounts.roles import Role
from tests import factories as f

# Hypothesis's default 200 ms deadline per example is a wall-clock assertion: on a loaded machine an
# example that is correct but slow fails the test. Our properties are about behaviour, not time.
hypothesis_settings.register_profile("crt", deadline=None)
hypothesis_settings.load_profile("crt")


def _postgres_problem() -> str | None:
    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        return "needs PostgreSQL: set DATABASE_URL=postgres://postgres@127.0.0.1:5432/crt"
    return None


def _redis_problem() -> str | None:
    url = settings.CELERY_BROKER_URL
    if not url.startswith("redis://"):
        return "needs Redis: set CELERY_BROKER_URL=redis://127.0.0.1:6379/0"
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except redis.RedisError as error:
        return f"Redis at {url} is not reachable: {error}"
    return None


def pytest_collection_modifyitems(config, items):
    in_ci = os.environ.get("CI", "").lower() == "true"
    problems = {"postgres": _postgres_problem, "redis": _redis_problem}
    found: dict[str, str | None] = {}
    for item in items:
        for marker, check in problems.items():
            if marker not in item.keywords:
                continue
            if marker not in found:
                found[marker] = check()
            problem = found[marker]
            if problem is None:
                continue
            if in_ci:
                raise pytest.UsageError(f"CI=true but a '{marker}' test cannot run: {problem}")
            item.add_marker(pytest.mark.skip(reason=problem))


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """Argon2 costs about half a second a user here; tests of hashing itself set it back."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


# --- the cast -------------------------------------------------------------------------------


@pytest.fixture
def program(db):
    return f.ProgramFactory(name="Oklahoma City CRT", slug="okc")


@pytest.fixture
def other_program(db):
    return f.ProgramFactory(name="Tulsa CRT", slug="tulsa")


@pytest.fixture
def navigator(program):
    return f.UserFactory(username="nina.navigator", program=program, roles=[Role.NAVIGATOR])


@pytest.fixture
def peer(program):
    return f.UserFactory(username="pete.peer", program=program, roles=[Role.PEER])


@pytest.fixture
def clinician(program):
    return f.UserFactory(username="cleo.clinician", program=program, roles=[Role.CLINICIAN])


@pytest.fixture
def paramedic(program):
    return f.UserFactory(username="pam.paramedic", program=program, roles=[Role.PARAMEDIC])


@pytest.fixture
def supervisor(program):
    return f.UserFactory(username="sam.supervisor", program=program, roles=[Role.SUPERVISOR])


@pytest.fixture
def staff_admin(program):
    return f.StaffAdminFactory(username="ada.admin", program=program)


@pytest.fixture
def navigator_elsewhere(other_program):
    return f.UserFactory(username="olga.othercity", program=other_program, roles=[Role.NAVIGATOR])


@pytest.fixture
def network_admin(program):
    """A network admin (docs/decisions/014): the deployment's superuser, here also a staff admin of
    `program` as docs/deploy.md sets the first one up."""
    return f.StaffAdminFactory(username="nell.network", program=program, is_superuser=True)


@pytest.fixture
def network_client(network_admin):
    """A second test client, signed in as the network admin."""
    from django.test import Client

    client = Client()
    client.force_login(network_admin)
    return client


@pytest.fixture
def partner_org(db):
    return f.OrganizationFactory(name="Safe Harbor Housing")


@pytest.fixture
def other_partner_org(db):
    return f.OrganizationFactory(name="Riverside Recovery")


@pytest.fixture
def partner_user(partner_org):
    return f.PartnerUserFactory(username="hal.housing", partner_organization=partner_org)


@pytest.fixture
def other_partner_user(other_partner_org):
    return f.PartnerUserFactory(username="rita.recovery", partner_organization=other_partner_org)


@pytest.fixture
def partner_credential(partner_org):
    return f.PartnerCredentialFactory(organization=partner_org)


# --- scoping (crt.scoping) --------------------------------------------------------------------


@pytest.fixture(autouse=True, scope="session")
def tests_read_as_the_system():
    """The tests' own setup and assertions read people's data as the system: factories, and checks
    of what a request wrote. Requests made through the test client, the API client and the live
    server still meet the real checks (crt.scoping.ScopedRequests clears this for each request), and
    so do jobs run on a worker thread or process. A test of the checks themselves uses `scoped`."""
    from crt.scoping import system_read

    with system_read("the test's own setup and assertions"):
        yield


@pytest.fixture
def scoped():
    """Run the test body with the real checks, as a job or request would meet them."""
    from crt.scoping import user_reads_only

    with user_reads_only():
        yield
