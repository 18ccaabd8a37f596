"""API test helpers: clients for each role, and every response checked against the OpenAPI schema.

`api_client(as_=...)` returns a client signed in as a user (a session), or carrying a partner
credential's or a staff token's key. Its every response is validated against /api/schema/ (the
operation matching the path, method and status must exist and describe the body), so a test cannot
pass on an answer the schema does not document.
"""

import re
from functools import cache

import jsonschema
import pytest
from django.core.cache import cache as django_cache
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from accounts.credentials import Credential
from accounts.roles import Role
from tests import factories as f


@cache
def openapi() -> dict:
    return SchemaGenerator().get_schema(request=None, public=True)


@cache
def _operations():
    found = []
    for template, item in openapi()["paths"].items():
        pattern = re.compile("^" + re.sub(r"\{[^}]+\}", "[^/]+", template) + "$")
        found.append((pattern, template, item))
    return found


def operation_for(path: str, method: str):
    for pattern, template, item in _operations():
        if pattern.match(path) and method.lower() in item:
            return template, item[method.lower()]
    return None, None


def validate_response(method: str, path: str, response) -> None:
    """The answer is documented: its status is listed, and its JSON body matches the listed schema."""
    template, operation = operation_for(path, method)
    if operation is None:
        return  # not an /api/v1 operation (schema and docs pages, FHIR, HSDS are checked elsewhere)
    status = str(response.status_code)
    assert status in operation["responses"], f"{method} {template} answered {status}, which the schema omits"
    content = operation["responses"][status].get("content")
    if not content:
        return
    assert response.content, f"{method} {template} {status} has an empty body"
    media = next(iter(content.values()))
    schema = {**media["schema"], "components": openapi()["components"]}
    jsonschema.Draft202012Validator(schema).validate(response.json())


class CheckedClient(APIClient):
    def generic(self, method, path, *args, **kwargs):
        response = super().generic(method, path, *args, **kwargs)
        validate_response(method, path.split("?")[0], response)
        return response


@pytest.fixture(autouse=True)
def _fresh_throttle():
    django_cache.clear()
    yield
    django_cache.clear()


@pytest.fixture
def integration(program):
    """The 911 CAD system's service account: a program account with the field-write role."""
    return f.UserFactory(username="cad.integration", program=program, roles=[Role.CLINICIAN])


@pytest.fixture
def api_client():
    def make(as_=None) -> CheckedClient:
        client = CheckedClient()
        if as_ is None:
            return client
        if isinstance(as_, Credential):  # a partner key or a staff token
            client.credentials(HTTP_AUTHORIZATION=f"Bearer {as_.key}")
        else:
            client.force_login(as_)
        return client

    return make


def credential_for(organization):
    """A partner credential whose key the test knows (only its hash is stored)."""
    from providers.models import PartnerCredential

    _prefix, key = PartnerCredential.new_key()
    credential = f.PartnerCredentialFactory(organization=organization, key=key)
    credential.key = key
    return credential


def token_for(user, **fields):
    """A staff API token of `user` whose key the test knows (only its hash is stored)."""
    from accounts.tokens import issue_token

    token, key = issue_token(user, name=fields.pop("name", "CAD integration"), by=None, **fields)
    token.key = key
    return token


@pytest.fixture
def partner_credential(partner_org):
    return credential_for(partner_org)


@pytest.fixture
def other_partner_credential(other_partner_org):
    return credential_for(other_partner_org)
