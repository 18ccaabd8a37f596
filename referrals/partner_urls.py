from django.urls import path

from referrals import partner_views as views

# The namespace keeps its first name, so that every link and reverse() of the partner pages stands.
app_name = "providers"
urlpatterns = [
    path("", views.partner_home, name="partner_home"),
    path("referrals/<int:pk>/", views.partner_referral, name="partner_referral"),
    path("referrals/<int:pk>/<slug:move>/", views.partner_move, name="partner_move"),
    path("capacity/", views.partner_capacities, name="partner_capacities"),
    path("capacity/<int:pk>/", views.partner_capacity, name="partner_capacity"),
]
