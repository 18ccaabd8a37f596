from django.contrib import admin

from accounts.admin import ReadOnlyAdminMixin, ScopedAdmin
from inbox.models import Item


@admin.register(Item)
class ItemAdmin(ReadOnlyAdminMixin, ScopedAdmin):
    """Items are raised and resolved by the services and sweeps, and acted on in the inbox pages."""

    list_display = ("created_at", "kind", "level", "state", "recipient", "cause_key")
    list_select_related = ("recipient",)
    list_filter = ("kind", "state", "level")
    search_fields = ("=referral__id", "=cause_key", "recipient__username")
    date_hierarchy = "created_at"
