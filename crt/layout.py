"""The page layout's context for every template: which base template a signed-in user's pages extend
(staff navigation, the partner area's, or none), the staff navigation's flags, whether the
operations console (Django admin) will let this user in, and the staff user's break-glass grants in
force (the banner on every page). Shared pages (account, metrics, the error
pages) extend `base_template`, so they show the navigation of whoever is looking."""

from django.contrib import admin

BARE = "base.html"
STAFF = "cases/staff_base.html"
PARTNER = "referrals/partner_base.html"


def layout(request) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"base_template": BARE}
    if user.is_partner_user:
        return {"base_template": PARTNER, "can_admin": False}
    if user.program_id is None:
        return {"base_template": BARE, "can_admin": admin.site.has_permission(request)}
    from accounts.breakglass import active_grants
    from crt.pages import nav  # the staff navigation's one rule

    return {
        "base_template": STAFF,
        "nav": nav(user),
        "can_admin": admin.site.has_permission(request),
        # The break-glass banner in base.html (no query unless break_glass_until is still ahead).
        "break_glass_grants": active_grants(user),
    }
