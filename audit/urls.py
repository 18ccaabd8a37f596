from django.urls import path

from audit import views

app_name = "audit"
urlpatterns = [
    path("people/<int:individual_id>/access/", views.access_history, name="access_history"),
    path("people/<int:individual_id>/disclosures.csv", views.disclosures_csv, name="disclosures_csv"),
]
