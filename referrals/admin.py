"""Admin for referrals, their history and the outbox: shown, never written here.

Referrals are created, edited and moved by referrals.services (which check consent and write the
event trail and the outbox) on the staff pages and the API; history and deliveries are written by
the services and sweeps (accounts.admin.ScopedAdmin).
"""

from django.contrib import admin

from accounts.admin import ReadOnlyAdminMixin, ReadOnlyInlineMixin, ScopedAdmin, ScopedInlineMixin
from cases.admin import person_column
from referrals.models import Delivery, DeliveryAttempt, Referral, ReferralEvent

WORKFLOW_FIELDS = (
    "status",
    "status_reason",
    "business_status",
    "appointment_at",
    "outcome_note",
    "next_action_owner",
    "next_action_due_at",
    "chase_level",
    "version",
)
RECORD_FIELDS = ("program", "organization", "created_by", "created_at", "requested_at", "updated_at")


class ReferralEventInline(ScopedInlineMixin, ReadOnlyInlineMixin, admin.TabularInline):
    model = ReferralEvent
    fields = ("created_at", "from_status", "to_status", "business_status", "actor_kind", "actor_user", "note")
    readonly_fields = fields
    show_change_link = False


class DeliveryInline(ScopedInlineMixin, ReadOnlyInlineMixin, admin.TabularInline):
    model = Delivery
    fields = ("event_type", "channel", "state", "attempts", "next_attempt_at", "last_status_code", "delivered_at")
    readonly_fields = fields


class DeliveryAttemptInline(ScopedInlineMixin, ReadOnlyInlineMixin, admin.TabularInline):
    model = DeliveryAttempt
    fields = ("attempted_at", "outcome", "duration_ms", "completed_at")
    readonly_fields = fields
    show_change_link = False


@admin.register(Referral)
class ReferralAdmin(ScopedAdmin):
    list_display = (
        "id",
        person_column("individual"),
        "organization",
        "service",
        "status",
        "business_status",
        "urgency",
        "next_action_owner",
        "next_action_due_at",
        "chase_level",
        "created_at",
    )
    list_select_related = ("individual", "organization", "service")
    list_filter = (
        "status",
        "urgency",
        "need_domain",
        "business_status",
        "next_action_owner",
        ("organization", admin.RelatedOnlyFieldListFilter),
    )
    search_fields = ("=id", "=individual__id", "organization__name", "service__name")  # no names: GET
    date_hierarchy = "created_at"
    raw_id_fields = ("individual", "case", "consent")
    autocomplete_fields = ("service",)
    fieldsets = (
        (None, {"fields": ("program", "individual", "case", "service", "organization", "need_domain", "urgency")}),
        ("What is shared", {"fields": ("reason", "shares_contact_details", "includes_part2", "consent")}),
        ("Workflow (changed only through the referral services)", {"fields": WORKFLOW_FIELDS}),
        ("Record", {"fields": ("created_by", "created_at", "requested_at", "updated_at")}),
    )
    inlines = (ReferralEventInline, DeliveryInline)

    def get_readonly_fields(self, request, obj=None):
        return WORKFLOW_FIELDS + RECORD_FIELDS


@admin.register(ReferralEvent)
class ReferralEventAdmin(ReadOnlyAdminMixin, ScopedAdmin):
    list_display = (
        "created_at",
        "referral",
        person_column("referral__individual"),
        "from_status",
        "to_status",
        "business_status",
        "actor_kind",
        "actor",
    )
    list_select_related = ("referral__individual", "actor_user", "actor_credential__organization")
    list_filter = ("to_status", "actor_kind")
    search_fields = ("=referral__id",)
    date_hierarchy = "created_at"
    ordering = ("-created_at", "-id")

    @admin.display(description="by")
    def actor(self, obj):
        return obj.actor_user or obj.actor_credential or "system"


@admin.register(Delivery)
class DeliveryAdmin(ReadOnlyAdminMixin, ScopedAdmin):
    """The outbox is written by the services and worked by the delivery worker; here it is shown."""

    list_display = (
        "id",
        "event_type",
        "organization",
        "referral",
        "channel",
        "state",
        "attempts",
        "next_attempt_at",
        "last_status_code",
        "delivered_at",
    )
    list_select_related = ("organization", "referral")
    list_filter = ("state", "channel", "event_type", ("organization", admin.RelatedOnlyFieldListFilter))
    search_fields = ("=message_id", "=referral__id", "organization__name")
    date_hierarchy = "created_at"
    readonly_fields = ("state", "attempts", "next_attempt_at", "last_status_code", "last_error", "delivered_at")
    inlines = (DeliveryAttemptInline,)


@admin.register(DeliveryAttempt)
class DeliveryAttemptAdmin(ReadOnlyAdminMixin, ScopedAdmin):
    list_display = ("attempted_at", "delivery", "outcome", "duration_ms", "completed_at")
    list_select_related = ("delivery__organization",)
    list_filter = ("status_code",)
    search_fields = ("=delivery__message_id", "error")
    date_hierarchy = "attempted_at"
