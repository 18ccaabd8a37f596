"""The admin side of the audit: the mixin that records every admin read and write of a person's
record (used by accounts.admin.ScopedAdmin, so every admin of personal data has it), and a
read-only view of the access log for supervisors and staff admins of the program."""

from django.contrib import admin
from django.contrib.admin.views.autocomplete import AutocompleteJsonView
from django.template.response import TemplateResponse

from accounts.roles import may_use_admin
from audit.access import record_access
from audit.models import AccessLog, Action


class AuditedAdminMixin:
    """Record before the page is rendered: the admin returns TemplateResponses, rendered only after
    the view returns, so a failed audit write means the page is never rendered (a 500)."""

    def changelist_view(self, request, extra_context=None):
        response = super().changelist_view(request, extra_context)
        changelist = (getattr(response, "context_data", None) or {}).get("cl")
        if changelist is not None:
            record_access(request, action=Action.LIST, objects=changelist.result_list)
        return response

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        response = super().changeform_view(request, object_id, form_url, extra_context)
        context = getattr(response, "context_data", None) or {}
        original = context.get("original")
        if isinstance(response, TemplateResponse) and original is not None:
            objects = [original]
            for inline in context.get("inline_admin_formsets", []):  # shown on the page, so read too
                objects += [form.instance for form in inline.formset.initial_forms if form.instance.pk is not None]
            record_access(request, action=Action.VIEW, objects=objects)
        return response

    def history_view(self, request, object_id, extra_context=None):
        response = super().history_view(request, object_id, extra_context)
        obj = (getattr(response, "context_data", None) or {}).get("object")
        if obj is not None:
            record_access(request, action=Action.VIEW, objects=[obj])
        return response

    # Writes: called by the admin inside the same transaction as the change.
    def log_addition(self, request, obj, message):
        record_access(request, action=Action.CREATE, objects=[obj])
        return super().log_addition(request, obj, message)

    def log_change(self, request, obj, message):
        record_access(request, action=Action.UPDATE, objects=[obj])
        return super().log_change(request, obj, message)

    def save_formset(self, request, form, formset, change):
        # deletions are recorded first: a deleted instance loses its pk
        deleting = [f.instance for f in getattr(formset, "deleted_forms", []) if f.instance.pk is not None]
        record_access(request, action=Action.DELETE, objects=deleting)
        super().save_formset(request, form, formset, change)
        record_access(request, action=Action.CREATE, objects=formset.new_objects)
        record_access(request, action=Action.UPDATE, objects=[obj for obj, _fields in formset.changed_objects])

    def delete_model(self, request, obj):
        record_access(request, action=Action.DELETE, objects=[obj])
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        record_access(request, action=Action.DELETE, objects=list(queryset))
        super().delete_queryset(request, queryset)


class AuditedAutocompleteJsonView(AutocompleteJsonView):
    """The admin's autocomplete answers with the ids (and labels) of the records its search finds: for
    an admin of personal data that is a read like its list, and recorded like one."""

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        if isinstance(self.model_admin, AuditedAdminMixin):
            record_access(self.request, action=Action.LIST, objects=list(context["object_list"]))
        return context


def audited_autocomplete(request):
    """Served at the admin's own autocomplete address (crt/urls.py, before the admin's URLs)."""
    return AuditedAutocompleteJsonView.as_view(admin_site=admin.site)(request)


@admin.register(AccessLog)
class AccessLogAdmin(admin.ModelAdmin):
    """Who looked at what: supervisors' and staff admins' view of their program's trail."""

    list_display = ("at", "actor", "credential", "action", "object_type", "object_id", "individual_id", "route", "ip")
    list_select_related = ("actor", "credential")
    list_filter = ("action", "object_type")
    search_fields = ("=individual__id", "=object_id", "=request_id", "actor__username", "route")
    date_hierarchy = "at"
    show_full_result_count = False  # the trail is large: no COUNT(*) of all of it on every page

    def get_queryset(self, request):
        return AccessLog.objects.visible_to(request.user)

    # Model permissions do not decide here: the rows a user gets are AccessLog.objects.visible_to.
    def has_module_permission(self, request):
        return may_use_admin(request.user)

    def has_view_permission(self, request, obj=None):
        return may_use_admin(request.user)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
