"""Reading the audit trail: who has looked at a person's record, and the accounting of disclosures.

Both are for supervisors and staff admins of the person's program (AccessLog.objects.visible_to),
and only about people they can see (Individual.objects.visible_to): anyone else gets None, which
the pages turn into a 404, the same answer as for a person who does not exist.
"""

import csv
import io

from accounts.roles import may_review_access
from audit.models import AccessLog
from cases.models import Individual
from crt.spreadsheets import safe_cell

DISCLOSURE_COLUMNS = ("date", "recipient organisation", "what", "purpose")


def reviewable_individual(user, individual_id: int) -> Individual | None:
    if not may_review_access(user):
        return None
    return Individual.objects.visible_to(user).filter(pk=individual_id).first()


def access_history(user, individual: Individual):
    """Every recorded access to the person's record, newest first, with who made it."""
    return (
        AccessLog.objects.visible_to(user)
        .about(individual.pk)
        .select_related("actor", "credential__organization", "recipient")
        .order_by("-at", "-id")
    )


def disclosures(user, individual: Individual):
    return (
        AccessLog.objects.visible_to(user)
        .about(individual.pk)
        .disclosures()
        .select_related("recipient", "credential__organization")
        .order_by("at", "id")
    )


def disclosures_csv(rows) -> str:
    """The accounting of disclosures: date (UTC), recipient organisation, what, purpose."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(DISCLOSURE_COLUMNS)
    for row in rows:
        recipient = row.recipient or (row.credential.organization if row.credential_id else None)
        writer.writerow(
            [
                row.at.strftime("%Y-%m-%dT%H:%M:%SZ"),
                safe_cell(recipient.name if recipient is not None else None),
                safe_cell(row.detail),
                safe_cell(row.purpose),
            ]
        )
    return out.getvalue()
