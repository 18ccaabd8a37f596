from django.contrib import admin
from django.urls import path

from crt.health import healthz

admin.site.site_header = "CRT Case & Referral — operations"
admin.site.site_title = "CRT operations"

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
]
