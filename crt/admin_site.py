"""The operations console's site: Django's admin, for staff admins and the network admin only.

Every other staff role does its whole day in the staff app; the admin refuses them as it refuses
anyone signed out (accounts.roles.may_use_admin). Installed as the default admin site by
CRTAdminConfig (INSTALLED_APPS), so every `admin.register` lands here.
"""

from django.contrib.admin import AdminSite
from django.contrib.admin.apps import AdminConfig

from accounts.roles import may_use_admin


class CRTAdminSite(AdminSite):
    site_header = "CRT Case & Referral — operations"
    site_title = "CRT operations"

    def has_permission(self, request):
        return may_use_admin(request.user)


class CRTAdminConfig(AdminConfig):
    default_site = "crt.admin_site.CRTAdminSite"
