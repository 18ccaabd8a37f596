"""Program metrics: the supervisor dashboard, CSV exports and the API for the city's data team.

Included at the site root: path("", include("metrics.urls")).
"""

from django.urls import path

from metrics import api, views

app_name = "metrics"

urlpatterns = [
    path("metrics/", views.dashboard, name="dashboard"),
    path("metrics/<slug:measure>.csv", views.measure_csv, name="csv"),
    path("api/v1/metrics/", api.MeasureList.as_view(), name="api-list"),
    path("api/v1/metrics/<slug:measure>/", api.MeasureDetail.as_view(), name="api-detail"),
]
