"""Request-wide security plumbing: a request id, the client address, and the response headers.

- RequestIdMiddleware gives every request a fresh id (request.request_id, the X-Request-ID response
  header, and every log line through RequestIdLogFilter) and works out the client address once
  (request.client_ip) for the audit log.
- QueryStringGuardMiddleware refuses a query string with a NUL character (crt.inputs): 400, in the
  API's error shape under /api/, /fhir/ and /hsds/, before any view or admin change list runs a query.
- SecurityHeadersMiddleware adds the Content-Security-Policy and `Cache-Control: no-store` to every
  response. Django's SecurityMiddleware adds HSTS, X-Content-Type-Options and Referrer-Policy.
"""

import logging
import uuid
from contextvars import ContextVar

from django.conf import settings

from crt.client_ip import client_ip
from crt.inputs import query_has_nul

_request_id: ContextVar[str] = ContextVar("crt_request_id", default="-")

# Django 5.2's change list renders one inline <style> block when a ModelAdmin turns off both action
# bars; the admin's policy allows exactly that block by its hash and nothing else inline. (tests/
# security/test_headers.py renders it and checks the hash.) Every other admin page of Django 5.2 uses
# only static scripts and styles: no inline script, no style attribute, no event handler attribute.
ADMIN_INLINE_STYLE_HASHES = ("'sha256-blvLUW3UscWqsXGByNOqdBboM+ShWAuugp2mC/wbafU='",)
# The API docs page (Swagger UI) also shows images written as data: URLs; nothing else does.
API_DOCS = "/api/docs/"


def current_request_id() -> str:
    return _request_id.get()


class RequestIdMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        # Always our own id: one sent by a client could be chosen to collide with another request's.
        request.request_id = uuid.uuid4().hex
        request.client_ip = client_ip(request)
        token = _request_id.set(request.request_id)
        try:
            response = self.get_response(request)
        finally:
            _request_id.reset(token)
        response["X-Request-ID"] = request.request_id
        return response


class RequestIdLogFilter(logging.Filter):
    """Adds %(request_id)s to every log record ("-" outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = _request_id.get()
        return True


def content_security_policy(path: str) -> str:
    policy = settings.CONTENT_SECURITY_POLICY
    if path.startswith(API_DOCS):
        # Swagger UI's stylesheet draws its small icons (copy, select arrow, checkbox) as data: images.
        policy = policy.replace("img-src 'self'", "img-src 'self' data:", 1)
    if path.startswith("/admin/"):
        policy = policy.replace("style-src 'self'", "style-src 'self' " + " ".join(ADMIN_INLINE_STYLE_HASHES), 1)
    return policy


class SecurityHeadersMiddleware:
    """CSP on every response (a view may set a stricter one itself), and no caching of anything
    that is not explicitly public: pages and API answers carry personal data."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = content_security_policy(request.path_info)
        cache_control = response.get("Cache-Control", "")
        if "no-store" not in cache_control and "public" not in cache_control:
            response["Cache-Control"] = "no-store"
        return response


class QueryStringGuardMiddleware:
    """A NUL character in a query string is a 400 everywhere (PostgreSQL text cannot hold one)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if query_has_nul(request):
            from crt.errors import bad_request_response

            return bad_request_response(request, "The address contains a NUL character.")
        return self.get_response(request)
