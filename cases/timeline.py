"""A person's timeline: encounters, assessments, contacts, referrals and safety-plan versions, newest
first, a page of 50 at a time.

The page is one statement: for each kind of record the user may see of this person, a branch reads
the newest rows up to the end of the page, and the database merges the branches by time. Which kinds
the user may see is visible_to's rule with the person fixed (cases.models.kinds_visible_of_person);
each branch keeps only rows of the user's program, as visible_to does. No model instances: each row
is described here as its line of HTML (every value escaped) and audited with
audit.access.Seen. Building and compiling one ORM query per kind was most of the person page's time
(docs/performance.md, "Staff web app").
"""

from functools import cache
from html import escape

from django.apps import apps
from django.db import connection
from django.utils import timezone
from django.utils.safestring import mark_safe

from audit.access import Seen
from cases.display import Line, aware, label, link_format, shorten, user_name
from cases.models import Assessment, Contact, Encounter, Individual, SafetyPlan, kinds_visible_of_person
from crt import statements

PAGE = 50
# Deeper than any real history; it keeps LIMIT and OFFSET within the database's integers.
LAST_PAGE = 100_000


# What every branch yields after (at, kind, id, person id, program id): the columns a row shows,
# each kind filling those it has. A column a kind does not have is a NULL cast to the column's type:
# an untyped NULL would be taken for text, which a UNION cannot match with a number.
_SHOWN = (
    ("text1", "text"),
    ("text2", "text"),
    ("text3", "text"),
    ("text4", "text"),
    ("first_name", "text"),
    ("last_name", "text"),
    ("username", "text"),
    ("number1", "bigint"),
    ("number2", "bigint"),
    ("flag", "boolean"),
)

# kind -> (model, time, FROM, person id, program id, the columns it shows). Person and program are
# reached as the model's visible_to reaches them (ScopedQuerySet.individual_path and program_path).
# A model of an app above cases is named by its label, as the SQL names its table (decision 017).
_KINDS = {
    "encounter": (
        Encounter,
        "e.call_received_at",
        "cases_encounter e",
        "e.individual_id",
        "e.program_id",
        {"text1": "e.cad_incident_number", "text2": "e.team", "text3": "e.disposition", "text4": "e.reason_for_call"},
    ),
    "assessment": (
        Assessment,
        "a.performed_at",
        "cases_assessment a JOIN cases_encounter e ON e.id = a.encounter_id",
        "e.individual_id",
        "e.program_id",
        {"text1": "a.kind", "text2": "a.risk_level"},
    ),
    "contact": (
        Contact,
        "ct.occurred_at",
        "cases_contact ct JOIN cases_case c ON c.id = ct.case_id JOIN accounts_user u ON u.id = ct.made_by_id",
        "c.individual_id",
        "c.program_id",
        {
            "text1": "ct.method",
            "text2": "ct.outcome",
            "text3": "ct.note",
            "first_name": "u.first_name",
            "last_name": "u.last_name",
            "username": "u.username",
            "number1": "ct.follow_up_id",
        },
    ),
    "referral": (
        "referrals.Referral",
        "r.created_at",
        "referrals_referral r JOIN providers_organization o ON o.id = r.organization_id"
        " JOIN providers_service s ON s.id = r.service_id",
        "r.individual_id",
        "r.program_id",
        {"text1": "o.name", "text2": "s.name", "text3": "r.status"},
    ),
    "safety_plan": (
        SafetyPlan,
        "p.created_at",
        "cases_safetyplan p JOIN cases_case c ON c.id = p.case_id JOIN accounts_user u ON u.id = p.created_by_id",
        "c.individual_id",
        "c.program_id",
        {
            "first_name": "u.first_name",
            "last_name": "u.last_name",
            "username": "u.username",
            "number1": "p.case_id",
            "number2": "p.version",
            "flag": "p.is_current",
        },
    ),
}

# One kind's branch: its newest rows up to the page's end, of the person and in the user's program.
_BRANCH = (
    "SELECT * FROM (SELECT {at} AS at, '{kind}' AS kind, {alias}.id AS id, {person} AS person_id,"
    " {program} AS program_id, {columns} FROM {source}"
    " WHERE {person} = %(person)s AND {program} = %(program)s"
    " ORDER BY {at} DESC, {alias}.id DESC LIMIT %(end)s) AS {kind}"
)
# Equal times fall back on kind and id, so that every page cuts the same order.
_MERGE = " ORDER BY at DESC, kind DESC, id DESC LIMIT %(limit)s OFFSET %(offset)s"


@cache
def _statement(kinds: tuple[str, ...]) -> str:
    """The page's SQL for these kinds (the same text on PostgreSQL and SQLite), from this module's
    constants only: every value is a parameter."""
    branches = []
    for kind in kinds:
        _, at, source, person, program, shown = _KINDS[kind]
        columns = ", ".join(f"{shown.get(name, f'CAST(NULL AS {type_})')} AS {name}" for name, type_ in _SHOWN)
        alias = source.split(" ")[1]
        branches.append(
            _BRANCH.format(
                at=at, kind=kind, alias=alias, person=person, program=program, columns=columns, source=source
            )
        )
    return " UNION ALL ".join(branches) + _MERGE


@cache
def _record_kinds() -> dict:
    """Timeline kind -> the kind of record its model's visible_to scopes it as (accounts.roles.Kind)."""
    return {kind: type(_model(kind).objects.all()).kind for kind in _KINDS}


@cache
def _model(kind: str):
    model = _KINDS[kind][0]
    return apps.get_model(model) if isinstance(model, str) else model


def timeline_page_for(user, person: Individual, page: int = 1, visible=None) -> tuple[list[Line], bool]:
    """One page of the person's timeline as this user may see it, and whether older pages exist.
    `visible`: the kinds of record the user may see of this person, if the caller already asked
    kinds_visible_of_person."""
    record_kinds = _record_kinds()
    if visible is None:
        visible = kinds_visible_of_person(user, person.pk, set(record_kinds.values()))
    kinds = tuple(kind for kind, record_kind in record_kinds.items() if record_kind in visible)
    if not kinds:
        return [], False
    end = min(page, LAST_PAGE) * PAGE
    with statements.cursor(connection) as cursor:  # prepared: PostgreSQL planned it longer than it ran it
        cursor.execute(
            _statement(kinds),
            {"person": person.pk, "program": user.program_id, "end": end + 1, "limit": PAGE + 1, "offset": end - PAGE},
        )
        found = cursor.fetchall()
    lines = _Lines()
    return [_event(values, lines) for values in found[:PAGE]], len(found) > PAGE


class _Lines:
    """What every line of a page shares: its links (reverse() once per route with placeholder ids,
    then a str.format per row) and the time zone its times are shown in."""

    def __init__(self):
        self.encounter = link_format("cases:encounter", 1)
        self.referral = link_format("referrals:detail", 1)
        self.safety_plan = link_format("cases:safety_plan", 2)
        self.zone = timezone.get_current_timezone()


def _event(values: tuple, lines: _Lines) -> Line:
    """One line of HTML: every value read is escaped (html.escape, as format_html escapes), the markup
    is this function's own. Built as one string: format_html's per-value checks were most of the
    timeline's time in Python."""
    at, kind, pk, person_id, program_id, text1, text2, text3, text4, *who, number1, number2, flag = values
    link = badge = note = ""
    if kind == "encounter":
        title, link = "Encounter", _link(lines.encounter(pk), text1)
        text = (f"({text2})" if text2 else "") + (f" — {label(Encounter, 'disposition', text3)}" if text3 else "")
        note = f'<br><span class="muted">{escape(shorten(text4, 160))}</span>' if text4 else ""
    elif kind == "assessment":
        title, text = "Assessment", label(Assessment, "kind", text1)
        if text2:
            text += " — risk"
            badge = _badge(text2, label(Assessment, "risk_level", text2))
    elif kind == "contact":
        outcome = label(Contact, "outcome", text2).lower()
        title, text = "Contact", f"{label(Contact, 'method', text1)}, {outcome} by {user_name(*who)}"
        badge = _badge("ok", "answered a follow-up") if number1 else ""
        note = f"<br><span>{escape(text3)}</span>" if text3 else ""
    elif kind == "referral":
        title, link = "Referral to", _link(lines.referral(pk), text1)
        text = f"({text2}) — {label(_model('referral'), 'status', text3)}"
    else:  # safety_plan
        title, link = "Safety plan", _link(lines.safety_plan(number1, number2), f"version {number2}")
        text = f"by {user_name(*who)}"
        badge = _badge("ok", "current") if flag else ""
    local = aware(at).astimezone(lines.zone)
    html = (
        f'<li class="tl-{kind}"><time datetime="{local.isoformat()}">{local.strftime("%a %d %b %Y %H:%M")}</time>\n'
        f"      <strong>{title}</strong>{link} {escape(text)}{badge}{note}</li>\n"
    )
    return Line(Seen(_model(kind), pk, person_id, program_id), mark_safe(html))  # noqa: S308 (escaped above)


def _link(url: str, text: str) -> str:
    return f' <a href="{escape(url)}">{escape(text)}</a>'


def _badge(css_class: str, text: str) -> str:
    return f' <span class="badge {escape(css_class)}">{escape(text)}</span>'
