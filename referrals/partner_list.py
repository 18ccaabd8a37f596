"""What a partner credential reads of referrals, and the partner list's page as a prepared statement.

`partner_queryset(actor, at=...)` is the one definition: the referrals `visible_to` the partner,
each annotated with whether consent still covers it (referrals.consent.with_disclosure_allowed).
The API's detail, moves and filtered lists use it as a queryset.

`PartnerPage` is the list's page without a filter, which partners poll: DRF's cursor pagination
drives it as it drives a queryset (order_by, a filter on the cursor's position, a slice), and it
runs the same queryset, built from `partner_queryset`, compiled once per organisation and shape and
prepared (crt.statements): only the time of the consent check and the cursor's position change
between calls. Building and compiling that query on every call cost more than PostgreSQL took to
run it (docs/performance.md, "Partner API"). tests/api/test_partner_list_statement.py holds its
rows equal to the queryset's.
"""

from datetime import timedelta

from crt.statements import SENTINEL_INSTANT, Statement, StatementCache
from referrals.consent import with_disclosure_allowed
from referrals.models import Referral
from referrals.serializers import PARTNER_COLUMNS

LIST_COLUMNS = (*PARTNER_COLUMNS, "disclosure_allowed_now")
_AT = SENTINEL_INSTANT
_POSITION = SENTINEL_INSTANT + timedelta(days=1)
_STATEMENTS = StatementCache("partner_list")


def partner_queryset(actor, *, at):
    """The referrals `actor` (a partner credential or partner user) may read, with the consent check
    as of `at`, newest change first."""
    return with_disclosure_allowed(
        Referral.objects.visible_to(actor).select_related("individual", "service").only(*PARTNER_COLUMNS),
        at=at,
    ).order_by("-updated_at", "-id")


class PartnerPage:
    """The rows of `partner_queryset(credential, at=at).values(*LIST_COLUMNS)` as DRF's cursor
    pagination asks for them; see the module docstring."""

    def __init__(self, credential, *, at, ordering=(), position_lookup=None, position=None, window=None):
        self.credential = credential
        self.at = at
        self.ordering = ordering
        self.position_lookup = position_lookup
        self.position = position
        self.window = window

    def _with(self, **changes) -> "PartnerPage":
        fields = {
            "at": self.at,
            "ordering": self.ordering,
            "position_lookup": self.position_lookup,
            "position": self.position,
            "window": self.window,
            **changes,
        }
        return PartnerPage(self.credential, **fields)

    def order_by(self, *fields) -> "PartnerPage":
        return self._with(ordering=fields)

    def filter(self, **kwargs) -> "PartnerPage":
        ((lookup, position),) = kwargs.items()  # the cursor's position: updated_at__lt or __gt
        return self._with(position_lookup=lookup, position=position)

    def __getitem__(self, window: slice) -> "PartnerPage":
        return self._with(window=(window.start or 0, window.stop))

    def __iter__(self):
        key = (
            self.credential.organization_id,
            self.credential.revoked_at is None,
            self.ordering,
            self.position_lookup,
            self.window,
        )
        statement = _STATEMENTS.get(key, self._compile)
        values = {"at": self.at}
        if self.position_lookup is not None:
            values["position"] = self.position
        return iter(statement.rows(values))

    def _compile(self) -> Statement:
        queryset = partner_queryset(self.credential, at=_AT).values(*LIST_COLUMNS).order_by(*self.ordering)
        stand_ins = {"at": (_AT, Referral._meta.get_field("updated_at"))}
        if self.position_lookup is not None:
            queryset = queryset.filter(**{self.position_lookup: _POSITION})
            stand_ins["position"] = (_POSITION, Referral._meta.get_field("updated_at"))
        if self.window is not None:
            start, stop = self.window
            queryset = queryset[start:stop]
        return Statement(queryset, stand_ins)
