"""Partner API keys and staff API tokens are one kind of thing (accounts.credentials): issued,
matched, refused once revoked and administered the same way, through the same code."""

from itertools import permutations

import pytest
from django.conf import settings
from django.contrib import admin
from django.utils import timezone
from django.utils.module_loading import import_string
from rest_framework.test import APIClient, APIRequestFactory

from accounts.admin import CredentialAdmin
from accounts.credential_auth import CredentialAuthentication
from accounts.credentials import Credential, issue_key, revoke_credentials
from accounts.models import StaffToken
from accounts.tokens import StaffTokenAuthentication
from providers.auth import PartnerCredentialAuthentication
from providers.models import PartnerCredential

pytestmark = pytest.mark.django_db

# What each kind reads with its key: the partner inbox, the staff people list.
READS = {PartnerCredential: "/api/v1/partner/referrals/", StaffToken: "/api/v1/individuals/"}


@pytest.fixture(params=[PartnerCredential, StaffToken], ids=["partner_key", "staff_token"])
def issued(request, partner_org, navigator):
    """(credential, key) of each kind, made by the shared issue_key."""
    if request.param is PartnerCredential:
        credential = PartnerCredential(organization=partner_org, name="case management system")
    else:
        credential = StaffToken(user=navigator, name="CAD integration")
    return credential, issue_key(credential)


def status_with(key: str, url: str) -> int:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client.get(url).status_code


def test_an_issued_key_works_and_only_its_hash_and_prefix_are_stored(issued):
    credential, key = issued
    credential.refresh_from_db()
    assert key.startswith(f"{type(credential).KEY_START}{credential.prefix}_")
    assert credential.matches(key) and not credential.matches(key + "x")
    assert not any(key in str(getattr(credential, field.attname)) for field in type(credential)._meta.concrete_fields)
    assert status_with(key, READS[type(credential)]) == 200


def test_a_revoked_key_is_refused_on_its_next_request_whatever_its_kind(issued):
    credential, key = issued
    url = READS[type(credential)]
    assert status_with(key, url) == 200

    assert revoke_credentials(type(credential).objects.filter(pk=credential.pk)) == 1

    assert status_with(key, url) == 401
    assert revoke_credentials(type(credential).objects.filter(pk=credential.pk)) == 0  # revoked once, kept


def test_every_kind_of_credential_is_authenticated_and_administered_by_the_shared_code():
    kinds = {model for model in Credential.__subclasses__() if not model._meta.abstract}
    assert kinds == {PartnerCredential, StaffToken}
    authenticating = [import_string(path) for path in settings.REST_FRAMEWORK["DEFAULT_AUTHENTICATION_CLASSES"]]
    by_model = {cls.model: cls for cls in authenticating if issubclass(cls, CredentialAuthentication)}
    assert set(by_model) == kinds
    for model in kinds:
        assert isinstance(admin.site._registry[model], CredentialAdmin)
    for one, other in permutations(kinds, 2):
        assert not one.KEY_START.startswith(other.KEY_START)  # a key is never taken for another kind's


@pytest.mark.parametrize(
    ("authentication", "queries"),
    [
        # the credential with its organisation (is it still active?), in one SELECT
        (PartnerCredentialAuthentication, 1),
        # the token with its user; the user's roles (may they still hold a token?)
        (StaffTokenAuthentication, 2),
    ],
)
def test_a_key_costs_a_fixed_number_of_queries(
    authentication, queries, partner_org, navigator, django_assert_num_queries
):
    if authentication is PartnerCredentialAuthentication:
        credential = PartnerCredential(organization=partner_org, name="cms", last_used_at=timezone.now())
    else:
        credential = StaffToken(user=navigator, name="CAD integration", last_used_at=timezone.now())
    key = issue_key(credential)  # used this minute: last_used_at is not written again
    request = APIRequestFactory().get("/", HTTP_AUTHORIZATION=f"Bearer {key}")

    with django_assert_num_queries(queries):
        _user, found = authentication().authenticate(request)

    assert found == credential
