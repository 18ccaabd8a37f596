"""How long an outbox waits before its next attempt: the partner webhooks and emails
(referrals.delivery) and the inbox's emails (inbox.notifications) keep the same schedule.

After failed attempt n the wait is a "full jitter" draw, uniform between 0 and
min(BACKOFF_CAP, BACKOFF_BASE * 2**(n-1)), at least MIN_DELAY; a Retry-After the other side sent is
waited as asked, capped at RETRY_AFTER_CAP (docs/reliability.md).
"""

import random
from datetime import timedelta

BACKOFF_BASE = timedelta(minutes=3)
BACKOFF_CAP = timedelta(hours=24)
MIN_DELAY = timedelta(seconds=10)
RETRY_AFTER_CAP = timedelta(hours=6)

_random = random.SystemRandom()


def next_delay(attempt: int, retry_after: timedelta | None = None) -> timedelta:
    """How long to wait after failed attempt number `attempt` (1-based)."""
    if retry_after is not None:
        return min(max(retry_after, MIN_DELAY), RETRY_AFTER_CAP)
    ceiling = min(BACKOFF_CAP, BACKOFF_BASE * 2 ** (attempt - 1))
    return max(MIN_DELAY, timedelta(seconds=_random.uniform(0, ceiling.total_seconds())))
