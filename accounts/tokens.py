"""Staff API tokens: `Authorization: Bearer crts_<prefix>_<secret>`.

A token acts as its user: the user's roles, program and `visible_to` scoping apply unchanged, and
the audit log names the user. It is the partner credential's design (providers.auth) for people
and program service accounts such as the 911 CAD integration:

- made by `issue_token` (the admin, `manage.py create_api_token`), shown once, stored as SHA-256;
- looked up by its prefix (unique, indexed), compared with hmac.compare_digest;
- a revoked or expired token, an inactive user, a user without a program and a partner user fail
  on the very next request: nothing is cached between requests;
- `last_used_at` is written at most once a minute per token, by a conditional UPDATE.

A header that is not a staff token is left alone (None), so partner keys and sessions still work.
Token requests need no CSRF token: that check belongs to SessionAuthentication, which a request
authenticated here never reaches. See docs/decisions/005-staff-api-tokens.md.
"""

import re
from datetime import datetime

from django.core.exceptions import ValidationError
from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.exceptions import AuthenticationFailed

from accounts.models import StaffToken, User, hash_token
from accounts.roles import Role, roles_of
from providers.auth import touch_last_used

KEY_PATTERN = re.compile(rf"{StaffToken.KEY_START}([0-9a-f]{{{StaffToken.PREFIX_LENGTH}}})_[A-Za-z0-9_-]{{20,100}}")
_INVALID = "Invalid, expired or revoked staff token."


def may_hold_token(user: User) -> bool:
    """Active staff of a program; never a partner user (partners have their organisation's keys)."""
    if not user.is_active or user.program_id is None or user.partner_organization_id is not None:
        return False
    return Role.PARTNER not in roles_of(user)


def assign_new_key(token: StaffToken) -> str:
    """Give an unsaved token a new prefix and hash; return the key, which is shown once and never stored."""
    prefix, key = StaffToken.new_key()
    while StaffToken.objects.filter(prefix=prefix).exists():
        prefix, key = StaffToken.new_key()
    token.prefix, token.token_hash = prefix, hash_token(key)
    return key


def issue_token(
    user: User, *, name: str, by: User | None, expires_at: datetime | None = None
) -> tuple[StaffToken, str]:
    """Make a token for `user`; return it with its key. `by` is who made it (None on the command line),
    `expires_at` None means until revoked. Raises ValidationError when the user may not hold one."""
    if not may_hold_token(user):
        raise ValidationError(
            "Only active staff of a program may hold an API token; partner users use their organisation's key.",
            code="forbidden",
        )
    if not name.strip():
        raise ValidationError("Say what the token is for.", code="invalid")
    if expires_at is not None and expires_at <= timezone.now():
        raise ValidationError("The expiry must be in the future.", code="invalid")
    token = StaffToken(user=user, name=name.strip(), created_by=by, expires_at=expires_at)
    key = assign_new_key(token)
    token.save()
    return token, key


def revoke_tokens(tokens) -> int:
    """Revoke the tokens of a queryset that are not revoked yet; the next request with one fails."""
    return tokens.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())


class StaffTokenAuthentication(BaseAuthentication):
    """Authenticates a staff token: returns (its user, the token), so request.user is the user."""

    keyword = "bearer"

    def authenticate(self, request):
        header = get_authorization_header(request).split()
        if len(header) != 2 or header[0].lower() != self.keyword.encode():
            return None  # not a bearer token: session authentication may still apply
        if not header[1].startswith(StaffToken.KEY_START.encode()):
            return None  # a partner key, or nothing of ours (providers.auth answers for those)
        try:
            key = header[1].decode("ascii")
        except UnicodeDecodeError:
            raise AuthenticationFailed(_INVALID) from None
        match = KEY_PATTERN.fullmatch(key)
        if match is None:
            raise AuthenticationFailed(_INVALID)
        token = StaffToken.objects.select_related("user").filter(prefix=match[1]).first()
        if token is None:
            hash_token(key)  # the same work either way: timing says nothing about which prefixes exist
            raise AuthenticationFailed(_INVALID)
        now = timezone.now()
        if not token.matches(key) or not token.is_usable(now) or not may_hold_token(token.user):
            raise AuthenticationFailed(_INVALID)
        touch_last_used(token, now)
        return token.user, token

    def authenticate_header(self, request):
        return 'Bearer realm="crt-api"'


class StaffTokenScheme(OpenApiAuthenticationExtension):
    target_class = "accounts.tokens.StaffTokenAuthentication"
    name = "staffToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A staff member's or program service account's API token, shown once when made: "
            "crts_<prefix>_<secret>. It acts as its user, with the user's roles and program.",
        }
