from django.urls import path

from cases import breakglass_views, case_views, encounter_views, people_views, safety_plan_views, views

app_name = "cases"
urlpatterns = [
    path("", views.caseload, name="caseload"),
    path("people/", views.people, name="people"),
    path("people/<int:pk>/", views.person, name="person"),
    path("people/<int:pk>/emergency-access/", breakglass_views.break_glass, name="break_glass"),
    path("people/new/", people_views.person_new, name="person_new"),
    path("people/<int:pk>/pick/", people_views.person_pick, name="person_pick"),
    path("people/<int:pk>/edit/", people_views.person_edit, name="person_edit"),
    path("people/<int:pk>/merge/", people_views.person_merge, name="person_merge"),
    path("merges/<int:pk>/", people_views.merge, name="merge"),
    path("people/<int:person_pk>/support/new/", people_views.support_new, name="support_new"),
    path("support/<int:pk>/edit/", people_views.support_edit, name="support_edit"),
    path("support/<int:pk>/end/", people_views.support_end, name="support_end"),
    path("support/<int:pk>/consent/", people_views.support_consent, name="support_consent"),
    path("consents/<int:pk>/revoke/", people_views.consent_revoke, name="consent_revoke"),
    path("cases/<int:pk>/contact/", views.log_contact, name="log_contact"),
    path("cases/<int:pk>/safety-plan/", safety_plan_views.safety_plan_edit, name="safety_plan_edit"),
    path("cases/<int:pk>/safety-plan/v<int:version>/", safety_plan_views.safety_plan, name="safety_plan"),
    path(
        "cases/<int:pk>/safety-plan/v<int:version>/copy/",
        safety_plan_views.safety_plan,
        {"print_view": True},
        name="safety_plan_copy",
    ),
    path("cases/<int:pk>/safety-plan/v<int:version>.pdf", safety_plan_views.safety_plan_pdf, name="safety_plan_pdf"),
    path("cases/<int:pk>/reassign/", views.reassign, name="reassign"),
    path("follow-ups/<int:pk>/dismiss/", views.dismiss_follow_up, name="dismiss_follow_up"),
    path("cases/<int:pk>/close/", case_views.close_case, name="close_case"),
    path("cases/<int:pk>/reopen/", case_views.reopen_case, name="reopen_case"),
    path("people/<int:pk>/open-case/", case_views.open_case_for_person, name="open_case"),
    path("encounters/<int:pk>/open-case/", case_views.open_case_from_encounter, name="open_case_from_encounter"),
    path("team/", views.team, name="team"),
    path("people/<int:person_pk>/encounters/new/", encounter_views.encounter_new, name="encounter_new"),
    path("encounters/new/", encounter_views.encounter_new, name="encounter_new_unknown"),
    path("encounters/<int:pk>/", encounter_views.encounter, name="encounter"),
    path("encounters/<int:pk>/edit/", encounter_views.encounter_edit, name="encounter_edit"),
]
