"""One FilterSet per directory list."""

import math
import re

import django_filters
from django.db.models import Exists, F, FloatField, OuterRef, Q
from django.db.models.functions import Cast
from rest_framework.exceptions import ValidationError

from providers.models import NeedDomain, Service, ServiceAtLocation, ServiceCapacity

KM_PER_DEGREE_LATITUDE = 110.574
KM_PER_DEGREE_LONGITUDE_AT_EQUATOR = 111.320


class ServiceFilter(django_filters.FilterSet):
    need_domain = django_filters.ChoiceFilter(choices=NeedDomain.choices)
    status = django_filters.ChoiceFilter(choices=Service.Status.choices)
    language = django_filters.CharFilter(method="filter_language", help_text="ISO 639-1 code, e.g. es.")
    age = django_filters.NumberFilter(method="filter_age", help_text="Services whose age range includes this age.")
    capacity_available = django_filters.BooleanFilter(
        method="filter_capacity", help_text="true: only services with some capacity free now."
    )
    near = django_filters.CharFilter(
        method="filter_near", help_text="A point 'latitude,longitude'; with within_km, services with a site that close."
    )
    within_km = django_filters.NumberFilter(method="filter_noop", help_text="Distance from `near`, km (default 10).")
    q = django_filters.CharFilter(method="filter_text", help_text="Words in the service's name or description.")

    class Meta:
        model = Service
        fields = ["need_domain", "status", "language", "age", "capacity_available", "near", "within_km", "q"]

    def filter_noop(self, queryset, name, value):
        return queryset

    def filter_text(self, queryset, name, value):
        return queryset.filter(Q(name__icontains=value) | Q(description__icontains=value))

    def filter_language(self, queryset, name, value):
        if not re.fullmatch(r"[a-z]{2,3}", value):
            raise ValidationError({"language": ["Use an ISO 639-1 code such as en or es."]})
        return queryset.filter(languages__icontains=f'"{value}"')

    def filter_age(self, queryset, name, value):
        return queryset.filter(Q(min_age__isnull=True) | Q(min_age__lte=value)).filter(
            Q(max_age__isnull=True) | Q(max_age__gte=value)
        )

    def filter_capacity(self, queryset, name, value):
        free = Exists(ServiceCapacity.objects.filter(service=OuterRef("pk"), available__gt=0))
        return queryset.filter(free) if value else queryset.exclude(free)

    def filter_near(self, queryset, name, value):
        try:
            latitude, longitude = (float(part) for part in value.split(","))
        except ValueError:
            raise ValidationError({"near": ["Give 'latitude,longitude', e.g. 35.4676,-97.5164."]}) from None
        if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
            raise ValidationError({"near": ["Latitude is -90..90 and longitude -180..180."]})
        km = float(self.data.get("within_km") or 10)
        if not 0 < km <= 500:
            raise ValidationError({"within_km": ["Give a distance from 0 to 500 km."]})
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
