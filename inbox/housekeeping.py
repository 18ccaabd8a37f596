"""Housekeeping jobs (DESIGN.md §4): each a service a thin beat task calls, each safe to run twice.

| job                      | what it does                                                             |
|--------------------------|--------------------------------------------------------------------------|
| consents                 | an open referral whose consent was revoked or has expired stops being   |
|                          | chased (referrals.services.stop_chase_consent_ended) and its navigator   |
|                          | gets CONSENT_ENDED; one whose consent expires within 14 days gets        |
|                          | CONSENT_EXPIRING. The partner sees the referral as withdrawn (its page   |
|                          | and the API check consent at every read). A revocation made in the app   |
|                          | (cases.intake.revoke_consent) does the same at once; this job catches    |
|                          | expiries and anything it missed.                                         |
| high-risk, no contact    | an open high-risk case with no reached contact for                       |
|                          | INBOX_HIGH_RISK_NO_CONTACT_DAYS days: HIGH_RISK_NO_CONTACT for its       |
|                          | navigator, once per last contact                                         |
| stale capacity           | a partner whose oldest capacity is older than the strictest program's    |
|                          | stale_capacity_after gets one "please update your capacity" email per   |
|                          | stale state (key: organisation and that capacity's time)                |
| wake snoozed             | inbox.services.wake_snoozed                                              |
| purge                    | resolved items older than INBOX_RESOLVED_KEEP_DAYS (with their history), |
|                          | notifications sent, cancelled or dead older than                         |
|                          | INBOX_NOTIFICATIONS_KEEP_DAYS (docs/security.md, retention)              |

Each raise goes through inbox.services.raise_item (the unique index decides), each email through
inbox.notifications (the key decides), so two beats at once make each effect once.
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Exists, Min, OuterRef, Q
from django.utils import timezone

from crt.scoping import system_read
from inbox import notifications
from inbox.models import Item, Kind, Notification, State
from inbox.services import consent_expiring, raise_item

CONSENT_WARNING = timedelta(days=14)
BATCH = 2000


@system_read("consents ending raise inbox items")
def consents(now: datetime | None = None) -> dict[str, int]:
    from referrals import services as referral_services
    from referrals.models import OPEN, Referral

    now = now or timezone.now()
    counts = {"stopped": 0, "expiring": 0}
    open_referrals = Referral.objects.filter(status__in=OPEN, consent__isnull=False).select_related(
        "consent", "case__navigator", "created_by"
    )
    ended = open_referrals.filter(Q(consent__revoked_at__lte=now) | Q(consent__expires_at__lte=now)).order_by("pk")[
        :BATCH
    ]
    for referral in ended:
        if referral_services.stop_chase_consent_ended(referral, now=now):
            counts["stopped"] += 1
    expiring = open_referrals.filter(
        consent__revoked_at__isnull=True, consent__expires_at__gt=now, consent__expires_at__lte=now + CONSENT_WARNING
    ).order_by("pk")[:BATCH]
    for referral in expiring:
        counts["expiring"] += consent_expiring(referral, now=now) is not None
    return counts


@system_read("high-risk people not contacted raise inbox items")
def high_risk_without_contact(now: datetime | None = None) -> int:
    from cases.models import Case, Contact, RiskLevel

    now = now or timezone.now()
    since = now - timedelta(days=settings.INBOX_HIGH_RISK_NO_CONTACT_DAYS)
    reached = Contact.objects.filter(case=OuterRef("pk"), outcome=Contact.Outcome.REACHED)
    cases = (
        Case.objects.exclude(status=Case.Status.CLOSED)
        .filter(risk_level=RiskLevel.HIGH, opened_at__lte=since)
        .exclude(Exists(reached.filter(occurred_at__gt=since)))
        .select_related("navigator")
        .order_by("pk")[:BATCH]
    )
    raised = 0
    for case in cases:
        last = (
            Contact.objects.filter(case=case, outcome=Contact.Outcome.REACHED)
            .order_by("-occurred_at", "-pk")
            .values_list("pk", flat=True)
            .first()
        )
        navigator = case.navigator if case.navigator is not None and case.navigator.is_active else None
        item = raise_item(
            kind=Kind.HIGH_RISK_NO_CONTACT,
            cause_key=f"case:{case.pk}:no_contact:{last or 0}",
            program_id=case.program_id,
            recipient_id=navigator.pk if navigator else None,
            now=now,
            once=True,
            individual_id=case.individual_id,
        )
        raised += item is not None
    return raised


@system_read("partners with stale capacity are nudged")
def stale_capacity(now: datetime | None = None) -> int:
    from accounts.models import Program
    from providers.models import Organization, ServiceCapacity

    now = now or timezone.now()
    limit = Program.objects.aggregate(limit=Min("stale_capacity_after"))["limit"] or timedelta(days=7)
    stale = (
        ServiceCapacity.objects.filter(updated_at__lt=now - limit, service__organization__is_active=True)
        .order_by()
        .values("service__organization")
        .annotate(oldest=Min("updated_at"))
        .values_list("service__organization", "oldest")
    )
    stale = dict(stale[:BATCH])
    queued = 0
    for organization in Organization.objects.filter(pk__in=stale):
        stamp = stale[organization.pk].strftime("%Y%m%d%H%M%S")
        queued += notifications.queue_capacity_nudge(organization, stamp=stamp, now=now) is not None
    return queued


@system_read("old inbox rows are purged")
def purge(now: datetime | None = None) -> dict[str, int]:
    now = now or timezone.now()
    items, _ = Item.objects.filter(
        state=State.RESOLVED, resolved_at__lt=now - timedelta(days=settings.INBOX_RESOLVED_KEEP_DAYS)
    ).delete()
    sent, _ = Notification.objects.filter(
        state__in=[Notification.State.SENT, Notification.State.CANCELLED, Notification.State.DEAD],
        created_at__lt=now - timedelta(days=settings.INBOX_NOTIFICATIONS_KEEP_DAYS),
    ).delete()
    return {"items": items, "notifications": sent}
