from django.contrib import admin
from django.templatetags.static import static
from django.urls import include, path
from django.utils.functional import lazy
from django.views.generic import RedirectView

from accounts.views import admin_login
from audit.admin import audited_autocomplete
from crt.health import healthz
from crt.pages import home

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    # Browsers and bookmark tools ask for /favicon.ico whatever the pages link: the app's own icon.
    path("favicon.ico", RedirectView.as_view(url=lazy(static, str)("crt/favicon.ico"), permanent=True), name="favicon"),
    # Before the admin's own URLs: the admin signs in through the same login (password + second factor).
    path("admin/login/", admin_login, name="admin_login"),
    # ... and its autocomplete records what it answers with, as the admin's lists do (audit.admin).
    path("admin/autocomplete/", admin.site.admin_view(audited_autocomplete), name="admin_autocomplete"),
    path("admin/", admin.site.urls),
    path("accounts/", include("accounts.urls")),
    path("audit/", include("audit.urls")),
    path("api/", include("crt.api_urls")),
    path("fhir/r4/", include("referrals.fhir")),  # FHIR R4 facade (referrals as Task / ServiceRequest)
    path("hsds/", include("providers.hsds")),  # Open Referral HSDS 3.1, public
    # Staff web app and the partner page (cases/, referrals/ views; the partner page: referrals/partner_views.py).
    path("", home, name="home"),
    path("cases/", include("cases.urls")),
    path("referrals/", include("referrals.urls")),
    path("partner/", include("referrals.partner_urls")),
    path("inbox/", include("inbox.urls")),
    path("", include("metrics.urls")),  # /metrics/, /metrics/<measure>.csv, /api/v1/metrics/
]

# The API keeps its error shape even for addresses that match no route (crt/errors.py).
handler404 = "crt.errors.not_found"
handler500 = "crt.errors.server_error"
handler403 = "crt.errors.permission_denied"
handler400 = "crt.errors.bad_request"
