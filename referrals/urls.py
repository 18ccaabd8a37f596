from django.urls import path

from referrals import views

app_name = "referrals"
urlpatterns = [
    path("new/<int:case_pk>/", views.new_referral, name="new"),
    path("new/<int:case_pk>/consent/<int:service_pk>/", views.record_consent, name="record_consent"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/cancel/", views.cancel, name="cancel"),
]
