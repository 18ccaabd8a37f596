"""Idempotency-Key for API POSTs: a retried request never makes a change twice.

    same owner + key, same method/path/body, first answer stored -> that answer again (and nothing runs)
    same owner + key, different method, path or body               -> 422
    same owner + key while the first request is still running     -> 409

The owner is the partner credential or the user, so keys of different callers never meet. The key is
claimed (a row inserted, committed at once) after authentication and permission checks, before the
view runs; the answer is stored when the view returns. A 5xx, or a crash, releases the key, so the
client may retry. Keys are kept IDEMPOTENCY_TTL (24 hours); an older key may be reused, and beat
deletes older keys every hour (purge_expired, the task crt.purge_idempotency_keys in providers.sweeps).
"""

import hashlib
import json
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework.response import Response
from rest_framework.utils.encoders import JSONEncoder

from crt.api import ConflictError, Unprocessable, is_partner, problem
from providers.models import IdempotencyRecord

IDEMPOTENCY_TTL = timedelta(hours=24)
REPLAYED_HEADERS = ("ETag", "Location")


class _Replay(Exception):
    def __init__(self, record: IdempotencyRecord):
        self.record = record


def _owner(request) -> str | None:
    if is_partner(request):
        return f"credential:{request.auth.pk}"
    if getattr(request.user, "is_authenticated", False):
        return f"user:{request.user.pk}"
    return None


def _fingerprint(request) -> str:
    body = request._request.body if hasattr(request, "_request") else b""
    digest = hashlib.sha256()
    for part in (request.method.encode(), request.path.encode(), body):
        digest.update(hashlib.sha256(part).digest())
    return digest.hexdigest()


def purge_expired(now) -> int:
    """Delete keys older than the TTL (stored answers may hold personal data); a range delete on the
    created_at index. Beat runs it hourly (crt.purge_idempotency_keys); returns how many went."""
    deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=now - IDEMPOTENCY_TTL).delete()
    return deleted


class IdempotentMixin:
    """Mix into a DRF view: every POST that carries Idempotency-Key is made at most once."""

    idempotency_exempt_actions: tuple[str, ...] = ()

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        key = request.headers.get("Idempotency-Key")
        if request.method != "POST" or not key or getattr(self, "action", None) in self.idempotency_exempt_actions:
            return
        owner = _owner(request)
        if owner is None:
            return
        if len(key) > 200:
            raise Unprocessable("The Idempotency-Key must be at most 200 characters.")
        fingerprint = _fingerprint(request)
        now = timezone.now()
        IdempotencyRecord.objects.filter(owner=owner, key=key, created_at__lt=now - IDEMPOTENCY_TTL).delete()
        try:
            with transaction.atomic():
                record = IdempotencyRecord.objects.create(
                    owner=owner,
                    key=key,
                    method=request.method,
                    path=request.path[:300],
                    request_hash=fingerprint,
                    created_at=now,
                )
        except IntegrityError:
            record = IdempotencyRecord.objects.filter(owner=owner, key=key).first()
            if record is None:  # released between our insert and our read: the caller may retry
                raise ConflictError("A request with this Idempotency-Key is in progress; retry shortly.") from None
            if record.request_hash != fingerprint:
                raise Unprocessable("This Idempotency-Key was used for a different request.") from None
            if record.status_code is None:
                raise ConflictError("A request with this Idempotency-Key is still in progress.") from None
            raise _Replay(record) from None
        request._crt_idempotency_record = record

    def handle_exception(self, exc):
        if isinstance(exc, _Replay):
            record = exc.record
            response = Response(record.response_body, status=record.status_code)
            for name, value in record.response_headers.items():
                if name != "Content-Type":
                    response[name] = value
            if "Content-Type" in record.response_headers:
                response.content_type = record.response_headers["Content-Type"]
            response["Idempotent-Replayed"] = "true"
            return response
        return super().handle_exception(exc)

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        record = getattr(request, "_crt_idempotency_record", None)
        if record is None:
            return response
        request._crt_idempotency_record = None
        if response.status_code >= 500:
            IdempotencyRecord.objects.filter(pk=record.pk).delete()  # nothing was done: may be retried
            return response
        body = json.loads(json.dumps(getattr(response, "data", None), cls=JSONEncoder))
        headers = {name: response[name] for name in REPLAYED_HEADERS if name in response}
        if getattr(response, "content_type", None):
            headers["Content-Type"] = response.content_type
        IdempotencyRecord.objects.filter(pk=record.pk).update(
            status_code=response.status_code,
            response_body=body,
            response_headers=headers,
            completed_at=timezone.now(),
        )
        return response


__all__ = ["IDEMPOTENCY_TTL", "IdempotentMixin", "problem", "purge_expired"]
