"""Scoping that fails closed: a query on a model holding a person's data raises ScopeError when it
is run, unless it says whose read it is.

- `Model.objects.visible_to(user)` (or a partner credential, for the partner API): what that actor
  may see. Every queryset built on from it stays scoped.
- `Model.objects.system("why")`: a read no user makes (a sweep, a task, a command, the seed data),
  or one the scoping itself needs; the reason is for the reader of the code.
- `with system_read("why"):` the same for every query run inside the block; for whole jobs (Celery
  tasks, management commands, the tests' own setup), never inside a request (ScopedRequests).

Only running a query is checked (fetching rows, count, exists, aggregate, iterator, update, delete),
not building one, so a query can be built in one place and scoped in another, and writes of one row
(`create`, `save`, `refresh_from_db`, forward relations like `contact.case`) work as before: they go
through the base manager, or write without reading. A query used inside another one (`pk__in=qs`,
`Exists(qs)`) is not checked by itself: it can only narrow what the outer, checked query returns.
docs/decisions/015-scoping-fails-closed.md says why this and not django-scopes.
"""

from contextlib import contextmanager
from contextvars import ContextVar
from functools import wraps

from django.db import models

_system_reason: ContextVar[str | None] = ContextVar("crt_system_read", default=None)


class ScopeError(RuntimeError):
    """A query on a person's data ran without saying whose read it is."""


@contextmanager
def system_read(reason: str):
    """Every person-data query run inside is a system read (usable as a decorator too)."""
    if not reason:
        raise ValueError("a system read says why")
    token = _system_reason.set(reason)
    try:
        yield
    finally:
        _system_reason.reset(token)


@contextmanager
def user_reads_only():
    """Undo any surrounding system_read: what runs inside must scope every query itself."""
    token = _system_reason.set(None)
    try:
        yield
    finally:
        _system_reason.reset(token)


def in_system_read() -> bool:
    return _system_reason.get() is not None


class ScopedRequests:
    """Middleware: a request never runs inside a system read, whatever called it (a test, a job).
    In production this changes nothing; under the test client it makes every request meet the real
    checks while the test's own setup runs as a system read (tests/conftest.py)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        with user_reads_only():
            return self.get_response(request)


def _marks_scoped(visible_to):
    @wraps(visible_to)
    def scoped(self, *args, **kwargs):
        queryset = visible_to(self, *args, **kwargs)
        queryset._scoped_by = "visible_to"
        return queryset

    return scoped


class FailClosedManager(models.Manager):
    """The manager of every person-data model. Through a related manager (`case.contacts`,
    `encounter.assessments`) the child rows of a scoped parent are scoped with it when the same rule
    lets both through: the parent was read through visible_to, the child is the same kind of record,
    and the child's rule reaches its program and person through that parent. Or when the parent was
    read by the system."""

    def get_queryset(self):
        queryset = super().get_queryset()
        parent_scope = getattr(getattr(self, "instance", None), "_read_scope", None)
        if parent_scope is not None:
            kind, scoped_by = parent_scope
            field = getattr(self, "field", None)  # the child's foreign key to the parent
            same_rule = kind is not None and kind == queryset.kind and field is not None
            if scoped_by.startswith("system") or (same_rule and queryset.reads_through(field.name)):
                queryset._scoped_by = f"{scoped_by}, through its parent"
        return queryset


class FailClosedQuerySet(models.QuerySet):
    """Base of every person-data queryset. A subclass's `visible_to` marks what it returns as scoped.

    `kind` names the rule visible_to applies (accounts.roles.Kind for ScopedQuerySet): a child of the
    same kind is visible exactly when its parent is, so it may be read through the parent."""

    kind = None
    _scoped_by: str | None = None

    @classmethod
    def as_manager(cls):
        manager = FailClosedManager.from_queryset(cls)()
        manager._built_with_as_manager = True
        return manager

    as_manager.queryset_only = True

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "visible_to" in cls.__dict__:
            cls.visible_to = _marks_scoped(cls.__dict__["visible_to"])

    @classmethod
    def reads_through(cls, field_name: str) -> bool:
        """Whether visible_to decides this model's rows by their parent through `field_name`."""
        return False

    def system(self, reason: str):
        """A read no user makes; `reason` says which."""
        if not reason:
            raise ValueError("a system read says why")
        clone = self._chain()
        clone._scoped_by = f"system: {reason}"
        return clone

    def _clone(self):
        clone = super()._clone()
        clone._scoped_by = self._scoped_by
        return clone

    def _joined(self, result, *others):
        """A query combined from several (|, &, union...) is scoped only if each of them is."""
        if any(getattr(q, "_scoped_by", None) is None for q in (self, *others)):
            result._scoped_by = None
        return result

    def __and__(self, other):
        return self._joined(super().__and__(other), other)

    def __or__(self, other):
        return self._joined(super().__or__(other), other)

    def __xor__(self, other):
        return self._joined(super().__xor__(other), other)

    def union(self, *others, all=False):
        return self._joined(super().union(*others, all=all), *others)

    def intersection(self, *others):
        return self._joined(super().intersection(*others), *others)

    def difference(self, *others):
        return self._joined(super().difference(*others), *others)

    def _require_scope(self):
        if self._scoped_by is None and _system_reason.get() is None:
            raise ScopeError(
                f"Unscoped query on {self.model._meta.label}: read it through visible_to(user), "
                f'or mark a read no user makes with .system("why") or system_read("why") (crt.scoping).'
            )

    def _fetch_all(self):
        if self._result_cache is not None:
            return
        self._require_scope()
        super()._fetch_all()
        if self._scoped_by is not None and issubclass(self._iterable_class, models.query.ModelIterable):
            for obj in self._result_cache:  # so that its children can be read through it
                obj._read_scope = (self.kind, self._scoped_by)

    def iterator(self, chunk_size=None):
        self._require_scope()
        return super().iterator(chunk_size)

    def count(self):
        if self._result_cache is None:
            self._require_scope()
        return super().count()

    def exists(self):
        if self._result_cache is None:
            self._require_scope()
        return super().exists()

    def aggregate(self, *args, **kwargs):
        self._require_scope()
        return super().aggregate(*args, **kwargs)

    def update(self, **kwargs):
        self._require_scope()
        return super().update(**kwargs)

    def delete(self):
        self._require_scope()
        return super().delete()

    def _raw_delete(self, using):
        self._require_scope()
        return super()._raw_delete(using)

    def explain(self, *, format=None, **options):
        self._require_scope()
        return super().explain(format=format, **options)
