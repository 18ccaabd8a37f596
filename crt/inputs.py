"""Input the database cannot take, refused at the door as a 400 instead of failing as a 500 deep inside.

One place for the rules every surface shares (the staff and partner API, FHIR, HSDS, the pages):

- an instant (a date-time filter) whose UTC offset is beyond +/-15:59: Python takes offsets up to
  23:59 but PostgreSQL does not ("time zone displacement out of range");
- a NUL character in a query string: PostgreSQL text cannot hold one (QueryStringGuardMiddleware
  refuses it for every path, API filters and admin change-list filters alike);
- JSON nested deeper than MAX_JSON_DEPTH (crt.api.LimitedJSONParser): Python's parser recurses.

And the API's query filters say in the OpenAPI schema exactly what they take, and refuse the rest
(issue 14 item 9): InstantFilter, IdFilter, StrictBooleanFilter, and StrictFilterBackend, which
refuses an empty value for any filter (`?updated_since=` is not "no filter", it is a mistake).

And the checks every service makes of what it is given, whoever calls it (a page, the API, a task):
`aware_datetime` (a date and time with a time zone), `is_ahead` (a time that has happened, in the
future beyond CLOCK_SKEW, how far a phone's clock may run ahead) and `clean_text` (text, stripped,
within a length). They raise Django
ValidationErrors with code "invalid"; `field` names the form field in `params`, for the pages.
"""

from datetime import UTC, datetime, timedelta

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema_field
from rest_framework import exceptions

# A phone's clock may run a little ahead of the server's: a time this far ahead still happened.
CLOCK_SKEW = timedelta(minutes=5)
# PostgreSQL's widest UTC offset (timestamptz input); RFC 3339 allows up to 23:59.
MAX_UTC_OFFSET = timedelta(hours=15, minutes=59)
# Our request bodies nest three levels at most; anything far deeper is not ours.
MAX_JSON_DEPTH = 32
INSTANT_HELP = (
    "ISO 8601 / RFC 3339 date-time (a date alone means its midnight UTC); a UTC offset, if given, within \u00b115:59."
)
# What the schema says an instant looks like, as the server checks it (OpenAPI pattern).
INSTANT_PATTERN = r"^\d{4}-\d{2}-\d{2}([Tt ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?([Zz]|[+-](0\d|1[0-5]):?[0-5]\d)?)?$"


def check_offset(moment: datetime) -> datetime:
    offset = moment.utcoffset()
    if offset is not None and abs(offset) > MAX_UTC_OFFSET:
        raise ValidationError("The UTC offset must be within \u00b115:59.", code="invalid")
    return moment


def parse_instant(raw: str) -> datetime:
    """A date or date-time as the API's filters take it, aware (naive means UTC); ValidationError if not."""
    try:
        moment = parse_datetime(raw)
    except ValueError:  # well formed but impossible: 25:00, or an offset of a day or more
        moment = None
    if moment is None:
        try:
            day = parse_date(raw)
        except ValueError:
            day = None
        if day is None:
            raise ValidationError("A date or date and time, ISO 8601.", code="invalid")
        moment = datetime(day.year, day.month, day.day, tzinfo=UTC)
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment, UTC)
    return check_offset(moment)


def _invalid(message: str, field: str | None) -> ValidationError:
    return ValidationError(message, code="invalid", params={"field": field} if field else None)


def aware_datetime(value, label: str, *, required: bool = True, field: str | None = None) -> datetime | None:
    """`value` if it is a date and time with a time zone; None if it is None and not `required`."""
    if value is None:
        if required:
            raise _invalid(f"The {label} is required.", field)
        return None
    if not isinstance(value, datetime) or timezone.is_naive(value):
        raise _invalid(f"The {label} must be a date and time with a time zone.", field)
    return value


def is_ahead(moment: datetime) -> bool:
    """Whether a time said to have happened is in the future, beyond what a phone's clock may be ahead."""
    return moment > timezone.now() + CLOCK_SKEW


def clean_text(
    value, label: str, *, max_length: int, required: bool = False, none_is_empty: bool = False, field: str | None = None
) -> str:
    """`value` stripped, if it is text of at most `max_length` characters (and not empty, if `required`).
    None is refused as not text, unless `none_is_empty` (a form's field left out)."""
    if value is None and none_is_empty:
        value = ""
    if not isinstance(value, str):
        raise _invalid(f"The {label} must be text.", field)
    value = value.strip()
    if required and not value:
        raise _invalid(f"The {label} is required.", field)
    if len(value) > max_length:
        raise _invalid(f"The {label} must be at most {max_length} characters.", field)
    return value


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


def query_has_nul(request) -> bool:
    return any("\x00" in key or any("\x00" in value for value in values) for key, values in request.GET.lists())


def json_depth_exceeds(data, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether parsed JSON nests deeper than `limit` (iteratively: no recursion on hostile input)."""
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict | list):
            if depth > limit:
                return True
            children = value.values() if isinstance(value, dict) else value
            stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False
