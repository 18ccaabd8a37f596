"""Forms of the staff pages. They validate and shape input only; the views hand it to cases.services."""

import itertools
from dataclasses import dataclass

from django import forms
from django.utils import timezone

from accounts.models import User
from cases.display import PARTICIPANT_ROLE_LABELS, STEP_STATUS_LABELS, follow_up_name
from cases.models import Assessment, Contact, Encounter, RiskLevel
from cases.services import ITEM_MAX_LENGTH, MAX_ITEMS
from crt.inputs import is_ahead
from crt.validators import validate_planned, validate_since_2000
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


class LogContactForm(forms.Form):
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
            f"{follow_up_name(fu.label)} — {'missed, was ' if fu.is_missed else ''}"
            f"due {timezone.localtime(fu.due_at):%a %d %b %H:%M}"
        )
        if not self.is_bound:
            self.initial.setdefault("occurred_at", timezone.localtime().replace(second=0, microsecond=0))

    def clean_occurred_at(self):
        value = self.cleaned_data["occurred_at"]
        if is_ahead(value):
            raise forms.ValidationError("A contact cannot be in the future.")
        return value


# --- the safety-plan editor: each section a list of rows ------------------------------------------


def _entry_form(name: str, fields: dict, required: tuple[str, ...]):
    """A form for one row of a section. Every field is optional to the browser; a row left empty is
    dropped, a row partly filled must have its `required` fields."""

    def clean(self):
        data = super(form_class, self).clean()
        filled = {key: value.strip() for key, value in data.items() if isinstance(value, str) and value.strip()}
        texts = [key for key, field in self.fields.items() if not isinstance(field, forms.ChoiceField)]
        if not any(key in filled for key in texts):
            return {}
        missing = [str(self.fields[key].label).lower() for key in required if key not in filled]
        if missing:
            raise forms.ValidationError(f"Fill in the {' and the '.join(missing)}, or remove this row.")
        return filled

    form_class = type(name, (forms.Form,), {**fields, "clean": clean, "REQUIRED": required})
    return form_class


def _text(label: str, *, hint: str = "", autocomplete: str = "off", **kwargs) -> forms.CharField:
    attrs = {"autocomplete": autocomplete}
    if hint:
        attrs["placeholder"] = hint
    return forms.CharField(
        label=label, required=False, max_length=ITEM_MAX_LENGTH, widget=forms.TextInput(attrs), **kwargs
    )


def _phone_field() -> forms.CharField:
    return forms.CharField(
        label="Phone",
        required=False,
        max_length=40,
        widget=forms.TextInput({"type": "tel", "autocomplete": "off", "inputmode": "tel"}),
    )


def _choice(label: str, choices) -> forms.ChoiceField:
    return forms.ChoiceField(label=label, required=False, choices=list(choices))


class PlanRows(forms.BaseFormSet):
    """One section's rows. Rows are kept in the order they come; an empty row is no entry."""

    def entries(self) -> list:
        rows = [form.cleaned_data for form in self.forms if form.cleaned_data]
        if list(self.form.base_fields) == ["text"]:
            return [row["text"] for row in rows]
        return rows


def _rows(form_class):
    return forms.formset_factory(
        form_class, formset=PlanRows, extra=0, max_num=MAX_ITEMS, validate_max=True, absolute_max=MAX_ITEMS + 10
    )


def _text_rows(label: str, hint: str = ""):
    return _rows(_entry_form("TextRow", {"text": _text(label, hint=hint)}, ("text",)))


@dataclass(frozen=True)
class PlanSection:
    name: str
    title: str
    hint: str
    rows: type
    add_label: str


STEP_STATUS_CHOICES = list(STEP_STATUS_LABELS.items())
PLAN_SECTIONS = (
    PlanSection(
        "warning_signs",
        "1. Signs that a crisis may be starting",
        "Thoughts, moods, situations the person notices first.",
        _text_rows("Sign", "not sleeping…"),
        "Add a sign",
    ),
    PlanSection(
        "coping_strategies",
        "2. Things I can do on my own to take my mind off it",
        "",
        _text_rows("Something to do", "walk the dog…"),
        "Add something to do",
    ),
    PlanSection(
        "distractions",
        "3. People and places that help me feel better",
        "",
        _rows(
            _entry_form(
                "DistractionRow",
                {"name": _text("Person or place"), "place": _text("Where"), "phone": _phone_field()},
                ("name",),
            )
        ),
        "Add a person or place",
    ),
    PlanSection(
        "help_contacts",
        "4. People I can ask for help",
        "",
        _rows(
            _entry_form(
                "HelpRow",
                {
                    "name": _text("Name"),
                    "phone": _phone_field(),
                    "relationship": _text("Relationship", hint="sister, friend…"),
                },
                ("name",),
            )
        ),
        "Add a person",
    ),
    PlanSection(
        "professional_contacts",
        "5. Professionals and services I can call",
        "988 and 911 are always printed on the plan; no need to add them.",
        _rows(
            _entry_form(
                "ProfessionalRow",
                {"name": _text("Name or service"), "phone": _phone_field(), "note": _text("Note", hint="when to call")},
                ("name",),
            )
        ),
        "Add a professional or service",
    ),
    PlanSection(
        "environment_steps",
        "6. Making my surroundings safer",
        "For each means of harm: what will be done, by whom.",
        _rows(
            _entry_form(
                "StepRow",
                {
                    "method": _text("Means", hint="medication, firearm…"),
                    "step": _text("Step", hint="sister keeps the pills"),
                    "who": _text("Who does it"),
                    "status": _choice("Status", STEP_STATUS_CHOICES),
                },
                ("method", "step"),
            )
        ),
        "Add a step",
    ),
    PlanSection(
        "participants",
        "Who took part",
        "",
        _rows(
            _entry_form(
                "ParticipantRow",
                {"name": _text("Name"), "role": _choice("Role", [("", "Choose…"), *PARTICIPANT_ROLE_LABELS.items()])},
                ("name", "role"),
            )
        ),
        "Add a participant",
    ),
)
SIX_SECTIONS = tuple(section.name for section in PLAN_SECTIONS[:6])
ROW_MOVES = ("add", "remove", "up", "down")


class SafetyPlanForm(forms.Form):
    """The plan's single fields; the sections' rows are formsets (SafetyPlanEditor)."""

    most_important = forms.CharField(
        label="What matters most to me", required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 2})
    )
    copy_kept_at = forms.CharField(label="Where the copy is kept", required=False, max_length=200)
    review_on = forms.DateField(
        label="Review on",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        validators=[validate_planned],
    )


class SafetyPlanEditor:
    """The whole editor: the single fields (`form`) and one formset of rows per section.

    Works without JavaScript: the add / remove / move buttons post the form with `row=MOVE:SECTION[:INDEX]`
    and the page comes back rearranged, nothing saved (`rearranged`). assets/crt/plan-editor.js does the
    same moves in the page when scripts run."""

    def __init__(self, data=None, *, initial: dict | None = None):
        initial = initial or {}
        self.form = SafetyPlanForm(
            data, initial={k: initial.get(k) for k in ("most_important", "copy_kept_at", "review_on")}
        )
        self.sections = []
        for section in PLAN_SECTIONS:
            rows = initial.get(section.name, [])
            if data is None:
                rows = [_as_row(section, value) for value in rows] + [{}]  # a blank row to fill in
            formset = section.rows(data, initial=rows if data is None else None, prefix=section.name)
            self.sections.append((section, formset))

    @classmethod
    def for_plan(cls, plan) -> "SafetyPlanEditor":
        if plan is None:
            return cls()
        initial = {
            "most_important": plan.most_important,
            "copy_kept_at": plan.copy_kept_at,
            "review_on": plan.review_on,
        }
        for section in PLAN_SECTIONS:
            initial[section.name] = getattr(plan, section.name)
        return cls(initial=initial)

    def is_valid(self) -> bool:
        valid = self.form.is_valid()
        for _section, formset in self.sections:
            valid = formset.is_valid() and valid
        return valid

    @property
    def cleaned_data(self) -> dict:
        data = dict(self.form.cleaned_data)
        for section, formset in self.sections:
            data[section.name] = formset.entries()
        return data

    @property
    def has_errors(self) -> bool:
        return bool(self.form.errors) or any(
            formset.non_form_errors() or any(formset.errors) for _s, formset in self.sections if formset.is_bound
        )

    def rearranged(self, move: str) -> "SafetyPlanEditor | None":
        """The editor as posted, one row added, removed or moved; None when `move` is not one of ours."""
        parts = move.split(":")
        names = [section.name for section in PLAN_SECTIONS]
        if len(parts) not in (2, 3) or parts[0] not in ROW_MOVES or parts[1] not in names:
            return None
        verb, name = parts[0], parts[1]
        initial = {key: self.form.data.get(key, "") for key in ("most_important", "copy_kept_at", "review_on")}
        for section, formset in self.sections:
            initial[section.name] = _posted_rows(formset)
        rows = initial[name]
        try:
            index = int(parts[2]) if len(parts) == 3 else len(rows)
        except ValueError:
            return None
        if verb == "add" and len(rows) < MAX_ITEMS:
            rows.append({})
        elif verb == "remove" and 0 <= index < len(rows):
            rows.pop(index)
        elif verb == "up" and 0 < index < len(rows):
            rows[index - 1], rows[index] = rows[index], rows[index - 1]
        elif verb == "down" and 0 <= index < len(rows) - 1:
            rows[index], rows[index + 1] = rows[index + 1], rows[index]
        editor = SafetyPlanEditor(initial={})
        editor.form = SafetyPlanForm(initial=initial)
        editor.sections = [
            (section, section.rows(initial=initial[section.name] or [{}], prefix=section.name))
            for section in PLAN_SECTIONS
        ]
        return editor


def _as_row(section: PlanSection, value) -> dict:
    return {"text": value} if isinstance(value, str) else dict(value)


def _posted_rows(formset) -> list[dict]:
    """The rows as typed (valid or not), in order: what a rearranged page shows again."""
    try:
        total = min(int(formset.data.get(f"{formset.prefix}-TOTAL_FORMS", 0)), MAX_ITEMS + 10)
    except (TypeError, ValueError):
        total = 0
    names = list(formset.form.base_fields)
    return [{key: formset.data.get(f"{formset.prefix}-{i}-{key}", "") for key in names} for i in range(max(total, 0))]


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


# --- the encounter pages: its details, and vitals with the C-SSRS screener ---------------------------


def _when(label: str, *, required: bool = False) -> forms.DateTimeField:
    return forms.DateTimeField(
        label=label,
        required=required,
        widget=DateTimeLocalInput(),
        input_formats=[DATETIME_LOCAL],
        validators=[validate_since_2000],  # the future and the order: EncounterDetailsForm.clean, cases.encounters
    )


class ResponderChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        return obj.get_full_name() or obj.username


class EncounterDetailsForm(forms.Form):
    cad_incident_number = forms.CharField(label="CAD incident number", max_length=50)
    call_source = forms.ChoiceField(label="Call source", choices=Encounter.CallSource.choices)
    call_type = forms.CharField(label="CAD call type", required=False, max_length=100)
    call_received_at = _when("Call received", required=True)
    dispatched_at = _when("Dispatched")
    on_scene_at = _when("On scene")
    cleared_at = _when("Cleared")
    team = forms.CharField(label="Team / unit", required=False, max_length=50)
    responders = ResponderChoiceField(
        label="Responding staff", queryset=User.objects.none(), required=False, widget=forms.CheckboxSelectMultiple
    )
    law_enforcement = forms.ChoiceField(
        label="Police co-response", choices=Encounter.CoResponse.choices, widget=forms.RadioSelect
    )
    location_text = forms.CharField(label="Location", required=False, max_length=300)
    area = forms.CharField(label="Area", required=False, max_length=100)
    reason_for_call = forms.CharField(
        label="Reason for call", required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 2})
    )
    interventions = forms.MultipleChoiceField(
        label="Interventions",
        required=False,
        choices=Encounter.Intervention.choices,
        widget=forms.CheckboxSelectMultiple,
    )
    disposition = forms.ChoiceField(
        label="Disposition", required=False, choices=[("", "Not yet"), *Encounter.Disposition.choices]
    )
    transport_destination = forms.CharField(label="Transported to", required=False, max_length=200)
    narrative = forms.CharField(label="Narrative", required=False, max_length=20000, widget=forms.Textarea)

    TIME_ORDER = ("call_received_at", "dispatched_at", "on_scene_at", "cleared_at")

    def __init__(self, *args, staff, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["responders"].queryset = staff

    def clean(self):
        data = super().clean()
        times = {name: data[name] for name in self.TIME_ORDER if data.get(name)}  # add_error drops a field
        known = list(times)
        for before, after in itertools.pairwise(known):
            if times[after] < times[before]:
                self.add_error(after, f"Must be after {self.fields[before].label.lower()}.")
            elif is_ahead(times[after]):
                self.add_error(after, "Cannot be in the future.")
        if known and is_ahead(times[known[0]]):
            self.add_error(known[0], "Cannot be in the future.")
        return data

    @classmethod
    def initial_from(cls, encounter: Encounter, responder_ids: list[int]) -> dict:
        initial = {name: getattr(encounter, name) for name in cls.base_fields if name != "responders"}
        for name in cls.TIME_ORDER:
            if initial[name] is not None:
                initial[name] = timezone.localtime(initial[name])
        initial["responders"] = responder_ids
        return initial


YES_NO = [("", "Not asked"), ("yes", "Yes"), ("no", "No")]
ANSWER = {"yes": True, "no": False, "": None}


class VitalsAndScreenerForm(forms.Form):
    """Vitals and the C-SSRS screener; each screener answer is yes, no or not asked."""

    # Our own short wording of the screener's six questions.
    QUESTIONS = {
        "cssrs_wish_dead": "1. Past month: a wish to be dead, or to fall asleep and not wake up?",
        "cssrs_suicidal_thoughts": "2. Past month: any thoughts of ending their own life?",
        "cssrs_method": "3. Thoughts of a way they might do it?",
        "cssrs_intent": "4. Any intention of acting on those thoughts?",
        "cssrs_plan": "5. Details of a plan worked out, and meaning to carry it out?",
        "cssrs_behavior": "6. Ever done, begun or prepared anything to end their life?",
        "cssrs_behavior_past_3_months": "6b. Was that in the past three months?",
    }

    kind = forms.ChoiceField(label="Kind", choices=Assessment.Kind.choices, initial=Assessment.Kind.CSSRS)
    performed_at = _when("When", required=True)
    heart_rate = forms.IntegerField(label="Heart rate (/min)", required=False, min_value=20, max_value=300)
    systolic_bp = forms.IntegerField(label="Systolic BP", required=False, min_value=40, max_value=300)
    diastolic_bp = forms.IntegerField(label="Diastolic BP", required=False, min_value=20, max_value=200)
    respiratory_rate = forms.IntegerField(label="Respiratory rate (/min)", required=False, min_value=2, max_value=80)
    spo2 = forms.IntegerField(label="SpO₂ %", required=False, min_value=30, max_value=100)
    temperature_c = forms.DecimalField(
        label="Temperature °C", required=False, min_value=20, max_value=46, max_digits=4, decimal_places=1
    )
    blood_glucose = forms.IntegerField(label="Blood glucose (mg/dL)", required=False, min_value=10, max_value=1500)
    clinical_impression = forms.CharField(
        label="Clinical impression", required=False, max_length=10000, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, question in self.QUESTIONS.items():
            self.fields[name] = forms.ChoiceField(
                label=question,
                choices=YES_NO,
                required=False,
                widget=forms.RadioSelect(attrs={"data-cssrs": name.removeprefix("cssrs_")}),
            )
        if not self.is_bound:
            self.initial.setdefault("performed_at", timezone.localtime().replace(second=0, microsecond=0))

    def vitals(self):
        return [self[name] for name in self.base_fields if name not in ("kind", "performed_at", "clinical_impression")]

    def screener(self):
        return [self[name] for name in self.QUESTIONS]

    def clean(self):
        data = super().clean()
        for name in self.QUESTIONS:
            data[name] = ANSWER.get(data.get(name) or "")
        if data.get("cssrs_behavior_past_3_months") is not None and data.get("cssrs_behavior") is not True:
            self.add_error("cssrs_behavior_past_3_months", "Asked only after a yes to question 6.")
        systolic, diastolic = data.get("systolic_bp"), data.get("diastolic_bp")
        if systolic is not None and diastolic is not None and systolic <= diastolic:
            self.add_error("systolic_bp", "Must be above the diastolic pressure.")
        return data
