"""My caseload's lists, read with hand-written SQL (docs/decisions/021): the people on my caseload, a
page at a time, missed follow-ups first, and what they owe before the end of today. The third list,
the referrals waiting on partners, is read the same way in referrals.caseload (through cases.hooks).

"Mine" is an open case of the user's program on which the user is navigator or peer, and that
visible_to lets the user see (cases.models.visible_where, the same rule as SQL). A follow-up is seen
through its case (the same kind, person and program), so the due list needs no condition of its own.
No model instances: each row is its HTML and an audit.access.Seen. The rows are written as f-strings
with every value passed through html.escape (what format_html does, at a quarter of its cost per
row; tests/web/test_caseload_lists.py sends markup in every value shown).
Built through the ORM, the lists' queries cost more to build, compile and load than the database took
to run them (docs/performance.md, "Staff web app"); tests/web/test_caseload_lists.py holds the rows
equal to the querysets they replace.
"""

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from functools import cached_property
from html import escape

from django.db import connection
from django.utils import timezone
from django.utils.safestring import mark_safe

from accounts.roles import Kind
from audit.access import Seen
from cases.display import Line, ago, aware, day_and_time, due_phrase, follow_up_name, label, link, user_name
from cases.models import Case, FollowUp, RiskLevel, visible_where
from crt import statements

PAGE = 50


@dataclass(frozen=True)
class Links:
    """What every row of a page shares: the way back to this page for its links, who is looking, and the
    time zone its times are shown in."""

    back: str  # "next=/cases/?page=2", appended to the log-contact and dismiss links
    user: object

    @cached_property
    def zone(self):
        """The time zone the rows' times are shown in, looked up once a page."""
        return timezone.get_current_timezone()

    @cached_property
    def may_dismiss_any(self) -> bool:
        """May dismiss any missed follow-up, not only their own (asked only if one is shown)."""
        return self.user.has_perm("cases.change_case")


def mine(user) -> tuple[str, list]:
    """The condition on `c` (cases_case) that makes it one of the user's open cases, with its parameters."""
    visible, params = visible_where(user, Kind.CARE, person="c.individual_id", program="c.program_id")
    sql = f"c.program_id = %s AND c.status <> 'closed' AND (c.navigator_id = %s OR c.peer_id = %s) AND {visible}"
    return sql, [user.program_id, user.pk, user.pk, *params]


def end_of_today(now: datetime) -> datetime:
    local = timezone.localtime(now)
    return timezone.make_aware(datetime.combine(local.date() + timedelta(days=1), time.min))


def run(sql: str, params: list) -> list[tuple]:
    with statements.cursor(connection) as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _instant(at: datetime):
    """A time as a parameter, as the ORM would pass it (SQLite compares text)."""
    return connection.ops.adapt_datetimefield_value(at)


def person_name(first: str, preferred: str | None, last: str) -> str:
    """Individual.display_name, from the row."""
    return f"{preferred or first} {last}"


# --- the people on my caseload --------------------------------------------------------------------

# Each of my cases with what orders them (the earliest open follow-up's time; whether one is missed)
# and what the filters ask about (the person's names), filtered.
_CASES = """
SELECT * FROM (
    SELECT c.id, c.individual_id, c.risk_level,
           i.legal_first_name, i.preferred_name, i.legal_last_name, i.is_do_not_contact,
           (SELECT min(f.due_at) FROM cases_followup f
            WHERE f.case_id = c.id AND f.done_at IS NULL AND NOT f.is_missed) AS next_due_at,
           EXISTS (SELECT 1 FROM cases_followup f
                   WHERE f.case_id = c.id AND f.dismissed_at IS NULL AND f.is_missed) AS has_missed
    FROM cases_case c
    JOIN cases_individual i ON i.id = c.individual_id
    WHERE {mine}
) m
WHERE {filters}
"""
# High-risk people with a missed follow-up, then other missed ones, then by the next follow-up's time.
# The page is ordered inside (which rows) and again outside (a subquery's order is not kept).
_ORDER = """
ORDER BY CASE WHEN {t}.has_missed AND {t}.risk_level = 'high' THEN 0 WHEN {t}.has_missed THEN 1 ELSE 2 END,
         {t}.next_due_at NULLS LAST, {t}.id
"""
# A page of them, with what only the page's rows need: the labels of those follow-ups (the earliest
# by time, then id), the missed one's time, and the last contact.
_OPEN = "f.case_id = p.id AND f.done_at IS NULL AND NOT f.is_missed"
_MISSED = "f.case_id = p.id AND f.dismissed_at IS NULL AND f.is_missed"
_PAGE = """
SELECT p.id, p.individual_id, p.risk_level, p.legal_first_name, p.preferred_name, p.legal_last_name,
       p.is_do_not_contact, p.next_due_at,
       (SELECT f.label FROM cases_followup f WHERE {open} ORDER BY f.due_at, f.id LIMIT 1),
       p.has_missed,
       (SELECT min(f.due_at) FROM cases_followup f WHERE {missed}),
       (SELECT f.label FROM cases_followup f WHERE {missed} ORDER BY f.due_at, f.id LIMIT 1),
       (SELECT max(ct.occurred_at) FROM cases_contact ct WHERE ct.case_id = p.id)
FROM ({cases} {inner} LIMIT %s OFFSET %s) p
{outer}
"""
_COUNT = "SELECT count(*) FROM ({cases}) counted"
_COUNT_ALL = "SELECT count(*) FROM cases_case c WHERE {mine}"


class Caseload:
    """The people on the user's caseload, filtered, as a list Django's Paginator pages: `count()`,
    then a slice, each one statement."""

    def __init__(self, user, links: Links, *, now: datetime, q: str = "", risk: str = "", due: str = ""):
        self.user, self.links, self.now = user, links, now
        mine_sql, mine_params = mine(user)
        filters, filter_params = ["1 = 1"], []
        for word in q.split():
            pattern = f"%{connection.ops.prep_for_like_query(word)}%"
            names = ("m.legal_first_name", "m.legal_last_name", "m.preferred_name")
            filters.append("(" + " OR ".join(f"UPPER({name}) LIKE UPPER(%s) ESCAPE '\\'" for name in names) + ")")
            filter_params += [pattern] * len(names)
        if risk:
            filters.append("m.risk_level = %s")
            filter_params.append(risk)
        if due in ("overdue", "today"):
            filters.append("(m.next_due_at < %s OR m.has_missed)")
            filter_params.append(_instant(now if due == "overdue" else end_of_today(now)))
        self.filtered = bool(filter_params)
        self.cases = _CASES.format(mine=mine_sql, filters=" AND ".join(filters))
        self.params = [*mine_params, *filter_params]
        self.count_all = _COUNT_ALL.format(mine=mine_sql), mine_params

    def count(self) -> int:
        if self.filtered:
            ((n,),) = run(_COUNT.format(cases=self.cases), self.params)
        else:  # no filter: the cases alone, without their follow-ups
            ((n,),) = run(*self.count_all)
        return n

    def __getitem__(self, window: slice) -> list[Line]:
        sql = _PAGE.format(
            cases=self.cases, open=_OPEN, missed=_MISSED, inner=_ORDER.format(t="m"), outer=_ORDER.format(t="p")
        )
        rows = run(sql, [*self.params, window.stop - window.start, window.start])
        return [self._row(row) for row in rows]

    def __len__(self) -> int:
        return self.count()

    def _row(self, row: tuple) -> Line:
        pk, person_id, risk_level, first, preferred, last, do_not_contact, next_due, next_label, *rest = row
        has_missed, missed_due, missed_label, last_contact = rest
        now, back = self.now, escape(self.links.back)
        person = f'<a href="{link("cases:person", person_id)}">{escape(person_name(first, preferred, last))}</a>'
        if do_not_contact:
            person += ' <span class="badge high">do not contact</span>'
        last_contact = aware(last_contact)
        contact = escape(ago(last_contact, now)) if last_contact else '<span class="muted">none yet</span>'
        follow_up = ""
        if has_missed:
            follow_up = (
                f'<strong class="overdue-text">{escape(follow_up_name(missed_label))} missed</strong>'
                f" (was due {escape(day_and_time(aware(missed_due), self.links.zone))})"
            )
            if next_due is not None:
                follow_up += "<br>"
        if next_due is not None:
            next_due = aware(next_due)
            when = escape(day_and_time(next_due, self.links.zone))
            if next_due < now:
                when = f'<strong class="overdue-text">{escape(due_phrase(next_due, now))}</strong> ({when})'
            follow_up += f"{escape(follow_up_name(next_label))}: {when}"
        elif not has_missed:
            follow_up = '<span class="muted">none</span>'
        html = (
            f"<tr><td>{person}</td>"
            f'<td data-label="Risk"><span class="badge {escape(risk_level)}">'
            f"{escape(label(Case, 'risk_level', risk_level))}</span></td>"
            f'<td data-label="Last contact">{contact}</td>'
            f'<td data-label="Next follow-up">{follow_up}</td>'
            f'<td><a class="button small" href="{link("cases:log_contact", pk)}?{back}">Log contact</a></td></tr>'
        )
        return Line(Seen(Case, pk, person_id, self.user.program_id), mark_safe(html))  # noqa: S308 (escaped above)


# --- due today, overdue and missed ------------------------------------------------------------------

# Outstanding follow-ups of my cases (open, or missed and neither completed nor dismissed) due before
# the end of today: high-risk missed first, then other missed ones, then by due time.
_DUE = """
SELECT f.id, f.case_id, f.label, f.due_at, f.is_missed, f.owner_id, u.first_name, u.last_name, u.username,
       c.risk_level, c.individual_id, i.legal_first_name, i.preferred_name, i.legal_last_name
FROM cases_followup f
JOIN cases_case c ON c.id = f.case_id
JOIN cases_individual i ON i.id = c.individual_id
LEFT JOIN accounts_user u ON u.id = f.owner_id
WHERE {mine} AND f.done_at IS NULL AND f.dismissed_at IS NULL AND f.due_at < %s
ORDER BY CASE WHEN f.is_missed AND c.risk_level = 'high' THEN 0 WHEN f.is_missed THEN 1 ELSE 2 END, f.due_at, f.id
LIMIT %s
"""


def due_today(user, links: Links, *, now: datetime) -> list[Line]:
    mine_sql, params = mine(user)
    rows = run(_DUE.format(mine=mine_sql), [*params, _instant(end_of_today(now)), PAGE])
    return [_due_row(row, user, links, now) for row in rows]


def _due_row(row: tuple, user, links: Links, now: datetime) -> Line:
    pk, case_id, label_, due_at, is_missed, owner_id, owner_first, owner_last, owner_username, *rest = row
    risk_level, person_id, first, preferred, last = rest
    due_at, name, back = aware(due_at), escape(follow_up_name(label_)), escape(links.back)
    person = f'<a href="{link("cases:person", person_id)}">{escape(person_name(first, preferred, last))}</a>'
    if risk_level == RiskLevel.HIGH:
        person += ' <span class="badge high">high risk</span>'
    if is_missed:
        owner = escape(user_name(owner_first, owner_last, owner_username) or "nobody")
        state = (
            f'<span class="badge high">{name} missed</span>'
            f' <span class="muted">was due {escape(day_and_time(due_at, links.zone))} · {owner}</span>'
        )
    elif due_at < now:
        state = f'<span class="badge high">{name}, {escape(due_phrase(due_at, now))}</span>'
    else:
        state = f'<span class="badge">{name}, due at {due_at.astimezone(links.zone):%H:%M}</span>'
    actions = f'<a class="button small" href="{link("cases:log_contact", case_id)}?{back}">Log contact</a>'
    if is_missed and (links.may_dismiss_any or owner_id == links.user.pk):
        dismiss = link("cases:dismiss_follow_up", pk)
        actions += f' <a class="button small secondary" href="{dismiss}?{back}">Dismiss</a>'
    overdue = " overdue" if is_missed or due_at < now else ""
    html = f'<li class="card{overdue}">{person} {state} {actions}</li>'
    return Line(Seen(FollowUp, pk, person_id, user.program_id), mark_safe(html))  # noqa: S308 (escaped above)
