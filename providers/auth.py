"""Partner credential authentication: `Authorization: Bearer crt_<prefix>_<secret>`.

Looked up by its prefix, compared by hash, `last_used_at` written at most once a minute: the design
both kinds of key share, in accounts.credentials. A revoked credential, or one of an organisation
that was made inactive, fails on the very next request: nothing is cached.
See docs/decisions/002-partner-credentials.md.
"""

from django.contrib.auth.models import AnonymousUser

from accounts.credential_auth import CredentialAuthentication, CredentialScheme
from accounts.models import StaffToken
from providers.models import PartnerCredential


class PartnerCredentialAuthentication(CredentialAuthentication):
    """Authenticates a partner system. request.user stays anonymous; request.auth is the credential."""

    model = PartnerCredential
    invalid_message = "Invalid or revoked partner credential."

    def claims(self, raw_key: bytes) -> bool:
        # Every bearer key but a staff token's (accounts.tokens.StaffTokenAuthentication answers for
        # those): a key of no kind at all is refused here, as an invalid partner credential.
        return not raw_key.startswith(StaffToken.KEY_START.encode())

    def get_queryset(self):
        return PartnerCredential.objects.select_related("organization")

    def find(self, prefix: str) -> PartnerCredential | None:
        return PartnerCredential.objects.by_prefix(prefix)  # the same lookup, prepared: on every partner call

    def authenticated(self, credential: PartnerCredential) -> tuple:
        return AnonymousUser(), credential


class PartnerCredentialScheme(CredentialScheme):
    target_class = "providers.auth.PartnerCredentialAuthentication"
    name = "partnerCredential"
    description = "A partner organisation's API key, shown once when created: crt_<prefix>_<secret>."
