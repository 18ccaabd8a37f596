"""The page layout's context for every template: which base template a signed-in user's pages extend
(staff navigation, the partner area's, or none), the staff navigation's flags, and whether the
operations console (Django admin) will let this user in. Shared pages (account, metrics, the error
pages) extend `base_template`, so they show the navigation of whoever is looking."""

from django.contrib import admin

BARE = "base.html"
STAFF = "cases/staff_base.html"
PARTNER = "providers/partner_base.html"


def layout(request) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"base_template": BARE}
    if user.is_partner_user:
        return {"base_template": PARTNER, "can_admin": False}
    if user.program_id is None:
        return {"base_template": BARE, "can_admin": admin.site.has_permission(request)}
    from cases.views import nav  # the staff navigation's one rule

    return {"base_template": STAFF, "nav": nav(user), "can_admin": admin.site.has_permission(request)}
