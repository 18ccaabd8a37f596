"""Partner credential authentication: `Authorization: Bearer crt_<prefix>_<secret>`.

The key is looked up by its prefix (unique, indexed), then compared with hmac.compare_digest against
the stored SHA-256 (PartnerCredential.matches). A revoked credential, or one of an organisation that
was made inactive, fails on the very next request: nothing is cached. `last_used_at` is written at
most once a minute per credential, by a conditional UPDATE, so a busy partner costs no write per call.
See docs/decisions/002-partner-credentials.md.
"""

import re
from datetime import timedelta

from django.contrib.auth.models import AnonymousUser
from django.db.models import Q
from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.exceptions import AuthenticationFailed

from accounts.models import StaffToken
from providers.models import PartnerCredential, hash_key

KEY_PATTERN = re.compile(rf"crt_([0-9a-f]{{{PartnerCredential.PREFIX_LENGTH}}})_[A-Za-z0-9_-]{{20,100}}")
LAST_USED_RESOLUTION = timedelta(minutes=1)
_INVALID = "Invalid or revoked partner credential."


class PartnerCredentialAuthentication(BaseAuthentication):
    """Authenticates a partner system. request.user stays anonymous; request.auth is the credential."""

    keyword = "bearer"

    def authenticate(self, request):
        header = get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.encode():
            return None  # not ours: session authentication may still apply
        if len(header) != 2:
            raise AuthenticationFailed("Malformed Authorization header: use 'Bearer crt_<prefix>_<secret>'.")
        if header[1].startswith(StaffToken.KEY_START.encode()):
            return None  # a staff token: accounts.tokens.StaffTokenAuthentication answers for it
        try:
            key = header[1].decode("ascii")
        except UnicodeDecodeError:
            raise AuthenticationFailed(_INVALID) from None
        match = KEY_PATTERN.fullmatch(key)
        if match is None:
            raise AuthenticationFailed(_INVALID)
        credential = PartnerCredential.objects.select_related("organization").filter(prefix=match[1]).first()
        if credential is None:
            hash_key(key)  # the same work either way: timing says nothing about which prefixes exist
            raise AuthenticationFailed(_INVALID)
        if not credential.matches(key) or not credential.is_active:
            raise AuthenticationFailed(_INVALID)
        touch_last_used(credential, timezone.now())
        return AnonymousUser(), credential

    def authenticate_header(self, request):
        return 'Bearer realm="crt-api"'


def touch_last_used(key, now) -> None:
    """Write `last_used_at` of a partner credential or a staff token at most once a minute: one
    conditional UPDATE, so a busy client costs no write per call and racing requests write once."""
    stale = Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - LAST_USED_RESOLUTION)
    if key.last_used_at is None or key.last_used_at < now - LAST_USED_RESOLUTION:
        type(key).objects.filter(pk=key.pk).filter(stale).update(last_used_at=now)
        key.last_used_at = now


class PartnerCredentialScheme(OpenApiAuthenticationExtension):
    target_class = "providers.auth.PartnerCredentialAuthentication"
    name = "partnerCredential"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A partner organisation's API key, shown once when created: crt_<prefix>_<secret>.",
        }
