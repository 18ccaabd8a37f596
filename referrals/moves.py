"""The moves on a referral, as one table: what drives the partner API's actions (referrals.api), the
FHIR Task update (referrals.fhir), the partner page (referrals.partner_views) and the staff referral page
(referrals.views).

Each Move says:

- `verb`: the API action (/api/v1/partner/referrals/<id>/<verb>/) and the partner page's address;
- `function`: the referrals.services function that makes it (every rule is enforced there);
- `inputs`: what that function takes besides the referral and who acts, by name;
- `to_status`: the status it sets (None for a change that keeps the status: an appointment,
  progress in plain words);
- `from_statuses`: where it may start. For a status change it is read from TRANSITIONS (plus every
  open status for entered-in-error, as the services allow), so this table cannot disagree with the
  state machine; for the others it is the open statuses the service accepts;
- `summary`: the move in words (the API's documentation), and `label`, its button on the page that
  offers it (the partner page for the partner's moves, the staff referral page for the sender's;
  empty: not offered on a page).

Two moves set the same status (start and resume both set in-progress); they start from the same
statuses and the FHIR update, which only names a status, takes the first.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

from referrals import services
from referrals.models import OPEN, TERMINAL, TRANSITIONS, WORKING, Status

# The words each input means, for the pages; the API documents its own serializers.
INPUT_LABELS = {
    "reason": "Reason",
    "note": "Note",
    "outcome_note": "Outcome",
    "appointment_at": "Appointment",
    "business_status": "Progress",
}
# Inputs a move cannot be made without (the services refuse an empty one).
REQUIRED_INPUTS = frozenset({"reason", "appointment_at", "business_status"})


def sources(to_status: str) -> frozenset[str]:
    """The statuses from which a referral may become `to_status` (whoever makes the move)."""
    if to_status == Status.ENTERED_IN_ERROR:
        return frozenset(status for status in Status if status not in TERMINAL)
    return frozenset(status for status, targets in TRANSITIONS.items() if to_status in targets)


@dataclass(frozen=True)
class Move:
    verb: str
    function: Callable
    inputs: tuple[str, ...]
    summary: str
    to_status: str | None = None
    label: str = ""
    keeps_status_from: frozenset[str] = frozenset()  # only for a move with no to_status
    from_statuses: frozenset[str] = field(init=False)

    def __post_init__(self) -> None:
        starts = sources(self.to_status) if self.to_status else self.keeps_status_from
        if not starts:
            raise ValueError(f"The move {self.verb!r} can start from nowhere.")
        object.__setattr__(self, "from_statuses", starts)

    @property
    def is_terminal(self) -> bool:
        """Whether the referral is closed for good once it is made (a page asks before it applies)."""
        return self.to_status in TERMINAL

    @property
    def required_inputs(self) -> tuple[str, ...]:
        return tuple(name for name in self.inputs if name in REQUIRED_INPUTS)

    def can_start_from(self, status: str) -> bool:
        return status in self.from_statuses

    def make(self, referral, *, by, **inputs):
        """Make the move with the inputs it takes (any others are ignored)."""
        return self.function(referral, by=by, **{name: inputs[name] for name in self.inputs if name in inputs})


PARTNER_MOVES: tuple[Move, ...] = (
    Move("accept", services.accept_referral, ("note",), "Accept a requested referral", Status.ACCEPTED, "Accept"),
    Move(
        "reject",
        services.reject_referral,
        ("reason", "note"),
        "Decline a requested referral (reason required)",
        Status.REJECTED,
        "Decline",
    ),
    Move(
        "start",
        services.start_referral,
        ("note",),
        "Start working with the person (accepted → in-progress)",
        Status.IN_PROGRESS,
        "Started working with them",
    ),
    Move(
        "hold",
        services.hold_referral,
        ("reason", "note"),
        "Put on hold (reason required)",
        Status.ON_HOLD,
        "Put on hold",
    ),
    Move("resume", services.resume_referral, ("note",), "Resume (on-hold → in-progress)", Status.IN_PROGRESS),
    Move(
        "complete",
        services.complete_referral,
        ("outcome_note",),
        "Complete, with an outcome note",
        Status.COMPLETED,
        "Completed",
    ),
    Move(
        "fail",
        services.fail_referral,
        ("reason", "outcome_note"),
        "Mark as failed (reason required, outcome note optional)",
        Status.FAILED,
        "Could not help",
    ),
    Move(
        "appointment",
        services.set_appointment,
        ("appointment_at",),
        "Set the appointment time",
        label="Set appointment",
        keeps_status_from=WORKING,
    ),
    Move(
        "business-status",
        services.set_business_status,
        ("business_status", "note"),
        "Report progress in plain words (business status)",
        label="Update progress",
        keeps_status_from=OPEN,
    ),
)

SENDER_MOVES: tuple[Move, ...] = (
    Move("send", services.send_referral, (), "Send a draft to the partner (consent is checked now)", Status.REQUESTED),
    Move(
        "cancel",
        services.cancel_referral,
        ("reason",),
        "Cancel a referral (reason required)",
        Status.CANCELLED,
        "Cancel referral",
    ),
    Move(
        "entered-in-error",
        services.mark_entered_in_error,
        ("reason",),
        "Mark as entered in error (reason required): it should never have been made",
        Status.ENTERED_IN_ERROR,
        "Mark as entered in error",
    ),
)

PARTNER = {move.verb: move for move in PARTNER_MOVES}
SENDER = {move.verb: move for move in SENDER_MOVES}


def partner_move_to(status: str) -> Move | None:
    """The partner's move that sets `status` (what a FHIR Task update names), if there is one."""
    return next((move for move in PARTNER_MOVES if move.to_status == status), None)


def offered(table: tuple[Move, ...], status: str) -> list[Move]:
    """The moves a page offers for a referral in `status`, in the table's order."""
    return [move for move in table if move.label and move.can_start_from(status)]
