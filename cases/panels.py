"""The person page's panels beside the timeline: the person's cases (with what their open cases still
owe: the next follow-up and any missed one), support contacts and consents.

Four small hand-written SELECTs instead of three querysets: for lists of one to a few rows, building,
compiling and loading an ORM query cost four to six times the database's own time
(docs/performance.md, "Staff web app"). Each keeps what visible_to keeps: only kinds the user may see
of this person (cases.models.kinds_visible_of_person), and only rows of the user's program, reached as
each model's visible_to reaches it (ScopedQuerySet.program_path). Each row becomes a small record of
what the page shows, with audit.access.Seen for the audit.
"""

from dataclasses import dataclass, replace

from django.db import connection

from accounts.roles import Kind
from audit.access import Seen
from cases.display import aware, duration_value, label, user_name
from cases.models import Case, Consent, FollowUp, Individual, SupportContact
from cases.services import closed_within
from crt import statements

# The program's case_reopen_window comes with each case (cases.services.closed_within decides), rather than
# in a query of its own for the user's program.
CASES_SQL = """
SELECT c.id, c.status, c.closed_reason, c.risk_level, c.closed_at, g.case_reopen_window,
       n.first_name, n.last_name, n.username, p.first_name, p.last_name, p.username
FROM cases_case c
JOIN accounts_program g ON g.id = c.program_id
LEFT JOIN accounts_user n ON n.id = c.navigator_id
LEFT JOIN accounts_user p ON p.id = c.peer_id
WHERE c.individual_id = %(person)s AND c.program_id = %(program)s
ORDER BY c.status, c.opened_at DESC, c.id
"""
# What the person's open cases still owe: open follow-ups and missed ones not completed or dismissed.
FOLLOW_UPS_SQL = """
SELECT f.id, f.case_id, f.label, f.due_at, f.is_missed, f.owner_id, u.first_name, u.last_name, u.username
FROM cases_followup f JOIN cases_case c ON c.id = f.case_id
LEFT JOIN accounts_user u ON u.id = f.owner_id
WHERE c.individual_id = %(person)s AND c.program_id = %(program)s AND c.status <> 'closed'
  AND f.done_at IS NULL AND f.dismissed_at IS NULL
ORDER BY f.due_at, f.id
"""
# "May contact": a consent to contact them in force now (Consent.is_active_at's rule).
SUPPORT_SQL = """
SELECT s.id, s.name, s.relationship, s.phone, s.is_caregiver, s.ended_at,
       EXISTS (SELECT 1 FROM cases_consent k
               WHERE k.recipient_support_contact_id = s.id AND k.purpose = 'contact'
                 AND k.given_at <= %(now)s AND k.revoked_at IS NULL
                 AND (k.expires_at IS NULL OR k.expires_at > %(now)s))
FROM cases_supportcontact s JOIN cases_individual i ON i.id = s.individual_id
WHERE s.individual_id = %(person)s AND i.program_id = %(program)s
ORDER BY s.ended_at IS NOT NULL, s.name, s.id
"""
CONSENTS_SQL = """
SELECT k.id, k.purpose, o.name, k.recipient_category, k.covers_part2, k.method, k.given_at, k.expires_at,
       k.revoked_at, s.name, k.witness_name
FROM cases_consent k JOIN cases_individual i ON i.id = k.individual_id
LEFT JOIN providers_organization o ON o.id = k.recipient_organization_id
LEFT JOIN cases_supportcontact s ON s.id = k.recipient_support_contact_id
WHERE k.individual_id = %(person)s AND i.program_id = %(program)s
ORDER BY k.given_at DESC, k.id DESC
"""


@dataclass(frozen=True)
class FollowUpLine:
    obj: Seen
    pk: int
    label: str
    due_at: object
    is_missed: bool
    owner_id: int | None
    owner: str


@dataclass(frozen=True)
class CaseLine:
    obj: Seen
    pk: int
    is_open: bool
    status: str
    closed_reason: str
    risk_level: str
    risk: str
    navigator: str
    peer: str
    closed_at: object = None
    reopens: bool = False  # closed within the program's case_reopen_window: reopening continues it
    reopen_window_days: int = 0
    next_follow_up: FollowUpLine | None = None  # the earliest open one
    missed: tuple[FollowUpLine, ...] = ()  # missed, until a reached contact or a dismissal

    @property
    def follow_ups(self) -> list[FollowUpLine]:
        """The follow-ups the page shows: the missed ones, then the next one."""
        return [*self.missed, *([self.next_follow_up] if self.next_follow_up else [])]


@dataclass(frozen=True)
class SupportLine:
    obj: Seen
    pk: int
    name: str
    relationship: str
    phone: str
    may_contact: bool
    is_caregiver: bool
    ended_at: object


@dataclass(frozen=True)
class ConsentLine:
    obj: Seen
    pk: int
    purpose: str
    recipient: str  # an organisation's name, a support contact's, or "any housing partner"
    covers_part2: bool
    method: str
    witness_name: str
    given_at: object
    expires_at: object
    revoked_at: object
    is_active: bool


@dataclass(frozen=True)
class Panels:
    cases: list[CaseLine]
    support: list[SupportLine]
    consents: list[ConsentLine]

    def seen(self) -> list[Seen]:
        follow_ups = [follow_up for case in self.cases for follow_up in case.follow_ups]
        return [line.obj for line in (*self.cases, *follow_ups, *self.support, *self.consents)]


def panels_for(user, person: Individual, visible: frozenset[Kind], now) -> Panels:
    """The cases, support contacts and consents of `person` that `user` may see. `visible`: what
    kinds_visible_of_person said of this user and person."""
    params = {"person": person.pk, "program": user.program_id, "now": now}
    with statements.cursor(connection) as cursor:  # prepared: planning them cost more than running them

        def rows(sql: str, kind: Kind) -> list[tuple]:
            if kind not in visible:
                return []
            cursor.execute(sql, params)
            return cursor.fetchall()

        cases = [_case(row, person, user.program_id, now) for row in rows(CASES_SQL, Kind.CARE)]
        if any(case.is_open for case in cases):
            cases = _with_follow_ups(cases, rows(FOLLOW_UPS_SQL, Kind.CARE), person, user.program_id)
        support = [_support(row, person, user.program_id) for row in rows(SUPPORT_SQL, Kind.PERSON)]
        consents = [_consent(row, person, user.program_id, now) for row in rows(CONSENTS_SQL, Kind.CARE)]
    return Panels(cases, support, consents)


def _case(row: tuple, person: Individual, program_id: int, now) -> CaseLine:
    pk, status, closed_reason, risk_level, closed_at, reopen_window, *names = row
    closed_at, reopen_window = aware(closed_at), duration_value(reopen_window)
    return CaseLine(
        obj=Seen(Case, pk, person.pk, program_id),
        pk=pk,
        is_open=status != Case.Status.CLOSED,
        status=label(Case, "status", status),
        closed_reason=label(Case, "closed_reason", closed_reason) if closed_reason else "",
        risk_level=risk_level,
        risk=label(Case, "risk_level", risk_level),
        navigator=user_name(*names[:3]),
        peer=user_name(*names[3:]),
        closed_at=closed_at,
        reopens=closed_within(closed_at, reopen_window, now),
        reopen_window_days=reopen_window.days,
    )


def _with_follow_ups(cases: list[CaseLine], rows: list[tuple], person: Individual, program_id: int) -> list[CaseLine]:
    by_case: dict[int, list[FollowUpLine]] = {}
    for pk, case_id, label_, due_at, is_missed, owner_id, *names in rows:
        line = FollowUpLine(
            obj=Seen(FollowUp, pk, person.pk, program_id),
            pk=pk,
            label=label_,
            due_at=aware(due_at),
            is_missed=bool(is_missed),
            owner_id=owner_id,
            owner=user_name(*names),
        )
        by_case.setdefault(case_id, []).append(line)
    out = []
    for case in cases:
        lines = by_case.get(case.pk, [])
        missed = tuple(line for line in lines if line.is_missed)
        upcoming = next((line for line in lines if not line.is_missed), None)
        out.append(replace(case, next_follow_up=upcoming, missed=missed))
    return out


def _support(row: tuple, person: Individual, program_id: int) -> SupportLine:
    pk, name, relationship, phone, is_caregiver, ended_at, may_contact = row
    return SupportLine(
        obj=Seen(SupportContact, pk, person.pk, program_id),
        pk=pk,
        name=name,
        relationship=relationship,
        phone=phone,
        may_contact=bool(may_contact) and ended_at is None,
        is_caregiver=bool(is_caregiver),
        ended_at=aware(ended_at),
    )


def _consent(row: tuple, person: Individual, program_id: int, now) -> ConsentLine:
    pk, purpose, organization, category, covers_part2, method, given_at, expires_at, revoked_at, *rest = row
    support_name, witness_name = rest
    times = {"given_at": aware(given_at), "expires_at": aware(expires_at), "revoked_at": aware(revoked_at)}
    if organization or support_name:
        recipient = organization or support_name
    else:
        recipient = f"any {label(Consent, 'recipient_category', category).lower()} partner"
    return ConsentLine(
        obj=Seen(Consent, pk, person.pk, program_id),
        pk=pk,
        purpose=label(Consent, "purpose", purpose),
        recipient=recipient,
        covers_part2=bool(covers_part2),
        method=label(Consent, "method", method),
        witness_name=witness_name,
        given_at=times["given_at"],
        expires_at=times["expires_at"],
        revoked_at=times["revoked_at"],
        is_active=Consent(**times).is_active_at(now),  # the model's own rule, on the values read
    )
