"""Admin for the partner directory: organisations, services, locations, capacity and API keys.

Secrets never appear in full: webhook secrets are shown masked and API keys are stored only as a
hash; a new secret or key is shown once, to the admin who made it, in a message.
"""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.utils import timezone

from accounts.admin import CredentialAdmin, CRTModelAdmin, DateBoundsMixin, ReadOnlyAdminMixin, ScopedChoicesMixin
from accounts.roles import is_network_admin
from crt.validators import validate_happened
from providers import services
from providers.models import (
    IdempotencyRecord,
    Location,
    Organization,
    PartnerCredential,
    Service,
    ServiceAtLocation,
    ServiceCapacity,
)


def mask_secret(secret: str) -> str:
    if not secret:
        return "—"
    return f"whsec_…{secret[-4:]}"


def _show_once(request, what: str, secret: str) -> None:
    messages.warning(request, f"{what}: {secret} — copy it now and give it to the partner; it will not be shown again.")


# --- forms: the models' database constraints as field errors --------------------------------
# The admin gives each form its model and fields (from its fieldsets), so none names its own.


class OrganizationForm(forms.ModelForm):
    def clean(self):
        cleaned_data = super().clean()
        channel = cleaned_data.get("channel")
        if channel == Organization.Channel.WEBHOOK and not cleaned_data.get("webhook_url"):
            self.add_error("webhook_url", "A webhook partner needs a webhook URL.")
        if channel == Organization.Channel.EMAIL and not cleaned_data.get("notification_email"):
            self.add_error("notification_email", "An email partner needs a notification address.")
        return cleaned_data


class ServiceForm(DateBoundsMixin, forms.ModelForm):
    BOUNDS = {"assured_at": validate_happened}

    def clean(self):
        cleaned_data = super().clean()
        min_age, max_age = cleaned_data.get("min_age"), cleaned_data.get("max_age")
        if min_age is not None and max_age is not None and min_age > max_age:
            self.add_error("min_age", f"The minimum age cannot be above the maximum age ({max_age}).")
        return cleaned_data


class ServiceCapacityForm(forms.ModelForm):
    def clean(self):
        cleaned_data = super().clean()
        available, maximum = cleaned_data.get("available"), cleaned_data.get("maximum")
        if available is not None and maximum is not None and available > maximum:
            self.add_error("available", f"Available cannot be more than the maximum ({maximum}).")
        return cleaned_data


class ServiceAtLocationForm(forms.ModelForm):
    def clean(self):
        cleaned_data = super().clean()
        service, location = cleaned_data.get("service"), cleaned_data.get("location")
        if service is not None and location is not None and service.organization_id != location.organization_id:
            self.add_error("location", "This location belongs to another organisation than the service.")
        return cleaned_data


# --- inlines ----------------------------------------------------------------------------------


class ServiceInline(ScopedChoicesMixin, admin.TabularInline):
    model = Service
    form = ServiceForm
    fields = ("name", "need_domain", "status", "min_age", "max_age", "assured_at")
    extra = 0
    show_change_link = True


class LocationInline(ScopedChoicesMixin, admin.TabularInline):
    model = Location
    fields = ("name", "address_1", "city", "postal_code", "is_confidential")
    extra = 0
    show_change_link = True


class ServiceCapacityInline(ScopedChoicesMixin, admin.TabularInline):
    model = ServiceCapacity
    form = ServiceCapacityForm
    fields = ("unit", "available", "maximum", "description", "updated_at")
    readonly_fields = ("updated_at",)
    extra = 0


class ServiceAtLocationInline(ScopedChoicesMixin, admin.TabularInline):
    model = ServiceAtLocation
    form = ServiceAtLocationForm
    fields = ("location", "hours", "updated_at")
    readonly_fields = ("updated_at",)
    autocomplete_fields = ("location",)
    extra = 0


# --- admins -----------------------------------------------------------------------------------


# How a partner receives referrals and whether it may: a partner serves every program, so these are a
# network admin's to set (docs/decisions/014); a program's staff admin edits the directory entry only.
PARTNER_ACCESS_FIELDS = ("is_active", "channel", "webhook_url", "notification_email", "may_receive_part2")


class NetworkAdminOnlyMixin:
    """An admin of partner access: a network admin's only; anyone else does not see it at all."""

    def has_module_permission(self, request):
        return is_network_admin(request.user) and super().has_module_permission(request)

    def has_view_permission(self, request, obj=None):
        return is_network_admin(request.user) and super().has_view_permission(request, obj)

    def has_add_permission(self, request):
        return is_network_admin(request.user) and super().has_add_permission(request)

    def has_change_permission(self, request, obj=None):
        return is_network_admin(request.user) and super().has_change_permission(request, obj)


@admin.register(Organization)
class OrganizationAdmin(CRTModelAdmin):
    form = OrganizationForm
    list_display = ("name", "channel", "is_active", "may_receive_part2", "webhook_disabled_at", "updated_at")
    list_filter = ("channel", "is_active", "may_receive_part2")
    search_fields = ("name", "email", "tax_id", "website")
    readonly_fields = (
        "webhook_secret_masked",
        "webhook_previous_secret_masked",
        "webhook_previous_secret_expires_at",
        "webhook_disabled_at",
        "created_at",
        "updated_at",
    )
    fieldsets = (
        (None, {"fields": ("name", "description", "website", "email", "phone", "tax_id", "is_active")}),
        (
            "How it receives referrals",
            {
                "fields": (
                    "channel",
                    "webhook_url",
                    "webhook_secret_masked",
                    "webhook_previous_secret_masked",
                    "webhook_previous_secret_expires_at",
                    "webhook_disabled_at",
                    "notification_email",
                    "may_receive_part2",
                )
            },
        ),
        ("Record", {"fields": ("created_at", "updated_at")}),
    )
    inlines = (ServiceInline, LocationInline)
    actions = ("rotate_webhook_secret", "reenable_webhook")

    def get_readonly_fields(self, request, obj=None):
        readonly = super().get_readonly_fields(request, obj)
        if is_network_admin(request.user):
            return readonly
        return (*readonly, *PARTNER_ACCESS_FIELDS)

    def has_partner_access_permission(self, request):
        return is_network_admin(request.user)

    @admin.display(description="webhook secret")
    def webhook_secret_masked(self, obj):
        return mask_secret(obj.webhook_secret)

    @admin.display(description="previous webhook secret")
    def webhook_previous_secret_masked(self, obj):
        return mask_secret(obj.webhook_previous_secret)

    def save_model(self, request, obj, form, change):
        # A webhook partner needs a secret to verify signatures; the admin never types one in.
        generated = None
        if obj.channel == Organization.Channel.WEBHOOK and not obj.webhook_secret:
            generated = obj.webhook_secret = services.new_webhook_secret()
        super().save_model(request, obj, form, change)
        if generated:
            _show_once(request, f"Webhook secret of {obj}", generated)

    @admin.action(
        description="Rotate the webhook secret (the old one keeps signing for 24 hours)", permissions=["partner_access"]
    )
    def rotate_webhook_secret(self, request, queryset):
        rotated = 0
        for organization in queryset.filter(channel=Organization.Channel.WEBHOOK):
            try:
                organization, secret = services.rotate_webhook_secret(organization, by=request.user)
            except ValidationError as refused:  # it stopped receiving webhooks since the list was shown
                messages.error(request, f"{organization}: {refused.messages[0]}")
                continue
            _show_once(request, f"New webhook secret of {organization}", secret)
            rotated += 1
        if rotated == 0:
            messages.info(request, "None of the selected organisations receives webhooks.")

    @admin.action(description="Re-enable the webhook endpoint (after it answered 410)", permissions=["partner_access"])
    def reenable_webhook(self, request, queryset):
        count = queryset.filter(webhook_disabled_at__isnull=False).update(
            webhook_disabled_at=None, updated_at=timezone.now()
        )
        messages.success(request, f"Re-enabled {count} webhook endpoint(s).")


@admin.register(Service)
class ServiceAdmin(CRTModelAdmin):
    form = ServiceForm
    list_display = ("name", "organization", "need_domain", "status", "min_age", "max_age", "assured_at", "updated_at")
    list_select_related = ("organization",)
    list_filter = ("need_domain", "status")
    search_fields = ("name", "description", "organization__name")
    autocomplete_fields = ("organization",)
    readonly_fields = ("created_at", "updated_at")
    inlines = (ServiceCapacityInline, ServiceAtLocationInline)

    def save_formset(self, request, form, formset, change):
        if formset.model is not ServiceCapacity:
            return super().save_formset(request, form, formset, change)
        # Capacity freshness is updated_at: whoever touches the numbers vouches for them now.
        now = timezone.now()
        for capacity in formset.save(commit=False):
            capacity.updated_at = now
            capacity.save()
        for capacity in formset.deleted_objects:
            capacity.delete()
        formset.save_m2m()


@admin.register(Location)
class LocationAdmin(CRTModelAdmin):
    list_display = ("name", "organization", "city", "state_province", "postal_code", "is_confidential")
    list_select_related = ("organization",)
    list_filter = ("is_confidential", "state_province")
    search_fields = ("name", "address_1", "city", "postal_code", "organization__name")
    autocomplete_fields = ("organization",)


@admin.register(ServiceAtLocation)
class ServiceAtLocationAdmin(CRTModelAdmin):
    form = ServiceAtLocationForm
    list_display = ("service", "location", "hours", "updated_at")
    list_select_related = ("service", "location")
    search_fields = ("service__name", "location__name", "location__city")
    autocomplete_fields = ("service", "location")
    readonly_fields = ("updated_at",)


@admin.register(ServiceCapacity)
class ServiceCapacityAdmin(CRTModelAdmin):
    form = ServiceCapacityForm
    list_display = ("service", "unit", "available", "maximum", "updated_at")
    list_select_related = ("service",)
    list_filter = ("unit",)
    search_fields = ("service__name", "service__organization__name", "unit")
    date_hierarchy = "updated_at"
    autocomplete_fields = ("service",)
    readonly_fields = ("updated_at",)

    def save_model(self, request, obj, form, change):
        obj.updated_at = timezone.now()  # freshness: see ServiceAdmin.save_formset
        super().save_model(request, obj, form, change)


@admin.register(PartnerCredential)
class PartnerCredentialAdmin(NetworkAdminOnlyMixin, CredentialAdmin, CRTModelAdmin):
    """API keys: made here by a network admin, shown once, revoked here (accounts.credentials).
    A key reads every program's referrals to its partner, so no program's staff admin makes one."""

    shown_once_hint = "copy it now and give it to the partner; it will not be shown again."
    list_display = ("name", "organization", "prefix", "created_at", "last_used_at", "revoked_at")
    list_select_related = ("organization",)
    list_filter = (*CredentialAdmin.list_filter, ("organization", admin.RelatedOnlyFieldListFilter))
    search_fields = ("name", "prefix", "organization__name")
    autocomplete_fields = ("organization",)

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("organization", "name")
        return ("organization", "name", "prefix", "created_at", "last_used_at", "revoked_at")

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        return ("organization", "prefix", "created_at", "last_used_at", "revoked_at")


@admin.register(IdempotencyRecord)
class IdempotencyRecordAdmin(ReadOnlyAdminMixin, CRTModelAdmin):
    """Which API writes were made with an Idempotency-Key, and their outcome (status, record id)."""

    list_display = ("owner", "method", "path", "status_code", "created_at", "completed_at")
    list_filter = ("method", "status_code")
    search_fields = ("owner", "key")
    date_hierarchy = "created_at"
    fields = ("owner", "key", "method", "path", "status_code", "outcome", "created_at", "completed_at")
    readonly_fields = fields
