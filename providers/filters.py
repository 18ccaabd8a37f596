"""One FilterSet per directory list."""

import math
import re

import django_filters
from django.db.models import Exists, F, FloatField, OuterRef, Q
from django.db.models.functions import Cast
from drf_spectacular.utils import extend_schema_field
from rest_framework.exceptions import ValidationError

from crt.api_filters import StrictBooleanFilter
from providers.models import NeedDomain, Service, ServiceAtLocation, ServiceCapacity

# The schema's patterns are the server's checks (issue 14 item 9): one regex each, used by both.
LANGUAGE_PATTERN = r"^[a-z]{2}$"
_LATITUDE = r"-?(?:90(?:\.0+)?|[1-8]?[0-9](?:\.[0-9]+)?)"
_LONGITUDE = r"-?(?:180(?:\.0+)?|(?:1[0-7][0-9]|[1-9]?[0-9])(?:\.[0-9]+)?)"
NEAR_PATTERN = rf"^{_LATITUDE},{_LONGITUDE}$"
MAX_AGE = 130
MAX_KM = 500
KM_PER_DEGREE_LATITUDE = 110.574
KM_PER_DEGREE_LONGITUDE_AT_EQUATOR = 111.320


class ServiceFilter(django_filters.FilterSet):
    need_domain = django_filters.ChoiceFilter(choices=NeedDomain.choices)
    status = django_filters.ChoiceFilter(choices=Service.Status.choices)
    language = extend_schema_field({"type": "string", "pattern": LANGUAGE_PATTERN})(
        django_filters.CharFilter(
            method="filter_language", help_text="ISO 639-1 code (two letters), e.g. es.", strip=False
        )
    )
    age = extend_schema_field({"type": "integer", "minimum": 0, "maximum": MAX_AGE})(
        django_filters.NumberFilter(method="filter_age", help_text="Services whose age range includes this age.")
    )
    capacity_available = StrictBooleanFilter(
        method="filter_capacity", help_text="true: only services with some capacity free now."
    )
    near = extend_schema_field({"type": "string", "pattern": NEAR_PATTERN})(
        django_filters.CharFilter(
            method="filter_near",
            strip=False,  # the pattern is the whole rule: " 35,-97" is not a point
            help_text="A point 'latitude,longitude' in decimal degrees, e.g. 35.4676,-97.5164 (latitude -90..90, "
            "longitude -180..180); with within_km, services with a site that close.",
        )
    )
    within_km = extend_schema_field({"type": "number", "exclusiveMinimum": 0, "maximum": MAX_KM})(
        django_filters.NumberFilter(
            method="filter_noop", help_text=f"Distance from `near`, km, more than 0 and at most {MAX_KM} (default 10)."
        )
    )
    q = django_filters.CharFilter(method="filter_text", help_text="Words in the service's name or description.")

    class Meta:
        model = Service
        fields = ["need_domain", "status", "language", "age", "capacity_available", "near", "within_km", "q"]

    def filter_noop(self, queryset, name, value):
        if not 0 < value <= MAX_KM:
            raise ValidationError({"within_km": [f"Give a distance more than 0 and at most {MAX_KM} km."]})
        return queryset

    def filter_text(self, queryset, name, value):
        return queryset.filter(Q(name__icontains=value) | Q(description__icontains=value))

    def filter_language(self, queryset, name, value):
        if not re.search(LANGUAGE_PATTERN, value):
            raise ValidationError({"language": ["Use an ISO 639-1 code (two letters) such as en or es."]})
        return queryset.filter(languages__icontains=f'"{value}"')

    def filter_age(self, queryset, name, value):
        if value != int(value) or not 0 <= value <= MAX_AGE:
            raise ValidationError({"age": [f"A whole number of years from 0 to {MAX_AGE}."]})
        return queryset.filter(Q(min_age__isnull=True) | Q(min_age__lte=value)).filter(
            Q(max_age__isnull=True) | Q(max_age__gte=value)
        )

    def filter_capacity(self, queryset, name, value):
        free = Exists(ServiceCapacity.objects.filter(service=OuterRef("pk"), available__gt=0))
        return queryset.filter(free) if value else queryset.exclude(free)

    def filter_near(self, queryset, name, value):
        if not re.search(NEAR_PATTERN, value):
            raise ValidationError(
                {"near": ["Give 'latitude,longitude' in decimal degrees (latitude -90..90, longitude -180..180)."]}
            )
        latitude, longitude = (float(part) for part in value.split(","))
        km = float(self.form.cleaned_data.get("within_km") or 10)
        # An equirectangular approximation: plain arithmetic, so it runs the same on SQLite and
        # PostgreSQL, and is within a fraction of a percent at city distances.
        kx = KM_PER_DEGREE_LONGITUDE_AT_EQUATOR * math.cos(math.radians(latitude))
        ky = KM_PER_DEGREE_LATITUDE
        dx = (Cast(F("location__longitude"), FloatField()) - longitude) * kx
        dy = (Cast(F("location__latitude"), FloatField()) - latitude) * ky
        nearby = (
            ServiceAtLocation.objects.filter(service=OuterRef("pk"))
            .filter(location__latitude__isnull=False, location__is_confidential=False)
            .filter(location__latitude__range=(latitude - km / ky, latitude + km / ky))
            .alias(distance2=dx * dx + dy * dy)
            .filter(distance2__lte=km * km)
        )
        return queryset.filter(Exists(nearby))
