"""Input the database cannot take, refused at the door as a 400 instead of failing as a 500 deep inside.

One place for the rules every surface shares (the staff and partner API, FHIR, HSDS, the pages):

- an instant (a date-time filter) whose UTC offset is beyond +/-15:59: Python takes offsets up to
  23:59 but PostgreSQL does not ("time zone displacement out of range");
- a NUL character in a query string: PostgreSQL text cannot hold one (QueryStringGuardMiddleware
  refuses it for every path, API filters and admin change-list filters alike);
- JSON nested deeper than MAX_JSON_DEPTH (crt.api.LimitedJSONParser): Python's parser recurses.
"""

from datetime import UTC, datetime, timedelta

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

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


class InstantField(forms.Field):
    def to_python(self, value):
        if value in self.empty_values:
            return None
        return parse_instant(str(value))


class InstantFilter(django_filters.Filter):
    """A date-time filter for the API's FilterSets: ISO 8601, offsets PostgreSQL can store, else a 400."""

    field_class = InstantField


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
