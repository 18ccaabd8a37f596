"""People pages: add a person (likely duplicates first), edit one, merge two records (supervisors) and
undo a merge, and the support network with consent to contact.

Views read through visible_to (someone else's record is a 404), record every read and write with
audit.access.record_access, and change state only through cases.people and cases.intake (consents).
The forms here only validate and shape input; the services re-check it all.
"""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts.roles import may_merge_people
from audit.access import Action, audited, record_access
from cases import encounters, intake, matching
from cases import people as services
from cases.forms import DATETIME_LOCAL, DateTimeLocalInput
from cases.models import Consent, Encounter, Individual, PersonMerge, SupportContact
from crt.pages import page, refused, staff_form_page, staff_page
from crt.validators import validate_consent_expiry, validate_date_of_birth, validate_happened

# --- forms --------------------------------------------------------------------------------------


class PersonForm(forms.Form):
    legal_first_name = forms.CharField(label="Legal first name", max_length=100)
    legal_last_name = forms.CharField(label="Legal last name", max_length=100)
    preferred_name = forms.CharField(label="Preferred name", required=False, max_length=100)
    pronouns = forms.CharField(label="Pronouns", required=False, max_length=40)
    date_of_birth = forms.DateField(
        label="Date of birth",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        validators=[validate_date_of_birth],
    )
    phone = forms.CharField(label="Phone", required=False, max_length=40, widget=forms.TextInput(attrs={"type": "tel"}))
    email = forms.EmailField(label="Email", required=False)
    where_staying = forms.CharField(label="Where they stay", required=False, max_length=300)
    address = forms.CharField(label="Address", required=False, max_length=300)
    area = forms.CharField(label="Area (district or neighbourhood)", required=False, max_length=100)
    housing_status = forms.ChoiceField(label="Housing", choices=Individual.HousingStatus.choices)
    primary_language = forms.CharField(
        label="Language (code: en, es, vi…)", max_length=3, initial="en", widget=forms.TextInput(attrs={"size": 4})
    )
    needs_interpreter = forms.BooleanField(label="Needs an interpreter", required=False)
    race_ethnicity = forms.ChoiceField(label="Race or ethnicity (self-reported)", choices=Individual.RaceEthnicity)
    gender = forms.CharField(label="Gender (self-described)", required=False, max_length=40)
    is_do_not_contact = forms.BooleanField(label="Do not contact (the person asked)", required=False)
    safe_contact_channels = forms.MultipleChoiceField(
        label="Safe ways to reach them",
        required=False,
        choices=Individual.Channel.choices,
        widget=forms.CheckboxSelectMultiple,
    )
    safe_contact_times = forms.CharField(label="Safe times", required=False, max_length=200)
    responder_safety_notes = forms.CharField(
        label="Responder safety notes (shown first to anyone going out)",
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    cad_person_id = forms.CharField(label="911/CAD person id", required=False, max_length=50)
    mrn = forms.CharField(label="Medical record number", required=False, max_length=50)
    hmis_id = forms.CharField(label="HMIS id", required=False, max_length=50)

    GROUPS = (
        ("Names", ("legal_first_name", "legal_last_name", "preferred_name", "pronouns", "date_of_birth")),
        ("Reaching them", ("phone", "email", "where_staying", "address", "area", "housing_status")),
        (
            "Safe contact",
            ("is_do_not_contact", "safe_contact_channels", "safe_contact_times", "responder_safety_notes"),
        ),
        ("Language and demographics", ("primary_language", "needs_interpreter", "race_ethnicity", "gender")),
        ("Identifiers", ("cad_person_id", "mrn", "hmis_id")),
    )

    def groups(self):
        return [(title, [self[name] for name in names]) for title, names in self.GROUPS]

    @classmethod
    def initial_from(cls, person: Individual) -> dict:
        return {name: getattr(person, name) for name in cls.base_fields}


class MergeForm(forms.Form):
    other = forms.IntegerField(label="The other record's number", min_value=1)
    keep = forms.ChoiceField(
        label="Which record is kept",
        choices=[("this", "Keep this record"), ("other", "Keep the other record")],
        widget=forms.RadioSelect,
        initial="this",
    )
    reason = forms.CharField(label="Why these are one person", max_length=500, widget=forms.Textarea(attrs={"rows": 2}))
    confirmed = forms.BooleanField(required=False, widget=forms.HiddenInput)


class UndoMergeForm(forms.Form):
    reason = forms.CharField(label="Why undo this merge", max_length=500, widget=forms.Textarea(attrs={"rows": 2}))


class SupportContactForm(forms.Form):
    name = forms.CharField(label="Name", max_length=200)
    relationship = forms.CharField(label="Relationship (mother, friend, case worker…)", max_length=100)
    phone = forms.CharField(label="Phone", required=False, max_length=40, widget=forms.TextInput(attrs={"type": "tel"}))
    email = forms.EmailField(label="Email", required=False)
    is_caregiver = forms.BooleanField(label="Is a caregiver", required=False)
    notes = forms.CharField(label="Notes", required=False, max_length=500)


class SupportConsentForm(forms.Form):
    purpose = forms.ChoiceField(
        label="Consent for",
        choices=[(value, label) for value, label in Consent.Purpose.choices if value in ("contact", "family")],
        initial=Consent.Purpose.CONTACT,
        widget=forms.RadioSelect,
    )
    method = forms.ChoiceField(label="How it was given", choices=Consent.RECORDABLE_METHODS, widget=forms.RadioSelect)
    witness_name = forms.CharField(label="Witness (for a verbal consent)", required=False, max_length=200)
    given_at = forms.DateTimeField(
        label="Given", widget=DateTimeLocalInput(), input_formats=[DATETIME_LOCAL], validators=[validate_happened]
    )
    expires_at = forms.DateTimeField(
        label="Expires (empty: until revoked)",
        required=False,
        widget=DateTimeLocalInput(),
        input_formats=[DATETIME_LOCAL],
        validators=[validate_consent_expiry],
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("given_at", timezone.localtime().replace(second=0, microsecond=0))

    def clean(self):
        data = super().clean()
        if data.get("method") == Consent.Method.VERBAL and not (data.get("witness_name") or "").strip():
            self.add_error("witness_name", "A verbal consent needs a witness.")
        given, expires = data.get("given_at"), data.get("expires_at")
        if given and expires and expires <= given:
            self.add_error("expires_at", "Must be after it was given.")
        return data


# --- helpers ------------------------------------------------------------------------------------


def _require_perm(user, perm: str) -> None:
    if not user.has_perm(perm):
        raise PermissionDenied


def _may_merge(user) -> None:
    if not may_merge_people(user):
        raise PermissionDenied


def _person(request, pk: int) -> Individual:
    person = get_object_or_404(Individual.objects.visible_to(request.user), pk=pk)
    if person.merged_into_id is not None:
        raise Http404  # pages that change a record only take the record kept (the person page redirects)
    return person


def _encounter_to_identify(request) -> Encounter | None:
    """An encounter of nobody yet identified, when the user came to name its person (?encounter=)."""
    raw = request.POST.get("encounter") or request.GET.get("encounter") or ""
    if not raw.isdigit():
        return None
    return get_object_or_404(Encounter.objects.visible_to(request.user), pk=int(raw), individual__isnull=True)


def _identify(request, encounter: Encounter | None, person: Individual):
    """Link the encounter to the person chosen or added, and go to the encounter; else to the person."""
    if encounter is None:
        return redirect("cases:person", pk=person.pk)
    try:
        encounters.update_encounter(encounter, by=request.user, individual=person)
    except ValidationError as error:
        if getattr(error, "code", None) == "forbidden":
            raise PermissionDenied from None
        messages.error(request, " ".join(error.messages))
        return redirect("cases:person", pk=person.pk)
    record_access(request, action=Action.UPDATE, objects=[encounter])
    messages.success(request, f"Encounter {encounter.cad_incident_number} is now linked to this person.")
    return redirect("cases:encounter", pk=encounter.pk)


# --- add and edit -------------------------------------------------------------------------------


@staff_form_page
def person_new(request):
    """Add a person. The first submit shows likely duplicates, if any; the user picks one (a link to
    their page) or confirms that this is a new person (a second submit with confirm_new)."""
    _require_perm(request.user, "cases.add_individual")
    encounter = _encounter_to_identify(request)
    form = PersonForm(request.POST or None, initial={"housing_status": "unknown", "race_ethnicity": "unknown"})
    duplicates = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        confirm_new = request.POST.get("confirm_new") == "yes"
        if not confirm_new:
            query = matching.Person(
                data["legal_first_name"], data["legal_last_name"], data["date_of_birth"], data["preferred_name"]
            )
            duplicates = services.find_duplicates(request.user, query)
        if confirm_new or not duplicates:
            try:
                person = services.add_person(by=request.user, confirm_new=confirm_new, **data)
            except ValidationError as error:
                refused(form, error)
            else:
                record_access(request, action=Action.CREATE, objects=[person])
                messages.success(request, f"{person.display_name} added.")
                return _identify(request, encounter, person)
    shown = [person for person, _ in duplicates.visible] if duplicates else []
    record_access(request, action=Action.LIST, objects=[*shown, *([encounter] if encounter else [])])
    context = {"form": form, "duplicates": duplicates, "encounter": encounter}
    status = 400 if form.is_bound and form.errors else 200
    return page(request, "cases/person_form.html", context, status=status)


@staff_page
@audited
@require_POST
def person_pick(request, pk: int):
    """The user picked an existing person among the likely duplicates: link the encounter, if any."""
    person = _person(request, pk)
    encounter = _encounter_to_identify(request)
    record_access(request, action=Action.VIEW, objects=[person])
    return _identify(request, encounter, person)


@staff_form_page
def person_edit(request, pk: int):
    person = _person(request, pk)
    _require_perm(request.user, "cases.change_individual")
    form = PersonForm(request.POST or None, initial=PersonForm.initial_from(person))
    if request.method == "POST" and form.is_valid():
        try:
            services.update_person(person, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            refused(form, error)
        else:
            record_access(request, action=Action.UPDATE, objects=[person])
            messages.success(request, "Details saved.")
            return redirect("cases:person", pk=person.pk)
    record_access(request, action=Action.VIEW, objects=[person])
    status = 400 if form.is_bound else 200
    return page(request, "cases/person_form.html", {"form": form, "person": person}, status=status)


# --- merge --------------------------------------------------------------------------------------


def _moving(person: Individual, user) -> dict[str, int]:
    """What would move with this record, counted (for the confirmation; a supervisor sees it all)."""
    return {
        "encounters": person.encounters.visible_to(user).count(),
        "cases": person.cases.visible_to(user).count(),
        "consents": person.consents.visible_to(user).count(),
        "support contacts": person.support_contacts.count(),
        "referrals": person.referrals.visible_to(user).count(),
    }


@staff_form_page
def person_merge(request, pk: int):
    """A supervisor merges this record and another of the same person: pick the other (likely
    duplicates are listed), say which is kept and why, see what moves, confirm."""
    _may_merge(request.user)
    person = _person(request, pk)
    form = MergeForm(request.POST or None, initial={"other": request.GET.get("other", "")})
    query = matching.Person(
        person.legal_first_name, person.legal_last_name, person.date_of_birth, person.preferred_name
    )
    duplicates = services.find_duplicates(request.user, query, exclude_pk=person.pk)
    other = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        other = Individual.objects.visible_to(request.user).active().filter(pk=data["other"]).first()
        if other is None or other.pk == person.pk:
            form.add_error("other", "No other record with this number that you can see.")
        elif data["confirmed"]:
            survivor, merged = (person, other) if data["keep"] == "this" else (other, person)
            try:
                merge = services.merge_people(survivor=survivor, merged=merged, by=request.user, reason=data["reason"])
            except ValidationError as error:
                refused(form, error)
            else:
                record_access(request, action=Action.UPDATE, objects=[survivor, merged, merge])
                messages.success(request, f"Records merged: #{merged.pk} now points to #{survivor.pk}.")
                return redirect("cases:merge", pk=merge.pk)
    confirming = other is not None and not form.errors
    if confirming:
        form = MergeForm(initial={**form.cleaned_data, "confirmed": True})
    record_access(
        request,
        action=Action.VIEW,
        objects=[person, *[found for found, _ in duplicates.visible], *([other] if other else [])],
    )
    context = {
        "person": person,
        "form": form,
        "duplicates": duplicates,
        "other": other if confirming else None,
        "moving": {"this": _moving(person, request.user), "other": _moving(other, request.user)}
        if confirming
        else None,
    }
    status = 400 if form.is_bound and form.errors else 200
    return page(request, "cases/person_merge.html", context, status=status)


@staff_form_page
def merge(request, pk: int):
    """A merge's record: who, when, why, what moved; supervisors can undo it here."""
    found = get_object_or_404(
        PersonMerge.objects.visible_to(request.user).select_related("survivor", "merged", "merged_by", "undone_by"),
        pk=pk,
    )
    can_undo = may_merge_people(request.user) and found.undone_at is None
    form = UndoMergeForm(request.POST or None) if can_undo else None
    if request.method == "POST":
        if form is None:
            raise PermissionDenied
        if form.is_valid():
            try:
                services.undo_merge(found, by=request.user, reason=form.cleaned_data["reason"])
            except ValidationError as error:
                refused(form, error)
            else:
                record_access(request, action=Action.UPDATE, objects=[found, found.survivor, found.merged])
                messages.success(request, f"Merge undone: #{found.merged_id} is a record of its own again.")
                return redirect("cases:merge", pk=found.pk)
    record_access(request, action=Action.VIEW, objects=[found])
    labels = {
        "cases.encounter": "encounters",
        "cases.case": "cases",
        "cases.consent": "consents",
        "cases.supportcontact": "support contacts",
        "referrals.referral": "referrals",
        "inbox.item": "inbox items",
    }
    moved = [(labels.get(label, label), len(ids)) for label, ids in found.moved.items()]
    context = {"merge": found, "moved": moved, "form": form}
    return page(request, "cases/merge.html", context, status=400 if form is not None and form.errors else 200)


# --- the support network ------------------------------------------------------------------------


def _support(request, pk: int) -> SupportContact:
    return get_object_or_404(SupportContact.objects.visible_to(request.user).select_related("individual"), pk=pk)


@staff_form_page
def support_new(request, person_pk: int):
    person = _person(request, person_pk)
    _require_perm(request.user, "cases.add_supportcontact")
    form = SupportContactForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            contact = services.add_support_contact(person, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            refused(form, error)
        else:
            record_access(request, action=Action.CREATE, objects=[contact])
            messages.success(request, f"{contact.name} added to the support network.")
            return redirect("cases:support_consent", pk=contact.pk)
    record_access(request, action=Action.VIEW, objects=[person])
    context = {"person": person, "form": form, "contact": None}
    return page(request, "cases/support_form.html", context, status=400 if form.is_bound else 200)


@staff_form_page
def support_edit(request, pk: int):
    contact = _support(request, pk)
    _require_perm(request.user, "cases.change_supportcontact")
    if contact.ended_at is not None:
        raise Http404
    initial = {name: getattr(contact, name) for name in SupportContactForm.base_fields}
    form = SupportContactForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_support_contact(contact, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            refused(form, error)
        else:
            record_access(request, action=Action.UPDATE, objects=[contact])
            messages.success(request, "Support contact saved.")
            return redirect("cases:person", pk=contact.individual_id)
    record_access(request, action=Action.VIEW, objects=[contact])
    context = {"person": contact.individual, "form": form, "contact": contact}
    return page(request, "cases/support_form.html", context, status=400 if form.is_bound else 200)


@staff_page
@audited
@require_POST
def support_end(request, pk: int):
    contact = _support(request, pk)
    _require_perm(request.user, "cases.change_supportcontact")
    try:
        services.end_support_contact(contact, by=request.user)
    except ValidationError as error:
        if getattr(error, "code", None) == "not_found":
            raise Http404 from None
        raise PermissionDenied from None
    record_access(request, action=Action.UPDATE, objects=[contact])
    messages.success(request, f"{contact.name} is no longer in the support network; consent to contact them ended.")
    return redirect("cases:person", pk=contact.individual_id)


@staff_form_page
def support_consent(request, pk: int):
    """Record the person's consent that we contact this support contact (or share with them)."""
    contact = _support(request, pk)
    _require_perm(request.user, "cases.add_consent")
    if contact.ended_at is not None:
        raise Http404
    form = SupportConsentForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            consent = intake.record_consent(
                contact.individual,
                by=request.user,
                method=data["method"],
                given_at=data["given_at"],
                purpose=data["purpose"],
                recipient_support_contact=contact,
                witness_name=data["witness_name"],
                expires_at=data["expires_at"],
            )
        except ValidationError as error:
            refused(form, error)
        else:
            record_access(request, action=Action.CREATE, objects=[consent])
            messages.success(request, f"Consent recorded: {consent.get_purpose_display().lower()}, {contact.name}.")
            return redirect("cases:person", pk=contact.individual_id)
    record_access(request, action=Action.VIEW, objects=[contact])
    context = {"person": contact.individual, "contact": contact, "form": form}
    return page(request, "cases/support_consent.html", context, status=400 if form.is_bound else 200)


@staff_page
@audited
@require_POST
def consent_revoke(request, pk: int):
    consent = get_object_or_404(Consent.objects.visible_to(request.user), pk=pk)
    try:
        intake.revoke_consent(consent, by=request.user)
    except ValidationError as error:
        if getattr(error, "code", None) == "not_found":
            raise Http404 from None
        raise PermissionDenied from None
    record_access(request, action=Action.UPDATE, objects=[consent])
    messages.success(request, "Consent revoked.")
    return redirect("cases:person", pk=consent.individual_id)
