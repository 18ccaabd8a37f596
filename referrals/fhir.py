"""FHIR R4 facade at /fhir/r4/: referrals as Task (SDOH Clinical Care "Task for referral management")
with their ServiceRequest, and a CapabilityStatement at /fhir/r4/metadata.

Partners use the same credentials as the REST API and see the same referrals (addressed to their
organisation, once sent), with the same minimum-necessary rule: the Task and ServiceRequest carry the
person's name and the referral, never clinical detail. A partner may change Task.status,
statusReason and output (the outcome note) with PUT and If-Match; the change goes through
referrals.services exactly as the REST actions do. Errors are OperationOutcome resources.
Bodies are application/fhir+json.
"""

import base64
import binascii
from datetime import UTC, datetime

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.db.models import Q
from django.urls import path
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from audit.models import Action
from crt.api import (
    IsPartnerCredential,
    LimitedJSONParser,
    PreconditionFailed,
    PreconditionRequired,
    actor,
    audit,
)
from crt.inputs import parse_instant
from referrals import moves, services
from referrals.consent import PART2_REDISCLOSURE_NOTICE, person_withheld, with_disclosure_allowed
from referrals.models import Referral, Status
from referrals.serializers import PARTNER_DISCLOSURE

FHIR_JSON = "application/fhir+json"
TASK_PROFILE = "http://hl7.org/fhir/us/sdoh-clinicalcare/StructureDefinition/SDOHCC-TaskForReferralManagement"
SERVICE_REQUEST_PROFILE = "http://hl7.org/fhir/us/sdoh-clinicalcare/StructureDefinition/SDOHCC-ServiceRequest"
MAX_COUNT = 100
DEFAULT_COUNT = 50

# ServiceRequest.status for each Task (referral) status.
REQUEST_STATUS = {
    Status.DRAFT: "draft",
    Status.REQUESTED: "active",
    Status.ACCEPTED: "active",
    Status.IN_PROGRESS: "active",
    Status.ON_HOLD: "on-hold",
    Status.COMPLETED: "completed",
    Status.REJECTED: "revoked",
    Status.CANCELLED: "revoked",
    Status.FAILED: "revoked",
    Status.ENTERED_IN_ERROR: "entered-in-error",
}
ISSUE_CODE = {
    400: "invalid",
    401: "login",
    403: "forbidden",
    404: "not-found",
    405: "not-supported",
    409: "conflict",
    412: "conflict",
    413: "too-costly",
    415: "not-supported",
    422: "business-rule",
    428: "required",
    429: "throttled",
}


class FhirRenderer(JSONRenderer):
    media_type = FHIR_JSON
    format = "fhir"


class FhirPlainRenderer(JSONRenderer):
    """Answer application/fhir+json even to a client that asked for application/json."""

    media_type = "application/json"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if renderer_context and renderer_context.get("response") is not None:
            renderer_context["response"]["Content-Type"] = FHIR_JSON
        return super().render(data, accepted_media_type, renderer_context)


class FhirParser(LimitedJSONParser):
    media_type = FHIR_JSON


class JsonParser(LimitedJSONParser):
    media_type = "application/json"


def operation_outcome(status: int, code: str, diagnostics: str) -> Response:
    body = {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "error", "code": ISSUE_CODE.get(status, "exception"), "diagnostics": diagnostics}],
    }
    if code:
        body["issue"][0]["details"] = {"text": code}
    return Response(body, status=status, content_type=FHIR_JSON)


def _instant(value: datetime) -> str:
    return timezone.localtime(value, UTC).isoformat().replace("+00:00", "Z")


# --- resources ----------------------------------------------------------------------------------


def _person_reference(referral: Referral) -> dict:
    reference = {"reference": f"Patient/{referral.individual_id}"}
    if not person_withheld(referral):  # no name once consent no longer covers the referral
        reference["display"] = referral.individual.display_name
    return reference


def _owner(referral: Referral) -> dict:
    return {"reference": f"Organization/{referral.organization_id}", "display": referral.organization.name}


def _requester(referral: Referral) -> dict:
    return {
        "display": referral.program.name,
        "identifier": {"system": "urn:crt:program", "value": str(referral.program_id)},
    }


def _meta(referral: Referral, profile: str) -> dict:
    meta = {"versionId": str(referral.version), "lastUpdated": _instant(referral.updated_at), "profile": [profile]}
    if referral.includes_part2:
        meta["security"] = [
            {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "42CFRPart2"},
            {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "NORDSCLCD"},
        ]
    return meta


# Once consent no longer covers a referral, the partner reads only that: no name, no reason, no
# status reason, business status or outcome note (issue 14, item 4).
WITHDRAWN_NOTE = {"text": "Consent withdrawn: the person's details and this referral's reasons are no longer shared."}


def task_resource(referral: Referral) -> dict:
    withheld = person_withheld(referral)
    task = {
        "resourceType": "Task",
        "id": str(referral.pk),
        "meta": _meta(referral, TASK_PROFILE),
        "status": referral.status,
        "intent": "order",
        "code": {
            "coding": [
                {
                    "system": "http://hl7.org/fhir/CodeSystem/task-code",
                    "code": "fulfill",
                    "display": "Fulfill the focal request",
                }
            ]
        },
        "focus": {"reference": f"ServiceRequest/{referral.pk}"},
        "for": _person_reference(referral),
        "authoredOn": _instant(referral.created_at),
        "lastModified": _instant(referral.updated_at),
        "requester": _requester(referral),
        "owner": _owner(referral),
    }
    if withheld:
        task["note"] = [WITHDRAWN_NOTE]
        return task
    if referral.status_reason:
        task["statusReason"] = {"text": referral.status_reason}
    if referral.business_status:
        task["businessStatus"] = {
            "coding": [{"system": "urn:crt:referral-business-status", "code": referral.business_status}],
            "text": referral.get_business_status_display(),
        }
    if referral.outcome_note:
        task["output"] = [{"type": {"text": "outcome note"}, "valueString": referral.outcome_note}]
    return task


def service_request_resource(referral: Referral) -> dict:
    request = {
        "resourceType": "ServiceRequest",
        "id": str(referral.pk),
        "meta": _meta(referral, SERVICE_REQUEST_PROFILE),
        "status": REQUEST_STATUS[referral.status],
        "intent": "order",
        "priority": referral.urgency,
        "category": [
            {
                "coding": [{"system": "urn:crt:need-domain", "code": referral.need_domain}],
                "text": referral.get_need_domain_display(),
            }
        ],
        "code": {"text": referral.service.name},
        "subject": _person_reference(referral),
        "authoredOn": _instant(referral.requested_at or referral.created_at),
        "requester": _requester(referral),
        "performer": [_owner(referral)],
    }
    notes = [{"text": PART2_REDISCLOSURE_NOTICE}] if referral.includes_part2 else []
    if person_withheld(referral):
        notes.append(WITHDRAWN_NOTE)
    else:
        request["reasonCode"] = [{"text": referral.reason}]
    if notes:
        request["note"] = notes
    return request


# --- views --------------------------------------------------------------------------------------


class FhirView(APIView):
    renderer_classes = [FhirRenderer, FhirPlainRenderer]
    parser_classes = [FhirParser, JsonParser]
    permission_classes = [IsPartnerCredential]

    def handle_exception(self, exc):
        response = super().handle_exception(exc)  # crt.api.exception_handler: a problem document
        body = getattr(response, "data", None) or {}
        outcome = operation_outcome(response.status_code, body.get("code", ""), body.get("detail", ""))
        for name in ("WWW-Authenticate", "Retry-After"):
            if name in response:
                outcome[name] = response[name]
        return outcome

    def referrals(self):
        scoped = Referral.objects.visible_to(actor(self.request)).select_related(
            "individual", "organization", "program", "service"
        )
        return with_disclosure_allowed(scoped, at=timezone.now())


def _count(request) -> int:
    raw = request.query_params.get("_count", str(DEFAULT_COUNT))
    if not raw.isdigit() or int(raw) < 1:
        raise exceptions.ValidationError({"_count": ["A whole number from 1."]})
    return min(int(raw), MAX_COUNT)


def _filter_last_updated(queryset, values: list[str]):
    prefixes = {"ge": "gte", "gt": "gt", "le": "lte", "lt": "lt", "eq": "gte"}
    for value in values:
        prefix, rest = (value[:2], value[2:]) if value[:2] in prefixes else ("eq", value)
        try:
            moment = parse_instant(rest)
        except DjangoValidationError as error:
            messages = [f"Not a date or instant: {value}.", *error.messages]
            raise exceptions.ValidationError({"_lastUpdated": messages}) from None
        queryset = queryset.filter(**{f"updated_at__{prefixes[prefix]}": moment})
    return queryset


def _page_token(referral: Referral) -> str:
    return base64.urlsafe_b64encode(f"{referral.updated_at.isoformat()}|{referral.pk}".encode()).decode()


def _after_token(queryset, token: str):
    try:
        moment, pk = base64.urlsafe_b64decode(token.encode()).decode().split("|")
        moment, pk = datetime.fromisoformat(moment), int(pk)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise exceptions.ValidationError({"_page_token": ["Not a page token from this server."]}) from None
    return queryset.filter(Q(updated_at__lt=moment) | Q(updated_at=moment, pk__lt=pk))


class TaskSearchView(FhirView):
    resource = "Task"

    @extend_schema(exclude=True)
    def get(self, request):
        queryset = self.referrals()
        params = request.query_params
        allowed = {"owner", "status", "_lastUpdated", "_include", "_count", "_page_token", "_id", "_format"}
        unknown = sorted(set(params) - allowed)
        if unknown:
            raise exceptions.ValidationError({name: ["Unsupported search parameter."] for name in unknown})
        if "_id" in params:
            queryset = queryset.filter(pk__in=[v for v in params["_id"].split(",") if v.isdigit()])
        for owner in params.getlist("owner"):
            org_id = owner.removeprefix("Organization/")
            queryset = queryset.filter(organization_id=int(org_id)) if org_id.isdigit() else queryset.none()
        if "status" in params:
            statuses = params["status"].split(",")
            if not set(statuses) <= set(Status.values):
                raise exceptions.ValidationError({"status": ["Unknown Task status."]})
            queryset = queryset.filter(status__in=statuses)
        queryset = _filter_last_updated(queryset, params.getlist("_lastUpdated"))
        include = params.getlist("_include")
        if set(include) - {"Task:focus"}:
            raise exceptions.ValidationError({"_include": ["Only Task:focus is supported."]})
        if "_page_token" in params:
            queryset = _after_token(queryset, params["_page_token"])
        count = _count(request)
        rows = list(queryset.order_by("-updated_at", "-pk")[: count + 1])
        page, more = rows[:count], len(rows) > count
        audit(request, page, action=Action.LIST, detail=PARTNER_DISCLOSURE)
        entries = [self._entry(task_resource(r), "match") for r in page]
        if include:
            entries += [self._entry(service_request_resource(r), "include") for r in page]
        bundle = {
            "resourceType": "Bundle",
            "type": "searchset",
            "link": [{"relation": "self", "url": request.build_absolute_uri()}],
            "entry": entries,
        }
        if more:
            query = params.copy()
            query["_page_token"] = _page_token(page[-1])
            bundle["link"].append(
                {"relation": "next", "url": request.build_absolute_uri(request.path) + "?" + query.urlencode()}
            )
        return Response(bundle, content_type=FHIR_JSON)

    def _entry(self, resource: dict, mode: str) -> dict:
        url = self.request.build_absolute_uri(f"/fhir/r4/{resource['resourceType']}/{resource['id']}")
        return {"fullUrl": url, "resource": resource, "search": {"mode": mode}}


class ServiceRequestSearchView(TaskSearchView):
    @extend_schema(exclude=True)
    def get(self, request):
        params = request.query_params
        unknown = sorted(set(params) - {"_id", "_lastUpdated", "_count", "_format"})
        if unknown:
            raise exceptions.ValidationError({name: ["Unsupported search parameter."] for name in unknown})
        queryset = self.referrals()
        if "_id" in params:
            queryset = queryset.filter(pk__in=[v for v in params["_id"].split(",") if v.isdigit()])
        queryset = _filter_last_updated(queryset, params.getlist("_lastUpdated"))
        page = list(queryset.order_by("-updated_at", "-pk")[: _count(request)])
        audit(request, page, action=Action.LIST, detail=PARTNER_DISCLOSURE)
        bundle = {
            "resourceType": "Bundle",
            "type": "searchset",
            "link": [{"relation": "self", "url": request.build_absolute_uri()}],
            "entry": [self._entry(service_request_resource(r), "match") for r in page],
        }
        return Response(bundle, content_type=FHIR_JSON)


def _version_tag(referral: Referral) -> str:
    return f'W/"{referral.version}"'


class TaskReadView(FhirView):
    @extend_schema(exclude=True)
    def get(self, request, pk: int):
        referral = self.referrals().filter(pk=pk).first()
        if referral is None:
            raise exceptions.NotFound(f"Task/{pk} is not known.")
        audit(request, [referral], action=Action.VIEW, detail=PARTNER_DISCLOSURE)
        response = Response(task_resource(referral), content_type=FHIR_JSON)
        response["ETag"] = _version_tag(referral)
        return response

    @extend_schema(exclude=True)
    def put(self, request, pk: int):
        """Change status, statusReason or output; everything else must be as read."""
        if not self.referrals().filter(pk=pk).exists():
            raise exceptions.NotFound(f"Task/{pk} is not known.")
        task = request.data
        if not isinstance(task, dict) or task.get("resourceType") != "Task" or str(task.get("id")) != str(pk):
            raise exceptions.ValidationError({"resourceType": ["Send the Task resource with its id."]})
        status = task.get("status")
        if status not in Status.values:
            raise exceptions.ValidationError({"status": ["Unknown Task status."]})
        reason = (task.get("statusReason") or {}).get("text", "") if isinstance(task.get("statusReason"), dict) else ""
        output = task.get("output") or []
        if not isinstance(output, list):
            raise exceptions.ValidationError({"output": ["A list."]})
        note = next((o.get("valueString", "") for o in output if isinstance(o, dict) and "valueString" in o), "")
        if not isinstance(reason, str) or not isinstance(note, str):
            raise exceptions.ValidationError({"statusReason": ["Text only."]})
        with transaction.atomic():
            locked = Referral.objects.visible_to(actor(request)).select_for_update().filter(pk=pk).first()
            if locked is None:
                raise exceptions.NotFound(f"Task/{pk} is not known.")
            header = request.headers.get("If-Match")
            if not header:
                raise PreconditionRequired()
            if header.strip().removeprefix("W/") != f'"{locked.version}"':
                raise PreconditionFailed()
            self._apply(locked, status=status, reason=reason, note=note)
            referral = self.referrals().get(pk=pk)
            audit(request, [referral], action=Action.UPDATE)
        response = Response(task_resource(referral), content_type=FHIR_JSON)
        response["ETag"] = _version_tag(referral)
        return response

    def _apply(self, referral: Referral, *, status: str, reason: str, note: str) -> None:
        """The partner's move that sets the Task's new status (referrals.moves), with statusReason as its
        reason and the output as its outcome note where it takes them; the same status only updates the
        outcome note."""
        by = actor(self.request)
        if status == referral.status:
            if note and note != referral.outcome_note:
                services.record_outcome_note(referral, by=by, note=note)
            return
        move = moves.partner_move_to(status)
        if move is None:
            raise exceptions.PermissionDenied("A partner cannot set this status.")
        move.make(referral, by=by, reason=reason, outcome_note=note)


class ServiceRequestReadView(FhirView):
    @extend_schema(exclude=True)
    def get(self, request, pk: int):
        referral = self.referrals().filter(pk=pk).first()
        if referral is None:
            raise exceptions.NotFound(f"ServiceRequest/{pk} is not known.")
        audit(request, [referral], action=Action.VIEW, detail=PARTNER_DISCLOSURE)
        response = Response(service_request_resource(referral), content_type=FHIR_JSON)
        response["ETag"] = _version_tag(referral)
        return response


class CapabilityStatementView(FhirView):
    permission_classes = []

    @extend_schema(exclude=True)
    def get(self, request):
        search = [
            {"name": "owner", "type": "reference"},
            {"name": "status", "type": "token"},
            {"name": "_lastUpdated", "type": "date"},
            {"name": "_id", "type": "token"},
        ]
        statement = {
            "resourceType": "CapabilityStatement",
            "status": "active",
            "date": "2026-11-26",
            "kind": "instance",
            "software": {"name": "CRT Case & Referral"},
            "implementation": {"description": "CRT referral facade", "url": request.build_absolute_uri("/fhir/r4")},
            "fhirVersion": "4.0.1",
            "format": [FHIR_JSON, "json"],
            "rest": [
                {
                    "mode": "server",
                    "security": {
                        "service": [{"text": "Bearer partner credential (the REST API's key)"}],
                        "description": "Authorization: Bearer crt_<prefix>_<secret>",
                    },
                    "resource": [
                        {
                            "type": "Task",
                            "supportedProfile": [TASK_PROFILE],
                            "interaction": [{"code": "read"}, {"code": "update"}, {"code": "search-type"}],
                            "versioning": "versioned-update",
                            "conditionalUpdate": False,
                            "searchInclude": ["Task:focus"],
                            "searchParam": search,
                        },
                        {
                            "type": "ServiceRequest",
                            "supportedProfile": [SERVICE_REQUEST_PROFILE],
                            "interaction": [{"code": "read"}, {"code": "search-type"}],
                            "searchParam": [s for s in search if s["name"] in ("_lastUpdated", "_id")],
                        },
                    ],
                }
            ],
        }
        return Response(statement, content_type=FHIR_JSON)


urlpatterns = [
    path("metadata", CapabilityStatementView.as_view(), name="fhir-metadata"),
    path("Task", TaskSearchView.as_view(), name="fhir-task-search"),
    path("Task/<int:pk>", TaskReadView.as_view(), name="fhir-task"),
    path("ServiceRequest", ServiceRequestSearchView.as_view(), name="fhir-service-request-search"),
    path("ServiceRequest/<int:pk>", ServiceRequestReadView.as_view(), name="fhir-service-request"),
]

__all__ = ["service_request_resource", "task_resource", "urlpatterns"]
