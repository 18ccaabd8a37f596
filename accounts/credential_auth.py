"""How a request presents a credential (accounts.credentials): `Authorization: Bearer <key>`, checked
by one DRF authentication class per kind of key (providers.auth for partner keys, accounts.tokens for
staff tokens), and how the API's schema documents each kind."""

from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.exceptions import AuthenticationFailed

from accounts.credentials import Credential, hash_key, touch_last_used


class CredentialAuthentication(BaseAuthentication):
    """`Authorization: Bearer <key>` for one kind of credential. A subclass names its `model`, the
    keys it answers for (`claims`), the row with what it needs to judge (`get_queryset`), whether
    the credential may act now (`may_act`) and what the request acts as (`authenticated`)."""

    model: type[Credential]
    invalid_message: str
    keyword = "bearer"

    def claims(self, raw_key: bytes) -> bool:
        """Whether this class answers for the key; a key it does not claim is left to the next class."""
        return raw_key.startswith(self.model.KEY_START.encode())

    def get_queryset(self):
        return self.model.objects.all()

    def find(self, prefix: str) -> Credential | None:
        """The credential of this prefix, from `get_queryset`."""
        return self.get_queryset().filter(prefix=prefix).first()

    def may_act(self, credential: Credential, now) -> bool:
        return credential.is_usable(now)

    def authenticated(self, credential: Credential) -> tuple:
        raise NotImplementedError

    def authenticate(self, request):
        header = get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.encode():
            return None  # not a bearer key: session authentication may still apply
        if len(header) != 2:
            raise AuthenticationFailed("Malformed Authorization header: use 'Bearer <key>'.")
        if not self.claims(header[1]):
            return None  # another kind of key: its own class answers for it
        try:
            key = header[1].decode("ascii")
        except UnicodeDecodeError:
            raise AuthenticationFailed(self.invalid_message) from None
        prefix = self.model.prefix_of(key)
        if prefix is None:
            raise AuthenticationFailed(self.invalid_message)
        credential = self.find(prefix)
        if credential is None:
            hash_key(key)  # the same work either way: timing says nothing about which prefixes exist
            raise AuthenticationFailed(self.invalid_message)
        now = timezone.now()
        if not credential.matches(key) or not self.may_act(credential, now):
            raise AuthenticationFailed(self.invalid_message)
        touch_last_used(credential, now)
        return self.authenticated(credential)

    def authenticate_header(self, request):
        return 'Bearer realm="crt-api"'


class CredentialScheme(OpenApiAuthenticationExtension):
    """How the OpenAPI schema documents one kind of key: a subclass names its target_class, name and
    description."""

    description: str

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "description": self.description}
