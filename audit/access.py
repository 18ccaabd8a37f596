"""Recording who read or changed which person's record: `record_access`, the one function every
surface calls (pages, API, FHIR, exports, the admin, and the delivery worker for disclosures).

Rules it keeps:
- One AccessLog row per object read or written, written in bulk, before any of the data leaves: a
  surface calls it after loading the objects and before rendering or serialising them. If the rows
  cannot be written it raises AuditWriteError and the surface returns an error, never the data.
- Who (user or partner credential, or the system), from where (client address, request id, route),
  when (UTC), whose record (the individual), and whether it happened under a break-glass grant.
- Never personal data in the row itself: ids, route names, and for disclosures the recipient, the
  purpose and what was sent in words ("name, phone, referral reason"), never the values.
"""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from functools import wraps

from django.db import DatabaseError, models
from django.utils import timezone

from accounts.models import BreakGlassGrant
from audit.models import AccessLog, Action
from crt.middleware import client_ip
from providers.models import Organization, PartnerCredential

__all__ = ["AccessContext", "Action", "AuditMissing", "AuditWriteError", "audited", "record_access"]


class AuditWriteError(RuntimeError):
    """The audit rows could not be written, so the data must not be returned."""


class AuditMissing(RuntimeError):
    """A view marked as serving personal data answered without recording the access."""


@dataclass(frozen=True)
class AccessContext:
    actor_id: int | None = None
    credential_id: int | None = None
    ip: str | None = None
    request_id: str = ""
    route: str = ""


# How to find the person and the program of a record, for models whose queryset does not say so
# (ScopedQuerySet subclasses carry individual_path and program_path). Several person paths: the
# first that is set wins.
_PATHS: dict[str, tuple[tuple[str, ...], str]] = {
    "cases.encounterresponder": (("encounter__individual",), "encounter__program"),
    "referrals.deliveryattempt": (("delivery__referral__individual",), "delivery__referral__program"),
    "referrals.alert": (
        ("referral__individual", "follow_up__case__individual", "delivery__referral__individual"),
        "program",
    ),
    "accounts.breakglassgrant": (("individual",), "program"),
}


def _paths(model) -> tuple[tuple[str, ...], str | None]:
    label = model._meta.label_lower
    if label in _PATHS:
        return _PATHS[label]
    queryset_class = type(model._default_manager.all())
    person = getattr(queryset_class, "individual_path", None)
    program = getattr(queryset_class, "program_path", None)
    if person is None:
        person = "individual" if any(f.name == "individual" for f in model._meta.fields) else None
    if program is None:
        program = "program" if any(f.name == "program" for f in model._meta.fields) else None
    return ((person,) if person is not None else ()), program


def _people(objects: list[models.Model]) -> dict[tuple[str, str], tuple[int | None, int | None]]:
    """(label, pk) -> (individual id, program id), with at most one query per model of the batch."""
    by_model: dict[type, list[models.Model]] = defaultdict(list)
    for obj in objects:
        by_model[type(obj)._meta.concrete_model].append(obj)
    found: dict[tuple[str, str], tuple[int | None, int | None]] = {}
    for model, instances in by_model.items():
        label = model._meta.label_lower
        person_paths, program_path = _paths(model)
        columns = ["pk" if path == "" else path for path in person_paths]
        if program_path:
            columns.append(program_path)
        if all("__" not in column for column in columns):
            for obj in instances:  # everything is on the row itself: no query
                values = [obj.pk if c == "pk" else getattr(obj, f"{c}_id") for c in columns]
                found[(label, str(obj.pk))] = _pick(values, bool(program_path))
            continue
        rows = model._base_manager.filter(pk__in=[obj.pk for obj in instances]).values_list("pk", *columns)
        for pk, *values in rows:
            found[(label, str(pk))] = _pick(values, bool(program_path))
    return found


def _pick(values: list, has_program: bool) -> tuple[int | None, int | None]:
    people = values[:-1] if has_program else values
    person = next((value for value in people if value is not None), None)
    return person, (values[-1] if has_program else None)


def context_of(who, route: str = "") -> AccessContext:
    """Who is acting, from a request (Django or DRF), a user, a partner credential, or None (system)."""
    if who is None:
        return AccessContext(route=route or "system")
    if isinstance(who, PartnerCredential):
        return AccessContext(credential_id=who.pk, route=route)
    if hasattr(who, "META") or hasattr(who, "_request"):
        http = getattr(who, "_request", who)
        user = getattr(who, "user", None)
        credential = getattr(who, "auth", None)
        if not isinstance(credential, PartnerCredential):
            credential = getattr(http, "partner_credential", None)
        match = getattr(http, "resolver_match", None)
        return AccessContext(
            actor_id=user.pk if getattr(user, "is_authenticated", False) else None,
            credential_id=credential.pk if credential is not None else None,
            ip=getattr(http, "client_ip", None) or client_ip(http),
            request_id=getattr(http, "request_id", ""),
            route=route or (match.view_name if match is not None else http.path_info[:200]),
        )
    return AccessContext(actor_id=who.pk, route=route)  # a user acting outside a request


def _active_grants(who, actor_id: int | None) -> dict[int, int]:
    """individual id -> break-glass grant id, for the actor's grants in force now (once a request)."""
    if actor_id is None:
        return {}
    http = getattr(who, "_request", who)
    cached = getattr(http, "_crt_break_glass", None)
    if cached is not None:
        return cached
    grants = dict(
        BreakGlassGrant.objects.active(timezone.now())
        .filter(user_id=actor_id)
        .order_by("started_at")
        .values_list("individual_id", "pk")
    )
    if hasattr(http, "META"):
        http._crt_break_glass = grants
    return grants


def record_access(
    who,
    *,
    action: str,
    objects: Iterable[models.Model],
    recipient: Organization | None = None,
    purpose: str = "",
    detail: str = "",
    route: str = "",
) -> list[AccessLog]:
    """Write one AccessLog row per object, or raise AuditWriteError. See the module docstring.

    `who`: the request (preferred: it carries the address, request id and route), a User, a
    PartnerCredential, or None for the system (then say which task in `route`).
    """
    objects = list(objects)
    context = context_of(who, route)
    http = getattr(who, "_request", who)
    if not objects:
        if hasattr(http, "META"):
            http._crt_audited = True
        return []
    try:
        people = _people(objects)
        grants = _active_grants(who, context.actor_id)
        now = timezone.now()
        rows = []
        for obj in objects:
            label = type(obj)._meta.concrete_model._meta.label_lower
            individual_id, program_id = people.get((label, str(obj.pk)), (None, None))
            rows.append(
                AccessLog(
                    at=now,
                    actor_id=context.actor_id,
                    credential_id=context.credential_id,
                    action=action,
                    object_type=label,
                    object_id=str(obj.pk),
                    individual_id=individual_id,
                    program_id=program_id,
                    route=context.route[:200],
                    ip=context.ip,
                    request_id=context.request_id,
                    break_glass_id=grants.get(individual_id),
                    recipient=recipient,
                    purpose=purpose[:100],
                    detail=detail[:300],
                )
            )
        AccessLog.objects.bulk_create(rows, batch_size=500)
    except DatabaseError as error:
        raise AuditWriteError("The access could not be recorded, so nothing is returned.") from error
    if hasattr(http, "META"):
        http._crt_audited = True
    return rows


def audited(view):
    """Mark a function view as serving personal data: a successful answer that recorded nothing
    (no record_access call during the request) is refused with AuditMissing, a 500."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        if 200 <= response.status_code < 300 and not getattr(request, "_crt_audited", False):
            raise AuditMissing(f"{view.__module__}.{view.__qualname__} answered without record_access().")
        return response

    return wrapper
