"""Test-only URLconf: the site's URLs, plus the metrics URLs until crt/urls.py includes them."""

from django.urls import include, path

from crt.urls import urlpatterns as site

_wired = any(getattr(pattern, "namespace", None) == "metrics" for pattern in site)
urlpatterns = [*site] if _wired else [*site, path("", include("metrics.urls"))]
