"""Forms of the partner page (referrals.partner_views). Validation only; the views make the moves
through referrals.moves."""

from django import forms

from cases.forms import DateTimeLocalInput
from referrals.models import Referral
from referrals.moves import INPUT_LABELS, Move

# The question each input asks on a move's page, in plain words (default: referrals.moves.INPUT_LABELS).
QUESTIONS = {
    ("reject", "reason"): "Why are you declining this referral?",
    ("hold", "reason"): "Why is it on hold?",
    ("complete", "outcome_note"): "What was the outcome?",
    ("fail", "reason"): "Why could you not help?",
    ("fail", "outcome_note"): "What did you try? (optional)",
    ("appointment", "appointment_at"): "When is the appointment?",
    ("business-status", "business_status"): "Progress",
}
_NOTE = "A note for the referring team (optional)"
# Progress as the partner says it.
PROGRESS_WORDS = {Referral.BusinessStatus.TRYING_TO_REACH: "We are trying to reach them"}
# Each move's page title and its button, in plain words (default: the move's label).
TITLES = {
    "accept": ("Accept this referral?", "Yes, accept"),
    "reject": ("Decline this referral?", "Yes, decline"),
    "start": ("Working with them now?", "Yes, we are working with them"),
    "hold": ("Put this referral on hold?", "Put on hold"),
    "appointment": ("Set the appointment", "Save appointment"),
    "business-status": ("Where are things now?", "Save progress"),
    "complete": ("Mark this referral completed?", "Yes, mark completed"),
    "fail": ("Close it: could not help?", "Yes, we could not help"),
}


def title_and_button(move: Move) -> tuple[str, str]:
    return TITLES.get(move.verb, (move.label, move.label))


def _field(move: Move, name: str, *, required: bool) -> forms.Field:
    label = QUESTIONS.get((move.verb, name), _NOTE if name == "note" else INPUT_LABELS[name])
    if name == "appointment_at":
        return forms.DateTimeField(label=label, widget=DateTimeLocalInput())
    if name == "business_status":
        # "Awaiting partner" is what the referral says until the partner answers, not an answer.
        choices = [
            (value, PROGRESS_WORDS.get(value, text))
            for value, text in Referral.BusinessStatus.choices
            if value != Referral.BusinessStatus.AWAITING_PARTNER
        ]
        return forms.ChoiceField(label=label, choices=choices, widget=forms.RadioSelect)
    max_length = 500 if name == "reason" else 1000
    return forms.CharField(
        label=label, required=required, max_length=max_length, widget=forms.Textarea(attrs={"rows": 3})
    )


def move_form(move: Move, data=None) -> forms.Form:
    """A form with the fields the move takes. A move that closes the referral asks for at least its
    first text (the outcome of a completed referral, the reason of a declined one): the page always
    asks for the note, even where the API leaves it optional."""
    required = set(move.required_inputs)
    if move.is_terminal and not required:
        required.add(move.inputs[0])
    fields = {name: _field(move, name, required=name in required) for name in move.inputs}
    return type(f"{move.verb.title().replace('-', '')}Form", (forms.Form,), fields)(data)


class CapacityForm(forms.Form):
    available = forms.IntegerField(label="Available now", min_value=0, max_value=1_000_000)
