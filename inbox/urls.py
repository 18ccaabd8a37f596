from django.urls import path

from inbox import views

app_name = "inbox"

urlpatterns = [
    path("", views.inbox_list, name="list"),
    path("items/<int:pk>/", views.item_detail, name="item"),
    path("team/", views.team, name="team"),
    path("settings/", views.preferences, name="preferences"),
]
