"""A person's timeline: encounters, assessments, contacts, referrals and safety-plan versions, newest
first, a page of 50 at a time.

For each kind of record the user may see, one query reads the newest rows up to the end of the page
(values_list of the few columns the timeline shows, and the person and program ids the audit needs);
the rows are merged by time and the page cut from them. No model instances: each row is described
here as plain strings (what it is, a link, a line of detail) and audited with audit.access.Seen.
Loading model instances, and rendering them with a URL lookup and display methods per row in the
template, was most of the person page's time; so was compiling one UNION of the five kinds
(docs/performance.md, "Staff web app").
"""

from dataclasses import dataclass
from functools import cache

from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from audit.access import Seen
from cases.models import Assessment, Contact, Encounter, Individual, SafetyPlan
from referrals.models import Referral

PAGE = 50


@dataclass
class Row:
    kind: str
    obj: object  # the record, for the audit
    iso: str
    shown: str  # the time as people read it
    title: str  # "Encounter", "Referral to"...
    link: str = ""
    url: str = ""
    text: str = ""
    badge: str = ""
    badge_class: str = ""
    note: str = ""
    note_class: str = ""


# kind -> (model, time column, what the row shows). Whose record and which program come from the
# model's own scoping (ScopedQuerySet.individual_path and program_path), as visible_to uses them.
_KINDS = {
    "encounter": (
        Encounter,
        "call_received_at",
        ("cad_incident_number", "team", "disposition", "reason_for_call"),
    ),
    "assessment": (
        Assessment,
        "performed_at",
        ("kind", "risk_level"),
    ),
    "contact": (
        Contact,
        "occurred_at",
        ("method", "outcome", "note", "follow_up_id", "made_by__first_name", "made_by__last_name", "made_by__username"),
    ),
    "referral": (
        Referral,
        "created_at",
        ("organization__name", "service__name", "status"),
    ),
    "safety_plan": (
        SafetyPlan,
        "created_at",
        ("case_id", "version", "is_current", "created_by__first_name", "created_by__last_name", "created_by__username"),
    ),
}


def timeline_page_for(user, person: Individual, page: int = 1) -> tuple[list[Row], bool]:
    """One page of the person's timeline as this user may see it, and whether older pages exist."""
    end = page * PAGE
    found = []
    for kind, (model, at, shown) in _KINDS.items():
        visible = model.objects.visible_to(user)
        whose, program = type(visible).individual_path, type(visible).program_path
        rows = (
            visible.filter(**{whose: person})
            .order_by(f"-{at}", "-pk")
            .values_list(at, "pk", f"{whose}_id", f"{program}_id", *shown)[: end + 1]
        )
        found.extend((row[0], kind, row[1], row) for row in rows)
    found.sort(key=lambda item: item[:3], reverse=True)
    links = _Links()
    return [_row(kind, row, links) for _, kind, _, row in found[end - PAGE : end]], len(found) > end


class _Links:
    """The page's links: reverse() once per route with placeholder ids, then a str.format per row."""

    def __init__(self):
        self.encounter = _link_format("cases:encounter", 1)
        self.referral = _link_format("referrals:detail", 1)
        self.safety_plan = _link_format("cases:safety_plan", 2)


def _link_format(name: str, arity: int):
    marks = [str(9_000_000_001 + i) for i in range(arity)]  # digits: every <int:> converter takes them
    url = reverse(name, args=marks)
    for i, mark in enumerate(marks):
        url = url.replace(mark, f"{{{i}}}")
    return url.format


def _row(kind: str, values: tuple, links: _Links) -> Row:
    at, pk, person_id, program_id, *shown = values
    local = timezone.localtime(at)
    row = Row(
        kind=kind,
        obj=Seen(_KINDS[kind][0], pk, person_id, program_id),
        iso=local.isoformat(),
        shown=local.strftime("%a %d %b %Y %H:%M"),
        title="",
    )
    if kind == "encounter":
        number, team, disposition, reason = shown
        row.title, row.link, row.url = "Encounter", number, links.encounter(pk)
        row.text = (f"({team})" if team else "") + (
            f" — {_label(Encounter, 'disposition', disposition)}" if disposition else ""
        )
        row.note, row.note_class = _shorten(reason, 160), "muted"
    elif kind == "assessment":
        screener, risk = shown
        row.title, row.text = "Assessment", _label(Assessment, "kind", screener)
        if risk:
            row.text += " — risk"
            row.badge, row.badge_class = _label(Assessment, "risk_level", risk), risk
    elif kind == "contact":
        method, outcome, note, follow_up_id, *who = shown
        outcome = _label(Contact, "outcome", outcome).lower()
        row.title, row.text = "Contact", f"{_label(Contact, 'method', method)}, {outcome} by {_who(*who)}"
        if follow_up_id:
            row.badge, row.badge_class = "answered a follow-up", "ok"
        row.note = note
    elif kind == "referral":
        organization, service, status = shown
        row.title, row.link, row.url = "Referral to", organization, links.referral(pk)
        row.text = f"({service}) — {_label(Referral, 'status', status)}"
    elif kind == "safety_plan":
        case_id, version, is_current, *who = shown
        row.title, row.link, row.url = "Safety plan", f"version {version}", links.safety_plan(case_id, version)
        row.text = f"by {_who(*who)}"
        if is_current:
            row.badge, row.badge_class = "current", "ok"
    return row


def _who(first_name: str, last_name: str, username: str) -> str:
    """As User.__str__ says it."""
    return str(User(first_name=first_name, last_name=last_name, username=username))


@cache
def _labels(model, field: str) -> dict:
    return dict(model._meta.get_field(field).flatchoices)


def _label(model, field: str, value: str) -> str:
    """What get_FOO_display() would say."""
    return str(_labels(model, field).get(value, value))


def _shorten(text: str, limit: int) -> str:
    """As the truncatechars filter: at most `limit` characters, an ellipsis when cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"
