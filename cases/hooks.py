"""The referral side of a case's own actions, which `referrals` fills in when the app starts.

`referrals` sits above `cases` (docs/decisions/017-layers.md), so nothing in `cases` imports it. Yet
closing a case decides its open referrals, merging two records of a person moves theirs, revoking a
consent stops the chase of those sent under it, and the caseload lists those waiting on a partner.
`referrals` says how, once, in ReferralsConfig.ready() (`register_referrals`); `cases` asks
`referrals()`, which refuses to answer if nothing was registered (tests/cases/test_hooks.py).
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.core.exceptions import ImproperlyConfigured
from django.db.models import QuerySet


@dataclass(frozen=True)
class Referrals:
    # closing a case: its referrals to leave open or cancel, oldest first -- (case) -> QuerySet
    to_decide: Callable[..., QuerySet]
    # ...and cancelling one of them -- (referral, *, by, reason)
    cancel: Callable[..., object]
    # merging and unmerging people: point these referrals at the other record -- (ids, individual, *, now)
    move_to_person: Callable[..., int]
    # a consent was revoked: stop chasing the open referrals sent under it -- (consent)
    consent_revoked: Callable[..., None]
    # the caseload: the open referrals of the user's cases waiting on their partner, oldest first, as
    # cases.display.Line -- (user, *, now) -> list
    waiting_on_partner: Callable[..., list]


_registered: Referrals | None = None


def register_referrals(hooks: Referrals) -> None:
    global _registered
    _registered = hooks


def referrals() -> Referrals:
    if _registered is None:
        raise ImproperlyConfigured("The referrals app has not registered its hooks (ReferralsConfig.ready).")
    return _registered
