"""Admin for programs and users, and the base classes every admin of this project builds on.

The admin is the staff admins' operations console (DESIGN.md §6), so it keeps the same rules as
every other page:

- an admin of a model holding a person's data reads through `visible_to(request.user)` only;
- an object the user may not see is a 404 whether it exists or not (never "doesn't exist" vs
  "forbidden", which would tell one from the other);
- foreign-key choices in forms stay inside the user's program (people, cases, encounters, staff);
- a person's data is shown, never written, here: people, encounters, cases, contacts, consents,
  referrals and the rest are written by the services (cases.services, cases.intake,
  referrals.services...) on the staff pages and the API, which keep the follow-ups, the derived
  risk and the consent checks that a bare form would skip. An admin of person data writes only if
  it names the service its save goes through (`ScopedAdmin.writes_through`); tests/admin walks
  every registered admin and fails on one that writes around a service;
- every read and write of a person's record through the admin is recorded in the audit log
  (audit.admin.AuditedAdminMixin, part of ScopedAdmin), before the page is rendered.
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.models import Group
from django.db import models
from django.http import Http404
from django.utils import timezone

from accounts import breakglass, tokens, twofactor
from accounts.credentials import issue_key, revoke_credentials
from accounts.models import BreakGlassGrant, LoginFailure, Program, RecoveryCode, StaffToken, TwoFactorDevice, User
from accounts.roles import is_network_admin
from audit.admin import AuditedAdminMixin
from crt.validators import validate_planned


class CredentialAdmin:
    """Admin of one kind of credential (mixed into the project's ModelAdmin): the key made on saving
    a new one and shown once, to the admin who made it; revoked by an action; never deleted. The
    hash is never displayed: a subclass's fields never name key_hash."""

    noun = "API key"  # as the admin's messages name one
    shown_once_hint = "copy it now into the system that uses it; it will not be shown again."
    list_filter = (("revoked_at", admin.EmptyFieldListFilter),)
    actions = ("revoke",)

    def has_delete_permission(self, request, obj=None):
        return False  # what a credential did names it: revoke instead, and the row says until when

    def issue(self, request, obj) -> str:
        """Save the new credential through its kind's service; return its key."""
        return issue_key(obj)

    def save_model(self, request, obj, form, change):
        if change:
            return super().save_model(request, obj, form, change)
        key = self.issue(request, obj)
        messages.warning(request, f"{self.noun} {obj}: {key} — {self.shown_once_hint}")

    @admin.action(description="Revoke the selected %(verbose_name_plural)s", permissions=["change"])
    def revoke(self, request, queryset):
        count = revoke_credentials(queryset)
        messages.success(request, f"Revoked {count} {self.noun}(s).")


def choices_for(related_model, user):
    """What `user` may pick in a form for a foreign key to `related_model`.

    None means "no restriction" (the shared partner directory, for instance).
    """
    if related_model is User:
        if user.program_id is None:
            return User.objects.none()
        return User.objects.filter(program_id=user.program_id).order_by("username")
    if related_model is Program:
        return Program.objects.all() if is_network_admin(user) else Program.objects.filter(pk=user.program_id)
    manager = related_model._default_manager
    if hasattr(manager, "visible_to"):
        return manager.visible_to(user)
    return None


class ScopedChoicesMixin:
    """Limit every foreign-key select (and raw-id lookup's validation) to what the user may see."""

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if "queryset" not in kwargs:
            queryset = choices_for(db_field.related_model, request.user)
            if queryset is not None:
                kwargs["queryset"] = queryset
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class CRTModelAdmin(ScopedChoicesMixin, admin.ModelAdmin):
    """Base of every admin here."""

    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}  # Django 6's default, and ours

    def get_object(self, request, object_id, from_field=None):
        obj = super().get_object(request, object_id, from_field)
        if obj is None:
            # Django would redirect with "… with ID … doesn't exist"; a 404 says nothing either way.
            raise Http404("Not found.")
        return obj


class ScopedAdmin(AuditedAdminMixin, CRTModelAdmin):
    """Admin of a model holding a person's data: everything it reads comes from `scoped_queryset`,
    and every object it shows is recorded in the audit log. Read-only, unless `writes_through` names
    the service function its (overridden) save_model calls: person data is written by the services."""

    writes_through = ""  # e.g. "cases.services.open_case"; empty: view only

    def scoped_queryset(self, request):
        return self.model._default_manager.visible_to(request.user)

    def get_queryset(self, request):
        queryset = self.scoped_queryset(request)
        ordering = self.get_ordering(request)
        if ordering:
            queryset = queryset.order_by(*ordering)
        return queryset

    def has_add_permission(self, request):
        # A record needs a program to belong to; staff without one see no one and add no one.
        if not self.writes_through or request.user.program_id is None:
            return False
        return super().has_add_permission(request)

    def has_change_permission(self, request, obj=None):
        return bool(self.writes_through) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        # Care history is kept (PROTECT everywhere); mistakes are corrected, not deleted.
        return False

    def get_changeform_initial_data(self, request):
        initial = super().get_changeform_initial_data(request)
        if any(field.name == "program" for field in self.model._meta.fields):
            initial.setdefault("program", request.user.program_id)
        return initial


class ReadOnlyAdminMixin:
    """Audit and machine-written rows: viewable, never added, changed or deleted by hand."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ScopedInlineMixin(ScopedChoicesMixin):
    """An inline of person data reads through visible_to too (its parent already does), and only
    shows: its rows are written by the services, like its parent's."""

    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        manager = self.model._default_manager
        if hasattr(manager, "visible_to"):
            return manager.visible_to(request.user)
        return super().get_queryset(request)


class ReadOnlyInlineMixin:
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


# --- programs and users ---------------------------------------------------------------------

# Roles are the groups made by the roles data migration from accounts.roles.PERMISSIONS: that table
# is the one place that says what a role may do, so groups are assigned here but never edited.
admin.site.unregister(Group)


@admin.register(Program)
class ProgramAdmin(CRTModelAdmin):
    """Programs are no one's personal data: every staff admin sees the list, changes only their own."""

    list_display = ("name", "slug", "area_name", "referral_answer_window", "follow_up_grace", "stale_capacity_after")
    search_fields = ("name", "slug", "area_name")
    readonly_fields = ("created_at",)
    prepopulated_fields = {"slug": ("name",)}

    def has_add_permission(self, request):
        return is_network_admin(request.user)

    def has_change_permission(self, request, obj=None):
        if obj is not None and not is_network_admin(request.user) and obj.pk != request.user.program_id:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return is_network_admin(request.user) and super().has_delete_permission(request, obj)


class StaffOrPartnerFormMixin:
    def clean(self):
        cleaned_data = super().clean()
        if cleaned_data.get("program") and cleaned_data.get("partner_organization"):
            self.add_error(
                "partner_organization",
                "A user belongs to a program (staff) or to a partner organisation, never both.",
            )
        return cleaned_data


class UserChangeForm(StaffOrPartnerFormMixin, DjangoUserAdmin.form):
    pass


class UserCreationForm(StaffOrPartnerFormMixin, DjangoUserAdmin.add_form):
    pass


@admin.register(User)
class UserAdmin(CRTModelAdmin, DjangoUserAdmin):
    """Staff of the admin's own program. Partner users serve every program, so only a network admin
    (accounts.roles.is_network_admin, docs/decisions/014) sees, adds, changes or resets them."""

    form = UserChangeForm
    add_form = UserCreationForm
    list_display = (
        "username",
        "first_name",
        "last_name",
        "program",
        "partner_organization",
        "role_names",
        "is_staff",
        "is_active",
        "last_login",
    )
    list_select_related = ("program", "partner_organization")
    list_filter = (
        "is_active",
        "is_staff",
        "groups",
        ("program", admin.RelatedOnlyFieldListFilter),
        ("partner_organization", admin.RelatedOnlyFieldListFilter),
    )
    search_fields = ("username", "first_name", "last_name", "email")
    autocomplete_fields = ("partner_organization",)
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        ("Personal info", {"fields": ("first_name", "last_name", "email", "phone")}),
        ("Belongs to", {"fields": ("program", "partner_organization")}),
        ("Roles and access", {"fields": ("is_active", "is_staff", "groups", "is_superuser")}),
        ("Important dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("username", "usable_password", "password1", "password2"),
            },
        ),
        ("Belongs to", {"fields": ("program", "partner_organization", "groups", "is_staff")}),
    )

    def get_queryset(self, request):
        queryset = super().get_queryset(request).prefetch_related("groups")
        user = request.user
        if is_network_admin(user):
            return queryset
        if user.program_id is None:
            return queryset.none()
        # The change, password and history views read through here too: a partner user, or another
        # program's staff member, is a 404 to a program's staff admin.
        return queryset.filter(program_id=user.program_id, partner_organization__isnull=True)

    def get_readonly_fields(self, request, obj=None):
        readonly = ["last_login", "date_joined"]
        if not is_network_admin(request.user):
            # Access comes from roles (groups) only (per-user permissions are not consulted at all:
            # accounts.auth); superuser status would bypass accounts.roles, so a staff admin cannot grant it.
            # Nor can they make a user a partner's: that is a network admin's decision.
            readonly += ["is_superuser", "partner_organization"]
        return readonly

    def get_changeform_initial_data(self, request):
        initial = super().get_changeform_initial_data(request)
        initial.setdefault("program", request.user.program_id)
        return initial

    @admin.display(description="roles")
    def role_names(self, obj):
        return ", ".join(sorted(group.name for group in obj.groups.all()))  # prefetched


# --- sign-in security: authenticators, recovery codes, lockouts, break-glass --------------------


class AccountSecurityAdmin(ReadOnlyAdminMixin, CRTModelAdmin):
    """Rows about the sign-in of the staff admin's own program's staff (a network admin: everyone's,
    partner users' included, as in UserAdmin). Secrets and digests are never shown."""

    list_select_related = ("user",)
    search_fields = ("user__username", "user__last_name")

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if is_network_admin(request.user):
            return queryset
        if request.user.program_id is None:
            return queryset.none()
        return queryset.filter(user__program_id=request.user.program_id, user__partner_organization__isnull=True)


@admin.register(TwoFactorDevice)
class TwoFactorDeviceAdmin(AccountSecurityAdmin):
    """Deleting an authenticator resets the user's second factor: they enrol again at next sign-in."""

    list_display = ("user", "enrolled_at")
    fields = ("user", "enrolled_at")
    readonly_fields = fields

    def has_delete_permission(self, request, obj=None):
        return CRTModelAdmin.has_delete_permission(self, request, obj)

    def delete_model(self, request, obj):
        twofactor.reset(obj.user)

    def delete_queryset(self, request, queryset):
        for device in queryset.select_related("user"):
            twofactor.reset(device.user)


@admin.register(RecoveryCode)
class RecoveryCodeAdmin(AccountSecurityAdmin):
    list_display = ("user", "created_at", "used_at")
    list_filter = (("used_at", admin.EmptyFieldListFilter),)
    fields = ("user", "created_at", "used_at")
    readonly_fields = fields


@admin.register(LoginFailure)
class LoginFailureAdmin(AccountSecurityAdmin):
    """Failed sign-in checks of the last hours. Deleting a user's rows unlocks the account now."""

    list_display = ("at", "user", "kind", "ip")
    list_filter = ("kind",)
    date_hierarchy = "at"
    fields = ("at", "user", "kind", "ip")
    readonly_fields = fields

    def has_delete_permission(self, request, obj=None):
        return CRTModelAdmin.has_delete_permission(self, request, obj)


@admin.register(BreakGlassGrant)
class BreakGlassGrantAdmin(ReadOnlyAdminMixin, CRTModelAdmin):
    """Emergency access grants of the program: who, to whose record (by id), why, until when."""

    list_display = ("id", "user", "individual_id", "started_at", "expires_at", "ended_at")
    list_select_related = ("user",)
    list_filter = (("ended_at", admin.EmptyFieldListFilter),)
    search_fields = ("user__username", "=individual__id")
    date_hierarchy = "started_at"
    fields = ("user", "program", "individual_id", "reason", "started_at", "expires_at", "ended_at", "ended_by")
    readonly_fields = fields
    actions = ("end_now",)

    def get_queryset(self, request):
        return BreakGlassGrant.objects.visible_to(request.user).select_related("user", "program", "ended_by")

    @admin.action(description="End the selected grants now", permissions=["view"])
    def end_now(self, request, queryset):
        ended = sum(breakglass.end_break_glass(grant, by=request.user) for grant in queryset)
        self.message_user(request, f"Ended {ended} grant(s).")


# --- API tokens of staff and service accounts (accounts.tokens) ---------------------------------


class StaffTokenForm(forms.ModelForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "expires_at" in self.fields:  # a mistyped year (9999) is a field error, not a server error
            self.fields["expires_at"].validators.append(validate_planned)

    def clean(self):
        cleaned_data = super().clean()
        if self.instance.pk is not None:
            return cleaned_data  # only the name changes after creation
        user = cleaned_data.get("user")
        if user is not None and not tokens.may_hold_token(user):
            self.add_error("user", "Only active staff of a program may hold an API token; partners use API keys.")
        expires_at = cleaned_data.get("expires_at")
        if expires_at is not None and expires_at <= timezone.now():
            self.add_error("expires_at", "The expiry must be in the future (or empty: until revoked).")
        return cleaned_data


@admin.register(StaffToken)
class StaffTokenAdmin(CredentialAdmin, CRTModelAdmin):
    """API tokens of the program's staff and service accounts (the CAD integration): made here, shown
    once, revoked here (CredentialAdmin above). Staff admins see their own program's only."""

    noun = "API token"
    form = StaffTokenForm
    list_display = ("name", "user", "prefix", "created_at", "expires_at", "last_used_at", "revoked_at")
    list_select_related = ("user",)
    list_filter = (*CredentialAdmin.list_filter, ("expires_at", admin.EmptyFieldListFilter))
    search_fields = ("name", "prefix", "user__username")

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if is_network_admin(request.user):
            return queryset
        if request.user.program_id is None:
            return queryset.none()
        return queryset.filter(user__program_id=request.user.program_id)

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("user", "name", "expires_at")
        return ("user", "name", "prefix", "created_by", "created_at", "expires_at", "last_used_at", "revoked_at")

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        return ("user", "prefix", "created_by", "created_at", "expires_at", "last_used_at", "revoked_at")

    def issue(self, request, obj) -> str:
        obj.created_by = request.user
        return tokens.issue_prepared_token(obj)


# --- date bounds for the admin forms that write (the partner directory's: providers.admin) ------


class DateBoundsMixin:
    """Each field named in BOUNDS also gets that validator from crt.validators, so a mistyped year
    (0350, 9999) is a field error, as on the staff pages, instead of a stored date or a server error."""

    BOUNDS: dict = {}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, validator in self.BOUNDS.items():
            if name in self.fields:  # not when the admin shows it read-only
                self.fields[name].validators.append(validator)
