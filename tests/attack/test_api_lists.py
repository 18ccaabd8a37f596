"""The API's lists and searches (REST, FHIR, HSDS), generated from the URLconf: no caller ever gets a
canary of another program's or another partner's person, and the public directory (HSDS) and the
schema carry no one's. (tests/api/test_permission_matrix.py checks the status codes of every route;
this checks what the 200s contain.)"""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.test import APIClient

from tests.api.conftest import credential_for
from tests.attack.conftest import leaked

pytestmark = pytest.mark.django_db

API_PREFIXES = ("api/", "fhir/r4/", "hsds/")
PUBLIC = ("/hsds/", "/api/schema/", "/api/docs/", "/api/redoc/")


def _walk(patterns, prefix=""):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            yield from _walk(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), entry


def list_paths() -> list[str]:
    """Every API path that names no record (lists, searches, the schema), as a client would write it."""
    found = []
    for route, _pattern in _walk(get_resolver().url_patterns):
        if not route.startswith(API_PREFIXES) or "<" in route or "(?P<" in route:
            continue
        path = "/" + route.replace("^", "").replace("$", "").replace("\\Z", "").replace("\\.", ".")
        if "(" in path or "[" in path:
            continue  # format-suffix variants
        found.append(path)
    return sorted(set(found))


def test_the_walk_finds_the_lists():
    paths = list_paths()
    for expected in ("/api/v1/individuals/", "/api/v1/partner/referrals/", "/fhir/r4/Task", "/hsds/services"):
        assert expected in paths


@pytest.mark.parametrize("caller", ["navigator", "peer", "clinician", "paramedic", "supervisor", "partner"])
def test_no_list_or_search_shows_another_sides_person(request, caller, ours, theirs, partner_org):
    client = APIClient()
    if caller == "partner":
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {credential_for(partner_org).key}")
    else:
        client.force_login(request.getfixturevalue(caller))
    canaries = theirs.canaries()
    problems = []
    answered = 0
    for path in list_paths():
        # the plain list, and the searches an attacker would try with the other side's details
        for query in ("", f"?q={theirs.texts['last']}", f"?date_of_birth={theirs.born.isoformat()}"):
            response = client.get(path + query)
            answered += response.status_code == 200
            shown = leaked(response.content.decode("utf-8", "replace"), canaries)
            shown = [canary for canary in shown if canary not in query]  # a search may echo its own words
            if shown:
                problems.append(f"{path}{query} ({response.status_code}): {shown}")
    assert problems == []
    assert answered > 10  # the caller really read lists


def test_a_partner_users_session_reads_no_one_over_the_api(partner_user, ours, theirs):
    """Partner users work on the partner page; their session opens none of the API's personal data
    (the partner API takes the organisation's credential)."""
    client = APIClient()
    client.force_login(partner_user)
    canaries = ours.canaries() + theirs.canaries()
    problems = [path for path in list_paths() if leaked(client.get(path).content.decode("utf-8", "replace"), canaries)]
    assert problems == []


def test_the_public_directory_and_the_schema_carry_no_ones_record(client, ours, theirs):
    canaries = ours.canaries() + theirs.canaries()
    problems = []
    for path in list_paths():
        if not path.startswith(PUBLIC):
            continue
        response = client.get(path)
        if leaked(response.content.decode("utf-8", "replace"), canaries):
            problems.append(path)
    assert problems == []
