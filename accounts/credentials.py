"""Bearer credentials: partner API keys (providers.PartnerCredential, `crt_<prefix>_<secret>`) and
staff API tokens (accounts.StaffToken, `crts_<prefix>_<secret>`). One design for both, stated here
once (docs/decisions/002-partner-credentials.md, 005-staff-api-tokens.md):

- `issue_key` gives a new credential its key, which is shown once and never stored: the row keeps a
  lookup prefix (unique, indexed) and the key's SHA-256 (`hash_key`);
- `CredentialAuthentication` (accounts.credential_auth, the API side) finds a presented key by its
  prefix and compares hashes with hmac.compare_digest; a revoked credential (`revoke_credentials`)
  fails on the very next request: nothing is cached between requests;
- `last_used_at` is written at most once a minute per credential, by a conditional UPDATE
  (`touch_last_used`), so a busy client costs no write per call;
- `CredentialAdmin` (accounts.admin) makes one in the admin (the key shown once, in a message) and revokes; a
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

from django.db import models
from django.db.models import Q
from django.utils import timezone

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
