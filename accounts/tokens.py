"""Staff API tokens: `Authorization: Bearer crts_<prefix>_<secret>`.

A token acts as its user: the user's roles, program and `visible_to` scoping apply unchanged, and
the audit log names the user. It is the partner credential's design (providers.auth) for people
and program service accounts such as the 911 CAD integration:

- made by `issue_token` (the admin, `manage.py create_api_token`), shown once, stored hashed,
  looked up by its prefix, revoked, never deleted: accounts.credentials, the partner key's too;
- a revoked or expired token, an inactive user, a user without a program and a partner user fail
  on the very next request: nothing is cached between requests.

A header that is not a staff token is left alone (None), so partner keys and sessions still work.
Token requests need no CSRF token: that check belongs to SessionAuthentication, which a request
authenticated here never reaches. See docs/decisions/005-staff-api-tokens.md.
"""

from datetime import datetime

from django.core.exceptions import ValidationError
from django.utils import timezone

from accounts.credential_auth import CredentialAuthentication, CredentialScheme
from accounts.credentials import issue_key
from accounts.models import StaffToken, User
from accounts.roles import is_partner


def may_hold_token(user: User) -> bool:
    """Active staff of a program; never a partner user (partners have their organisation's keys)."""
    if not user.is_active or user.program_id is None or user.partner_organization_id is not None:
        return False
    return not is_partner(user)


def issue_token(
    user: User, *, name: str, by: User | None, expires_at: datetime | None = None
) -> tuple[StaffToken, str]:
    """Make a token for `user`; return it with its key. `by` is who made it (None on the command line),
    `expires_at` None means until revoked. Raises ValidationError when the user may not hold one."""
    token = StaffToken(user=user, name=name.strip(), created_by=by, expires_at=expires_at)
    return token, issue_prepared_token(token)


def issue_prepared_token(token: StaffToken) -> str:
    """Save an unsaved token (its user, name, maker and expiry set: the admin's form makes one) with a
    new key; return the key. Raises ValidationError when its user may not hold one."""
    if not may_hold_token(token.user):
        raise ValidationError(
            "Only active staff of a program may hold an API token; partner users use their organisation's key.",
            code="forbidden",
        )
    if not token.name.strip():
        raise ValidationError("Say what the token is for.", code="invalid")
    if token.expires_at is not None and token.expires_at <= timezone.now():
        raise ValidationError("The expiry must be in the future.", code="invalid")
    return issue_key(token)


class StaffTokenAuthentication(CredentialAuthentication):
    """Authenticates a staff token: returns (its user, the token), so request.user is the user."""

    model = StaffToken
    invalid_message = "Invalid, expired or revoked staff token."

    def get_queryset(self):
        return StaffToken.objects.select_related("user")

    def may_act(self, token: StaffToken, now) -> bool:
        return token.is_usable(now) and may_hold_token(token.user)

    def authenticated(self, token: StaffToken) -> tuple:
        return token.user, token


class StaffTokenScheme(CredentialScheme):
    target_class = "accounts.tokens.StaffTokenAuthentication"
    name = "staffToken"
    description = (
        "A staff member's or program service account's API token, shown once when made: "
        "crts_<prefix>_<secret>. It acts as its user, with the user's roles and program."
    )
