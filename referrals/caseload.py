"""The caseload's third list: the open referrals of my cases that wait on their partner, oldest first,
read with hand-written SQL as the caseload's other two lists are (cases.caseload, docs/decisions/021).

A referral is kept where the user's case is one of theirs (cases.caseload.mine) and visible_to lets
the user see the referral (cases.models.visible_where for referrals: a peer sees the referrals of the
people on their caseload). The caseload page asks for it through cases.hooks. Rows are written as
cases.caseload writes its rows: every value through html.escape.
"""

from datetime import datetime
from html import escape

from django.utils.safestring import mark_safe

from accounts.roles import Kind
from audit.access import Seen
from cases.caseload import PAGE, mine, person_name, run
from cases.display import Line, ago, aware, due_phrase, label, link
from cases.models import visible_where
from referrals.models import OPEN, Referral, Status

_WAITING = """
SELECT r.id, r.individual_id, r.status, r.business_status, r.requested_at, r.next_action_due_at,
       i.legal_first_name, i.preferred_name, i.legal_last_name, o.name, s.name
FROM referrals_referral r
JOIN cases_case c ON c.id = r.case_id
JOIN cases_individual i ON i.id = r.individual_id
JOIN providers_organization o ON o.id = r.organization_id
JOIN providers_service s ON s.id = r.service_id
WHERE {mine} AND {visible} AND r.status IN ({open}) AND r.next_action_owner = %s
ORDER BY r.requested_at, r.id
LIMIT %s
"""


def waiting_on_partner(user, *, now: datetime) -> list[Line]:
    mine_sql, mine_params = mine(user)
    visible, visible_params = visible_where(user, Kind.REFERRAL, person="r.individual_id", program="r.program_id")
    statuses = sorted(OPEN)
    sql = _WAITING.format(mine=mine_sql, visible=visible, open=", ".join(["%s"] * len(statuses)))
    params = [*mine_params, *visible_params, *statuses, Referral.NextActionOwner.PARTNER, PAGE]
    return [_row(row, user, now) for row in run(sql, params)]


def _row(row: tuple, user, now: datetime) -> Line:
    pk, person_id, status, business_status, requested_at, next_due, first, preferred, last, partner, service = row
    status_text = escape(label(Referral, "status", status))
    if business_status:
        status_text += f'<br><span class="muted">{escape(label(Referral, "business_status", business_status))}</span>'
    waiting = f"sent {escape(ago(aware(requested_at), now))}" if requested_at else ""
    next_due = aware(next_due)
    if next_due is not None and next_due < now:
        what = "answer" if status == Status.REQUESTED else "update"
        waiting += f' <span class="badge high">{what} {escape(due_phrase(next_due, now))}</span>'
    html = (
        f'<tr><td><a href="{link("cases:person", person_id)}">{escape(person_name(first, preferred, last))}</a></td>'
        f'<td data-label="Partner"><a href="{link("referrals:detail", pk)}">{escape(partner)}</a>'
        f'<br><span class="muted">{escape(service)}</span></td>'
        f'<td data-label="Status">{status_text}</td><td data-label="Waiting">{waiting}</td></tr>'
    )
    return Line(Seen(Referral, pk, person_id, user.program_id), mark_safe(html))  # noqa: S308 (escaped above)
