"""Admin for referrals, their history and the outbox.

The admin can never move a referral along its workflow: status and the chase clock are read-only,
a sent referral is read-only as a whole, and referrals are created and moved by referrals.services
(which write the event trail and the outbox). History and deliveries are only shown.
"""

from django import forms
from django.contrib import admin
from django.db.models import F

from accounts.admin import ReadOnlyAdminMixin, ReadOnlyInlineMixin, ScopedAdmin, ScopedInlineMixin
from cases.admin import person_column
from referrals.models import Delivery, DeliveryAttempt, Referral, ReferralEvent, Status

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


class ReferralForm(forms.ModelForm):
    def clean(self):
        cleaned_data = super().clean()
        individual = cleaned_data.get("individual")
        if individual is None:
            return cleaned_data
        case, consent = cleaned_data.get("case"), cleaned_data.get("consent")
        if case is not None and case.individual_id != individual.pk:
            self.add_error("case", "This case is about another person.")
        if consent is not None and consent.individual_id != individual.pk:
            self.add_error("consent", "This consent was given by another person.")
        return cleaned_data


class ReferralEventInline(ScopedInlineMixin, ReadOnlyInlineMixin, admin.TabularInline):
    model = ReferralEvent
    fields = ("created_at", "from_status", "to_status", "business_status", "actor_kind", "actor_user", "note")
    readonly_fields = fields
    show_change_link = False


class DeliveryInline(ScopedInlineMixin, ReadOnlyInlineMixin, admin.TabularInline):
    model = Delivery
    fields = ("event_type", "channel", "state", "attempts", "next_attempt_at", "last_status_code", "delivered_at")
    readonly_fields = fields


class DeliveryAttemptInline(ReadOnlyInlineMixin, admin.TabularInline):
    model = DeliveryAttempt
    fields = ("attempted_at", "outcome", "duration_ms", "completed_at")
    readonly_fields = fields
    show_change_link = False


@admin.register(Referral)
class ReferralAdmin(ScopedAdmin):
    form = ReferralForm
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

    def has_add_permission(self, request):
        return False  # created by referrals.services, which start the event trail and check consent

    def has_change_permission(self, request, obj=None):
        if obj is not None and obj.status != Status.DRAFT:
            return False  # once sent, the partner relies on what it was sent: every change is a workflow step
        return super().has_change_permission(request, obj)

    def get_readonly_fields(self, request, obj=None):
        return WORKFLOW_FIELDS + RECORD_FIELDS

    def save_model(self, request, obj, form, change):
        obj.organization = obj.service.organization
        bump = change and form.has_changed()
        if bump:
            obj.version = F("version") + 1  # the API's ETag changes with every change
        super().save_model(request, obj, form, change)
        if bump:
            obj.refresh_from_db(fields=["version"])


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

    def scoped_queryset(self, request):
        return DeliveryAttempt.objects.filter(delivery__in=Delivery.objects.visible_to(request.user))
