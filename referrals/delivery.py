"""Delivering outbox rows (Delivery) to partners: Standard Webhooks, or an email with a link.

A delivery moves once, from pending to one of three final states:

    pending ──► delivered   the partner answered 2xx, or the email went out
        │ ├───► dead        the last attempt failed: the navigator gets one DELIVERY_DEAD inbox item
        │ └───► cancelled   consent no longer allows it, or the endpoint is gone (410), disabled or
        │                   inactive (these last three alert the navigator too: the partner never heard)
        └─ retry: next_attempt_at moves forward; the delivery sweep picks it up when due

Each attempt, in order:

1. Claim: one conditional UPDATE (pending, and either the attempt count the message was sent for or,
   for a bare call, next_attempt_at <= now) adds 1 to `attempts` and pushes next_attempt_at forward
   by a lease. Exactly one row changed, or another worker (or a redelivered or duplicated message)
   got there first and this call does nothing. A worker killed mid-attempt leaves the lease to run
   out; the sweep then retries. `attempts` after the claim is this attempt's token: the outcome is
   written only while the row still carries it.
2. Re-check consent (referrals.consent.disclosure_allowed) and the endpoint, before any I/O.
3. Log the attempt: a DeliveryAttempt row, committed before anything leaves, so that the attempts
   staff see are the requests the partner received, even when the worker dies mid-request.
4. Send, outside any transaction: HTTP with no redirects and a timeout, to an address netguard checked.
5. Record: the attempt's answer and the delivery's next state, in one short transaction. A database
   connection lost here is retried in this process (RECORD_TRIES, with jitter): the request has
   left, and recording its answer is better than sending it again.

Delivery is at least once: a worker killed between sending and recording makes the next attempt
send again (its log row stays "no answer recorded"). Every retry carries the same webhook-id
(Delivery.message_id), which is the partner's deduplication key; emails carry it as their Message-ID.

A database connection lost before the request leaves raises ConnectionLost, which says which claim
token the caller now holds; the task (referrals.tasks.deliver) retries within seconds with it, and
the claim lease is only the last resort.

Retry schedule (docs/reliability.md): MAX_ATTEMPTS attempts; after attempt n the wait is a "full
jitter" draw, uniform between 0 and min(BACKOFF_CAP, BACKOFF_BASE * 2**(n-1)), at least MIN_DELAY
(crt.backoff, which the inbox's emails share). With those constants the expected span from the first
to the last attempt is about three days (at most about six). A 429 or 503 with Retry-After waits what
the partner asked, capped at RETRY_AFTER_CAP. Answers that say the endpoint is misconfigured rather
than busy (3xx, 4xx other than 408/410/425/429, a blocked URL) end the delivery sooner: dead once it
has made MAX_MISCONFIGURED_ATTEMPTS attempts, so the navigator hears within the hour and can pick up the phone.
"""

import contextlib
import json
import logging
import random
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from enum import StrEnum

import requests
from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import InterfaceError, OperationalError, connection, transaction
from django.db.models import F, Q
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from crt import netguard
from crt.backoff import next_delay
from crt.scoping import system_read
from inbox.models import Kind as ItemKind
from inbox.services import raise_referral_item
from providers.models import Organization
from referrals.consent import disclosure_allowed
from referrals.models import Delivery, DeliveryAttempt

logger = logging.getLogger(__name__)

# Notices that tell a partner to stop: they carry only ids, disclose nothing new, and must reach a
# partner that already holds the referral even after the person has withdrawn consent.
STOP_NOTICES = frozenset({"referral.cancelled", "referral.entered-in-error"})

MAX_ATTEMPTS = 15
MAX_MISCONFIGURED_ATTEMPTS = 5
# An attempt cannot take much longer than its connect and read timeouts; the lease outlasts it
# with room to spare, so a live attempt keeps its claim and a killed one is retried soon after.
CLAIM_LEASE_TIMEOUTS = 6
MAX_RESPONSE_BYTES = 4096  # read (and throw away) this much of a response so the connection is reused
USER_AGENT = "CRT-Referral-Delivery/1"
# Recording an answer after the request has left: tries, and the longest pause between two.
RECORD_TRIES = 5
RECORD_RETRY_PAUSE_SECONDS = 2.0
# What a lost or broken database connection raises (psycopg's errors arrive wrapped as these).
CONNECTION_ERRORS = (OperationalError, InterfaceError)

_random = random.SystemRandom()


class Result(StrEnum):
    """What deliver() did; also what the task logs."""

    SKIPPED = "skipped"  # not claimed: not pending, not due, or another worker holds it
    DELIVERED = "delivered"
    RETRY = "retry"
    DEAD = "dead"
    CANCELLED = "cancelled"
    SUPERSEDED = "superseded"  # the lease ran out mid-attempt and a newer attempt owns the row


class ConnectionLost(Exception):
    """The database connection went away before the request left.

    `after_attempts` is what a retry should claim with: the token this call held if it had claimed
    the row (the lease is still ours, so the retry takes the row at once), otherwise the count the
    message came with.
    """

    def __init__(self, after_attempts: int | None):
        super().__init__(f"database connection lost (retry after attempt {after_attempts})")
        self.after_attempts = after_attempts


class Kind(StrEnum):
    DELIVERED = "delivered"
    TRANSIENT = "transient"  # 5xx, 408, 425, 429, timeouts, connection errors: the full schedule
    MISCONFIGURED = "misconfigured"  # 3xx, other 4xx, blocked URL: dead after a few attempts
    GONE = "gone"  # 410: disable the endpoint, cancel


@dataclass(frozen=True)
class Outcome:
    kind: Kind
    status_code: int | None = None
    error: str = ""
    retry_after: timedelta | None = None


# --- the attempt --------------------------------------------------------------------------------


@system_read("the delivery worker sends a referral's notice to its partner")
def deliver(delivery_id: int, *, after_attempts: int | None = None) -> Result:
    """Make one attempt at this delivery if it is pending and due. Safe to call any number of times.

    `after_attempts` is how many attempts the delivery had made when the message asking for this
    one was sent (the outbox kick says 0, the sweep reads it from the row). Such a message may claim
    the row only while that is still true, whatever next_attempt_at says, because the sweep moves
    next_attempt_at past the rows it has enqueued; a stale or duplicated message finds the count
    moved on and does nothing. Without it (an operator's call) the row must simply be due.
    """
    now = timezone.now()
    ours = Q(next_attempt_at__lte=now) if after_attempts is None else Q(attempts=after_attempts)
    try:
        claimed = Delivery.objects.filter(ours, pk=delivery_id, state=Delivery.State.PENDING).update(
            attempts=F("attempts") + 1, next_attempt_at=now + claim_lease()
        )
    except CONNECTION_ERRORS as error:
        raise ConnectionLost(after_attempts) from error
    if claimed != 1:
        return Result.SKIPPED
    # From here on the row is ours (token = attempts after the claim) until the lease runs out.
    token: int | None = None
    try:
        delivery = Delivery.objects.select_related(
            "organization", "referral__case", "referral__individual", "referral__organization"
        ).get(pk=delivery_id)
        token = delivery.attempts
        organization = delivery.organization

        if delivery.event_type not in STOP_NOTICES and not disclosure_allowed(delivery.referral, at=now):
            return _not_sent(delivery, token, started=now, reason="consent no longer allows disclosure to this partner")
        problem = _endpoint_problem(delivery, organization)
        if problem:
            return _not_sent(delivery, token, started=now, reason=problem, alert=True)
        # Committed before the request leaves (no transaction is open here): see step 3 above.
        attempt = DeliveryAttempt.objects.create(delivery=delivery, attempted_at=now)
    except CONNECTION_ERRORS as error:
        # Before anything left. Claimed with our token if we read it, else the row's count is
        # unknown to us and the lease decides (the claim itself may not have been committed).
        raise ConnectionLost(token if token is not None else after_attempts) from error

    started_clock = time.monotonic()
    if delivery.channel == Delivery.Channel.WEBHOOK:
        outcome = send_webhook(delivery, organization, at=now)
    else:
        outcome = send_email(delivery, organization)
    duration_ms = int((time.monotonic() - started_clock) * 1000)
    return _record_after_sending(delivery, token, outcome, attempt=attempt, started=now, duration_ms=duration_ms)


def _record_after_sending(delivery: Delivery, token: int, outcome: "Outcome", **kwargs) -> Result:
    """Record the answer, reconnecting if the connection went away while the request was out."""
    for tries in range(1, RECORD_TRIES + 1):
        try:
            return _record_outcome(delivery, token, outcome, **kwargs)
        except CONNECTION_ERRORS:
            if tries == RECORD_TRIES:
                raise  # the lease brings the delivery back; the attempt row says no answer was recorded
            logger.warning(
                "delivery %s attempt %s: database connection lost while recording; retrying", delivery.pk, token
            )
            connection.close()  # the next query opens a fresh connection
            time.sleep(_random.uniform(0.1, RECORD_RETRY_PAUSE_SECONDS))
    raise AssertionError("unreachable")


def claim_lease() -> timedelta:
    return timedelta(seconds=CLAIM_LEASE_TIMEOUTS * settings.WEBHOOK_TIMEOUT_SECONDS)


def _endpoint_problem(delivery: Delivery, organization: Organization) -> str | None:
    if not organization.is_active:
        return "partner organisation is inactive"
    if delivery.channel == Delivery.Channel.WEBHOOK:
        if organization.webhook_disabled_at is not None:
            return "partner webhook is disabled"
        if not organization.webhook_url or not organization.webhook_secret:
            return "partner has no webhook endpoint"
    elif not organization.notification_email:
        return "partner has no notification email"
    return None


# --- sending ------------------------------------------------------------------------------------

_local = threading.local()


def _http() -> requests.Session:
    """One session per worker process (per thread, under a threaded pool), so that connections to a
    partner are kept alive between attempts."""
    session = getattr(_local, "session", None)
    if session is None:
        session = _local.session = netguard.guarded_session()
    return session


def webhook_body(delivery: Delivery) -> str:
    return json.dumps(delivery.payload, separators=(",", ":"), sort_keys=True)


def signed_headers(organization: Organization, *, message_id: str, body: str, at: datetime) -> dict[str, str]:
    """Standard Webhooks headers. While a rotated-out secret has not expired, it signs too, so the
    partner can switch its verifier at any moment of the overlap."""
    at = at.astimezone(UTC)  # Webhook.sign reads the wall-clock fields as UTC
    secrets = [organization.webhook_secret]
    expires_at = organization.webhook_previous_secret_expires_at
    if organization.webhook_previous_secret and expires_at is not None and expires_at > at:
        secrets.append(organization.webhook_previous_secret)
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": " ".join(Webhook(secret).sign(message_id, at, body) for secret in secrets),
        "content-type": "application/json",
        "user-agent": USER_AGENT,
    }


def send_webhook(delivery: Delivery, organization: Organization, *, at: datetime) -> Outcome:
    body = webhook_body(delivery)
    headers = signed_headers(organization, message_id=delivery.message_id, body=body, at=at)
    timeout = settings.WEBHOOK_TIMEOUT_SECONDS
    try:
        netguard.check_url(organization.webhook_url)
        response = _http().post(
            organization.webhook_url,
            data=body.encode(),
            headers=headers,
            timeout=(timeout, timeout),
            allow_redirects=False,
            stream=True,
        )
    except netguard.UnresolvableHost as error:
        return Outcome(Kind.TRANSIENT, error=str(error))
    except netguard.BlockedURL as error:
        return Outcome(Kind.MISCONFIGURED, error=str(error))
    except requests.Timeout:
        return Outcome(Kind.TRANSIENT, error=f"timed out after {timeout}s")
    except requests.RequestException as error:
        # The exception's text can hold the URL; its class name says enough.
        return Outcome(Kind.TRANSIENT, error=f"connection failed ({type(error).__name__})")
    try:
        with contextlib.suppress(Exception):  # the status line is what counts; the body is only drained
            response.raw.read(MAX_RESPONSE_BYTES)
    finally:
        response.close()
    return classify_response(response.status_code, response.headers.get("Retry-After"), now=at)


def classify_response(status_code: int, retry_after: str | None, *, now: datetime) -> Outcome:
    if 200 <= status_code < 300:
        return Outcome(Kind.DELIVERED, status_code=status_code)
    if status_code == 410:
        return Outcome(Kind.GONE, status_code=status_code, error="HTTP 410: endpoint gone, webhook disabled")
    if 300 <= status_code < 400:
        return Outcome(Kind.MISCONFIGURED, status_code=status_code, error=f"HTTP {status_code}: redirect not followed")
    if status_code in (429, 503):
        wait = parse_retry_after(retry_after, now=now)
        return Outcome(Kind.TRANSIENT, status_code=status_code, error=f"HTTP {status_code}", retry_after=wait)
    if status_code >= 500 or status_code in (408, 425):
        return Outcome(Kind.TRANSIENT, status_code=status_code, error=f"HTTP {status_code}")
    return Outcome(Kind.MISCONFIGURED, status_code=status_code, error=f"HTTP {status_code}")


def parse_retry_after(value: str | None, *, now: datetime) -> timedelta | None:
    """Retry-After as delay-seconds or an HTTP date; None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return timedelta(seconds=int(value))
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # an HTTP date is always GMT
        when = when.replace(tzinfo=UTC)
    return max(when - now, timedelta(0))


def partner_link(referral_id: int) -> str:
    return f"{settings.PUBLIC_BASE_URL.rstrip('/')}/partner/referrals/{referral_id}/"


def notification_email(delivery: Delivery, organization: Organization) -> EmailMessage:
    """Only the referral's number and a link: the partner signs in to see anything else."""
    referral_id = delivery.referral_id
    what = delivery.event_type.removeprefix("referral.").replace("_", " ").replace("-", " ")
    subject = f"Referral #{referral_id}: {what}" if what != "requested" else f"New referral #{referral_id}"
    body = (
        f"The Crisis Response Team has an update on referral #{referral_id} ({what}).\n\n"
        f"Sign in to see it and respond:\n{partner_link(referral_id)}\n\n"
        "For privacy, this email carries no details about the person referred.\n"
    )
    domain = settings.DEFAULT_FROM_EMAIL.rpartition("@")[2] or "crt.invalid"
    return EmailMessage(
        subject,
        body,
        settings.DEFAULT_FROM_EMAIL,
        [organization.notification_email],
        # Stable across retries, like webhook-id: mail clients fold a resent copy into the first.
        headers={"Message-ID": f"<{delivery.message_id}@{domain}>"},
    )


def send_email(delivery: Delivery, organization: Organization) -> Outcome:
    message = notification_email(delivery, organization)
    try:
        message.connection = get_connection(timeout=settings.WEBHOOK_TIMEOUT_SECONDS)
        message.send()
    except Exception as error:
        return Outcome(Kind.TRANSIENT, error=f"email not sent ({type(error).__name__})")
    return Outcome(Kind.DELIVERED)


# --- recording ----------------------------------------------------------------------------------


def _record_outcome(
    delivery: Delivery,
    token: int,
    outcome: Outcome,
    *,
    started,
    duration_ms: int,
    attempt: DeliveryAttempt | None = None,
) -> Result:
    common = {
        "attempt": attempt,
        "started": started,
        "duration_ms": duration_ms,
        "status_code": outcome.status_code,
        "error": outcome.error,
    }
    if outcome.kind == Kind.DELIVERED:
        return _record(delivery, token, final=Delivery.State.DELIVERED, **common)
    if outcome.kind == Kind.GONE:
        return _record(delivery, token, final=Delivery.State.CANCELLED, alert=True, disable_endpoint=True, **common)
    limit = MAX_ATTEMPTS if outcome.kind == Kind.TRANSIENT else MAX_MISCONFIGURED_ATTEMPTS
    if token >= limit:
        return _record(delivery, token, final=Delivery.State.DEAD, alert=True, **common)
    retry_at = timezone.now() + next_delay(token, outcome.retry_after)
    return _record(delivery, token, retry_at=retry_at, **common)


def _not_sent(delivery: Delivery, token: int, *, started, reason: str, alert: bool = False) -> Result:
    """Cancel without sending; the attempt log says why."""
    return _record(
        delivery,
        token,
        started=started,
        duration_ms=0,
        error=f"not sent: {reason}",
        final=Delivery.State.CANCELLED,
        alert=alert,
    )


def _record(
    delivery: Delivery,
    token: int,
    *,
    started,
    duration_ms: int,
    attempt: DeliveryAttempt | None = None,
    status_code: int | None = None,
    error: str = "",
    final: str | None = None,
    retry_at=None,
    alert: bool = False,
    disable_endpoint: bool = False,
) -> Result:
    now = timezone.now()
    error = error[:300]
    changes: dict = {"last_status_code": status_code, "last_error": error}
    if final is None:
        changes["next_attempt_at"] = retry_at
    else:
        changes.update(state=final, next_attempt_at=None)
        if final == Delivery.State.DELIVERED:
            changes["delivered_at"] = now
    with transaction.atomic():
        answer = {"status_code": status_code, "error": error, "duration_ms": duration_ms, "completed_at": now}
        if attempt is None:  # not sent: nothing was logged before
            DeliveryAttempt.objects.create(delivery=delivery, attempted_at=started, **answer)
        else:
            DeliveryAttempt.objects.filter(pk=attempt.pk).update(**answer)
        # Only while the row still carries this attempt's token: if the lease ran out and a newer
        # attempt claimed it, that attempt decides.
        changed = Delivery.objects.filter(pk=delivery.pk, state=Delivery.State.PENDING, attempts=token).update(
            **changes
        )
        if changed != 1:
            result = Result.SUPERSEDED
        else:
            result = Result.RETRY if final is None else Result(final)
            if disable_endpoint:
                Organization.objects.filter(pk=delivery.organization_id, webhook_disabled_at__isnull=True).update(
                    webhook_disabled_at=now, updated_at=now
                )
            if alert:
                _alert_navigator(delivery)
    logger.info("delivery %s attempt %s: %s %s", delivery.pk, token, result, status_code or error[:60])
    return result


def _alert_navigator(delivery: Delivery) -> None:
    """One DELIVERY_DEAD inbox item per delivery; the inbox's unique index makes a second one impossible."""
    raise_referral_item(
        delivery.referral, kind=ItemKind.DELIVERY_DEAD, cause_key=f"delivery:{delivery.pk}:dead", delivery=delivery
    )
