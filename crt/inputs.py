"""Input the database cannot take, refused at the door as a 400 instead of failing as a 500 deep inside.

One place for the rules every surface shares (the staff and partner API, FHIR, HSDS, the pages):

- an instant (a date-time filter) whose UTC offset is beyond +/-15:59: Python takes offsets up to
  23:59 but PostgreSQL does not ("time zone displacement out of range");
- a NUL character in a query string: PostgreSQL text cannot hold one (QueryStringGuardMiddleware
  refuses it for every path, API filters and admin change-list filters alike);
- JSON nested deeper than MAX_JSON_DEPTH (crt.api.LimitedJSONParser): Python's parser recurses.

The API's query filters that keep these rules are crt.api_filters (they need DRF; this module does
not, so that services and jobs can use it).

And the checks every service makes of what it is given, whoever calls it (a page, the API, a task):
`aware_datetime` (a date and time with a time zone), `is_ahead` (a time that has happened, in the
future beyond CLOCK_SKEW, how far a phone's clock may run ahead) and `clean_text` (text, stripped,
within a length). They raise Django
ValidationErrors with code "invalid"; `field` names the form field in `params`, for the pages.
"""

from datetime import UTC, datetime, timedelta

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

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
