"""Opening, closing and reopening a case: from an encounter (the field team's one action), from the
person page, and back from the person page when the person returns.

Who: opening needs cases.add_case (navigators, clinicians, supervisors, staff admins); closing and
reopening cases.change_case (navigators, supervisors, staff admins). Someone who cannot see the
person, encounter or case gets a 404; a role that sees it but may not act gets a 403. Every change
goes through cases.services, which checks it all again.
"""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_http_methods

from accounts.models import User
from accounts.roles import may_be_navigator, navigators, peers
from audit.access import Action, audited, record_access
from cases import services
from cases.models import Case, Encounter, FollowUp, Individual
from crt.pages import page, raise_for_access, refused, staff_form_page, staff_page


class StaffChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.get_full_name() or obj.username


class OpenCaseForm(forms.Form):
    navigator = StaffChoiceField(label="Primary navigator", queryset=User.objects.none(), empty_label="Choose…")
    peer = StaffChoiceField(
        label="Peer recovery specialist", queryset=User.objects.none(), required=False, empty_label="None for now"
    )

    def __init__(self, *args, program_id: int, **kwargs):
        super().__init__(*args, **kwargs)
        team = User.objects.filter(program_id=program_id, is_active=True).order_by("last_name", "first_name", "pk")
        self.fields["navigator"].queryset = navigators(team)
        self.fields["peer"].queryset = peers(team)


class CloseCaseForm(forms.Form):
    reason = forms.ChoiceField(label="Why is the case closing?", choices=[("", "Choose…"), *Case.ClosedReason.choices])

    def __init__(self, *args, referrals, **kwargs):
        super().__init__(*args, **kwargs)
        self.referrals = list(referrals)
        for referral in self.referrals:
            status = referral.get_status_display().lower()
            self.fields[f"referral_{referral.pk}"] = forms.ChoiceField(
                label=f"{referral.organization.name}: {referral.service.name} ({status})",
                choices=services.ReferralDecision.choices,
                widget=forms.RadioSelect,
                error_messages={"required": "Decide: leave it open or cancel it."},
            )

    def referral_fields(self):
        return [self[f"referral_{referral.pk}"] for referral in self.referrals]

    def decisions(self) -> dict[int, str]:
        return {referral.pk: self.cleaned_data[f"referral_{referral.pk}"] for referral in self.referrals}


def _open_case_page(request, *, person: Individual, encounter: Encounter | None):
    if not request.user.has_perm("cases.add_case"):
        raise PermissionDenied
    existing = None
    if encounter is not None:
        existing = Case.objects.visible_to(request.user).filter(encounter=encounter, individual=person).first()
    if existing is not None:
        messages.info(request, f"Case #{existing.pk} was already opened from this encounter.")
        return redirect("cases:person", pk=person.pk)
    is_navigator = may_be_navigator(request.user)
    form = OpenCaseForm(
        request.POST or None,
        program_id=person.program_id,
        initial={"navigator": request.user.pk if is_navigator else None},
    )
    if request.method == "POST" and form.is_valid():
        try:
            case = services.open_case(
                individual=person,
                by=request.user,
                encounter=encounter,
                navigator=form.cleaned_data["navigator"],
                peer=form.cleaned_data["peer"],
            )
        except ValidationError as error:
            refused(form, error)
        else:
            record_access(request, action=Action.CREATE, objects=[case])
            follow_ups = FollowUp.objects.visible_to(request.user).filter(case=case).order_by("due_at")
            labels = ", ".join(follow_ups.values_list("label", flat=True)) or "none"
            messages.success(request, f"Case #{case.pk} opened. Follow-ups: {labels}.")
            return redirect("cases:person", pk=person.pk)
    open_cases = list(
        Case.objects.visible_to(request.user).open().filter(individual=person).select_related("navigator")
    )
    risk = services.encounter_risk(encounter) or person.risk_level
    schedule = services.follow_up_schedule(
        program_id=person.program_id, disposition=encounter.disposition if encounter else "", risk_level=risk
    )
    record_access(request, action=Action.VIEW, objects=[person, *([encounter] if encounter else []), *open_cases])
    context = {
        "person": person,
        "encounter": encounter,
        "form": form,
        "open_cases": open_cases,
        "schedule": schedule,
    }
    return page(request, "cases/open_case.html", context, status=400 if form.is_bound else 200)


@staff_form_page
def open_case_from_encounter(request, pk: int):
    """The field team's one action after a call: put the person on a navigator's caseload."""
    encounter = get_object_or_404(Encounter.objects.visible_to(request.user).select_related("individual"), pk=pk)
    if encounter.individual is None:
        raise Http404  # nobody identified yet: the encounter page says to link a person first
    person = get_object_or_404(Individual.objects.visible_to(request.user), pk=encounter.individual_id)
    return _open_case_page(request, person=person, encounter=encounter)


@staff_form_page
def open_case_for_person(request, pk: int):
    person = get_object_or_404(Individual.objects.visible_to(request.user), pk=pk)
    return _open_case_page(request, person=person, encounter=None)


@staff_form_page
def close_case(request, pk: int):
    case = get_object_or_404(Case.objects.visible_to(request.user).select_related("individual"), pk=pk)
    if not request.user.has_perm("cases.change_case"):
        raise PermissionDenied
    if case.status == Case.Status.CLOSED:
        messages.info(request, f"Case #{case.pk} is already closed.")
        return redirect("cases:person", pk=case.individual_id)
    referrals = services.referrals_to_decide(case).select_related("organization", "service")
    form = CloseCaseForm(request.POST or None, referrals=referrals)
    if request.method == "POST" and form.is_valid():
        try:
            services.close_case(case, by=request.user, reason=form.cleaned_data["reason"], referrals=form.decisions())
        except ValidationError as error:
            refused(form, error)
        else:
            record_access(request, action=Action.UPDATE, objects=[case])
            messages.success(request, f"Case #{case.pk} closed.")
            return redirect("cases:person", pk=case.individual_id)
    record_access(request, action=Action.VIEW, objects=[case, *form.referrals])
    open_follow_ups = case.follow_ups.outstanding().count()
    context = {"case": case, "form": form, "open_follow_ups": open_follow_ups}
    return page(request, "cases/close_case.html", context, status=400 if form.is_bound else 200)


@staff_page
@audited
@require_http_methods(["POST"])
def reopen_case(request, pk: int):
    case = get_object_or_404(Case.objects.visible_to(request.user), pk=pk)
    if not request.user.has_perm("cases.change_case"):
        raise PermissionDenied
    try:
        reopened = services.reopen_case(case, by=request.user)
    except ValidationError as error:
        raise_for_access(error)
        messages.error(request, " ".join(error.messages))
        return redirect("cases:person", pk=case.individual_id)
    record_access(request, action=Action.UPDATE if reopened.pk == case.pk else Action.CREATE, objects=[reopened])
    if reopened.pk == case.pk:
        messages.success(request, f"Case #{case.pk} reopened with a new follow-up schedule.")
    else:
        messages.success(request, f"Case #{reopened.pk} opened; it continues case #{case.pk}.")
    return redirect("cases:person", pk=case.individual_id)
