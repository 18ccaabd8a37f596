"""Forms of the staff pages. They validate and shape input only; the views hand it to cases.services."""

from datetime import timedelta

from django import forms
from django.utils import timezone

from cases.models import Contact, RiskLevel
from cases.services import ENVIRONMENT_STEP_STATUSES, PARTICIPANT_ROLES
from cases.validators import validate_planned, validate_since_2000
from providers.models import NeedDomain

DATETIME_LOCAL = "%Y-%m-%dT%H:%M"


class DateTimeLocalInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, **kwargs):
        super().__init__(format=DATETIME_LOCAL, **kwargs)


class CaseloadFilterForm(forms.Form):
    DUE_CHOICES = [("", "Any"), ("overdue", "Overdue"), ("today", "Due by end of today")]

    q = forms.CharField(label="Search by name", required=False, max_length=100)
    risk = forms.ChoiceField(label="Risk", required=False, choices=[("", "Any"), *RiskLevel.choices])
    due = forms.ChoiceField(label="Follow-up", required=False, choices=DUE_CHOICES)


class PeopleSearchForm(forms.Form):
    q = forms.CharField(label="Name, or date of birth (YYYY-MM-DD)", required=False, max_length=100)


class ContactForm(forms.Form):
    # No default: whether the person was reached is always the user's explicit choice.
    outcome = forms.ChoiceField(
        label="Did you reach them?",
        choices=Contact.Outcome.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Choose whether you reached the person."},
        help_text="Reaching them completes the follow-up that is due.",
    )
    method = forms.ChoiceField(choices=Contact.Method.choices, initial=Contact.Method.PHONE, widget=forms.RadioSelect)
    occurred_at = forms.DateTimeField(
        label="When", widget=DateTimeLocalInput(), input_formats=[DATETIME_LOCAL], validators=[validate_since_2000]
    )
    follow_up = forms.ModelChoiceField(
        label="Answers follow-up",
        queryset=None,
        required=False,
        empty_label="The earliest one due or missed (automatic)",
    )
    duration_minutes = forms.IntegerField(label="Minutes", required=False, min_value=0, max_value=1440)
    note = forms.CharField(label="Note", required=False, max_length=1000, widget=forms.Textarea(attrs={"rows": 3}))
    needs_identified = forms.MultipleChoiceField(
        label="Needs identified", required=False, choices=NeedDomain.choices, widget=forms.CheckboxSelectMultiple
    )
    next_step = forms.CharField(label="Next step", required=False, max_length=300)

    def __init__(self, *args, follow_ups, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["follow_up"].queryset = follow_ups
        self.fields["follow_up"].label_from_instance = lambda fu: (
            f"{fu.label} — {'missed, was ' if fu.is_missed else ''}due {timezone.localtime(fu.due_at):%a %d %b %H:%M}"
        )
        if not self.is_bound:
            self.initial.setdefault("occurred_at", timezone.localtime().replace(second=0, microsecond=0))

    def clean_occurred_at(self):
        value = self.cleaned_data["occurred_at"]
        if value > timezone.now() + timedelta(minutes=5):
            raise forms.ValidationError("A contact cannot be in the future.")
        return value


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def _rows(text: str, keys: tuple[str, ...], *, required: int, field: str) -> list[dict]:
    """Lines of "a | b | c" as dicts of `keys`; the first `required` parts must be present."""
    rows = []
    for number, line in enumerate(_lines(text), start=1):
        parts = [part.strip() for part in line.split("|")]
        if len(parts) > len(keys) or sum(1 for part in parts[:required] if part) < required:
            raise forms.ValidationError(
                f"Line {number}: write {' | '.join(keys)} ({', '.join(keys[:required])} required).",
                code="invalid",
            )
        rows.append({key: part for key, part in zip(keys, parts, strict=False) if part})
    if len(rows) > 50:
        raise forms.ValidationError(f"At most 50 lines in {field}.")
    return rows


def _unlines(items) -> str:
    return "\n".join(items)


def _unrows(rows, keys) -> str:
    return "\n".join(" | ".join(row.get(key, "") for key in keys).rstrip(" |") for row in rows)


class SafetyPlanForm(forms.Form):
    """The six sections, one entry per line; structured entries as "name | phone"."""

    LAYOUT = {
        "distractions": ("name", "place", "phone"),
        "help_contacts": ("name", "phone", "relationship"),
        "professional_contacts": ("name", "phone", "note"),
        "environment_steps": ("method", "step", "who", "status"),
        "participants": ("name", "role"),
    }
    REQUIRED = {"distractions": 1, "help_contacts": 1, "professional_contacts": 1, "environment_steps": 2}

    warning_signs = forms.CharField(
        label="1. Signs that a crisis may be starting",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="One per line.",
    )
    coping_strategies = forms.CharField(
        label="2. Things I can do on my own to take my mind off it",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="One per line.",
    )
    distractions = forms.CharField(
        label="3. People and places that help me feel better",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="One per line: name | place | phone.",
    )
    help_contacts = forms.CharField(
        label="4. People I can ask for help",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="One per line: name | phone | relationship.",
    )
    professional_contacts = forms.CharField(
        label="5. Professionals and services I can call (988 and 911 are always printed)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="One per line: name | phone | note.",
    )
    environment_steps = forms.CharField(
        label="6. Making my surroundings safer",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=f"One per line: method | step | who | status ({', '.join(ENVIRONMENT_STEP_STATUSES)}).",
    )
    most_important = forms.CharField(
        label="What matters most to me", required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 2})
    )
    participants = forms.CharField(
        label="Who took part",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=f"One per line: name | role ({', '.join(PARTICIPANT_ROLES)}).",
    )
    copy_kept_at = forms.CharField(label="Where the copy is kept", required=False, max_length=200)
    review_on = forms.DateField(
        label="Review on",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        validators=[validate_planned],
    )

    def clean_warning_signs(self):
        return _lines(self.cleaned_data["warning_signs"])

    def clean_coping_strategies(self):
        return _lines(self.cleaned_data["coping_strategies"])

    def _clean_rows(self, name):
        keys = self.LAYOUT[name]
        rows = _rows(self.cleaned_data[name], keys, required=self.REQUIRED.get(name, len(keys)), field=name)
        if name == "environment_steps":
            for row in rows:
                if row.get("status", "to_do") not in ENVIRONMENT_STEP_STATUSES:
                    raise forms.ValidationError(f"A step's status is one of {', '.join(ENVIRONMENT_STEP_STATUSES)}.")
        if name == "participants":
            for row in rows:
                if row["role"] not in PARTICIPANT_ROLES:
                    raise forms.ValidationError(f"A participant's role is one of {', '.join(PARTICIPANT_ROLES)}.")
        return rows

    def clean_distractions(self):
        return self._clean_rows("distractions")

    def clean_help_contacts(self):
        return self._clean_rows("help_contacts")

    def clean_professional_contacts(self):
        return self._clean_rows("professional_contacts")

    def clean_environment_steps(self):
        return self._clean_rows("environment_steps")

    def clean_participants(self):
        return self._clean_rows("participants")

    @classmethod
    def initial_from(cls, plan) -> dict:
        if plan is None:
            return {}
        initial = {
            "warning_signs": _unlines(plan.warning_signs),
            "coping_strategies": _unlines(plan.coping_strategies),
            "most_important": plan.most_important,
            "copy_kept_at": plan.copy_kept_at,
            "review_on": plan.review_on,
        }
        for name, keys in cls.LAYOUT.items():
            initial[name] = _unrows(getattr(plan, name), keys)
        return initial


class DismissFollowUpForm(forms.Form):
    reason = forms.CharField(
        label="Why is it dismissed?",
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="For example: reached through the shelter, moved away, in hospital.",
    )


class ReassignForm(forms.Form):
    navigator = forms.ModelChoiceField(label="Navigator", queryset=None, required=False)
    peer = forms.ModelChoiceField(label="Peer specialist", queryset=None, required=False)

    def __init__(self, *args, navigators, peers, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["navigator"].queryset = navigators
        self.fields["peer"].queryset = peers

    def clean(self):
        data = super().clean()
        if not data.get("navigator") and not data.get("peer"):
            raise forms.ValidationError("Choose a navigator or a peer specialist.")
        return data
