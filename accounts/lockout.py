"""Account lockout: a bounded number of password (and second-factor) checks per account.

An account with settings.LOCKOUT_MAX_FAILURES failed checks within settings.LOCKOUT_WINDOW is
locked: no password is evaluated for it until the oldest of those failures leaves the window (the
cool-off). So no account ever gets more than LOCKOUT_MAX_FAILURES wrong guesses evaluated in any
window, however many guesses arrive and from however many addresses: the key is the account (its
normalised username), never the client address, which an attacker can vary or spoof at will.

Unknown usernames are counted and locked exactly like real ones, so the answers do not tell an
attacker which accounts exist.

Each check is claimed before it is evaluated: `claim` writes a LoginFailure row (a check in
progress counts as a failure) under a per-account lock, and `succeeded` deletes it. Parallel
guesses therefore cannot slip past the count. The lock is a transaction-scoped advisory lock on
PostgreSQL; SQLite takes its database write lock at BEGIN (transaction_mode IMMEDIATE).
"""

import hashlib
import hmac
from dataclasses import dataclass

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from accounts.models import LoginFailure, User


def account_key(username: str) -> str:
    """The account's key: case and surrounding spaces do not make a new account to guess at."""
    normalised = username.strip().casefold()
    return hmac.new(settings.SECRET_KEY.encode(), f"login:{normalised}".encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Claim:
    failure_id: int


def _recent_failures(key: str, now):
    return LoginFailure.objects.filter(account_key=key, at__gt=now - settings.LOCKOUT_WINDOW)


def is_locked(username: str) -> bool:
    now = timezone.now()
    return _recent_failures(account_key(username), now).count() >= settings.LOCKOUT_MAX_FAILURES


def claim(username: str, *, kind: str, ip: str | None = None) -> Claim | None:
    """Reserve one check of `username`'s password or second factor; None when the account is locked
    (then the caller must not evaluate anything)."""
    key = account_key(username)
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [int(key[:15], 16)])
        now = timezone.now()
        if _recent_failures(key, now).count() >= settings.LOCKOUT_MAX_FAILURES:
            return None
        user_id = User.objects.filter(username__iexact=username.strip()).values_list("pk", flat=True).first()
        failure = LoginFailure.objects.create(account_key=key, user_id=user_id, kind=kind, ip=ip, at=now)
    return Claim(failure_id=failure.pk)


def succeeded(claimed: Claim) -> None:
    """The claimed check passed: it was no failure."""
    LoginFailure.objects.filter(pk=claimed.failure_id).delete()


def clear(user: User) -> int:
    """Unlock an account now (a staff admin's decision). Returns how many failures were forgotten."""
    deleted, _ = LoginFailure.objects.filter(account_key=account_key(user.username)).delete()
    return deleted
