"""Shared DRF pieces for /api/v1/: who is acting, one error shape, pagination, ETags, limits.

Every 4xx and 5xx the API answers is an RFC 9457 problem document (application/problem+json):

    {"type": "urn:crt:problem:<code>", "title": "...", "status": 409, "detail": "...",
     "code": "<code>", "errors": [{"field": "reason", "message": "...", "code": "required"}]}

Services raise Django ValidationErrors whose `code` says what happened (referrals.services); the
table CODE_STATUS turns that code into the HTTP status, so services never import DRF.
"""

import io
import logging
import re

import orjson
from django.conf import settings
from django.core.cache.backends.redis import RedisCache
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.http import Http404
from drf_spectacular.utils import OpenApiParameter
from rest_framework import exceptions, renderers, serializers, status
from rest_framework.pagination import CursorPagination
from rest_framework.parsers import JSONParser
from rest_framework.permissions import BasePermission
from rest_framework.response import Response
from rest_framework.throttling import SimpleRateThrottle
from rest_framework.views import exception_handler as drf_exception_handler

from accounts.roles import is_program_staff
from crt.inputs import MAX_JSON_DEPTH, json_depth_exceeds
from providers.models import PartnerCredential

logger = logging.getLogger(__name__)

PROBLEM_CONTENT_TYPE = "application/problem+json"

# Service error code -> HTTP status. A code not listed is a 422: the request was understood but a
# rule said no, and nothing changed.
CODE_STATUS = {
    "not_found": status.HTTP_404_NOT_FOUND,
    "forbidden": status.HTTP_403_FORBIDDEN,
    "invalid_transition": status.HTTP_409_CONFLICT,
    "conflict": status.HTTP_409_CONFLICT,
    "service_unavailable": status.HTTP_409_CONFLICT,
    "invalid": status.HTTP_422_UNPROCESSABLE_ENTITY,
    "reason_required": status.HTTP_422_UNPROCESSABLE_ENTITY,
    "no_consent": status.HTTP_422_UNPROCESSABLE_ENTITY,
}
TITLES = {
    400: "Bad request",
    401: "Not authenticated",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    406: "Not acceptable",
    409: "Conflict",
    412: "Precondition failed",
    413: "Request body too large",
    415: "Unsupported media type",
    422: "Unprocessable content",
    428: "Precondition required",
    429: "Too many requests",
    500: "Server error",
}


# --- who is acting ------------------------------------------------------------------------------


def actor(request):
    """The partner credential the request carries, else the signed-in user."""
    if isinstance(request.auth, PartnerCredential):
        return request.auth
    return request.user


def is_partner(request) -> bool:
    return isinstance(getattr(request, "auth", None), PartnerCredential)


def is_staff(request) -> bool:
    user = request.user
    if is_partner(request) or not getattr(user, "is_authenticated", False):
        return False
    return is_program_staff(user)


class IsPartnerCredential(BasePermission):
    message = "This endpoint is for partner credentials (Authorization: Bearer crt_...)."

    def has_permission(self, request, view):
        return is_partner(request)


class IsProgramStaff(BasePermission):
    message = "This endpoint is for program staff."

    def has_permission(self, request, view):
        return is_staff(request)


# --- errors -------------------------------------------------------------------------------------


class PreconditionRequired(exceptions.APIException):
    status_code = 428
    default_detail = "Send If-Match with the ETag you last read; updates without it are refused."
    default_code = "precondition_required"


class PreconditionFailed(exceptions.APIException):
    status_code = 412
    default_detail = "The record changed since you read it: read it again and retry with its new ETag."
    default_code = "precondition_failed"


class PayloadTooLarge(exceptions.APIException):
    status_code = 413
    default_detail = "The request body is too large."
    default_code = "payload_too_large"


class Unprocessable(exceptions.APIException):
    status_code = 422
    default_detail = "The request cannot be processed."
    default_code = "unprocessable"


class ConflictError(exceptions.APIException):
    status_code = 409
    default_detail = "Conflict."
    default_code = "conflict"


def problem(status_code: int, *, code: str, detail: str, errors=None, headers=None) -> Response:
    body = {
        "type": f"urn:crt:problem:{code}",
        "title": TITLES.get(status_code, "Error"),
        "status": status_code,
        "detail": detail,
        "code": code,
    }
    if errors:
        body["errors"] = errors
    response = Response(body, status=status_code, headers=headers, content_type=PROBLEM_CONTENT_TYPE)
    return response


def _field_errors(detail, prefix: str = "") -> list[dict]:
    """DRF's nested error detail, flattened to [{"field", "message", "code"}]."""
    found = []
    if isinstance(detail, dict):
        for key, value in detail.items():
            name = "" if key == "non_field_errors" else f"{prefix}{key}"
            found += _field_errors(value, f"{name}." if name else "")
    elif isinstance(detail, list):
        for index, value in enumerate(detail):
            if isinstance(value, dict | list):
                found += _field_errors(value, f"{prefix}{index}.")
            else:
                found += _field_errors(value, prefix)
    else:
        found.append({"field": prefix.rstrip("."), "message": str(detail), "code": getattr(detail, "code", "invalid")})
    return found


def exception_handler(exc, context):
    """Every error as a problem document; a Django ValidationError from a service by its code."""
    if isinstance(exc, DjangoValidationError):
        code = getattr(exc, "code", None) or "invalid"
        message = " ".join(exc.messages)
        return problem(CODE_STATUS.get(code, 422), code=code, detail=message)
    if isinstance(exc, RequestDataTooBig):
        exc = PayloadTooLarge()
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    if isinstance(exc, exceptions.APIException):
        response = drf_exception_handler(exc, context)
        status_code = exc.status_code
        if isinstance(exc, exceptions.ValidationError):
            errors = _field_errors(exc.detail)
            return problem(
                400, code="invalid_request", detail="The request has invalid or missing fields.", errors=errors
            )
        detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
        code = getattr(exc.detail, "code", None) or exc.default_code
        headers = {}
        if response is not None:
            for name in ("WWW-Authenticate", "Retry-After", "Allow"):
                if name in response:
                    headers[name] = response[name]
        return problem(status_code, code=code, detail=detail, headers=headers)
    # Anything else is our bug: log it (ids only, never the body) and answer in the same shape.
    logger.exception("Unhandled API error in %s", context["view"].__class__.__name__)
    if transaction.get_connection().in_atomic_block:  # outside one there is nothing to roll back
        transaction.set_rollback(True)
    return problem(500, code="server_error", detail="Something went wrong on our side; nothing was changed.")


class ProblemSerializer(serializers.Serializer):
    """RFC 9457 problem details, as every error of this API is shaped."""

    type = serializers.CharField(help_text="A URI naming the kind of problem: urn:crt:problem:<code>.")
    title = serializers.CharField()
    status = serializers.IntegerField()
    detail = serializers.CharField()
    code = serializers.CharField(help_text="Stable machine-readable code, e.g. invalid_transition.")
    errors = serializers.ListField(
        child=serializers.DictField(child=serializers.CharField()),
        required=False,
        help_text='Field errors: [{"field": "reason", "message": "...", "code": "required"}].',
    )


# --- output -------------------------------------------------------------------------------------


class JSONRenderer(renderers.JSONRenderer):
    """DRF's JSON, written by orjson: the same bytes (compact, UTF-8, U+2028 and U+2029 escaped as
    DRF escapes them; dates, times and decimals through DRF's encoder) in a fraction of the time, which
    counts on lists of 100 rows (docs/performance.md, "Partner API"). An indented answer (Accept:
    application/json; indent=N) and anything orjson does not take are left to DRF."""

    _ORJSON_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if data is None or self.get_indent(accepted_media_type or "", renderer_context or {}):
            return super().render(data, accepted_media_type, renderer_context)
        try:
            body = orjson.dumps(data, default=self.encoder_class().default, option=self._ORJSON_OPTIONS)
        except TypeError:  # an integer beyond 64 bits, a key that is not a string, ...
            return super().render(data, accepted_media_type, renderer_context)
        return body.replace(b"\xe2\x80\xa8", b"\\u2028").replace(b"\xe2\x80\xa9", b"\\u2029")


# --- input --------------------------------------------------------------------------------------


class LimitedJSONParser(JSONParser):
    """JSON only, no body over API_MAX_BODY_BYTES (checked before reading it), nested at most
    MAX_JSON_DEPTH levels (crt.inputs)."""

    def parse(self, stream, media_type=None, parser_context=None):
        request = (parser_context or {}).get("request")
        limit = settings.API_MAX_BODY_BYTES
        if request is not None:
            try:
                length = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                length = 0
            if length > limit:
                raise PayloadTooLarge(f"The request body is larger than {limit} bytes.")
        data = stream.read(limit + 1) if stream is not None else b""
        if len(data) > limit:
            raise PayloadTooLarge(f"The request body is larger than {limit} bytes.")
        try:
            parsed = super().parse(io.BytesIO(data), media_type, parser_context)
        except RecursionError:
            parsed = None
        else:
            if not json_depth_exceeds(parsed):
                return parsed
        raise exceptions.ParseError(f"JSON nested more than {MAX_JSON_DEPTH} levels deep.")


def _schema_fragments(field) -> list[dict]:
    return [fragment for v in getattr(field, "validators", []) if (fragment := getattr(v, "openapi", None))]


def _schema_pattern(field) -> str | None:
    return next((fragment["pattern"] for fragment in _schema_fragments(field) if fragment.get("pattern")), None)


def _schema_description(field) -> str:
    return next((fragment["description"] for fragment in _schema_fragments(field) if fragment.get("description")), "")


class StrictSerializer(serializers.Serializer):
    """An input serializer that refuses fields it does not know, instead of silently ignoring them, and
    text fields given as anything but a string."""

    def to_internal_value(self, data):
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError({name: ["Unknown field."] for name in unknown})
            # DRF turns 0 or true into "0" or "True" for a text field; the schema says string.
            not_text = sorted(
                name
                for name, field in self.fields.items()
                if isinstance(field, serializers.CharField) and name in data and data[name] is not None
                and not isinstance(data[name], str)
            )  # fmt: skip
            if not_text:
                raise serializers.ValidationError({name: ["Not a string."] for name in not_text})
            # A validator's schema pattern (crt.schema) holds on the server too: what the schema
            # forbids is refused, not parsed leniently (a bare date for a date-time, year 0350).
            off_pattern = sorted(
                name
                for name, field in self.fields.items()
                for pattern in [_schema_pattern(field)]
                if pattern and isinstance(data.get(name), str) and not re.search(pattern, data[name])
            )
            if off_pattern:
                raise serializers.ValidationError(
                    {name: [_schema_description(self.fields[name])] for name in off_pattern}
                )
        return super().to_internal_value(data)


# --- pagination and throttling ------------------------------------------------------------------


class Pagination(CursorPagination):
    """Cursor pagination: stable under inserts, and no OFFSET scans on big lists."""

    page_size = 25
    page_size_query_param = "page_size"
    max_page_size = 100
    ordering = ("-updated_at", "-id")

    def get_page_size(self, request):
        """page_size, if given, is a whole number from 1, as the schema says (true, 2.5 or null are a
        400, not the default); more than max_page_size gives max_page_size."""
        raw = request.query_params.getlist(self.page_size_query_param)
        if not raw:
            return self.page_size
        if len(raw) > 1 or not raw[0].isascii() or not raw[0].isdigit() or int(raw[0]) < 1:
            raise exceptions.ValidationError({self.page_size_query_param: ["A whole number from 1."]})
        return min(int(raw[0]), self.max_page_size)

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"] = {"type": "integer", "minimum": 1}
                most = self.max_page_size
                parameter["description"] = (
                    f"Results per page (default {self.page_size}); more than {most} gives {most}."
                )
        return parameters

    def get_paginated_response_schema(self, schema):
        link = {"type": ["string", "null"], "format": "uri", "description": "Cursor URL of the next/previous page."}
        return {
            "type": "object",
            "required": ["results"],
            "properties": {"next": link, "previous": link, "results": schema},
        }


class ApiRateThrottle(SimpleRateThrottle):
    """One bucket per partner credential or per user (per address when anonymous): 429 + Retry-After.

    A fixed window: one counter in the cache per bucket and period (`API_THROTTLE_RATE`, e.g. 600 a
    minute), incremented by every request, refused past the rate until the period ends. DRF's own
    throttle keeps the time of every request of the last period in one cache entry, read and
    written whole by every request: at 600 a minute that is a list of 600 floats sent to Redis and
    back on every call, and its cost grows with the rate (docs/performance.md, "Partner API").
    """

    scope = "api"

    def get_rate(self):
        return settings.API_THROTTLE_RATE

    def allow_request(self, request, view):
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        self.now = self.timer()
        window = int(self.now // self.duration)
        self.window_ends_at = (window + 1) * self.duration
        return self._count(f"{self.key}:{window}") <= self.num_requests

    def _count(self, key: str) -> int:
        """Add this request to the window's counter; return the count. On Redis, one round trip:
        INCR and EXPIRE sent together (Django's cache API takes two to five)."""
        timeout = self.duration + 1
        if isinstance(self.cache, RedisCache):
            key = self.cache.make_and_validate_key(key)
            client = self.cache._cache.get_client(key, write=True)
            count, _ = client.pipeline(transaction=False).incr(key).expire(key, timeout).execute()
            return count
        try:
            return self.cache.incr(key)
        except ValueError:  # the window's first request (or its counter expired meanwhile)
            return 1 if self.cache.add(key, 1, timeout) else self.cache.incr(key)

    def wait(self):
        """Seconds until the window ends (Retry-After), at least one."""
        return max(1.0, self.window_ends_at - self.now)

    def get_cache_key(self, request, view):
        if is_partner(request):
            ident = f"credential:{request.auth.pk}"
        elif getattr(request.user, "is_authenticated", False):
            ident = f"user:{request.user.pk}"
        else:
            ident = f"anon:{self.get_ident(request)}"
        return f"throttle:{self.scope}:{ident}"


# --- ETag / If-Match ----------------------------------------------------------------------------


def etag_of(obj) -> str:
    return f'"{obj.pk}-{obj.version}"'


def with_etag(response: Response, obj) -> Response:
    response["ETag"] = etag_of(obj)
    return response


def check_if_match(request, current) -> None:
    """428 without If-Match, 412 when it names another version. Call with the row locked."""
    header = request.headers.get("If-Match")
    if not header:
        raise PreconditionRequired()
    tags = [tag.strip() for tag in header.split(",")]
    if "*" in tags:
        return
    wanted = etag_of(current)
    if not any(tag.removeprefix("W/") == wanted for tag in tags):
        raise PreconditionFailed()


IF_MATCH = OpenApiParameter(
    "If-Match",
    str,
    OpenApiParameter.HEADER,
    required=True,
    description='The ETag of the record as you last read it, e.g. "42-3". Missing: 428; stale: 412.',
)
IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    str,
    OpenApiParameter.HEADER,
    required=False,
    description="Any unique string (a UUID). Repeating a POST with the same key and body returns the first "
    "answer; the same key with another body is a 422; a repeat while the first is still running is a 409. "
    "Keys are kept 24 hours, per credential or user.",
)


def error_responses(*codes: int) -> dict:
    from drf_spectacular.utils import OpenApiResponse

    codes = (*codes, 500)  # anything may fail on our side, in the same shape
    return {
        (code, PROBLEM_CONTENT_TYPE): OpenApiResponse(ProblemSerializer, description=TITLES.get(code, "Error"))
        for code in codes
    }


# --- audit --------------------------------------------------------------------------------------


def audit(request, objects, *, action: str, detail: str = "") -> None:
    """Record the access before any data leaves. A partner's read is a disclosure to its organisation."""
    from audit.access import record_access, record_disclosure
    from audit.models import Action

    if is_partner(request) and action in (Action.VIEW, Action.LIST):
        record_disclosure(request, objects=objects, to=request.auth.organization, detail=detail)
        return
    record_access(request, action=action, objects=objects, detail=detail)


def validated(serializer_class, request, **kwargs) -> dict:
    serializer = serializer_class(data=request.data, **kwargs)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def referenced(queryset, pk: int | None, what: str):
    """The row an input names by id, from `queryset` (scoped to what the caller may see), else a 404
    "<what> not found." (someone else's record answers as none does); None when no id was given."""
    if pk is None:
        return None
    row = queryset.filter(pk=pk).first()
    if row is None:
        raise exceptions.NotFound(f"{what} not found.")
    return row


def paginated_by(*ordering: str) -> type[Pagination]:
    """Cursor pagination over another ordering (the first field should be indexed and mostly unique)."""
    return type("Pagination", (Pagination,), {"ordering": ordering})


# Rules across fields that JSON Schema can say, added to the request bodies' components by name.
BODY_RULES = {
    # One recipient per consent: an organisation, or a need domain (cases.intake.record_consent).
    "ConsentInputRequest": {
        "oneOf": [
            {"required": ["recipient_organization"], "properties": {"recipient_organization": {"type": "integer"}}},
            {
                "required": ["recipient_category"],
                "properties": {"recipient_category": {"$ref": "#/components/schemas/NeedDomainEnum"}},
            },
        ],
    },
}


def strict_request_bodies(result, generator, request, public):
    """drf-spectacular hook: request bodies refuse unknown fields (StrictSerializer), so say so; and
    the rules across fields of BODY_RULES."""
    for name, component in result.get("components", {}).get("schemas", {}).items():
        if name.endswith("Request") and component.get("type") == "object":
            component["additionalProperties"] = False
        if name in BODY_RULES:
            component.update(BODY_RULES[name])
    return result
