"""Referrals to partner agencies, their history, and the outbox of messages to partners.

Referral.status uses exactly the FHIR SDOH Clinical Care referral Task codes. The allowed moves
and who may make them live here as data; referrals.services enforces them.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q

from accounts.models import Program
from accounts.roles import Kind, is_partner
from cases.models import Case, Consent, Individual, ScopedQuerySet
from providers.models import NeedDomain, Organization, PartnerCredential, Service


class Status(models.TextChoices):
    DRAFT = "draft", "Draft"
    REQUESTED = "requested", "Requested"
    ACCEPTED = "accepted", "Accepted"
    REJECTED = "rejected", "Rejected"
    CANCELLED = "cancelled", "Cancelled"
    IN_PROGRESS = "in-progress", "In progress"
    ON_HOLD = "on-hold", "On hold"
    COMPLETED = "completed", "Completed"
    FAILED = "failed", "Failed"
    ENTERED_IN_ERROR = "entered-in-error", "Entered in error"


S = Status
TRANSITIONS: dict[str, frozenset[str]] = {
    S.DRAFT: frozenset({S.REQUESTED, S.CANCELLED}),
    S.REQUESTED: frozenset({S.ACCEPTED, S.REJECTED, S.CANCELLED}),
    S.ACCEPTED: frozenset({S.IN_PROGRESS, S.ON_HOLD, S.CANCELLED, S.COMPLETED, S.FAILED}),
    S.IN_PROGRESS: frozenset({S.ON_HOLD, S.CANCELLED, S.COMPLETED, S.FAILED}),
    S.ON_HOLD: frozenset({S.IN_PROGRESS, S.CANCELLED, S.COMPLETED, S.FAILED}),
}
TERMINAL = frozenset({S.REJECTED, S.CANCELLED, S.COMPLETED, S.FAILED, S.ENTERED_IN_ERROR})
# Any status may become entered-in-error (added by the services on top of TRANSITIONS).
SENDER_SETS = frozenset({S.DRAFT, S.REQUESTED, S.CANCELLED, S.ENTERED_IN_ERROR})
PARTNER_SETS = frozenset({S.ACCEPTED, S.REJECTED, S.IN_PROGRESS, S.ON_HOLD, S.COMPLETED, S.FAILED})
REASON_REQUIRED = frozenset({S.REJECTED, S.CANCELLED, S.ON_HOLD, S.FAILED})
OPEN = frozenset({S.REQUESTED, S.ACCEPTED, S.IN_PROGRESS, S.ON_HOLD})
WORKING = OPEN - {S.REQUESTED}  # open, and in the partner's hands (answered)


class ReferralQuerySet(ScopedQuerySet):
    kind = Kind.REFERRAL

    def visible_to(self, actor):
        """Staff see their program's referrals as their role allows; a partner user or a partner
        credential sees only referrals addressed to its organisation, once they have been sent."""
        if isinstance(actor, PartnerCredential):
            if actor.revoked_at is not None:
                return self.none()
            return self._sent_to(actor.organization_id)
        if getattr(actor, "partner_organization_id", None) is not None:
            if not is_partner(actor):  # also empty for an inactive or anonymous user
                return self.none()
            return self._sent_to(actor.partner_organization_id)
        return super().visible_to(actor)

    def _sent_to(self, organization_id):
        # A draft, or a draft cancelled or entered in error before it was sent, never reached the partner.
        return (
            self.filter(organization_id=organization_id)
            .filter(organization__is_active=True)
            .filter(requested_at__isnull=False)
            .exclude(status=S.DRAFT)
        )

    def open(self):
        return self.filter(status__in=OPEN)

    def due(self, now):
        """Open referrals whose next action is overdue: what the chase sweep scans."""
        return self.filter(status__in=OPEN, next_action_due_at__lte=now)


class Referral(models.Model):
    class Urgency(models.TextChoices):  # FHIR ServiceRequest.priority
        ROUTINE = "routine", "Routine"
        URGENT = "urgent", "Urgent"
        ASAP = "asap", "As soon as possible"

    class BusinessStatus(models.TextChoices):
        AWAITING_PARTNER = "awaiting_partner", "Awaiting partner"
        TRYING_TO_REACH = "trying_to_reach", "Partner trying to reach client"
        APPOINTMENT_SCHEDULED = "appointment_scheduled", "Appointment scheduled"
        NO_SHOW = "no_show", "No-show"
        ENROLLED = "enrolled", "Enrolled"
        WAITLISTED = "waitlisted", "Waitlisted"

    class NextActionOwner(models.TextChoices):
        PARTNER = "partner", "Partner"
        NAVIGATOR = "navigator", "Navigator"
        SUPERVISOR = "supervisor", "Supervisor"

    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="referrals")
    individual = models.ForeignKey(Individual, on_delete=models.PROTECT, related_name="referrals")
    case = models.ForeignKey(Case, null=True, blank=True, on_delete=models.PROTECT, related_name="referrals")
    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="referrals")
    # The service's organisation, kept on the row so partner lists and scoping need no join.
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="referrals")
    need_domain = models.CharField(max_length=20, choices=NeedDomain)
    urgency = models.CharField(max_length=10, choices=Urgency, default=Urgency.ROUTINE)
    reason = models.TextField(help_text="Why this referral: written for the partner, no clinical detail.")
    shares_contact_details = models.BooleanField(default=True)
    includes_part2 = models.BooleanField("includes substance-use (42 CFR Part 2) information", default=False)
    consent = models.ForeignKey(Consent, null=True, blank=True, on_delete=models.PROTECT, related_name="referrals")
    status = models.CharField(max_length=20, choices=Status, default=Status.DRAFT)
    status_reason = models.CharField(max_length=500, blank=True)
    business_status = models.CharField(max_length=30, choices=BusinessStatus, blank=True)
    appointment_at = models.DateTimeField(null=True, blank=True)
    outcome_note = models.CharField(max_length=1000, blank=True)
    # The clock the chasers run on: who owes the next step, and by when.
    next_action_owner = models.CharField(max_length=12, choices=NextActionOwner, blank=True)
    next_action_due_at = models.DateTimeField(null=True, blank=True)
    chase_level = models.PositiveSmallIntegerField(default=0)
    version = models.PositiveIntegerField(default=1, help_text="Bumped on every change: the API's ETag.")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="referrals_created")
    created_at = models.DateTimeField(auto_now_add=True)
    requested_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ReferralQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            # used by the chase sweep: only open referrals are ever scanned
            # (with id, so reading the due keys is an index-only scan)
            models.Index(
                fields=["next_action_due_at", "id"], name="referral_due_open", condition=Q(status__in=sorted(OPEN))
            ),
            # the partner's referral list: by organisation, newest change first
            models.Index(fields=["organization", "-updated_at", "-id"], name="referral_partner_list"),
            models.Index(fields=["individual", "created_at"], name="referral_person_timeline"),
            models.Index(fields=["program", "created_at"], name="referral_program_period"),
            # program metrics: referrals sent in a period
            models.Index(fields=["program", "requested_at"], name="referral_program_requested"),
        ]
        constraints = [
            models.CheckConstraint(name="referral_status_valid", condition=Q(status__in=[s.value for s in Status])),
            models.CheckConstraint(
                name="referral_reason_for_negative_status",
                condition=~Q(status__in=sorted(REASON_REQUIRED)) | ~Q(status_reason=""),
            ),
            models.CheckConstraint(
                name="referral_sent_has_requested_at",
                condition=Q(status="draft")
                | Q(requested_at__isnull=False)
                | Q(status__in=["cancelled", "entered-in-error"]),
            ),
        ]

    def __str__(self) -> str:
        return f"Referral #{self.pk}"


class ReferralEventQuerySet(ScopedQuerySet):
    kind = Kind.REFERRAL
    program_path = "referral__program"
    individual_path = "referral__individual"

    def visible_to(self, actor):
        return self.filter(referral__in=Referral.objects.visible_to(actor))


class ReferralEvent(models.Model):
    """One change of a referral: who made it (staff, partner, or the system), when, from what to what."""

    class ActorKind(models.TextChoices):
        STAFF = "staff", "Staff"
        PARTNER = "partner", "Partner"
        SYSTEM = "system", "System"

    referral = models.ForeignKey(Referral, on_delete=models.PROTECT, related_name="events")
    actor_kind = models.CharField(max_length=10, choices=ActorKind)
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor_credential = models.ForeignKey(
        PartnerCredential, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    from_status = models.CharField(max_length=20, choices=Status, blank=True)
    to_status = models.CharField(max_length=20, choices=Status)
    business_status = models.CharField(max_length=30, choices=Referral.BusinessStatus, blank=True)
    note = models.CharField(max_length=1000, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ReferralEventQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(
                name="referral_event_actor_matches_kind",
                condition=(Q(actor_kind="staff") & Q(actor_user__isnull=False) & Q(actor_credential__isnull=True))
                | (Q(actor_kind="partner") & Q(actor_user__isnull=False) & Q(actor_credential__isnull=True))
                | (Q(actor_kind="partner") & Q(actor_user__isnull=True) & Q(actor_credential__isnull=False))
                | (Q(actor_kind="system") & Q(actor_user__isnull=True) & Q(actor_credential__isnull=True)),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.from_status or '∅'} → {self.to_status} on referral #{self.referral_id}"


class DeliveryQuerySet(ReferralEventQuerySet):
    def pending_due(self, now):
        """Deliveries waiting for their next attempt: what the delivery sweep scans."""
        return self.filter(state=Delivery.State.PENDING, next_attempt_at__lte=now)


class Delivery(models.Model):
    """One outbound message to a partner (the outbox): written in the same transaction as the
    change it announces, delivered by a worker, retried from next_attempt_at."""

    class Channel(models.TextChoices):
        WEBHOOK = "webhook", "Webhook"
        EMAIL = "email", "Email"

    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        DELIVERED = "delivered", "Delivered"
        DEAD = "dead", "Dead (gave up)"
        CANCELLED = "cancelled", "Cancelled (consent withdrawn or endpoint disabled)"

    referral = models.ForeignKey(Referral, on_delete=models.PROTECT, related_name="deliveries")
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="deliveries")
    channel = models.CharField(max_length=10, choices=Channel)
    event_type = models.CharField(max_length=40, help_text="referral.requested, referral.cancelled, ...")
    message_id = models.CharField(max_length=40, unique=True, help_text="The webhook-id: the partner's dedup key.")
    payload = models.JSONField(help_text="Thin: ids, type, status and time only. Never personal data.")
    state = models.CharField(max_length=10, choices=State, default=State.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = DeliveryQuerySet.as_manager()

    class Meta:
        verbose_name_plural = "deliveries"
        ordering = ["-created_at"]
        indexes = [
            # the delivery sweep: only pending deliveries are ever scanned
            models.Index(fields=["next_attempt_at"], name="delivery_pending_due", condition=Q(state="pending")),
        ]
        constraints = [
            models.CheckConstraint(
                name="delivery_pending_has_next_attempt",
                condition=~Q(state="pending") | Q(next_attempt_at__isnull=False),
            ),
            models.CheckConstraint(
                name="delivery_delivered_has_time", condition=~Q(state="delivered") | Q(delivered_at__isnull=False)
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} to {self.organization} ({self.state})"


class DeliveryAttemptQuerySet(ScopedQuerySet):
    kind = Kind.REFERRAL
    program_path = "delivery__referral__program"
    individual_path = "delivery__referral__individual"

    def visible_to(self, actor):
        return self.filter(delivery__in=Delivery.objects.visible_to(actor))


class DeliveryAttempt(models.Model):
    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="attempt_log")
    attempted_at = models.DateTimeField()
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.CharField(max_length=300, blank=True)
    duration_ms = models.PositiveIntegerField(default=0)
    # Written (committed) before the request leaves and filled in after it: a row still without
    # completed_at is a request the partner may have received while the worker died before it
    # could record the answer (referrals.delivery). None for rows from before this column.
    completed_at = models.DateTimeField(null=True, blank=True)

    objects = DeliveryAttemptQuerySet.as_manager()

    class Meta:
        ordering = ["attempted_at"]

    def __str__(self) -> str:
        return f"Attempt at {self.attempted_at:%Y-%m-%d %H:%M} ({self.outcome})"

    @property
    def outcome(self) -> str:
        """What the log shows: the answer, the error, or that no answer was recorded."""
        if self.status_code:
            return f"HTTP {self.status_code}"
        if self.error:
            return self.error
        if self.completed_at is None:
            return "sent; no answer recorded (the attempt was interrupted)"
        return "sent"
