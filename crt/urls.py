from django.contrib import admin
from django.urls import include, path

from accounts.views import admin_login
from cases.views import home
from crt.health import healthz

admin.site.site_header = "CRT Case & Referral — operations"
admin.site.site_title = "CRT operations"

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    # Before the admin's own URLs: the admin signs in through the same login (password + second factor).
    path("admin/login/", admin_login, name="admin_login"),
    path("admin/", admin.site.urls),
    path("accounts/", include("accounts.urls")),
    path("audit/", include("audit.urls")),
    path("api/", include("crt.api_urls")),
    path("fhir/r4/", include("referrals.fhir")),  # FHIR R4 facade (referrals as Task / ServiceRequest)
    path("hsds/", include("providers.hsds")),  # Open Referral HSDS 3.1, public
    # Staff web app and the partner page (cases/, referrals/, providers/ views).
    path("", home, name="home"),
    path("cases/", include("cases.urls")),
    path("referrals/", include("referrals.urls")),
    path("partner/", include("providers.urls")),
    path("", include("metrics.urls")),  # /metrics/, /metrics/<measure>.csv, /api/v1/metrics/
]

# The API keeps its error shape even for addresses that match no route (crt/errors.py).
handler404 = "crt.errors.not_found"
handler500 = "crt.errors.server_error"
