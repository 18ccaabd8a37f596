"""The groups of dispositions and statuses the measures are defined with. One place, so that
"contacted" or "transported" means the same thing in every measure and in docs/metrics.md."""

from cases.models import Contact, Encounter
from referrals.models import Status

D = Encounter.Disposition

# The team met the person: every disposition that needs someone to have been found.
CONTACTED = frozenset(
    {
        D.STABILISED,
        D.VOLUNTARY_CRISIS_CENTRE,
        D.EMERGENCY_DEPARTMENT,
        D.INVOLUNTARY_HOLD,
        D.ARREST,
        D.REFUSED,
    }
)
# The team went and looked: contacted, or the person could not be found.
ATTEMPTED = CONTACTED | {D.UNABLE_TO_LOCATE}
# Taken somewhere for care. An arrest is counted as an arrest, not as a transport.
TRANSPORTED = frozenset({D.VOLUNTARY_CRISIS_CENTRE, D.EMERGENCY_DEPARTMENT, D.INVOLUNTARY_HOLD})
CANCELLED = D.CANCELLED

REACHED = Contact.Outcome.REACHED

# A referral that reached "accepted" is in one of these now, or was cancelled after acceptance.
ACCEPTED_OR_LATER = frozenset({Status.ACCEPTED, Status.IN_PROGRESS, Status.ON_HOLD, Status.COMPLETED, Status.FAILED})
PARTNER_ANSWERS = frozenset({Status.ACCEPTED, Status.REJECTED})
STILL_OPEN = frozenset({Status.REQUESTED, Status.ACCEPTED, Status.IN_PROGRESS, Status.ON_HOLD})
REFERRAL_ERROR = Status.ENTERED_IN_ERROR
