"""The caseload's third list: the open referrals of my cases that wait on their partner, oldest first,
read with hand-written SQL as the caseload's other two lists are (cases.caseload, docs/decisions/021).

A referral is kept where the user's case is one of theirs (cases.caseload.mine) and visible_to lets
the user see the referral (cases.models.visible_where for referrals: a peer sees the referrals of the
people on their caseload). The caseload page asks for it through cases.hooks.
"""

from datetime import datetime

from django.utils.html import format_html
from django.utils.safestring import mark_safe

from accounts.roles import Kind
from audit.access import Seen
from cases.caseload import PAGE, Row, mine, person_name, run
from cases.display import ago, aware, due_phrase, label, link
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


def waiting_on_partner(user, *, now: datetime) -> list[Row]:
    mine_sql, mine_params = mine(user)
    visible, visible_params = visible_where(user, Kind.REFERRAL, person="r.individual_id", program="r.program_id")
    statuses = sorted(OPEN)
    sql = _WAITING.format(mine=mine_sql, visible=visible, open=", ".join(["%s"] * len(statuses)))
    params = [*mine_params, *visible_params, *statuses, Referral.NextActionOwner.PARTNER, PAGE]
    return [_row(row, user, now) for row in run(sql, params)]


def _row(row: tuple, user, now: datetime) -> Row:
    pk, person_id, status, business_status, requested_at, next_due, first, preferred, last, partner, service = row
    status_text = format_html("{}", label(Referral, "status", status))
    if business_status:
        status_text += format_html(
            '<br><span class="muted">{}</span>', label(Referral, "business_status", business_status)
        )
    waiting = format_html("sent {}", ago(aware(requested_at), now)) if requested_at else mark_safe("")
    next_due = aware(next_due)
    if next_due is not None and next_due < now:
        what = "answer" if status == Status.REQUESTED else "update"
        waiting += format_html(' <span class="badge high">{} {}</span>', what, due_phrase(next_due, now))
    html = format_html(
        '<tr><td><a href="{}">{}</a></td>'
        '<td data-label="Partner"><a href="{}">{}</a><br><span class="muted">{}</span></td>'
        '<td data-label="Status">{}</td><td data-label="Waiting">{}</td></tr>',
        link("cases:person", person_id),
        person_name(first, preferred, last),
        link("referrals:detail", pk),
        partner,
        service,
        status_text,
        waiting,
    )
    return Row(Seen(Referral, pk, person_id, user.program_id), html)
