"""Bearer credentials: partner API keys (providers.PartnerCredential, `crt_<prefix>_<secret>`) and
staff API tokens (accounts.StaffToken, `crts_<prefix>_<secret>`). One design for both, stated here
once (docs/decisions/002-partner-credentials.md, 005-staff-api-tokens.md):

- `issue_key` gives a new credential its key, which is shown once and never stored: the row keeps a
  lookup prefix (unique, indexed) and the key's SHA-256 (`hash_key`);
- `CredentialAuthentication` finds a presented key by its prefix and compares hashes with
  hmac.compare_digest; a revoked credential (`revoke_credentials`) fails on the very next request: nothing is
  cached between requests;
- `last_used_at` is written at most once a minute per credential, by a conditional UPDATE
  (`touch_last_used`), so a busy client costs no write per call;
- `CredentialAdmin` makes one in the admin (the key shown once, in a message) and revokes; a
  credential is never deleted, because what it did names it.

Each kind adds what is its own: whom it acts for, its key's start, its own refusals (a staff
token's expiry and holder, a partner key's organisation being active).
"""

import hashlib
import hmac
import re
import secrets
from datetime import timedelta
from typing import ClassVar

from django.contrib import admin, messages
from django.db import models
from django.db.models import Q
from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.exceptions import AuthenticationFailed

LAST_USED_RESOLUTION = timedelta(minutes=1)


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class Credential(models.Model):
    """A key stored hashed, shown once, looked up by its prefix; revoked, never deleted."""

    KEY_START: ClassVar[str]  # what every key of this kind starts with; no kind's start begins another's
    PREFIX_LENGTH: ClassVar[int] = 8

    prefix = models.CharField(max_length=8, unique=True)
    key_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True
        ordering = ["-created_at"]

    @classmethod
    def new_key(cls) -> tuple[str, str]:
        """A new key and its lookup prefix. The key is shown once and never stored."""
        prefix = secrets.token_hex(cls.PREFIX_LENGTH // 2)
        return prefix, f"{cls.KEY_START}{prefix}_{secrets.token_urlsafe(32)}"

    @classmethod
    def prefix_of(cls, key: str) -> str | None:
        """The lookup prefix of a well-formed key of this kind; None for anything else."""
        match = cls._key_pattern().fullmatch(key)
        return match[1] if match else None

    @classmethod
    def _key_pattern(cls) -> re.Pattern:
        return re.compile(rf"{re.escape(cls.KEY_START)}([0-9a-f]{{{cls.PREFIX_LENGTH}}})_[A-Za-z0-9_-]{{20,100}}")

    def matches(self, key: str) -> bool:
        return hmac.compare_digest(self.key_hash, hash_key(key))

    def is_usable(self, now) -> bool:
        """Not revoked. A kind adds its own conditions (expiry, its organisation being active)."""
        return self.revoked_at is None


def issue_key(credential: Credential) -> str:
    """Give an unsaved credential a new prefix and hash and save it; return the key, shown once."""
    model = type(credential)
    prefix, key = model.new_key()
    while model.objects.filter(prefix=prefix).exists():
        prefix, key = model.new_key()
    credential.prefix, credential.key_hash = prefix, hash_key(key)
    credential.save()
    return key


def revoke_credentials(credentials: models.QuerySet) -> int:
    """Revoke the credentials of a queryset that are not revoked yet; the next request with one fails."""
    return credentials.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())


def touch_last_used(credential: Credential, now) -> None:
    """Write `last_used_at` at most once a minute: one conditional UPDATE, so a busy client costs
    no write per call and racing requests write once."""
    if credential.last_used_at is None or credential.last_used_at < now - LAST_USED_RESOLUTION:
        stale = Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - LAST_USED_RESOLUTION)
        type(credential).objects.filter(pk=credential.pk).filter(stale).update(last_used_at=now)
        credential.last_used_at = now


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


class CredentialAdmin:
    """Admin of one kind of credential (mixed into the project's ModelAdmin): the key made on saving
    a new one and shown once, to the admin who made it; revoked by an action; never deleted. The
    hash is never displayed: a subclass's fields never name key_hash."""

    noun = "API key"  # as the admin's messages name one
    shown_once_hint = "copy it now into the system that uses it; it will not be shown again."
    list_filter = (("revoked_at", admin.EmptyFieldListFilter),)
    actions = ("revoke",)

    def has_delete_permission(self, request, obj=None):
        return False  # what a credential did names it: revoke instead, and the row says until when

    def issue(self, request, obj) -> str:
        """Save the new credential through its kind's service; return its key."""
        return issue_key(obj)

    def save_model(self, request, obj, form, change):
        if change:
            return super().save_model(request, obj, form, change)
        key = self.issue(request, obj)
        messages.warning(request, f"{self.noun} {obj}: {key} — {self.shown_once_hint}")

    @admin.action(description="Revoke the selected %(verbose_name_plural)s", permissions=["change"])
    def revoke(self, request, queryset):
        count = revoke_credentials(queryset)
        messages.success(request, f"Revoked {count} {self.noun}(s).")
