"""People and what happened: individuals, field encounters, assessments, cases, contacts,
follow-ups, safety plans and consents. Every record belongs to one program and is read through
`visible_to(user)`; see accounts.roles for who sees what.
"""

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import F, OuterRef, Q
from django.utils import timezone

from accounts.models import BreakGlassGrant, Program
from accounts.roles import Kind, Scope, is_program_staff, scope_for
from crt.scoping import FailClosedQuerySet
from providers.models import NeedDomain, Organization


class ScopedQuerySet(FailClosedQuerySet):
    """The one scoping primitive: `visible_to(user)` for every model holding a person's data. A
    query that neither calls it nor is marked a system read raises when run (crt.scoping).

    Subclasses say which kind of record they hold and how to reach its program and its person.
    kinds_visible_of_person below is the same rule for one person, for the person page's
    hand-written SQL; tests/web/test_person_record.py holds the two equal for every role.
    """

    kind: Kind
    program_path: str = "program"
    individual_path: str = "individual"

    @classmethod
    def reads_through(cls, field_name: str) -> bool:
        paths = (cls.program_path, cls.individual_path)
        return all(path == field_name or path.startswith(f"{field_name}__") for path in paths)

    def visible_to(self, user):
        """What `user` may see: their role's scope, plus the people they hold an active break-glass
        grant for (accounts.breakglass; expiry is checked here, when the query is built)."""
        scope = scope_for(user, self.kind)
        if scope is Scope.PROGRAM:
            return self.filter(**{f"{self.program_path}_id": user.program_id})
        if not is_program_staff(user):
            return self.none()  # anonymous, inactive, partner, or staff without a program
        person_id = f"{self.individual_path}_id" if self.individual_path else "id"
        visible = Q(**{f"{person_id}__in": _granted_people(user).values("individual_id")})
        if scope is Scope.CASELOAD:
            visible |= Q(**{f"{person_id}__in": _caseload_people(user).values("individual_id")})
        return self.filter(**{f"{self.program_path}_id": user.program_id}).filter(visible)


def _granted_people(user):
    """The user's break-glass grants in force now."""
    return BreakGlassGrant.objects.active(timezone.now()).filter(user=user)


def _caseload_people(user):
    """The cases the user is navigator or peer on (closed ones too, as visible_to has always said)."""
    return Case.objects.filter(Q(navigator=user) | Q(peer=user))


def kinds_visible_of_person(user, person_id: int, kinds) -> frozenset[Kind]:
    """Which of `kinds` of this person's records `visible_to(user)` lets through, for the records in
    the user's program: visible_to's rule with the person fixed, so that a page can read several
    kinds in one statement (cases.timeline). One query, and only for a role with a kind it does
    not see program-wide (a peer, a paramedic): is the person on their caseload, or granted."""
    scopes = {kind: scope_for(user, kind) for kind in kinds}
    if all(scope is Scope.PROGRAM for scope in scopes.values()):
        return frozenset(scopes)
    if not is_program_staff(user):
        return frozenset(kind for kind, scope in scopes.items() if scope is Scope.PROGRAM)
    person = Individual.objects.system("visible_to's rule for one person").filter(pk=person_id)
    granted, on_caseload = person.values_list(
        models.Exists(_granted_people(user).filter(individual_id=OuterRef("pk"))),
        models.Exists(_caseload_people(user).filter(individual_id=OuterRef("pk"))),
    ).first() or (False, False)
    return frozenset(
        kind
        for kind, scope in scopes.items()
        if scope is Scope.PROGRAM or granted or (scope is Scope.CASELOAD and on_caseload)
    )


def visible_where(user, kind: Kind, *, person: str, program: str) -> tuple[str, list]:
    """visible_to's rule for `kind` as a condition of hand-written SQL (the caseload's lists,
    cases.caseload): `person` and `program` name the columns holding a row's person and program, as
    the model's individual_path and program_path reach them. Positional (%s) parameters; the grant
    and caseload subqueries are compiled from the querysets visible_to itself uses.
    tests/cases/test_visible_where.py holds it equal to visible_to for every role."""
    scope = scope_for(user, kind)
    if scope is Scope.PROGRAM:
        return f"{program} = %s", [user.program_id]
    if not is_program_staff(user):
        return "1 = 0", []
    people = [_granted_people(user)]
    if scope is Scope.CASELOAD:
        people.append(_caseload_people(user))
    conditions, params = [f"{program} = %s"], [user.program_id]
    for queryset in people:
        sql, subquery_params = queryset.values("individual_id").query.sql_with_params()
        conditions.append(f"{person} IN ({sql})")
        params.extend(subquery_params)
    return f"{conditions[0]} AND ({' OR '.join(conditions[1:])})", params


class RiskLevel(models.TextChoices):
    NONE = "none", "No risk identified"
    LOW = "low", "Low"
    MODERATE = "moderate", "Moderate"
    HIGH = "high", "High"


class IndividualQuerySet(ScopedQuerySet):
    kind = Kind.PERSON
    individual_path = ""  # an individual is its own person

    def active(self):
        """People not merged into another record (cases.people.merge_people)."""
        return self.filter(merged_into__isnull=True)


class Individual(models.Model):
    class HousingStatus(models.TextChoices):
        HOUSED = "housed", "Housed"
        AT_RISK = "at_risk", "At risk of losing housing"
        SHELTERED = "sheltered", "Staying in a shelter"
        UNSHELTERED = "unsheltered", "Unsheltered"
        INSTITUTION = "institution", "In an institution"
        UNKNOWN = "unknown", "Unknown"

    class RaceEthnicity(models.TextChoices):  # for equity reporting; self-reported
        AMERICAN_INDIAN = "american_indian", "American Indian or Alaska Native"
        ASIAN = "asian", "Asian"
        BLACK = "black", "Black or African American"
        HISPANIC = "hispanic", "Hispanic or Latino"
        MIDDLE_EASTERN = "middle_eastern", "Middle Eastern or North African"
        PACIFIC_ISLANDER = "pacific_islander", "Native Hawaiian or Pacific Islander"
        WHITE = "white", "White"
        MULTIRACIAL = "multiracial", "More than one"
        DECLINED = "declined", "Declined to answer"
        UNKNOWN = "unknown", "Unknown"

    class Channel(models.TextChoices):
        PHONE = "phone", "Phone call"
        TEXT = "text", "Text message"
        EMAIL = "email", "Email"
        IN_PERSON = "in_person", "In person"

    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="individuals")
    legal_first_name = models.CharField(max_length=100)
    legal_last_name = models.CharField(max_length=100)
    preferred_name = models.CharField(max_length=100, blank=True)
    pronouns = models.CharField(max_length=40, blank=True)
    date_of_birth = models.DateField(null=True, blank=True)
    phone = models.CharField(max_length=40, blank=True)
    email = models.EmailField(blank=True)
    address = models.CharField(max_length=300, blank=True)
    where_staying = models.CharField(max_length=300, blank=True, help_text="Where to find them if not an address.")
    area = models.CharField(max_length=100, blank=True, help_text="Council district or neighbourhood (equity).")
    housing_status = models.CharField(max_length=20, choices=HousingStatus, default=HousingStatus.UNKNOWN)
    primary_language = models.CharField(max_length=10, default="en", help_text="ISO 639-1 code.")
    needs_interpreter = models.BooleanField(default=False)
    race_ethnicity = models.CharField(max_length=20, choices=RaceEthnicity, default=RaceEthnicity.UNKNOWN)
    gender = models.CharField(max_length=40, blank=True)
    cad_person_id = models.CharField("911/CAD person id", max_length=50, blank=True)
    mrn = models.CharField("medical record number", max_length=50, blank=True)
    hmis_id = models.CharField("HMIS id", max_length=50, blank=True)
    # Safe-contact preferences: honoured by staff pages and by everything shared with partners.
    is_do_not_contact = models.BooleanField(default=False)
    safe_contact_channels = models.JSONField(default=list, blank=True, help_text="Channels it is safe to use.")
    safe_contact_times = models.CharField(max_length=200, blank=True)
    responder_safety_notes = models.TextField(blank=True, help_text="Shown first to anyone going out to this person.")
    risk_level = models.CharField(max_length=10, choices=RiskLevel, default=RiskLevel.NONE)
    merged_into = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="Set when this record was merged into another: its id then points there (PersonMerge).",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = IndividualQuerySet.as_manager()

    class Meta:
        ordering = ["legal_last_name", "legal_first_name"]
        indexes = [
            # duplicate detection on intake: same program, date of birth and last name
            models.Index(fields=["program", "date_of_birth", "legal_last_name"], name="individual_dedupe"),
            # CAD intake matches on the 911 system's person id
            models.Index(fields=["program", "cad_person_id"], name="individual_cad"),
        ]

    def __str__(self) -> str:
        return f"Individual #{self.pk}"  # names stay out of logs and admin history messages

    @property
    def display_name(self) -> str:
        first = self.preferred_name or self.legal_first_name
        return f"{first} {self.legal_last_name}"


class SupportContactQuerySet(ScopedQuerySet):
    kind = Kind.PERSON
    program_path = "individual__program"


class SupportContact(models.Model):
    """Family, caregivers and friends, and whether the person agreed that we contact them."""

    individual = models.ForeignKey(Individual, on_delete=models.CASCADE, related_name="support_contacts")
    name = models.CharField(max_length=200)
    relationship = models.CharField(max_length=100)
    phone = models.CharField(max_length=40, blank=True)
    email = models.EmailField(blank=True)
    is_caregiver = models.BooleanField(default=False)
    notes = models.CharField(max_length=500, blank=True)
    ended_at = models.DateTimeField(
        null=True, blank=True, help_text="When they stopped being part of the support network."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = SupportContactQuerySet.as_manager()

    # Consent to contact them is a Consent naming this contact as recipient (cases.people).

    def __str__(self) -> str:
        return f"Support contact #{self.pk}"


class PersonMergeQuerySet(ScopedQuerySet):
    kind = Kind.PERSON
    individual_path = "survivor"


class PersonMerge(models.Model):
    """Two records of one person made one: everything of `merged` moved to `survivor`.

    `moved` lists the rows that moved ({"app_label.model": [ids]}) and `survivor_before` the
    survivor's fields the merge filled in, as they were, so that undo_merge can put them back.
    """

    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="+")
    survivor = models.ForeignKey(Individual, on_delete=models.PROTECT, related_name="merges_kept")
    merged = models.ForeignKey(Individual, on_delete=models.PROTECT, related_name="merges_away")
    reason = models.CharField(max_length=500)
    merged_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    merged_at = models.DateTimeField()
    moved = models.JSONField(default=dict, blank=True)
    survivor_before = models.JSONField(default=dict, blank=True)
    undone_at = models.DateTimeField(null=True, blank=True)
    undone_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    undo_reason = models.CharField(max_length=500, blank=True)

    objects = PersonMergeQuerySet.as_manager()

    class Meta:
        ordering = ["-merged_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["merged"], condition=Q(undone_at__isnull=True), name="person_merge_one_in_force"
            ),
            models.CheckConstraint(name="person_merge_two_records", condition=~Q(survivor=F("merged"))),
            models.CheckConstraint(
                name="person_merge_undone_with_who",
                condition=Q(undone_at__isnull=True, undone_by__isnull=True)
                | Q(undone_at__isnull=False, undone_by__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"Merge #{self.pk}"


class EncounterQuerySet(ScopedQuerySet):
    kind = Kind.CLINICAL


class Encounter(models.Model):
    """A field response to one 911 call."""

    class CallSource(models.TextChoices):
        CALL_911 = "911", "911 call"
        TRANSFER_988 = "988", "988 transfer"
        POLICE = "police", "Police request"
        FIRE_EMS = "fire_ems", "Fire / EMS request"
        SELF = "self", "Walk-up or self-referral"
        OTHER = "other", "Other"

    class CoResponse(models.TextChoices):
        NONE = "none", "None"
        REQUESTED = "requested", "Requested"
        ON_SCENE = "on_scene", "On scene"

    class Disposition(models.TextChoices):
        STABILISED = "stabilised", "Stabilised in place"
        VOLUNTARY_CRISIS_CENTRE = "voluntary_crisis_centre", "Voluntary transport to crisis centre"
        EMERGENCY_DEPARTMENT = "emergency_department", "Emergency-department transport"
        INVOLUNTARY_HOLD = "involuntary_hold", "Involuntary hold"
        ARREST = "arrest", "Arrest"
        REFUSED = "refused", "Refused services"
        UNABLE_TO_LOCATE = "unable_to_locate", "Unable to locate"
        CANCELLED = "cancelled", "Call cancelled"

    class Intervention(models.TextChoices):
        DE_ESCALATION = "de_escalation", "De-escalation"
        MEDICAL_CARE = "medical_care", "Medical care"
        NALOXONE = "naloxone", "Naloxone"
        SAFETY_PLANNING = "safety_planning", "Safety planning"
        FAMILY_SUPPORT = "family_support", "Family or caregiver support"
        RESOURCE_LINKAGE = "resource_linkage", "Resource linkage"
        MEDICATION_SUPPORT = "medication_support", "Medication support"

    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="encounters")
    individual = models.ForeignKey(
        Individual,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="encounters",
        help_text="Empty when the person could not be located or identified.",
    )
    cad_incident_number = models.CharField("CAD incident number", max_length=50)
    call_source = models.CharField(max_length=20, choices=CallSource, default=CallSource.CALL_911)
    call_type = models.CharField(max_length=100, blank=True, help_text="The CAD call type.")
    call_received_at = models.DateTimeField()
    dispatched_at = models.DateTimeField(null=True, blank=True)
    on_scene_at = models.DateTimeField(null=True, blank=True)
    cleared_at = models.DateTimeField(null=True, blank=True)
    location_text = models.CharField(max_length=300, blank=True)
    latitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    area = models.CharField(max_length=100, blank=True)
    team = models.CharField(max_length=50, blank=True, help_text="Unit or team call sign.")
    responders = models.ManyToManyField(settings.AUTH_USER_MODEL, through="EncounterResponder", related_name="+")
    law_enforcement = models.CharField(max_length=10, choices=CoResponse, default=CoResponse.NONE)
    reason_for_call = models.TextField(blank=True)
    interventions = models.JSONField(default=list, blank=True)
    disposition = models.CharField(max_length=30, choices=Disposition, blank=True)
    transport_destination = models.CharField(max_length=200, blank=True)
    narrative = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = EncounterQuerySet.as_manager()

    class Meta:
        ordering = ["-call_received_at"]
        indexes = [
            # metrics: encounters of a program in a period
            models.Index(fields=["program", "call_received_at"], name="encounter_program_period"),
            models.Index(fields=["individual", "call_received_at"], name="encounter_person_timeline"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["program", "cad_incident_number"], name="encounter_cad_unique"),
            models.CheckConstraint(
                name="encounter_dispatched_after_received",
                condition=Q(dispatched_at__isnull=True) | Q(dispatched_at__gte=F("call_received_at")),
            ),
            # Each time is checked against the call itself too: an intermediate time may be unknown.
            models.CheckConstraint(
                name="encounter_on_scene_after_received",
                condition=Q(on_scene_at__isnull=True) | Q(on_scene_at__gte=F("call_received_at")),
            ),
            models.CheckConstraint(
                name="encounter_cleared_after_received",
                condition=Q(cleared_at__isnull=True) | Q(cleared_at__gte=F("call_received_at")),
            ),
            models.CheckConstraint(
                name="encounter_on_scene_after_dispatched",
                condition=Q(on_scene_at__isnull=True)
                | Q(dispatched_at__isnull=True)
                | Q(on_scene_at__gte=F("dispatched_at")),
            ),
            models.CheckConstraint(
                name="encounter_cleared_after_on_scene",
                condition=Q(cleared_at__isnull=True)
                | Q(on_scene_at__isnull=True)
                | Q(cleared_at__gte=F("on_scene_at")),
            ),
        ]

    def __str__(self) -> str:
        return f"Encounter {self.cad_incident_number}"


class EncounterResponderQuerySet(ScopedQuerySet):
    kind = Kind.CLINICAL
    program_path = "encounter__program"
    individual_path = "encounter__individual"


class EncounterResponder(models.Model):
    encounter = models.ForeignKey(Encounter, on_delete=models.CASCADE, related_name="responder_roles")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="encounter_roles")
    role = models.CharField(
        max_length=20, help_text="Role on this call: paramedic, clinician, navigator, peer, officer."
    )

    objects = EncounterResponderQuerySet.as_manager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["encounter", "user"], name="encounter_responder_unique")]

    def __str__(self) -> str:
        return f"{self.role} on encounter #{self.encounter_id}"


class AssessmentQuerySet(ScopedQuerySet):
    kind = Kind.CLINICAL
    program_path = "encounter__program"
    individual_path = "encounter__individual"


def derive_cssrs_risk(
    *, wish_dead, suicidal_thoughts, method, intent, plan, behavior, behavior_past_3_months
) -> str | None:
    """The risk level of the Columbia (C-SSRS) screener's answers, by its published triage rule.

    High: intent (Q4) or a plan (Q5), or suicidal behaviour within the past three months.
    Moderate: thoughts with a method (Q3), or behaviour longer ago. Low: a wish to be dead or
    non-specific thoughts only. None when every answer is no; unknown (None) when nothing was asked.
    """
    answers = [wish_dead, suicidal_thoughts, method, intent, plan, behavior]
    if all(answer is None for answer in answers):
        return None
    if intent or plan or (behavior and behavior_past_3_months):
        return RiskLevel.HIGH
    if method or behavior:
        return RiskLevel.MODERATE
    if wish_dead or suicidal_thoughts:
        return RiskLevel.LOW
    return RiskLevel.NONE


class Assessment(models.Model):
    """A medical and/or clinical assessment during an encounter, with the C-SSRS screener built in."""

    class Kind(models.TextChoices):
        MEDICAL = "medical", "Medical (vitals)"
        CLINICAL = "clinical", "Clinical"
        CSSRS = "cssrs", "Columbia suicide-severity screener"

    encounter = models.ForeignKey(Encounter, on_delete=models.PROTECT, related_name="assessments")
    kind = models.CharField(max_length=10, choices=Kind)
    performed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    performed_at = models.DateTimeField()
    # Vitals
    heart_rate = models.PositiveSmallIntegerField(null=True, blank=True)
    systolic_bp = models.PositiveSmallIntegerField(null=True, blank=True)
    diastolic_bp = models.PositiveSmallIntegerField(null=True, blank=True)
    respiratory_rate = models.PositiveSmallIntegerField(null=True, blank=True)
    spo2 = models.PositiveSmallIntegerField("SpO₂ %", null=True, blank=True)
    temperature_c = models.DecimalField(max_digits=4, decimal_places=1, null=True, blank=True)
    blood_glucose = models.PositiveSmallIntegerField("blood glucose mg/dL", null=True, blank=True)
    # C-SSRS screener (past month, except the behaviour questions)
    cssrs_wish_dead = models.BooleanField("Q1 wished to be dead", null=True, blank=True)
    cssrs_suicidal_thoughts = models.BooleanField("Q2 non-specific suicidal thoughts", null=True, blank=True)
    cssrs_method = models.BooleanField("Q3 thoughts with a method", null=True, blank=True)
    cssrs_intent = models.BooleanField("Q4 intent to act", null=True, blank=True)
    cssrs_plan = models.BooleanField("Q5 a plan", null=True, blank=True)
    cssrs_behavior = models.BooleanField("Q6 suicidal behaviour, ever", null=True, blank=True)
    cssrs_behavior_past_3_months = models.BooleanField("Q6 within the past 3 months", null=True, blank=True)
    risk_level = models.CharField(max_length=10, choices=RiskLevel, blank=True, help_text="Derived from the screener.")
    clinical_impression = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = AssessmentQuerySet.as_manager()

    class Meta:
        ordering = ["-performed_at"]
        constraints = [
            models.CheckConstraint(
                name="assessment_heart_rate_range", condition=Q(heart_rate__isnull=True) | Q(heart_rate__lte=300)
            ),
            models.CheckConstraint(name="assessment_spo2_range", condition=Q(spo2__isnull=True) | Q(spo2__lte=100)),
            models.CheckConstraint(
                name="assessment_bp_ordered",
                condition=Q(systolic_bp__isnull=True)
                | Q(diastolic_bp__isnull=True)
                | Q(systolic_bp__gt=F("diastolic_bp")),
            ),
            models.CheckConstraint(
                name="assessment_temperature_range",
                condition=Q(temperature_c__isnull=True) | Q(temperature_c__gte=20, temperature_c__lte=46),
            ),
            # Q6's "when" is only asked after a yes to Q6.
            models.CheckConstraint(
                name="assessment_cssrs_recency_needs_behavior",
                # isnull=False too: "NULL = true" is NULL, and a CHECK that is NULL passes.
                condition=Q(cssrs_behavior_past_3_months__isnull=True)
                | Q(cssrs_behavior__isnull=False, cssrs_behavior=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk}"

    def derived_risk(self) -> str | None:
        return derive_cssrs_risk(
            wish_dead=self.cssrs_wish_dead,
            suicidal_thoughts=self.cssrs_suicidal_thoughts,
            method=self.cssrs_method,
            intent=self.cssrs_intent,
            plan=self.cssrs_plan,
            behavior=self.cssrs_behavior,
            behavior_past_3_months=self.cssrs_behavior_past_3_months,
        )


class CaseQuerySet(ScopedQuerySet):
    kind = Kind.CARE

    def open(self):
        return self.exclude(status=Case.Status.CLOSED)


class Case(models.Model):
    """An episode on a navigator's caseload, usually opened from an encounter."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        ACTIVE_FOLLOW_UP = "active_follow_up", "Active follow-up"
        CLOSED = "closed", "Closed"

    class ClosedReason(models.TextChoices):
        CONNECTED = "connected", "Connected to ongoing care"
        GOALS_MET = "goals_met", "Goals met"
        DECLINED = "declined", "Declined further contact"
        UNABLE_TO_REACH = "unable_to_reach", "Unable to reach"
        MOVED = "moved", "Moved out of area"
        DECEASED = "deceased", "Deceased"
        DUPLICATE = "duplicate", "Opened in error / duplicate"

    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="cases")
    individual = models.ForeignKey(Individual, on_delete=models.PROTECT, related_name="cases")
    encounter = models.ForeignKey(Encounter, null=True, blank=True, on_delete=models.PROTECT, related_name="cases")
    navigator = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="navigator_cases"
    )
    peer = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="peer_cases"
    )
    status = models.CharField(max_length=20, choices=Status, default=Status.OPEN)
    closed_reason = models.CharField(max_length=20, choices=ClosedReason, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    risk_level = models.CharField(max_length=10, choices=RiskLevel, default=RiskLevel.NONE)
    opened_at = models.DateTimeField()
    # Reopening (cases.services.reopen_case): within the program's case_reopen_window the same case
    # opens again; later, a new case is opened that points back at the closed one.
    times_reopened = models.PositiveSmallIntegerField(default=0)
    previous_case = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="later_cases",
        help_text="The closed case this one continues, when it was too old to reopen.",
    )
    updated_at = models.DateTimeField(auto_now=True)

    objects = CaseQuerySet.as_manager()

    class Meta:
        ordering = ["-opened_at"]
        indexes = [
            # "my caseload": open cases of a navigator or of a peer
            models.Index(fields=["navigator", "status"], name="case_navigator_open", condition=~Q(status="closed")),
            models.Index(fields=["peer", "status"], name="case_peer_open", condition=~Q(status="closed")),
            models.Index(fields=["program", "opened_at"], name="case_program_opened"),
        ]
        constraints = [
            models.CheckConstraint(
                name="case_closed_has_reason_and_time",
                condition=(Q(status="closed") & ~Q(closed_reason="") & Q(closed_at__isnull=False))
                | (~Q(status="closed") & Q(closed_reason="") & Q(closed_at__isnull=True)),
            ),
        ]

    def __str__(self) -> str:
        return f"Case #{self.pk}"


class FollowUpQuerySet(ScopedQuerySet):
    kind = Kind.CARE
    program_path = "case__program"
    individual_path = "case__individual"

    def due(self, now):
        """Open follow-ups whose time has come: what the follow-up sweep scans."""
        return self.filter(done_at__isnull=True, is_missed=False, due_at__lte=now)

    def outstanding(self):
        """Still owed: open, or missed and neither completed nor dismissed (what the lists show)."""
        return self.filter(done_at__isnull=True, dismissed_at__isnull=True)

    def missed(self):
        """Missed and still on the lists until a reached contact or a dismissal."""
        return self.filter(is_missed=True, dismissed_at__isnull=True)


class FollowUp(models.Model):
    """A due item on a case: a call 24 h, 72 h, 7 d or 30 d after the encounter, or a custom one."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="follow_ups")
    label = models.CharField(max_length=30, help_text="24h, 72h, 7d, 30d, or a short reason.")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="follow_ups"
    )
    due_at = models.DateTimeField()
    done_at = models.DateTimeField(null=True, blank=True)
    # Missed (the sweep gave up on the clock) stays on the lists until a reached contact completes it
    # (done_at set, is_missed cleared, missed_at kept) or someone dismisses it with a reason.
    is_missed = models.BooleanField(default=False)
    missed_at = models.DateTimeField(null=True, blank=True)
    dismissed_at = models.DateTimeField(null=True, blank=True)
    dismissed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    dismissed_reason = models.CharField(max_length=300, blank=True)
    escalation_level = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = FollowUpQuerySet.as_manager()

    class Meta:
        ordering = ["due_at"]
        indexes = [
            # follow-up sweep and dashboards: only open follow-ups are ever scanned
            models.Index(
                fields=["due_at"], name="followup_due_open", condition=Q(done_at__isnull=True, is_missed=False)
            ),
            models.Index(fields=["owner", "due_at"], name="followup_owner_open", condition=Q(done_at__isnull=True)),
            # the lists' "missed" lines: missed and neither completed nor dismissed
            models.Index(
                fields=["case", "due_at"], name="followup_missed_open", condition=Q(is_missed=True, dismissed_at=None)
            ),
        ]
        constraints = [
            # the schedule is created idempotently: one "24h" follow-up per case, and so on
            models.UniqueConstraint(fields=["case", "label"], name="followup_one_per_label"),
            models.CheckConstraint(
                name="followup_done_or_missed_not_both", condition=Q(done_at__isnull=True) | Q(is_missed=False)
            ),
            # only a missed follow-up is dismissed, always by someone and with a reason
            models.CheckConstraint(
                name="followup_dismissed_missed_with_reason",
                condition=Q(dismissed_at__isnull=True, dismissed_by__isnull=True, dismissed_reason="")
                | (Q(is_missed=True, dismissed_at__isnull=False, dismissed_by__isnull=False) & ~Q(dismissed_reason="")),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.label} follow-up of case #{self.case_id}"


class FollowUpRule(models.Model):
    """One row of a program's follow-up schedule (DESIGN.md §3), edited by staff admins.

    Opening a case creates one follow-up per rule that applies: a disposition with rules of its own
    uses those, any other disposition (or none) the rules for "any disposition"; of those, the rules
    for the case's risk level and those for any risk level. The follow-up is due `offset` after the
    encounter (cleared, else on scene, else the call), or after the case was opened. A change applies
    to cases opened afterwards: existing follow-ups keep their times and owners.
    """

    class Owner(models.TextChoices):
        NAVIGATOR = "navigator", "The case's navigator"
        PEER = "peer", "The case's peer specialist"

    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="follow_up_rules")
    disposition = models.CharField(
        max_length=30, choices=Encounter.Disposition, blank=True, help_text="Blank: any disposition."
    )
    risk_level = models.CharField(max_length=10, choices=RiskLevel, blank=True, help_text="Blank: any risk level.")
    label = models.CharField(max_length=30, help_text="What the follow-up is called on the lists: 24h, 7d, …")
    offset = models.DurationField(help_text="How long after the encounter it is due, e.g. 1 00:00:00 for a day.")
    owner = models.CharField(
        max_length=10,
        choices=Owner,
        default=Owner.NAVIGATOR,
        help_text="Who owns it; the other one when the case has nobody in that role.",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["program", "disposition", "risk_level", "offset"]
        constraints = [
            models.UniqueConstraint(
                fields=["program", "disposition", "risk_level", "label"], name="followup_rule_one_per_label"
            ),
            models.CheckConstraint(name="followup_rule_offset_positive", condition=Q(offset__gt=timedelta(0))),
        ]

    def __str__(self) -> str:
        return f"{self.label} follow-up rule"


class ContactQuerySet(ScopedQuerySet):
    kind = Kind.CARE
    program_path = "case__program"
    individual_path = "case__individual"


class Contact(models.Model):
    """A logged touchpoint: a call, visit, text or video, reached or only attempted."""

    class Method(models.TextChoices):
        PHONE = "phone", "Phone"
        IN_PERSON = "in_person", "In person"
        TEXT = "text", "Text"
        VIDEO = "video", "Video"

    class Outcome(models.TextChoices):
        REACHED = "reached", "Reached"
        ATTEMPTED = "attempted", "Attempted, not reached"

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="contacts")
    made_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="contacts_made")
    occurred_at = models.DateTimeField()
    method = models.CharField(max_length=10, choices=Method)
    outcome = models.CharField(max_length=10, choices=Outcome)
    duration_minutes = models.PositiveSmallIntegerField(null=True, blank=True)
    note = models.CharField(max_length=1000, blank=True)
    needs_identified = models.JSONField(default=list, blank=True, help_text="Need domains raised in this contact.")
    next_step = models.CharField(max_length=300, blank=True)
    follow_up = models.OneToOneField(
        FollowUp,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="completed_by",
        help_text="The due follow-up this contact answered.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ContactQuerySet.as_manager()

    class Meta:
        ordering = ["-occurred_at"]
        indexes = [models.Index(fields=["case", "occurred_at"], name="contact_case_time")]
        constraints = [
            models.CheckConstraint(
                name="contact_duration_range",
                condition=Q(duration_minutes__isnull=True) | Q(duration_minutes__lte=1440),
            ),
        ]

    def __str__(self) -> str:
        return f"Contact #{self.pk}"


class SafetyPlanQuerySet(ScopedQuerySet):
    kind = Kind.SAFETY_PLAN
    program_path = "case__program"
    individual_path = "case__individual"

    def current(self):
        return self.filter(is_current=True)


class SafetyPlan(models.Model):
    """One version of a person's safety plan (six sections after Stanley and Brown, in our words).

    Versions are never edited: a change saves a new version and marks it current.
    """

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="safety_plans")
    version = models.PositiveIntegerField()
    is_current = models.BooleanField(default=True)
    # 1. Signs that a crisis may be starting
    warning_signs = models.JSONField(default=list, blank=True)
    # 2. Things I can do on my own to take my mind off it
    coping_strategies = models.JSONField(default=list, blank=True)
    # 3. People and places that help me feel better: [{"name", "phone" or "place"}]
    distractions = models.JSONField(default=list, blank=True)
    # 4. People I can ask for help: [{"name", "phone"}]
    help_contacts = models.JSONField(default=list, blank=True)
    # 5. Professionals and services to call: [{"name", "phone"}]; 988 and 911 are always printed
    professional_contacts = models.JSONField(default=list, blank=True)
    # 6. Making my surroundings safer, per method: [{"method", "step", "who", "status"}]
    environment_steps = models.JSONField(default=list, blank=True)
    most_important = models.TextField("what matters most to me", blank=True)
    # [{"name", "role": individual | family | caregiver | staff}]
    participants = models.JSONField(default=list, blank=True)
    copy_kept_at = models.CharField(max_length=200, blank=True)
    review_on = models.DateField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = SafetyPlanQuerySet.as_manager()

    class Meta:
        ordering = ["case", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["case", "version"], name="safety_plan_version_unique"),
            models.UniqueConstraint(fields=["case"], condition=Q(is_current=True), name="safety_plan_one_current"),
            models.CheckConstraint(name="safety_plan_version_positive", condition=Q(version__gte=1)),
        ]

    def __str__(self) -> str:
        return f"Safety plan v{self.version} of case #{self.case_id}"


class ConsentQuerySet(ScopedQuerySet):
    kind = Kind.CARE
    program_path = "individual__program"

    def active(self, now):
        return self.filter(given_at__lte=now, revoked_at__isnull=True).filter(
            Q(expires_at__isnull=True) | Q(expires_at__gt=now)
        )


class Consent(models.Model):
    """Who may receive what about a person, for what purpose, and until when."""

    class Purpose(models.TextChoices):
        REFERRAL = "referral", "Referral and care coordination"
        TREATMENT = "treatment", "Treatment"
        FAMILY = "family", "Sharing with family or caregivers"
        CONTACT = "contact", "Contacting them about the person"

    class Method(models.TextChoices):
        WRITTEN = "written", "Written, signed"
        VERBAL = "verbal", "Verbal, with a witness"
        ELECTRONIC = "electronic", "Electronic signature"
        # Only on consents to contact a support contact carried over from the old yes/no flag
        # (migration cases 0005); never recorded anew.
        NOT_RECORDED = "not_recorded", "Not recorded (an earlier yes/no)"

    # The ways a consent can be recorded now (forms and services offer only these).
    RECORDABLE_METHODS = list(filter(lambda choice: choice[0] != "not_recorded", Method.choices))

    individual = models.ForeignKey(Individual, on_delete=models.PROTECT, related_name="consents")
    recipient_organization = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.PROTECT, related_name="consents"
    )
    recipient_category = models.CharField(
        max_length=20, choices=NeedDomain, blank=True, help_text="Any partner of this need domain."
    )
    recipient_support_contact = models.ForeignKey(
        SupportContact,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="consents",
        help_text="A person of the support network (family, caregiver, friend).",
    )
    purpose = models.CharField(max_length=20, choices=Purpose, default=Purpose.REFERRAL)
    covers_part2 = models.BooleanField("covers substance-use (42 CFR Part 2) records", default=False)
    method = models.CharField(max_length=12, choices=Method)
    witness_name = models.CharField(max_length=200, blank=True)
    given_at = models.DateTimeField()
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="Empty only on consents carried over from the old yes/no flag (method: not recorded).",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ConsentQuerySet.as_manager()

    class Meta:
        ordering = ["-given_at"]
        indexes = [models.Index(fields=["individual", "revoked_at"], name="consent_person_active")]
        constraints = [
            models.CheckConstraint(
                name="consent_one_recipient",
                condition=(
                    Q(recipient_organization__isnull=False)
                    & Q(recipient_category="")
                    & Q(recipient_support_contact__isnull=True)
                )
                | (
                    Q(recipient_organization__isnull=True)
                    & ~Q(recipient_category="")
                    & Q(recipient_support_contact__isnull=True)
                )
                | (
                    Q(recipient_organization__isnull=True)
                    & Q(recipient_category="")
                    & Q(recipient_support_contact__isnull=False)
                ),
            ),
            models.CheckConstraint(
                name="consent_verbal_has_witness", condition=~Q(method="verbal") | ~Q(witness_name="")
            ),
            models.CheckConstraint(
                name="consent_recorded_by_someone",
                condition=Q(recorded_by__isnull=False) | Q(method="not_recorded"),
            ),
            models.CheckConstraint(
                name="consent_expires_after_given",
                condition=Q(expires_at__isnull=True) | Q(expires_at__gt=F("given_at")),
            ),
            models.CheckConstraint(
                name="consent_revoked_after_given",
                condition=Q(revoked_at__isnull=True) | Q(revoked_at__gte=F("given_at")),
            ),
        ]

    def __str__(self) -> str:
        return f"Consent #{self.pk}"

    def is_active_at(self, now) -> bool:
        return self.given_at <= now and self.revoked_at is None and (self.expires_at is None or self.expires_at > now)
