"""Site-wide 404 and 500 handlers: the API answers in its own error shape even for paths that match
no route (RFC 9457 problem details for /api/, an OperationOutcome for /fhir/); pages get the app's own
400/403/404/500 pages (templates/NNN.html), inside the navigation of whoever is looking (crt.layout)."""

from django.http import HttpResponseBadRequest, JsonResponse
from django.views import defaults

from crt.api import PROBLEM_CONTENT_TYPE, TITLES

FHIR_CONTENT_TYPE = "application/fhir+json"
# Our problem codes -> FHIR's issue codes, where they differ ("forbidden" is FHIR's too).
FHIR_CODES = {
    "not_found": "not-found",
    "server_error": "exception",
    "invalid_request": "invalid",
    "bad_request": "invalid",
}


def _api_error(request, status: int, code: str, detail: str):
    if request.path.startswith("/fhir/"):
        outcome = {
            "resourceType": "OperationOutcome",
            "issue": [{"severity": "error", "code": FHIR_CODES.get(code, code), "diagnostics": detail}],
        }
        return JsonResponse(outcome, status=status, content_type=FHIR_CONTENT_TYPE)
    body = {
        "type": f"urn:crt:problem:{code}",
        "title": TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
        "code": code,
    }
    return JsonResponse(body, status=status, content_type=PROBLEM_CONTENT_TYPE)


def _is_api(request) -> bool:
    return request.path.startswith(("/api/", "/fhir/", "/hsds/"))


def not_found(request, exception=None):
    if _is_api(request):
        return _api_error(request, 404, "not_found", "There is nothing at this address.")
    return defaults.page_not_found(request, exception)


def bad_request_response(request, detail: str):
    """A 400 before any view ran: the API's shape under /api/, /fhir/, /hsds/; plain text elsewhere."""
    if _is_api(request):
        return _api_error(request, 400, "invalid_request", detail)
    return HttpResponseBadRequest(detail, content_type="text/plain; charset=utf-8")


def server_error(request):
    if _is_api(request):
        detail = "Something went wrong on our side; it has been logged. Try again later."
        return _api_error(request, 500, "server_error", detail)
    return defaults.server_error(request)


def permission_denied(request, exception=None):
    if _is_api(request):
        return _api_error(request, 403, "forbidden", "You are not allowed to do this.")
    return defaults.permission_denied(request, exception)


def bad_request(request, exception=None):
    if _is_api(request):
        return _api_error(request, 400, "bad_request", "The request is malformed.")
    return defaults.bad_request(request, exception)
