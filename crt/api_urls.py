"""/api/v1/ routes, the OpenAPI schema at /api/schema/ and its docs at /api/docs/ (assets served by the app)."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView
from rest_framework.routers import DefaultRouter

from cases.api import (
    CaseViewSet,
    ConsentViewSet,
    ContactViewSet,
    EncounterViewSet,
    FollowUpViewSet,
    IndividualViewSet,
)
from providers.api import DirectoryServiceViewSet, PartnerServiceViewSet, PartnerWebhookViewSet
from referrals.api import PartnerReferralViewSet, StaffReferralViewSet

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("partner/referrals", PartnerReferralViewSet, basename="partner-referral")
router.register("referrals", StaffReferralViewSet, basename="referral")
router.register("partner/services", PartnerServiceViewSet, basename="partner-service")
router.register("directory/services", DirectoryServiceViewSet, basename="directory-service")
router.register("individuals", IndividualViewSet, basename="individual")
router.register("encounters", EncounterViewSet, basename="encounter")
router.register("cases", CaseViewSet, basename="case")
router.register("contacts", ContactViewSet, basename="contact")
router.register("follow-ups", FollowUpViewSet, basename="follow-up")
router.register("consents", ConsentViewSet, basename="consent")
webhook = PartnerWebhookViewSet.as_view({"get": "retrieve", "put": "update"})
rotate_secret = PartnerWebhookViewSet.as_view({"post": "rotate_secret"})

urlpatterns = [
    path("v1/", include(router.urls)),
    path("v1/partner/webhook/", webhook, name="partner-webhook"),
    path("v1/partner/webhook/rotate-secret/", rotate_secret, name="partner-webhook-rotate-secret"),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves its start-up script as a file, so the page runs under our CSP (no inline script).
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path("redoc/", SpectacularRedocView.as_view(url_name="api-schema"), name="api-redoc"),
]
