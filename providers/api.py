"""The directory over the API.

/api/v1/directory/services/         program staff: search the directory (need, language, age, free
                                    capacity, distance from a point). No personal data.
/api/v1/partner/services/           a partner credential: its own services, and their capacity
                                    (`POST .../{id}/capacity/`: available and maximum in one call).
/api/v1/partner/webhook/            its webhook endpoint; `rotate-secret/` for a new signing secret.
"""

import hashlib

from django.db import transaction
from django.db.models import Prefetch
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_view
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from crt.api import (
    IDEMPOTENCY_KEY,
    IF_MATCH,
    IsPartnerCredential,
    IsProgramStaff,
    PreconditionFailed,
    PreconditionRequired,
    actor,
    error_responses,
    validated,
)
from crt.idempotency import IdempotentMixin
from providers import services
from providers.filters import ServiceFilter
from providers.models import Organization, Service, ServiceAtLocation
from providers.serializers import (
    CapacityInput,
    ServiceSerializer,
    WebhookInput,
    WebhookSecretSerializer,
    WebhookSerializer,
    webhook_view,
)

READ_ERRORS = error_responses(400, 401, 403, 404, 429)
WRITE_ERRORS = error_responses(400, 401, 403, 404, 409, 412, 413, 415, 422, 428, 429)


def _services():
    return (
        Service.objects.select_related("organization")
        .prefetch_related(
            Prefetch("service_at_locations", ServiceAtLocation.objects.select_related("location").order_by("id")),
            "capacities",
        )
        .order_by("-updated_at", "-id")
    )


def _tag(*parts) -> str:
    return '"' + hashlib.sha256("|".join(str(p) for p in parts).encode()).hexdigest()[:16] + '"'


def service_etag(service: Service) -> str:
    return _tag(
        service.pk,
        service.updated_at.isoformat(),
        *sorted((c.unit, c.updated_at.isoformat(), c.available, c.maximum) for c in service.capacities.all()),
    )


def organization_etag(organization: Organization) -> str:
    return _tag(organization.pk, organization.updated_at.isoformat())


def _require_match(request, current: str) -> None:
    header = request.headers.get("If-Match")
    if not header:
        raise PreconditionRequired()
    tags = [tag.strip().removeprefix("W/") for tag in header.split(",")]
    if "*" not in tags and current not in tags:
        raise PreconditionFailed()


@extend_schema_view(
    list=extend_schema(
        summary="Search the partner directory",
        description="Active and inactive services with capacity and its freshness. Confidential sites show no address.",
        responses={200: ServiceSerializer(many=True), **READ_ERRORS},
    ),
    retrieve=extend_schema(summary="One service", responses={200: ServiceSerializer, **READ_ERRORS}),
)
class DirectoryServiceViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    permission_classes = [IsProgramStaff]
    serializer_class = ServiceSerializer
    filterset_class = ServiceFilter
    lookup_value_regex = r"[0-9]+"

    def get_queryset(self):
        return _services().filter(organization__is_active=True)


@extend_schema_view(
    list=extend_schema(
        summary="Your organisation's services", responses={200: ServiceSerializer(many=True), **READ_ERRORS}
    ),
    retrieve=extend_schema(
        summary="One of your services",
        description="The ETag header is what If-Match needs to update capacity.",
        responses={200: ServiceSerializer, **READ_ERRORS},
    ),
)
class PartnerServiceViewSet(IdempotentMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    permission_classes = [IsPartnerCredential]
    queryset = Service.objects.none()  # for the schema; get_queryset scopes every request
    serializer_class = ServiceSerializer
    filterset_class = ServiceFilter
    lookup_value_regex = r"[0-9]+"

    def get_queryset(self):
        return _services().filter(organization_id=self.request.auth.organization_id)

    def retrieve(self, request, *args, **kwargs):
        service = self.get_object()
        response = Response(self.get_serializer(service).data)
        response["ETag"] = service_etag(service)
        return response

    def replayed_answer(self, obj, status):
        response = super().replayed_answer(obj, status)
        response["ETag"] = service_etag(obj)
        return response

    @extend_schema(
        summary="Update capacity (available and maximum in one call)",
        request=CapacityInput,
        parameters=[IF_MATCH, IDEMPOTENCY_KEY],
        responses={200: ServiceSerializer, **WRITE_ERRORS},
        examples=[OpenApiExample("Beds", value={"unit": "beds", "available": 4, "maximum": 20}, request_only=True)],
    )
    @action(detail=True, methods=["post"])
    def capacity(self, request, pk=None):
        if not self.get_queryset().filter(pk=pk).exists():
            raise NotFound("Service not found.")  # before the body: someone else's service is a 404
        data = validated(CapacityInput, request)
        with transaction.atomic():
            locked = self.get_queryset().filter(pk=pk).select_for_update(of=("self",)).first()
            if locked is None:
                raise NotFound("Service not found.")
            _require_match(request, service_etag(locked))
            services.update_capacity(
                locked,
                by=actor(request),
                unit=data["unit"],
                available=data["available"],
                maximum=data["maximum"],
                description=data.get("description"),
            )
        service = self.get_queryset().get(pk=pk)
        response = Response(self.get_serializer(service).data)
        response["ETag"] = service_etag(service)
        return response


class PartnerWebhookViewSet(IdempotentMixin, viewsets.GenericViewSet):
    permission_classes = [IsPartnerCredential]
    serializer_class = WebhookSerializer
    pagination_class = None
    filter_backends = []
    idempotency_exempt_actions = ("rotate_secret",)  # never store a secret in the idempotency table

    def _organization(self) -> Organization:
        return Organization.objects.get(pk=self.request.auth.organization_id)

    @extend_schema(summary="Your webhook endpoint", responses={200: WebhookSerializer, **READ_ERRORS})
    def retrieve(self, request):
        organization = self._organization()
        response = Response(WebhookSerializer(webhook_view(organization)).data)
        response["ETag"] = organization_etag(organization)
        return response

    @extend_schema(
        summary="Set your webhook endpoint (https)",
        description="Events are signed (Standard Webhooks). A secret is created, and returned once, if you had none.",
        request=WebhookInput,
        parameters=[IF_MATCH],
        responses={200: WebhookSerializer, **WRITE_ERRORS},
    )
    def update(self, request):
        data = validated(WebhookInput, request)
        with transaction.atomic():
            organization = Organization.objects.select_for_update().get(pk=request.auth.organization_id)
            _require_match(request, organization_etag(organization))
            organization, secret = services.set_webhook_url(organization, by=actor(request), url=data["webhook_url"])
        response = Response(WebhookSerializer({**webhook_view(organization), "new_secret": secret}).data)
        response["ETag"] = organization_etag(organization)
        return response

    @extend_schema(
        summary="Rotate the webhook signing secret (shown once)",
        request=None,
        description="Not idempotent by key (a stored answer would keep the secret): a retry makes another secret.",
        parameters=[IF_MATCH],
        responses={200: WebhookSecretSerializer, **WRITE_ERRORS},
    )
    @action(detail=False, methods=["post"], url_path="rotate-secret")
    def rotate_secret(self, request):
        with transaction.atomic():
            organization = Organization.objects.select_for_update().get(pk=request.auth.organization_id)
            _require_match(request, organization_etag(organization))
            organization, secret = services.rotate_webhook_secret(organization, by=actor(request))
        response = Response(
            {"secret": secret, "previous_secret_expires_at": organization.webhook_previous_secret_expires_at}
        )
        response["ETag"] = organization_etag(organization)
        return response
