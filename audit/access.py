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

from django.db import DatabaseError, connections, models, router
from django.utils import timezone

from accounts.models import BreakGlassGrant
from audit.models import AccessLog, Action
from crt import statements
from crt.client_ip import client_ip

__all__ = [
    "AccessContext",
    "Action",
    "AuditMissing",
    "AuditWriteError",
    "Seen",
    "audited",
    "record_access",
    "record_disclosure",
]


class AuditWriteError(RuntimeError):
    """The audit rows could not be written, so the data must not be returned."""


class AuditMissing(RuntimeError):
    """A view marked as serving personal data answered without recording the access."""


@dataclass(frozen=True)
class Seen:
    """An object read without a model instance (a values() row): whose record it is, from the same
    row. Lists that build their answer from values() pass these instead of instances. What is not a
    row at all (a metrics measure, exported) names its kind as a label instead of a model."""

    model: type[models.Model] | str
    pk: int | str
    individual_id: int | None
    program_id: int | None

    @property
    def label(self) -> str:
        return self.model if isinstance(self.model, str) else self.model._meta.label_lower


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
    """(label, pk) -> (individual id, program id), with at most one query per model of the batch,
    and none where the caller's query already loaded the relations on the way (select_related)."""
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
        missing = []
        for obj in instances:
            values = [_loaded(obj, column) for column in columns]
            if _NOT_LOADED in values:
                missing.append(obj.pk)
            else:
                found[(label, str(obj.pk))] = _pick(values, bool(program_path))
        if missing:
            rows = model._base_manager.filter(pk__in=missing).values_list("pk", *columns)
            for pk, *values in rows:
                found[(label, str(pk))] = _pick(values, bool(program_path))
    return found


_NOT_LOADED = object()


def _loaded(obj: models.Model, path: str):
    """The id at the end of a path ("case__individual") from what is already in memory, or _NOT_LOADED."""
    if path == "pk":
        return obj.pk
    *hops, last = path.split("__")
    for hop in hops:
        field = obj._meta.get_field(hop)
        if not field.is_cached(obj):
            return _NOT_LOADED
        obj = getattr(obj, hop)
        if obj is None:
            return None
    attname = obj._meta.get_field(last).attname
    return obj.__dict__.get(attname, _NOT_LOADED)  # a deferred column (.only) is not in __dict__


def _pick(values: list, has_program: bool) -> tuple[int | None, int | None]:
    people = values[:-1] if has_program else values
    person = next((value for value in people if value is not None), None)
    return person, (values[-1] if has_program else None)


# The directory's partner API key, by its model's label: the access log sits below the directory
# (docs/decisions/017-layers.md) and records which key read, not what a key is.
PARTNER_CREDENTIAL = "providers.PartnerCredential"


def _is_partner_credential(obj) -> bool:
    return getattr(getattr(obj, "_meta", None), "label", None) == PARTNER_CREDENTIAL


def context_of(who, route: str = "") -> AccessContext:
    """Who is acting, from a request (Django or DRF), a user, a partner credential, or None (system)."""
    if who is None:
        return AccessContext(route=route or "system")
    if _is_partner_credential(who):
        return AccessContext(credential_id=who.pk, route=route)
    if hasattr(who, "META") or hasattr(who, "_request"):
        http = getattr(who, "_request", who)
        user = getattr(who, "user", None)
        credential = getattr(who, "auth", None)
        if not _is_partner_credential(credential):
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
    """individual id -> break-glass grant id, for the actor's grants in force now (once a request,
    and only for a user whose break_glass_until is still ahead)."""
    if actor_id is None:
        return {}
    http = getattr(who, "_request", who)
    user = getattr(http, "user", who)
    until = getattr(user, "break_glass_until", None)
    now = timezone.now()
    if getattr(user, "pk", None) == actor_id and (until is None or until <= now):
        return {}
    cached = getattr(http, "_crt_break_glass", None)
    if cached is not None:
        return cached
    grants = dict(
        BreakGlassGrant.objects.system("the audit marks reads made under the actor's grants")
        .active(now)
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
    objects: Iterable[models.Model | Seen],
    recipient: models.Model | None = None,  # the partner Organization a disclosure goes to
    purpose: str = "",
    detail: str = "",
    route: str = "",
) -> int:
    """Write one AccessLog row per object, or raise AuditWriteError; returns the number written.
    See the module docstring.

    `who`: the request (preferred: it carries the address, request id and route), a User, a
    PartnerCredential, or None for the system (then say which task in `route`).
    """
    objects = list(objects)
    context = context_of(who, route)
    http = getattr(who, "_request", who)
    if not objects:
        if hasattr(http, "META"):
            http._crt_audited = True
        return 0
    try:
        people = _people([obj for obj in objects if not isinstance(obj, Seen)])
        grants = _active_grants(who, context.actor_id)
        varying = []
        for obj in objects:
            if isinstance(obj, Seen):
                label = obj.label
                individual_id, program_id = obj.individual_id, obj.program_id
            else:
                label = type(obj)._meta.concrete_model._meta.label_lower
                individual_id, program_id = people.get((label, str(obj.pk)), (None, None))
            varying.append((label, str(obj.pk), individual_id, program_id, grants.get(individual_id)))
        shared = (
            timezone.now(),
            context.actor_id,
            context.credential_id,
            action,
            context.route[:200],
            context.ip or None,
            context.request_id,
            recipient.pk if recipient is not None else None,
            purpose[:100],
            detail[:300],
        )
        _insert(shared, varying)
    except DatabaseError as error:
        raise AuditWriteError("The access could not be recorded, so nothing is returned.") from error
    if hasattr(http, "META"):
        http._crt_audited = True
    return len(varying)


def record_disclosure(who, *, objects: Iterable[models.Model | Seen], to: models.Model, detail: str) -> int:
    """A partner's read of referrals: a disclosure to its organisation for the referral (record_access),
    `detail` saying in words what it was shown (never the values)."""
    return record_access(who, action=Action.DISCLOSE, objects=objects, recipient=to, purpose="referral", detail=detail)


# The columns of an AccessLog row: those the same for every object of one call, then those that vary.
_SHARED_COLUMNS = (
    "at",
    "actor_id",
    "credential_id",
    "action",
    "route",
    "ip",
    "request_id",
    "recipient_id",
    "purpose",
    "detail",
)
_VARYING_COLUMNS = ("object_type", "object_id", "individual_id", "program_id", "break_glass_id")


def _insert(shared: tuple, varying: list[tuple]) -> None:
    """One INSERT for the whole batch, without building model instances: a page of 100 rows is on
    every partner read and every staff page, and Django's bulk_create spent more time building the
    statement than PostgreSQL spent writing it (docs/performance.md, "Partner API")."""
    connection = connections[router.db_for_write(AccessLog)]
    table = connection.ops.quote_name(AccessLog._meta.db_table)
    columns = ", ".join((*_SHARED_COLUMNS, *_VARYING_COLUMNS))
    if connection.vendor == "postgresql":
        # The varying columns travel as five arrays: one statement, whatever the batch size, the
        # same text every time, so it is prepared once per connection (crt.statements).
        arrays = [list(column) for column in zip(*varying, strict=True)]
        select = "%s, %s, %s, %s, %s, %s::inet, %s, %s, %s, %s, t.*"
        unnest = "unnest(%s::text[], %s::text[], %s::bigint[], %s::bigint[], %s::bigint[]) AS t"
        sql = f"INSERT INTO {table} ({columns}) SELECT {select} FROM {unnest}"  # noqa: S608 (our own names)
        with statements.cursor(connection) as cursor:
            cursor.execute(sql, [*shared, *arrays])
        return
    # SQLite stores datetimes as text: in the form the ORM writes, or ordering by time breaks.
    shared = (connection.ops.adapt_datetimefield_value(shared[0]), *shared[1:])
    placeholders = ", ".join(["%s"] * (len(_SHARED_COLUMNS) + len(_VARYING_COLUMNS)))
    sql = f"INSERT INTO {table} ({columns}) VALUES ({placeholders})"  # noqa: S608 (our own names)
    with connection.cursor() as cursor:
        cursor.executemany(sql, [(*shared, *row) for row in varying])


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
