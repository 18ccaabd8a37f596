"""Open Referral HSDS 3.1 at /hsds/: the partner directory as HSDS JSON, public and read-only.

    /hsds/                              API meta information
    /hsds/services, /services/{id}      services (capacity included)
    /hsds/organizations, /{id}          organisations (active ones)
    /hsds/service_at_locations, /{id}   services at their locations

Lists take search, page, per_page (at most 100), modified_after, taxonomy_term_id and taxonomy_id
(our need domains are the one taxonomy), and organization_id for services. Bodies validate against
the HSDS 3.1 compiled JSON schemas (tests/api/test_hsds.py). A confidential location (a shelter
whose address is never published) does not appear at all, nor does its service-at-location.

HSDS ids are UUIDs: ours are derived from the primary key, so they are stable and reversible:
    0000000<kind>-0000-4000-8000-<pk as 12 hex digits>
"""

import math
import uuid

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Prefetch, Q
from django.urls import path
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from crt.inputs import parse_instant
from providers.models import Location, NeedDomain, Organization, Service, ServiceAtLocation, ServiceCapacity

HSDS_VERSION = "3.1"
MAX_PER_PAGE = 100
DEFAULT_PER_PAGE = 50
KINDS = {"organization": 1, "service": 2, "location": 3, "service_at_location": 4, "capacity": 5, "term": 6,
         "taxonomy": 7, "unit": 8, "address": 9, "language": 10, "attribute": 11}  # fmt: skip
TAXONOMY_ID = "00000007-0000-4000-8000-000000000001"
NEED_TERMS = {domain: f"00000006-0000-4000-8000-{index + 1:012x}" for index, domain in enumerate(NeedDomain.values)}
TERM_DOMAINS = {term: domain for domain, term in NEED_TERMS.items()}


def hsds_id(kind: str, pk: int) -> str:
    return f"{KINDS[kind]:08x}-0000-4000-8000-{pk:012x}"


def pk_of(kind: str, value: str) -> int | None:
    try:
        parsed = uuid.UUID(value)
    except ValueError:
        return None
    text = str(parsed)
    if not text.startswith(f"{KINDS[kind]:08x}-0000-4000-8000-"):
        return None
    return int(text.rsplit("-", 1)[1], 16)


def _stamp(value) -> str:
    return value.isoformat()


def _drop_empty(data: dict) -> dict:
    """HSDS string fields take no null: leave out what we do not know."""
    return {key: value for key, value in data.items() if value not in (None, "")}


# --- bodies -------------------------------------------------------------------------------------


def organization_body(organization: Organization) -> dict:
    return _drop_empty(
        {
            "id": hsds_id("organization", organization.pk),
            "name": organization.name,
            "description": organization.description or organization.name,
            "email": organization.email,
            "website": organization.website,
        }
    )


def _term(domain: str) -> dict:
    return {
        "id": NEED_TERMS[domain],
        "code": domain,
        "name": NeedDomain(domain).label,
        "description": f"Need domain: {NeedDomain(domain).label}.",
        "taxonomy_id": TAXONOMY_ID,
    }


def _capacity(capacity: ServiceCapacity) -> dict:
    return _drop_empty(
        {
            "id": hsds_id("capacity", capacity.pk),
            "service_id": hsds_id("service", capacity.service_id),
            "unit": {"id": hsds_id("unit", capacity.pk), "name": capacity.unit},
            "available": capacity.available,
            "maximum": capacity.maximum,
            "description": capacity.description,
            "updated": _stamp(capacity.updated_at),
        }
    )


def location_body(location: Location) -> dict:
    body = {
        "id": hsds_id("location", location.pk),
        "location_type": "physical",
        "organization_id": hsds_id("organization", location.organization_id),
        "name": location.name,
    }
    if location.latitude is not None and location.longitude is not None:
        body["latitude"] = float(location.latitude)
        body["longitude"] = float(location.longitude)
    if location.address_1 and location.city and location.state_province and location.postal_code:
        body["addresses"] = [
            {
                "id": hsds_id("address", location.pk),
                "location_id": body["id"],
                "address_1": location.address_1,
                "city": location.city,
                "state_province": location.state_province,
                "postal_code": location.postal_code,
                "country": location.country,
                "address_type": "physical",
            }
        ]
    return body


def _service_core(service: Service) -> dict:
    body = {
        "id": hsds_id("service", service.pk),
        "organization_id": hsds_id("organization", service.organization_id),
        "name": service.name,
        "description": service.description,
        "status": service.status,
        "application_process": service.application_process,
        "fees_description": service.fees,
        "eligibility_description": service.eligibility,
        "minimum_age": service.min_age,
        "maximum_age": service.max_age,
        "assured_date": service.assured_at.date().isoformat() if service.assured_at else None,
        "last_modified": _stamp(service.updated_at),
    }
    return _drop_empty(body)


def sal_body(sal: ServiceAtLocation, *, with_service: bool) -> dict:
    body = {
        "id": hsds_id("service_at_location", sal.pk),
        "service_id": hsds_id("service", sal.service_id),
        "location_id": hsds_id("location", sal.location_id),
        "location": location_body(sal.location),
    }
    if sal.hours:
        body["description"] = f"Hours: {sal.hours}"
    if with_service:
        body["service"] = _service_core(sal.service)
    return body


def service_body(service: Service, *, full: bool) -> dict:
    body = _service_core(service)
    body["organization"] = organization_body(service.organization)
    if not full:
        return body
    body["languages"] = [
        {"id": hsds_id("language", service.pk * 1000 + i), "service_id": body["id"], "code": code}
        for i, code in enumerate(service.languages or [])
    ]
    body["capacities"] = [_capacity(c) for c in service.capacities.all()]
    body["service_at_locations"] = [sal_body(sal, with_service=False) for sal in service.public_sals]
    body["attributes"] = [
        {
            "id": hsds_id("attribute", service.pk),
            "link_id": body["id"],
            "link_type": "service",
            "link_entity": "service",
            "taxonomy_term_id": NEED_TERMS[service.need_domain],
            "taxonomy_term": _term(service.need_domain),
        }
    ]
    return body


# --- views --------------------------------------------------------------------------------------


def _public_sals():
    return ServiceAtLocation.objects.filter(location__is_confidential=False).select_related("location").order_by("id")


def _services():
    return (
        Service.objects.filter(organization__is_active=True)
        .select_related("organization")
        .prefetch_related(Prefetch("service_at_locations", _public_sals(), to_attr="public_sals"), "capacities")
        .order_by("id")
    )


class HsdsView(APIView):
    authentication_classes = []  # public: no credentials, so no credential errors either
    permission_classes = [AllowAny]
    filter_params = {"search", "page", "per_page", "modified_after", "taxonomy_term_id", "taxonomy_id", "format"}

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        if response.status_code == 200:
            response["Cache-Control"] = "public, max-age=60"  # no personal data here
        return response

    def page(self, request, queryset, render) -> Response:
        params = request.query_params
        unknown = sorted(set(params) - self.filter_params)
        if unknown:
            raise exceptions.ValidationError({name: ["Unsupported parameter."] for name in unknown})
        page = self._positive(params.get("page", "1"), "page")
        per_page = min(self._positive(params.get("per_page", str(DEFAULT_PER_PAGE)), "per_page"), MAX_PER_PAGE)
        total = queryset.count()
        offset = (page - 1) * per_page
        # Past the end is an empty page, and no OFFSET the database cannot take (page=2**63-1).
        rows = list(queryset[offset : offset + per_page]) if offset < total else []
        pages = max(1, math.ceil(total / per_page))
        return Response(
            {
                "total_items": total,
                "total_pages": pages,
                "page_number": page,
                "size": len(rows),
                "first_page": page == 1,
                "last_page": page >= pages,
                "empty": total == 0,
                "contents": [render(row) for row in rows],
            }
        )

    @staticmethod
    def _positive(raw: str, name: str) -> int:
        if not raw.isdigit() or int(raw) < 1:
            raise exceptions.ValidationError({name: ["A whole number from 1."]})
        return int(raw)

    @staticmethod
    def modified_after(request, queryset, field: str):
        raw = request.query_params.get("modified_after")
        if not raw:
            return queryset
        try:
            moment = parse_instant(raw)
        except DjangoValidationError as error:
            raise exceptions.ValidationError({"modified_after": error.messages}) from None
        return queryset.filter(**{f"{field}__gte": moment})

    @staticmethod
    def taxonomy(request, queryset, domain_field: str):
        term = request.query_params.get("taxonomy_term_id")
        if term:
            queryset = queryset.filter(**{domain_field: TERM_DOMAINS.get(term, "-")})
        taxonomy = request.query_params.get("taxonomy_id")
        if taxonomy and taxonomy != TAXONOMY_ID:
            queryset = queryset.none()
        return queryset


class MetaView(HsdsView):
    @extend_schema(exclude=True)
    def get(self, request):
        return Response(
            {
                "version": HSDS_VERSION,
                "profile": "https://docs.openreferral.org/en/latest/hsds/",
                "openapi_url": request.build_absolute_uri("/api/schema/"),
            }
        )


class ServiceListView(HsdsView):
    filter_params = HsdsView.filter_params | {"organization_id", "full"}

    @extend_schema(exclude=True)
    def get(self, request):
        queryset = self.modified_after(request, _services(), "updated_at")
        queryset = self.taxonomy(request, queryset, "need_domain")
        if search := request.query_params.get("search"):
            queryset = queryset.filter(Q(name__icontains=search) | Q(description__icontains=search))
        if org := request.query_params.get("organization_id"):
            queryset = queryset.filter(organization_id=pk_of("organization", org) or 0)
        full = request.query_params.get("full") == "true"
        return self.page(request, queryset, lambda s: service_body(s, full=full))


class ServiceDetailView(HsdsView):
    @extend_schema(exclude=True)
    def get(self, request, id: str):
        service = _services().filter(pk=pk_of("service", id) or 0).first()
        if service is None:
            raise exceptions.NotFound("No such service.")
        return Response(service_body(service, full=True))


class OrganizationListView(HsdsView):
    @extend_schema(exclude=True)
    def get(self, request):
        queryset = Organization.objects.filter(is_active=True).order_by("id")
        queryset = self.modified_after(request, queryset, "updated_at")
        if request.query_params.get("taxonomy_term_id") or request.query_params.get("taxonomy_id"):
            services = self.taxonomy(request, Service.objects.all(), "need_domain")
            queryset = queryset.filter(pk__in=services.values("organization_id"))
        if search := request.query_params.get("search"):
            queryset = queryset.filter(Q(name__icontains=search) | Q(description__icontains=search))
        return self.page(request, queryset, organization_body)


class OrganizationDetailView(HsdsView):
    @extend_schema(exclude=True)
    def get(self, request, id: str):
        organization = Organization.objects.filter(is_active=True, pk=pk_of("organization", id) or 0).first()
        if organization is None:
            raise exceptions.NotFound("No such organization.")
        body = organization_body(organization)
        services = _services().filter(organization=organization)
        body["services"] = [service_body(s, full=False) for s in services]
        return Response(body)


def _sals():
    return (
        _public_sals().filter(service__organization__is_active=True).select_related("service", "service__organization")
    )


class ServiceAtLocationListView(HsdsView):
    @extend_schema(exclude=True)
    def get(self, request):
        queryset = self.modified_after(request, _sals(), "updated_at")
        queryset = self.taxonomy(request, queryset, "service__need_domain")
        if search := request.query_params.get("search"):
            queryset = queryset.filter(Q(service__name__icontains=search) | Q(location__name__icontains=search))
        return self.page(request, queryset, lambda sal: sal_body(sal, with_service=True))


class ServiceAtLocationDetailView(HsdsView):
    @extend_schema(exclude=True)
    def get(self, request, id: str):
        sal = _sals().filter(pk=pk_of("service_at_location", id) or 0).first()
        if sal is None:
            raise exceptions.NotFound("No such service at location.")
        return Response(sal_body(sal, with_service=True))


urlpatterns = [
    path("", MetaView.as_view(), name="hsds-meta"),
    path("services", ServiceListView.as_view(), name="hsds-services"),
    path("services/<str:id>", ServiceDetailView.as_view(), name="hsds-service"),
    path("organizations", OrganizationListView.as_view(), name="hsds-organizations"),
    path("organizations/<str:id>", OrganizationDetailView.as_view(), name="hsds-organization"),
    path("service_at_locations", ServiceAtLocationListView.as_view(), name="hsds-service-at-locations"),
    path("service_at_locations/<str:id>", ServiceAtLocationDetailView.as_view(), name="hsds-service-at-location"),
]
