"""Encounter pages for field responders: new (for a known person or nobody yet), edit, and the encounter
page with its assessments and the assessment form (vitals and the C-SSRS screener).

Who: paramedics, clinicians and supervisors write (cases.encounters.WRITERS); navigators read (a write
is a 403); a role that cannot see encounters at all (peers) and anyone outside the program get a 404.
The forms here only validate and shape input; cases.encounters does the work and re-checks it all.
The screener's risk is previewed by assets/crt/cssrs.js and derived on the server when saved.
"""

import itertools

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from accounts.models import User
from accounts.roles import STAFF_ROLES, Kind, Role, Scope, scope_for
from audit.access import Action, audited, record_access
from cases import encounters
from cases.forms import DATETIME_LOCAL, DateTimeLocalInput
from cases.models import Assessment, Case, Encounter, EncounterResponder, Individual
from cases.validators import validate_since_2000
from cases.views import page, staff_page

# --- forms --------------------------------------------------------------------------------------


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
            elif times[after] > timezone.now() + encounters.CLOCK_SKEW:
                self.add_error(after, "Cannot be in the future.")
        if known and times[known[0]] > timezone.now() + encounters.CLOCK_SKEW:
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


# --- helpers ------------------------------------------------------------------------------------


def _can_see(user) -> None:
    if scope_for(user, Kind.CLINICAL) is Scope.NONE:
        raise Http404  # peers and the like: encounters do not exist for them


def _can_write(user) -> bool:
    return encounters.may_write(user)


def _require_writer(user) -> None:
    _can_see(user)
    if not _can_write(user):
        raise PermissionDenied


def _program_staff(user):
    labels = [role.label for role in STAFF_ROLES if role is not Role.STAFF_ADMIN]
    return (
        User.objects.filter(program_id=user.program_id, is_active=True, groups__name__in=labels)
        .distinct()
        .order_by("last_name", "first_name", "username")
    )


def _refused(form, error: ValidationError) -> None:
    """A service's refusal as form errors: on its field when it names one (nothing was saved)."""
    if getattr(error, "code", None) == "not_found":
        raise Http404 from None
    if getattr(error, "code", None) == "forbidden":
        raise PermissionDenied from None
    field = (getattr(error, "params", None) or {}).get("field")
    for message in error.messages:
        form.add_error(field if field in form.fields else None, message)


def _visible_encounter(request, pk: int) -> Encounter:
    # visible_to alone decides: it also honours a break-glass grant for the person
    queryset = Encounter.objects.visible_to(request.user).select_related("individual", "created_by")
    return get_object_or_404(queryset, pk=pk)


# --- pages --------------------------------------------------------------------------------------


def _encounter_form_page(request, *, person: Individual | None, encounter: Encounter | None = None):
    staff = _program_staff(request.user)
    if encounter is None:
        initial = {"call_received_at": timezone.localtime().replace(second=0, microsecond=0)}
        initial["law_enforcement"] = Encounter.CoResponse.NONE
        responder_rows = []
    else:
        responder_rows = list(EncounterResponder.objects.filter(encounter=encounter))
        initial = EncounterDetailsForm.initial_from(encounter, [row.user_id for row in responder_rows])
    form = EncounterDetailsForm(request.POST or None, initial=initial, staff=staff)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        data["responders"] = list(data["responders"])
        try:
            if encounter is None:
                saved = encounters.create_encounter(by=request.user, individual=person, **data)
            else:
                saved = encounters.update_encounter(encounter, by=request.user, **data)
        except ValidationError as error:
            _refused(form, error)
        else:
            record_access(request, action=Action.UPDATE if encounter else Action.CREATE, objects=[saved])
            messages.success(request, f"Encounter {saved.cad_incident_number} saved.")
            return redirect("cases:encounter", pk=saved.pk)
    record_access(
        request,
        action=Action.VIEW,
        objects=[*([person] if person else []), *([encounter] if encounter else []), *responder_rows],
    )
    context = {"person": person, "encounter": encounter, "form": form}
    return page(request, "cases/encounter_form.html", context, status=400 if form.is_bound else 200)


@staff_page
@audited
@require_http_methods(["GET", "POST"])
def encounter_new(request, person_pk: int | None = None):
    """A new encounter: for a person the user can see, or (no person_pk) for nobody identified yet."""
    _require_writer(request.user)
    person = None
    if person_pk is not None:
        person = get_object_or_404(Individual.objects.visible_to(request.user), pk=person_pk)
    return _encounter_form_page(request, person=person)


@staff_page
@audited
@require_http_methods(["GET", "POST"])
def encounter_edit(request, pk: int):
    encounter = _visible_encounter(request, pk)
    _require_writer(request.user)
    return _encounter_form_page(request, person=encounter.individual, encounter=encounter)


@staff_page
@audited
@require_http_methods(["GET", "POST"])
def encounter(request, pk: int):
    """The encounter, its team and assessments; writers also get the assessment form (POST here)."""
    found = _visible_encounter(request, pk)
    can_write = _can_write(request.user)
    if request.method == "POST" and not can_write:
        raise PermissionDenied
    form = VitalsAndScreenerForm(request.POST or None) if can_write else None
    if form is not None and request.method == "POST" and form.is_valid():
        try:
            assessment = encounters.record_assessment(found, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            _refused(form, error)
        else:
            record_access(request, action=Action.CREATE, objects=[assessment])
            risk = f" C-SSRS risk: {assessment.get_risk_level_display().lower()}." if assessment.risk_level else ""
            messages.success(request, f"Assessment saved.{risk}")
            return redirect("cases:encounter", pk=found.pk)
    responders = list(EncounterResponder.objects.filter(encounter=found).select_related("user").order_by("pk"))
    assessments = list(
        Assessment.objects.visible_to(request.user).filter(encounter=found).select_related("performed_by")
    )
    encounter_case = (
        Case.objects.visible_to(request.user).filter(encounter=found).order_by("pk").first()
        if found.individual_id
        else None
    )
    record_access(
        request,
        action=Action.VIEW,
        objects=[
            found,
            *([found.individual] if found.individual else []),
            *([encounter_case] if encounter_case else []),
            *responders,
            *assessments,
        ],
    )
    interventions = dict(Encounter.Intervention.choices)
    context = {
        "encounter": found,
        "person": found.individual,
        "responders": responders,
        "assessments": assessments,
        "interventions": [interventions.get(value, value) for value in found.interventions],
        "form": form,
        "can_write": can_write,
        "encounter_case": encounter_case,
    }
    status = 400 if form is not None and form.is_bound else 200
    return page(request, "cases/encounter.html", context, status=status)
