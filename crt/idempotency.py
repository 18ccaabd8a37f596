"""Idempotency-Key for API POSTs: a retried request never makes a change twice.

    same owner + key, same method/path/body, first request done -> its outcome again (and nothing runs)
    same owner + key, different method, path or body              -> 422
    same owner + key while the first request is still running    -> 409

The owner is the partner credential or the user, so keys of different callers never meet. The key is
claimed (a row inserted, committed at once) after authentication and permission checks, before the
view runs; the outcome is stored when the view returns. A 4xx changed nothing and a 5xx or a crash
may not have: either releases the key, so the client may retry.

What is stored is the outcome, never the answer: the status code and which record it was about
(`IdempotentMixin.idempotent_outcome`: ids and flags, no personal data). A replay answers as a fresh
read of that record would (`IdempotentMixin.replay`): read through the view's scoped queryset now, so
consent is checked again and a partner no longer covered sees the person withheld, and the read is
recorded in the audit log like any other. Keys are kept IDEMPOTENCY_TTL (24 hours); an older key may
be reused, and beat deletes older keys every hour (purge_expired, the task crt.purge_idempotency_keys
in providers.sweeps).
"""

import hashlib
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from audit.models import Action
from crt.api import ConflictError, Unprocessable, audit, is_partner, problem
from providers.models import IdempotencyRecord

IDEMPOTENCY_TTL = timedelta(hours=24)
REPLAYED_HEADERS = ("Location",)  # an API path with an id; an ETag is read afresh on replay


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
    """Delete keys older than the TTL; a range delete on the created_at index. Beat runs it hourly
    (crt.purge_idempotency_keys); returns how many went."""
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

    def idempotent_outcome(self, response) -> dict | None:
        """What a replay needs to answer again, and nothing personal: the id of the record the answer
        is about. A view whose answer is not one record overrides this and `replay`."""
        data = getattr(response, "data", None)
        if isinstance(data, dict) and isinstance(data.get("id"), int):
            return {"id": data["id"]}
        return None

    def replay(self, request, record: IdempotencyRecord) -> Response:
        """The answer to a replay: the record as a fresh read shows it now (the view's scoped queryset,
        so consent is checked again), recorded in the audit log before anything leaves."""
        outcome = record.outcome or {}
        if "id" not in outcome:
            return Response(status=record.status_code)  # nothing to show (or a key stored before outcomes)
        obj = self.get_queryset().filter(pk=outcome["id"]).first()
        if obj is None:
            raise NotFound("Not found.")
        audit(request, [obj], action=Action.VIEW, detail=getattr(self, "audit_detail", ""))
        return self.replayed_answer(obj, record.status_code)

    def replayed_answer(self, obj, status: int) -> Response:
        """The record, serialised as the view answers it (a view adds its ETag here)."""
        return Response(self.get_serializer(obj).data, status=status)

    def handle_exception(self, exc):
        if isinstance(exc, _Replay):
            record = exc.record
            try:
                response = self.replay(self.request, record)
            except Exception as error:  # a 404 now, say: answered like any other error
                return super().handle_exception(error)
            for name, value in record.response_headers.items():
                if name in REPLAYED_HEADERS:
                    response[name] = value
            response["Idempotent-Replayed"] = "true"
            return response
        return super().handle_exception(exc)

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        record = getattr(request, "_crt_idempotency_record", None)
        if record is None:
            return response
        request._crt_idempotency_record = None
        if response.status_code >= 400:
            # A 4xx changed nothing, a 5xx may not have: the client may retry with the same key.
            IdempotencyRecord.objects.filter(pk=record.pk).delete()
            return response
        headers = {name: response[name] for name in REPLAYED_HEADERS if name in response}
        IdempotencyRecord.objects.filter(pk=record.pk).update(
            status_code=response.status_code,
            outcome=self.idempotent_outcome(response),
            response_headers=headers,
            completed_at=timezone.now(),
        )
        return response


__all__ = ["IDEMPOTENCY_TTL", "IdempotentMixin", "problem", "purge_expired"]
