"""The staff inbox: items a person must see and act on, their history, and the emails that tell
people about them (an outbox of their own, sent as referrals.delivery sends to partners).

An item names its subject by id only (a person, a referral, a follow-up, a delivery, a consent, a
break-glass grant): never a name or any other personal data in free text. What the page shows is read
from the subject at display time, through the reader's own scope.

`cause_key` says what raised the item ("referral:42:unanswered:2"). While an item is not resolved no
second item with the same key can exist: a unique index over the unresolved rows, so two beat
processes that race to raise the same item cannot both succeed (inbox.services.raise_item).
"""

from django.conf import settings
from django.db import models
from django.db.models import Q

from accounts.roles import is_program_staff, may_oversee_inbox
from crt.scoping import FailClosedQuerySet


class Kind(models.TextChoices):
    REFERRAL_DECLINED = "referral_declined", "Partner declined a referral"
    REFERRAL_COMPLETED = "referral_completed", "Partner completed a referral"
    REFERRAL_FAILED = "referral_failed", "Partner could not help"
    APPOINTMENT_NO_OUTCOME = "appointment_no_outcome", "Appointment passed with no outcome"
    REFERRAL_UNANSWERED = "referral_unanswered", "Partner has not answered a referral"
    DELIVERY_DEAD = "delivery_dead", "Referral could not be delivered"
    FOLLOW_UP_OVERDUE = "follow_up_overdue", "Follow-up missed"
    HIGH_RISK_NO_CONTACT = "high_risk_no_contact", "High-risk person not contacted"
    CONSENT_EXPIRING = "consent_expiring", "Consent expires soon while a referral is open"
    CONSENT_ENDED = "consent_ended", "Consent revoked or expired while a referral is open"
    BREAK_GLASS_USED = "break_glass_used", "Break-glass access used"


# What the recipient is asked to do, per kind (shown on the item).
WHAT_TO_DO = {
    Kind.REFERRAL_DECLINED: "Read the partner's reason, talk with the person, and find another service.",
    Kind.REFERRAL_COMPLETED: "Read the outcome and plan the next step with the person.",
    Kind.REFERRAL_FAILED: "Read why the partner could not help, and find another service.",
    Kind.APPOINTMENT_NO_OUTCOME: "Call the partner or the person to learn whether the appointment happened.",
    Kind.REFERRAL_UNANSWERED: "Call the partner: they have not answered the referral.",
    Kind.DELIVERY_DEAD: "The partner never received the referral: call them, or send it elsewhere.",
    Kind.FOLLOW_UP_OVERDUE: "Contact the person, and log the contact.",
    Kind.HIGH_RISK_NO_CONTACT: "Contact the person today, and log the contact.",
    Kind.CONSENT_EXPIRING: "Renew the consent with the person before it expires, or the referral stops.",
    Kind.CONSENT_ENDED: "The referral is no longer chased and the partner sees it as withdrawn: "
    "cancel it or record a new consent.",
    Kind.BREAK_GLASS_USED: "Review the reason and the accesses in the audit log.",
}


class State(models.TextChoices):
    OPEN = "open", "Open"
    ACKNOWLEDGED = "acknowledged", "Acknowledged"
    SNOOZED = "snoozed", "Snoozed"
    RESOLVED = "resolved", "Resolved"


# The states counted in the navigation and listed first: the item still asks for something now.
ACTIVE_STATES = (State.OPEN, State.ACKNOWLEDGED)


class ItemQuerySet(FailClosedQuerySet):
    kind = "inbox"  # an item's events are visible with it

    def visible_to(self, user):
        """Staff of a program see the items addressed to them; supervisors and staff admins see every
        item of their program. Another program's items, and everything for partners, are invisible."""
        if not is_program_staff(user):
            return self.none()
        if may_oversee_inbox(user):
            return self.filter(program_id=user.program_id)
        return self.filter(program_id=user.program_id, recipient=user)

    def addressed_to(self, user):
        return self.visible_to(user).filter(recipient=user)

    def active(self):
        return self.filter(state__in=ACTIVE_STATES)

    def unresolved(self):
        return self.exclude(state=State.RESOLVED)


class Item(models.Model):
    program = models.ForeignKey("accounts.Program", on_delete=models.PROTECT, related_name="inbox_items")
    kind = models.CharField(max_length=30, choices=Kind)
    level = models.PositiveSmallIntegerField(default=1, help_text="Chase level: 1, 2 navigator, 3 supervisor.")
    is_urgent = models.BooleanField(default=False)
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="inbox_items"
    )
    cause_key = models.CharField(max_length=120)
    # What the item is about: ids only.
    individual = models.ForeignKey(
        "cases.Individual", null=True, blank=True, on_delete=models.CASCADE, related_name="inbox_items"
    )
    referral = models.ForeignKey(
        "referrals.Referral", null=True, blank=True, on_delete=models.CASCADE, related_name="inbox_items"
    )
    follow_up = models.ForeignKey(
        "cases.FollowUp", null=True, blank=True, on_delete=models.CASCADE, related_name="inbox_items"
    )
    delivery = models.ForeignKey(
        "referrals.Delivery", null=True, blank=True, on_delete=models.CASCADE, related_name="inbox_items"
    )
    consent = models.ForeignKey(
        "cases.Consent", null=True, blank=True, on_delete=models.CASCADE, related_name="inbox_items"
    )
    break_glass = models.ForeignKey(
        "accounts.BreakGlassGrant", null=True, blank=True, on_delete=models.CASCADE, related_name="inbox_items"
    )
    state = models.CharField(max_length=12, choices=State, default=State.OPEN)
    snoozed_until = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()
    opened_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    resolution_note = models.CharField(max_length=1000, blank=True)

    objects = ItemQuerySet.as_manager()

    class Meta:
        ordering = ["-is_urgent", "-created_at", "-pk"]
        indexes = [
            # The navigation count: WHERE recipient_id = %s AND program_id = %s AND state IN
            # ('open', 'acknowledged'), answered from this index alone (an index-only scan).
            models.Index(
                fields=["recipient", "program"], name="inbox_item_active", condition=Q(state__in=ACTIVE_STATES)
            ),
            # The supervisor's team view and the list pages.
            models.Index(
                fields=["program", "created_at"], name="inbox_item_program_open", condition=~Q(state="resolved")
            ),
            # Waking snoozed items.
            models.Index(fields=["snoozed_until"], name="inbox_item_snoozed", condition=Q(state="snoozed")),
        ]
        constraints = [
            models.UniqueConstraint(fields=["cause_key"], condition=~Q(state="resolved"), name="inbox_item_one_open"),
            models.CheckConstraint(
                name="inbox_item_snooze_has_time", condition=~Q(state="snoozed") | Q(snoozed_until__isnull=False)
            ),
            models.CheckConstraint(
                name="inbox_item_resolved_has_time", condition=~Q(state="resolved") | Q(resolved_at__isnull=False)
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.get_state_display()})"

    @property
    def what_to_do(self) -> str:
        return WHAT_TO_DO.get(self.kind, "")


class ItemEventQuerySet(FailClosedQuerySet):
    kind = "inbox"

    @classmethod
    def reads_through(cls, field_name: str) -> bool:
        return field_name == "item"

    def visible_to(self, user):
        return self.filter(item__in=Item.objects.visible_to(user))


class ItemEvent(models.Model):
    """One row per change of an item: its history."""

    class Action(models.TextChoices):
        RAISED = "raised", "Raised"
        OPENED = "opened", "Opened"
        ACKNOWLEDGED = "acknowledged", "Acknowledged"
        SNOOZED = "snoozed", "Snoozed"
        WOKE = "woke", "Snooze ended"
        REASSIGNED = "reassigned", "Reassigned"
        RESOLVED = "resolved", "Resolved"
        AUTO_RESOLVED = "auto_resolved", "Resolved by itself"

    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="events")
    action = models.CharField(max_length=20, choices=Action)
    at = models.DateTimeField()
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    to_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    snoozed_until = models.DateTimeField(null=True, blank=True)
    note = models.CharField(max_length=1000, blank=True)

    objects = ItemEventQuerySet.as_manager()

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.get_action_display()} at {self.at:%Y-%m-%d %H:%M}"


class NotificationPreference(models.Model):
    """Which emails a user gets. No row: all of them."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="inbox_preference")
    daily_digest = models.BooleanField(default=True)
    urgent_follow_up = models.BooleanField(
        default=True, help_text="An email at once when a high-risk person's follow-up is missed."
    )
    urgent_declined = models.BooleanField(
        default=True, help_text="An email at once when a partner declines an urgent referral."
    )

    def __str__(self) -> str:
        return f"Email settings of user {self.user_id}"


class Notification(models.Model):
    """An email in the outbox (the pattern of referrals.outbox / referrals.delivery): the row is the
    promise, written in the transaction that decides it; `key` makes it once per cause, so two beats
    or a repeated task cannot write a second one. Its text is made when it is sent, from ids and
    counts only."""

    class Kind(models.TextChoices):
        DIGEST = "digest", "Daily digest"
        URGENT = "urgent", "Urgent item"
        CAPACITY = "capacity", "Please update your capacity"

    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        SENT = "sent", "Sent"
        DEAD = "dead", "Gave up"
        CANCELLED = "cancelled", "Cancelled"

    key = models.CharField(max_length=120, unique=True)
    kind = models.CharField(max_length=10, choices=Kind)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="notifications"
    )
    organization = models.ForeignKey(
        "providers.Organization", null=True, blank=True, on_delete=models.CASCADE, related_name="notifications"
    )
    item = models.ForeignKey(Item, null=True, blank=True, on_delete=models.SET_NULL, related_name="notifications")
    state = models.CharField(max_length=10, choices=State, default=State.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    created_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)

    # Read only by the jobs that send them (inbox.notifications): no user reads this table.
    objects = FailClosedQuerySet.as_manager()

    class Meta:
        indexes = [
            models.Index(fields=["next_attempt_at"], name="inbox_notification_due", condition=Q(state="pending"))
        ]
        constraints = [
            models.CheckConstraint(
                name="inbox_notification_has_recipient",
                condition=Q(user__isnull=False) | Q(organization__isnull=False),
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.get_state_display()})"
