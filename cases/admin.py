"""Admin for people and what happened to them. Every admin here reads through `visible_to`, and
only shows: people, encounters, cases, follow-ups, contacts and consents are written by the services
(cases.services, cases.intake) on the staff pages and the API (accounts.admin.ScopedAdmin).

Individual.__str__ hides names (it ends up in logs and the admin's history); the changelists show
names in their own columns, since the staff admin only ever sees their own program's people.
"""

from django.contrib import admin

from accounts.admin import CRTModelAdmin, ReadOnlyAdminMixin, ScopedAdmin, ScopedInlineMixin
from accounts.roles import is_network_admin
from cases.models import (
    Assessment,
    Case,
    Consent,
    Contact,
    Encounter,
    EncounterResponder,
    FollowUp,
    FollowUpRule,
    Individual,
    PersonMerge,
    SafetyPlan,
    SupportContact,
)


def person_column(path: str):
    """A changelist column with the person's name, reached through `path` (select it related)."""
    attributes = path.split("__")

    @admin.display(description="person", ordering=f"{path}__legal_last_name")
    def person(obj):
        for attribute in attributes:
            obj = getattr(obj, attribute, None)
        if obj is None:
            return "—"
        return f"{obj.legal_last_name}, {obj.preferred_name or obj.legal_first_name}"

    return person


# --- inlines ----------------------------------------------------------------------------------


class SupportContactInline(ScopedInlineMixin, admin.TabularInline):
    model = SupportContact
    fields = ("name", "relationship", "phone", "is_caregiver", "ended_at")
    extra = 0
    can_delete = False


class AssessmentInline(ScopedInlineMixin, admin.TabularInline):
    model = Assessment
    fields = ("kind", "performed_at", "performed_by", "heart_rate", "systolic_bp", "diastolic_bp", "spo2", "risk_level")
    extra = 0
    can_delete = False
    show_change_link = True


class EncounterResponderInline(ScopedInlineMixin, admin.TabularInline):
    model = EncounterResponder
    fields = ("user", "role")
    extra = 0


class FollowUpInline(ScopedInlineMixin, admin.TabularInline):
    model = FollowUp
    fields = ("label", "owner", "due_at", "done_at", "is_missed", "escalation_level")
    readonly_fields = ("done_at", "is_missed", "escalation_level")
    extra = 0
    can_delete = False
    show_change_link = True


class ContactInline(ScopedInlineMixin, admin.TabularInline):
    model = Contact
    fields = ("occurred_at", "made_by", "method", "outcome", "duration_minutes", "note", "follow_up")
    raw_id_fields = ("follow_up",)
    extra = 0
    can_delete = False
    show_change_link = True


# --- admins -----------------------------------------------------------------------------------


@admin.register(Individual)
class IndividualAdmin(ScopedAdmin):
    list_display = (
        "id",
        "legal_last_name",
        "legal_first_name",
        "preferred_name",
        "date_of_birth",
        "risk_level",
        "housing_status",
        "is_do_not_contact",
        "updated_at",
    )
    list_display_links = ("id", "legal_last_name")
    list_filter = ("risk_level", "housing_status", "is_do_not_contact", "needs_interpreter", "race_ethnicity")
    # The admin searches with GET, so the words land in the URL (and access logs): identifiers only.
    # Names and dates of birth are searched on the staff pages, which POST them (cases:people).
    search_fields = ("=id", "=cad_person_id", "=mrn", "=hmis_id")
    readonly_fields = ("created_at", "updated_at")
    fieldsets = (
        ("Safety first", {"fields": ("responder_safety_notes", "risk_level")}),
        (
            "Who",
            {
                "fields": (
                    "program",
                    "legal_first_name",
                    "legal_last_name",
                    "preferred_name",
                    "pronouns",
                    "date_of_birth",
                )
            },
        ),
        ("Reaching them", {"fields": ("phone", "email", "address", "where_staying", "area", "housing_status")}),
        ("Safe contact", {"fields": ("is_do_not_contact", "safe_contact_channels", "safe_contact_times")}),
        ("Language and equity", {"fields": ("primary_language", "needs_interpreter", "race_ethnicity", "gender")}),
        ("Identifiers", {"fields": ("cad_person_id", "mrn", "hmis_id")}),
        ("Record", {"fields": ("created_at", "updated_at")}),
    )
    inlines = (SupportContactInline,)


@admin.register(SupportContact)
class SupportContactAdmin(ScopedAdmin):
    list_display = (
        "id",
        "name",
        "relationship",
        person_column("individual"),
        "is_caregiver",
        "ended_at",
    )
    list_select_related = ("individual",)
    list_filter = ("is_caregiver",)
    search_fields = ("=individual__id",)  # identifiers only: admin searches travel in the URL
    raw_id_fields = ("individual",)
    readonly_fields = ("created_at",)


@admin.register(Encounter)
class EncounterAdmin(ScopedAdmin):
    list_display = (
        "cad_incident_number",
        "call_received_at",
        person_column("individual"),
        "call_source",
        "disposition",
        "law_enforcement",
        "team",
    )
    list_select_related = ("individual",)
    list_filter = ("call_source", "disposition", "law_enforcement")
    search_fields = ("=cad_incident_number", "=individual__id", "team", "area")
    date_hierarchy = "call_received_at"
    raw_id_fields = ("individual",)
    readonly_fields = ("created_by", "created_at", "updated_at")
    fieldsets = (
        (None, {"fields": ("program", "individual", "cad_incident_number", "call_source", "call_type")}),
        ("Times", {"fields": ("call_received_at", "dispatched_at", "on_scene_at", "cleared_at")}),
        ("Where", {"fields": ("location_text", "latitude", "longitude", "area", "team")}),
        (
            "What happened",
            {
                "fields": (
                    "law_enforcement",
                    "reason_for_call",
                    "interventions",
                    "disposition",
                    "transport_destination",
                    "narrative",
                )
            },
        ),
        ("Record", {"fields": ("created_by", "created_at", "updated_at")}),
    )
    inlines = (EncounterResponderInline, AssessmentInline)


@admin.register(EncounterResponder)
class EncounterResponderAdmin(ScopedAdmin):
    list_display = ("encounter", "user", "role")
    list_select_related = ("encounter", "user")
    search_fields = ("=encounter__cad_incident_number", "user__username", "user__last_name", "role")
    raw_id_fields = ("encounter",)


@admin.register(Assessment)
class AssessmentAdmin(ScopedAdmin):
    list_display = ("id", "kind", "encounter", person_column("encounter__individual"), "performed_at", "risk_level")
    list_select_related = ("encounter__individual",)
    list_filter = ("kind", "risk_level")
    search_fields = ("=encounter__cad_incident_number", "=encounter__individual__id")
    date_hierarchy = "performed_at"
    raw_id_fields = ("encounter",)
    readonly_fields = ("created_at",)


@admin.register(Case)
class CaseAdmin(ScopedAdmin):
    list_display = (
        "id",
        person_column("individual"),
        "status",
        "risk_level",
        "navigator",
        "peer",
        "opened_at",
        "closed_at",
    )
    list_select_related = ("individual", "navigator", "peer")
    list_filter = (
        "status",
        "risk_level",
        ("navigator", admin.RelatedOnlyFieldListFilter),
        ("peer", admin.RelatedOnlyFieldListFilter),
    )
    search_fields = ("=id", "=individual__id")
    date_hierarchy = "opened_at"
    raw_id_fields = ("individual", "encounter")
    # Opening, closing and reopening go through cases.services, which keep status and reason together.
    readonly_fields = ("status", "closed_reason", "closed_at", "updated_at")
    fields = (
        "program",
        "individual",
        "encounter",
        "navigator",
        "peer",
        "risk_level",
        "opened_at",
        "status",
        "closed_reason",
        "closed_at",
        "updated_at",
    )
    inlines = (FollowUpInline, ContactInline)


@admin.register(FollowUp)
class FollowUpAdmin(ScopedAdmin):
    list_display = ("label", "case", person_column("case__individual"), "owner", "due_at", "done_at", "is_missed")
    list_select_related = ("case__individual", "owner")
    list_filter = ("is_missed", "escalation_level", ("owner", admin.RelatedOnlyFieldListFilter))
    search_fields = ("label", "=case__id", "=case__individual__id")
    date_hierarchy = "due_at"
    raw_id_fields = ("case",)
    # Done, missed and escalated are set by logging a contact and by the follow-up sweep.
    readonly_fields = ("done_at", "is_missed", "escalation_level", "created_at")


@admin.register(Contact)
class ContactAdmin(ScopedAdmin):
    list_display = ("id", "occurred_at", person_column("case__individual"), "made_by", "method", "outcome")
    list_select_related = ("case__individual", "made_by")
    list_filter = ("method", "outcome", ("made_by", admin.RelatedOnlyFieldListFilter))
    search_fields = ("=case__id", "=case__individual__id")
    date_hierarchy = "occurred_at"
    raw_id_fields = ("case", "follow_up")
    readonly_fields = ("created_at",)


@admin.register(SafetyPlan)
class SafetyPlanAdmin(ReadOnlyAdminMixin, ScopedAdmin):
    """Versions are never edited (a change is a new version), so the admin only shows them."""

    list_display = ("case", person_column("case__individual"), "version", "is_current", "review_on", "created_at")
    list_select_related = ("case__individual",)
    list_filter = ("is_current",)
    search_fields = ("=case__id", "=case__individual__id")
    date_hierarchy = "created_at"


@admin.register(Consent)
class ConsentAdmin(ScopedAdmin):
    list_display = (
        "id",
        person_column("individual"),
        "recipient",
        "purpose",
        "method",
        "covers_part2",
        "given_at",
        "expires_at",
        "revoked_at",
    )
    list_select_related = ("individual", "recipient_organization")
    list_filter = ("purpose", "method", "covers_part2", ("revoked_at", admin.EmptyFieldListFilter))
    search_fields = ("=individual__id", "recipient_organization__name")
    date_hierarchy = "given_at"
    raw_id_fields = ("individual",)
    autocomplete_fields = ("recipient_organization",)
    readonly_fields = ("recorded_by", "created_at")

    @admin.display(description="recipient")
    def recipient(self, obj):
        return obj.recipient_organization or obj.get_recipient_category_display()


# --- follow-up rules (no one's personal data: a program's schedule) -----------------------------


@admin.register(FollowUpRule)
class FollowUpRuleAdmin(CRTModelAdmin):
    """A staff admin edits their own program's follow-up schedule; a change applies to cases
    opened afterwards (cases.services.open_case), never to follow-ups already made."""

    list_display = ("label", "disposition_shown", "risk_shown", "offset", "owner", "program", "updated_at")
    list_filter = ("disposition", "risk_level", "owner")
    ordering = ("program", "disposition", "risk_level", "offset")
    fields = ("program", "disposition", "risk_level", "label", "offset", "owner")

    @admin.display(description="disposition", ordering="disposition")
    def disposition_shown(self, obj):
        return obj.get_disposition_display() or "Any disposition"

    @admin.display(description="risk level", ordering="risk_level")
    def risk_shown(self, obj):
        return obj.get_risk_level_display() or "Any risk level"

    def get_queryset(self, request):
        rules = super().get_queryset(request)
        return rules if is_network_admin(request.user) else rules.filter(program_id=request.user.program_id)

    def get_changeform_initial_data(self, request):
        return {"program": request.user.program_id, **super().get_changeform_initial_data(request)}


@admin.register(PersonMerge)
class PersonMergeAdmin(ReadOnlyAdminMixin, ScopedAdmin):
    """Merges are made and undone by supervisors on the person pages (cases.people), so the admin only
    shows them."""

    list_display = ("id", person_column("survivor"), "merged", "merged_by", "merged_at", "undone_at")
    list_select_related = ("survivor", "merged", "merged_by")
    search_fields = ("=survivor__id", "=merged__id")
    date_hierarchy = "merged_at"
