from django.urls import path

from audit import views

app_name = "audit"
urlpatterns = [
    path("people/<int:individual_id>/access/", views.access_history, name="access_history"),
    path("people/<int:individual_id>/disclosures.csv", views.disclosures_csv, name="disclosures_csv"),
    path("break-glass/", views.break_glass_review, name="break_glass_review"),
    path("break-glass/<int:pk>/end/", views.break_glass_end, name="break_glass_end"),
]
