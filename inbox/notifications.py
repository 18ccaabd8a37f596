"""Emails about the inbox: a daily digest, an urgent item at once, and the partners' capacity nudge.

The outbox pattern of referrals.outbox and referrals.delivery, for people instead of partners' systems:

- a Notification row is written in the transaction that decides it; its unique `key` makes it once
  per cause ("digest:<user>:<local date>", "urgent:<item>", "capacity:<organization>:<stamp>"), so a
  second beat, a repeated task or a retried transaction writes nothing more;
- sending claims the row with one conditional UPDATE (pending and due) that moves next_attempt_at
  forward by a lease, sends outside any transaction, then records the outcome; a worker killed in
  between leaves the lease to run out and the sweep sends again (at least once; the Message-ID is
  made from the key, so a mail client folds a resent copy into the first);
- failures wait crt.backoff.next_delay; after MAX_ATTEMPTS the row is dead.

What an email says is made when it is sent, from counts and ids: never a name, a date of birth, a
reason or a note (tests/inbox/test_digest_has_no_phi.py). The reader signs in to see the rest.
"""

import logging
from collections import Counter
from datetime import datetime, time, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMessage, get_connection
from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone

from accounts.roles import digest_recipients
from crt.backoff import next_delay
from crt.scoping import system_read
from inbox.models import ACTIVE_STATES, Item, Kind, Notification, NotificationPreference

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
CLAIM_LEASE = timedelta(minutes=5)
SEND_BATCH = 200
# Urgent kinds, and the preference that switches each off.
URGENT_PREFERENCE = {
    Kind.FOLLOW_UP_OVERDUE: "urgent_follow_up",
    Kind.HIGH_RISK_NO_CONTACT: "urgent_follow_up",
    Kind.REFERRAL_DECLINED: "urgent_declined",
}


def link(path: str) -> str:
    return settings.PUBLIC_BASE_URL.rstrip("/") + path


def preference(user) -> NotificationPreference:
    found = NotificationPreference.objects.filter(user=user).first()
    return found or NotificationPreference(user=user)


def _queue(*, key: str, kind: str, now: datetime, **to) -> Notification | None:
    row = Notification(key=key, kind=kind, created_at=now, next_attempt_at=now, **to)
    try:
        with transaction.atomic():
            row.save(force_insert=True)
    except IntegrityError:
        return None  # written before: the key is the idempotency key
    row_id = row.pk
    transaction.on_commit(lambda: _kick(row_id))
    return row


def _kick(notification_id: int) -> None:
    from inbox.tasks import send_notification

    try:
        send_notification.apply_async((notification_id,), retry=False)
    except Exception as error:
        logger.warning(
            "notification %s: broker unreachable (%s), the sweep will send it", notification_id, type(error).__name__
        )


def queue_urgent(item: Item, *, now: datetime) -> Notification | None:
    """An email at once for an urgent item, unless its recipient switched that kind off."""
    field = URGENT_PREFERENCE.get(item.kind)
    user = item.recipient
    if field is None or user is None or not user.is_active or not user.email:
        return None
    if not getattr(preference(user), field):
        return None
    return _queue(key=f"urgent:{item.pk}", kind=Notification.Kind.URGENT, now=now, user=user, item=item)


def digest_time() -> time:
    hours, _, minutes = settings.INBOX_DIGEST_AT.partition(":")
    return time(int(hours), int(minutes or 0))


@system_read("each person's daily digest is queued")
def queue_digests(now: datetime | None = None) -> int:
    """Once the local time has passed INBOX_DIGEST_AT, one digest per navigator and supervisor for
    today (beat: inbox.queue_digests, every few minutes). Idempotent by its key."""
    now = now or timezone.now()
    local = timezone.localtime(now)
    if local.time() < digest_time():
        return 0
    day = local.date().isoformat()
    off = NotificationPreference.objects.filter(daily_digest=False).values("user_id")
    users = (
        digest_recipients(get_user_model().objects.filter(is_active=True, program__isnull=False))
        .exclude(email="")
        .exclude(pk__in=off)
        .values_list("pk", flat=True)
    )
    keys = {f"digest:{pk}:{day}": pk for pk in users}
    written = set(Notification.objects.filter(key__in=keys).values_list("key", flat=True))
    rows = [
        Notification(key=key, kind=Notification.Kind.DIGEST, user_id=pk, created_at=now, next_attempt_at=now)
        for key, pk in keys.items()
        if key not in written
    ]
    # ON CONFLICT DO NOTHING: a second beat that read `written` at the same moment writes nothing more.
    Notification.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)


def queue_capacity_nudge(organization, *, stamp: str, now: datetime) -> Notification | None:
    if not organization.notification_email and not organization.email:
        return None
    return _queue(
        key=f"capacity:{organization.pk}:{stamp}", kind=Notification.Kind.CAPACITY, now=now, organization=organization
    )


# --- the text --------------------------------------------------------------------------------------


def digest_counts(user) -> Counter:
    """The user's active items by kind."""
    items = Item.objects.filter(recipient=user, program_id=user.program_id, state__in=ACTIVE_STATES)
    return Counter(dict(items.order_by().values("kind").annotate(n=Count("pk")).values_list("kind", "n")))


def message_for(notification: Notification) -> EmailMessage | None:
    """The email, made now: counts, item numbers and links; None when there is nobody to send to."""
    inbox = link(reverse("inbox:list"))
    if notification.kind == Notification.Kind.CAPACITY:
        organization = notification.organization
        to = organization.notification_email or organization.email
        subject = "Please update your capacity"
        body = (
            "The Crisis Response Team's navigators choose services by the capacity you report, and yours "
            "has not been updated for a while.\n\n"
            f"Sign in to update it in one tap:\n{link('/partner/')}\n"
        )
    else:
        user = notification.user
        if user is None or not user.is_active or not user.email:
            return None
        to = user.email
        if notification.kind == Notification.Kind.URGENT:
            item = notification.item
            if item is None:
                return None
            subject = f"Urgent: inbox item #{item.pk}"
            body = (
                f"An urgent item is in your inbox: {item.get_kind_display()} (item #{item.pk}).\n\n"
                f"Open it:\n{link(reverse('inbox:item', args=[item.pk]))}\n"
            )
        else:
            counts = digest_counts(user)
            total = sum(counts.values())
            lines = [f"- {Kind(kind).label}: {n}" for kind, n in sorted(counts.items())]
            subject = f"Your inbox today: {total} open item{'s' if total != 1 else ''}"
            body = (
                f"Good morning. Your inbox has {total} open item{'s' if total != 1 else ''}.\n"
                + ("\n".join(lines) + "\n" if lines else "")
                + f"\nOpen your inbox:\n{inbox}\n"
            )
    body += "\nFor privacy, this email carries no details about the people concerned.\n"
    domain = settings.DEFAULT_FROM_EMAIL.rpartition("@")[2] or "crt.invalid"
    message_id = notification.key.replace(":", ".")
    return EmailMessage(
        subject, body, settings.DEFAULT_FROM_EMAIL, [to], headers={"Message-ID": f"<{message_id}@{domain}>"}
    )


# --- sending -----------------------------------------------------------------------------------------


@system_read("an inbox email goes out")
def send(notification_id: int, *, now: datetime | None = None) -> str:
    """Make one attempt at a pending, due notification. Safe to call any number of times."""
    now = now or timezone.now()
    claimed = Notification.objects.filter(
        pk=notification_id, state=Notification.State.PENDING, next_attempt_at__lte=now
    ).update(next_attempt_at=now + CLAIM_LEASE)
    if claimed != 1:
        return "skipped"
    notification = Notification.objects.select_related("user", "organization", "item").get(pk=notification_id)
    attempt = notification.attempts + 1
    message = message_for(notification)
    if message is None:
        Notification.objects.filter(pk=notification_id, state=Notification.State.PENDING).update(
            state=Notification.State.CANCELLED, attempts=attempt
        )
        return "cancelled"
    try:
        message.connection = get_connection(timeout=settings.WEBHOOK_TIMEOUT_SECONDS)
        message.send()
    except Exception as error:
        state = Notification.State.DEAD if attempt >= MAX_ATTEMPTS else Notification.State.PENDING
        Notification.objects.filter(pk=notification_id, state=Notification.State.PENDING).update(
            state=state,
            attempts=attempt,
            next_attempt_at=now + next_delay(attempt),
            last_error=f"email not sent ({type(error).__name__})",
        )
        logger.warning("notification %s attempt %s failed (%s)", notification_id, attempt, type(error).__name__)
        return "dead" if state == Notification.State.DEAD else "retry"
    Notification.objects.filter(pk=notification_id, state=Notification.State.PENDING).update(
        state=Notification.State.SENT, attempts=attempt, sent_at=now, last_error=""
    )
    return "sent"


@system_read("the inbox emails due go out")
def send_due(now: datetime | None = None, *, limit: int = SEND_BATCH) -> Counter:
    """Send every pending notification that is due (beat: inbox.send_notifications)."""
    now = now or timezone.now()
    due = (
        Notification.objects.filter(Q(state=Notification.State.PENDING), next_attempt_at__lte=now)
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )
    results: Counter = Counter()
    for pk in list(due):
        results[send(pk, now=now)] += 1
    return results
