"""The API's query filters say in the OpenAPI schema exactly what they take, and refuse the rest
(issue 14 item 9): InstantFilter (crt.inputs' rule for instants), IdFilter, StrictBooleanFilter, and
StrictFilterBackend, which refuses an empty value for any filter (`?updated_since=` is not "no
filter", it is a mistake)."""

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema_field
from rest_framework import exceptions

from crt.inputs import INSTANT_HELP, parse_instant

# Ids are bigint primary keys.
MAX_ID = 2**63 - 1


class InstantField(forms.Field):
    def to_python(self, value):
        if value in self.empty_values:  # absent (StrictFilterBackend refuses a given empty value)
            return None
        return parse_instant(str(value))


@extend_schema_field(
    {
        "anyOf": [{"type": "string", "format": "date-time"}, {"type": "string", "format": "date"}],
        "description": INSTANT_HELP,
    }
)
class InstantFilter(django_filters.Filter):
    """A date-time filter for the API's FilterSets: ISO 8601, offsets PostgreSQL can store, else a 400."""

    field_class = InstantField


@extend_schema_field({"type": "integer", "minimum": 1, "maximum": MAX_ID})
class IdFilter(django_filters.NumberFilter):
    """A record id: a whole number from 1 (not 2.5, not 1e300)."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        super().__init__(*args, min_value=1, max_value=MAX_ID, **kwargs)


class StrictBooleanField(forms.Field):
    def to_python(self, value):
        if value in self.empty_values:
            return None
        if value in ("true", "false"):
            return value == "true"
        raise ValidationError("true or false.", code="invalid")


@extend_schema_field({"type": "boolean"})
class StrictBooleanFilter(django_filters.BooleanFilter):
    """true or false, as the schema says; anything else is a 400 (not silently "no filter")."""

    field_class = StrictBooleanField


class StrictFilterBackend(DjangoFilterBackend):
    """django-filter, but a filter given with an empty value is refused instead of ignored."""

    def filter_queryset(self, request, queryset, view):
        filterset_class = self.get_filterset_class(view, queryset)
        if filterset_class is not None:
            empty = sorted(
                name for name in filterset_class.base_filters if name in request.query_params
                and any(value == "" for value in request.query_params.getlist(name))
            )  # fmt: skip
            if empty:
                raise exceptions.ValidationError(
                    {name: ["Give a value, or leave the parameter out."] for name in empty}
                )
        return super().filter_queryset(request, queryset, view)
