from django.urls import path

from referrals import views

app_name = "referrals"
urlpatterns = [
    path("new/<int:case_pk>/", views.new_referral, name="new"),
    path("new/<int:case_pk>/consent/<int:service_pk>/", views.record_consent, name="record_consent"),
    path("<int:pk>/", views.detail, name="detail"),
    # The sender's moves from the referral page (referrals.moves.SENDER_MOVES with a label).
    path("<int:pk>/<slug:verb>/", views.move, name="move"),
]
