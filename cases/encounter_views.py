"""Encounter pages for field responders: new (for a known person or nobody yet), edit, and the encounter
page with its assessments and the assessment form (vitals and the C-SSRS screener).

Who: paramedics, clinicians and supervisors write (accounts.roles.may_write_encounters); navigators read (a write
is a 403); a role that cannot see encounters at all (peers) and anyone outside the program get a 404.
Their forms (cases.forms) only validate and shape input; cases.encounters does the work and re-checks it all.
The screener's risk is previewed by assets/crt/cssrs.js and derived on the server when saved.
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.utils import timezone

from accounts.models import User
from accounts.roles import Kind, Scope, may_write_encounters, responders, scope_for
from audit.access import Action, record_access
from cases import encounters
from cases.forms import EncounterDetailsForm, VitalsAndScreenerForm
from cases.models import Assessment, Case, Encounter, Individual
from crt.pages import page, refused, staff_form_page

# --- helpers ------------------------------------------------------------------------------------


def _can_see(user) -> None:
    if scope_for(user, Kind.CLINICAL) is Scope.NONE:
        raise Http404  # peers and the like: encounters do not exist for them


def _require_writer(user) -> None:
    _can_see(user)
    if not may_write_encounters(user):
        raise PermissionDenied


def _program_staff(user):
    return responders(User.objects.filter(program_id=user.program_id, is_active=True)).order_by(
        "last_name", "first_name", "username"
    )


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
        responder_rows = list(encounter.responder_roles.all())
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
            refused(form, error)
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


@staff_form_page
def encounter_new(request, person_pk: int | None = None):
    """A new encounter: for a person the user can see, or (no person_pk) for nobody identified yet."""
    _require_writer(request.user)
    person = None
    if person_pk is not None:
        person = get_object_or_404(Individual.objects.visible_to(request.user), pk=person_pk)
    return _encounter_form_page(request, person=person)


@staff_form_page
def encounter_edit(request, pk: int):
    encounter = _visible_encounter(request, pk)
    _require_writer(request.user)
    return _encounter_form_page(request, person=encounter.individual, encounter=encounter)


@staff_form_page
def encounter(request, pk: int):
    """The encounter, its team and assessments; writers also get the assessment form (POST here)."""
    found = _visible_encounter(request, pk)
    can_write = may_write_encounters(request.user)
    if request.method == "POST" and not can_write:
        raise PermissionDenied
    form = VitalsAndScreenerForm(request.POST or None) if can_write else None
    if form is not None and request.method == "POST" and form.is_valid():
        try:
            assessment = encounters.record_assessment(found, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            refused(form, error)
        else:
            record_access(request, action=Action.CREATE, objects=[assessment])
            risk = f" C-SSRS risk: {assessment.get_risk_level_display().lower()}." if assessment.risk_level else ""
            messages.success(request, f"Assessment saved.{risk}")
            return redirect("cases:encounter", pk=found.pk)
    responders = list(found.responder_roles.select_related("user").order_by("pk"))
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
