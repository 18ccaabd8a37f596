"""Field encounters and their assessments, as the responders record them on the staff pages.

    create_encounter   a call, its times, team, co-response, reason, interventions, disposition;
                       for a known person or for nobody yet (unable to locate, not identified)
    update_encounter   the same fields afterwards; only the fields of ENCOUNTER_FIELDS may change
    record_assessment  vitals and the C-SSRS screener; the risk level is always derived here by
                       cases.models.derive_cssrs_risk (the page's script only previews it), and a
                       higher risk raises the person's risk and that of their open cases

Who may write: paramedics, clinicians and supervisors of the encounter's program
(accounts.roles.may_write_encounters).
Navigators read encounters but do not record them; peers do not see them at all.

Errors are Django ValidationErrors with a code: "not_found" (not visible to the actor),
"forbidden" (role), "invalid" (bad input; a `params["field"]` names the form field when there is
one), "conflict" (the CAD incident number is already used). Nothing is written when one is raised.
The CAD system's intake (cases.intake.intake_call) records its encounter through create_encounter.
"""

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from accounts.models import User
from accounts.roles import call_role_of, is_program_staff, may_write_encounters
from cases.models import Assessment, Case, Encounter, EncounterResponder, Individual, RiskLevel, derive_cssrs_risk
from crt.inputs import aware_datetime, is_ahead
from crt.validators import EARLIEST_CALL

TIMES = ("call_received_at", "dispatched_at", "on_scene_at", "cleared_at")
TIME_LABELS = {
    "call_received_at": "call time",
    "dispatched_at": "dispatch time",
    "on_scene_at": "on-scene time",
    "cleared_at": "clear time",
}
TEXT_LIMITS = {
    "cad_incident_number": 50,
    "call_type": 100,
    "location_text": 300,
    "area": 100,
    "team": 50,
    "reason_for_call": 5000,
    "transport_destination": 200,
    "narrative": 20000,
}
CHOICES = {
    "call_source": Encounter.CallSource.values,
    "law_enforcement": Encounter.CoResponse.values,
    "disposition": ["", *Encounter.Disposition.values],
}
# What update_encounter may change. program, created_by and the timestamps never change.
ENCOUNTER_FIELDS = frozenset(
    {
        "individual",
        "cad_incident_number",
        "call_source",
        "call_type",
        "call_received_at",
        "dispatched_at",
        "on_scene_at",
        "cleared_at",
        "location_text",
        "latitude",
        "longitude",
        "area",
        "team",
        "responders",
        "law_enforcement",
        "reason_for_call",
        "interventions",
        "disposition",
        "transport_destination",
        "narrative",
    }
)
RESPONDER_ROLES = ("paramedic", "clinician", "navigator", "peer", "supervisor", "officer")
CSSRS_QUESTIONS = ("wish_dead", "suicidal_thoughts", "method", "intent", "plan", "behavior", "behavior_past_3_months")
# vital -> (lowest, highest) accepted; wider than the database checks only where those are silent
VITALS = {
    "heart_rate": (20, 300),
    "systolic_bp": (40, 300),
    "diastolic_bp": (20, 200),
    "respiratory_rate": (2, 80),
    "spo2": (30, 100),
    "blood_glucose": (10, 1500),
}
_RISK_ORDER = [RiskLevel.NONE, RiskLevel.LOW, RiskLevel.MODERATE, RiskLevel.HIGH]


def _error(message: str, code: str = "invalid", field: str | None = None) -> ValidationError:
    return ValidationError(message, code=code, params={"field": field} if field else None)


def require_writer(by) -> User:
    """`by`, if they may record encounters (accounts.roles.may_write_encounters, of a program): the one
    rule of every path that records one, the staff pages and the CAD intake (cases.intake) alike;
    "forbidden" otherwise."""
    if not isinstance(by, User) or not is_program_staff(by):
        raise _error("Only program staff can do this.", "forbidden")
    if not may_write_encounters(by):
        raise _error("Only paramedics, clinicians and supervisors record encounters.", "forbidden")
    return by


def _time(value, field: str, *, required: bool = False) -> datetime | None:
    """A time of the call (TIMES) or of an assessment: aware, and not in the future."""
    label = TIME_LABELS.get(field, field)
    moment = aware_datetime(value, label, required=required, field=field)
    if moment is not None and is_ahead(moment):
        raise _error(f"The {label} cannot be in the future.", field=field)
    if moment is not None and moment < EARLIEST_CALL:
        raise _error(f"The {label} is before 2000: check the year.", field=field)
    return moment


def _check_times(times: dict) -> None:
    """Each time after the call, and after the one before it when both are known."""
    known = [(name, times[name]) for name in TIMES if times.get(name) is not None]
    for index, (name, value) in enumerate(known[1:], start=1):
        before_name, before = known[index - 1]
        if value < before:
            message = f"The {TIME_LABELS[name]} cannot be before the {TIME_LABELS[before_name]}."
            raise _error(message, field=name)


def _clean_field(name: str, value):
    if name in TEXT_LIMITS:
        if not isinstance(value, str):
            raise _error(f"The {name.replace('_', ' ')} must be text.", field=name)
        value = value.strip()
        if len(value) > TEXT_LIMITS[name]:
            raise _error(f"At most {TEXT_LIMITS[name]} characters.", field=name)
        if name == "cad_incident_number" and not value:
            raise _error("The CAD incident number is required.", field=name)
        return value
    if name in CHOICES:
        if value not in CHOICES[name]:
            raise _error(f"Unknown {name.replace('_', ' ')}.", field=name)
        return value
    if name == "interventions":
        if isinstance(value, str) or not isinstance(value, Iterable):
            raise _error("Interventions must be a list.", field=name)
        value = list(dict.fromkeys(value))
        if any(item not in Encounter.Intervention.values for item in value):
            raise _error("Unknown intervention.", field=name)
        return value
    if name in ("latitude", "longitude"):
        if value is None or value == "":
            return None
        try:
            number = Decimal(str(value)).quantize(Decimal("0.000001"))
        except InvalidOperation:
            raise _error(f"The {name} must be a number.", field=name) from None
        limit = 90 if name == "latitude" else 180
        if not -limit <= number <= limit:
            raise _error(f"The {name} must be between -{limit} and {limit}.", field=name)
        return number
    raise _error(f"Unknown encounter field: {name}.")


def _person(individual, by: User) -> Individual | None:
    if individual is None:
        return None
    if not isinstance(individual, Individual):
        raise _error("Expected a person.", field="individual")
    found = Individual.objects.visible_to(by).filter(pk=individual.pk, program_id=by.program_id).first()
    if found is None:
        raise _error("Person not found.", "not_found")
    return found


def _responders(responders, program_id: int) -> list[tuple[User, str]]:
    """[(user, role on the call)] from users or (user, role) pairs; each an active staff member."""
    if isinstance(responders, str | User) or not isinstance(responders, Iterable):
        raise _error("Responders must be a list.", field="responders")
    pairs: dict[int, tuple[User, str]] = {}
    for entry in responders:
        user, role = entry if isinstance(entry, tuple) else (entry, None)
        if not isinstance(user, User) or not user.is_active or user.program_id != program_id:
            raise _error("Each responder must be an active member of this program.", field="responders")
        if not is_program_staff(user):
            raise _error("Each responder must be program staff.", field="responders")
        if role is None:
            role = call_role_of(user, RESPONDER_ROLES)
        if role not in RESPONDER_ROLES:
            raise _error("Unknown role on the call.", field="responders")
        pairs[user.pk] = (user, role)
    return list(pairs.values())


def _set_responders(encounter: Encounter, pairs: list[tuple[User, str]]) -> None:
    wanted = {user.pk: role for user, role in pairs}
    responders = EncounterResponder.objects.system("the responders of the encounter being written")
    responders = responders.filter(encounter=encounter)
    current = dict(responders.values_list("user_id", "role"))
    responders.exclude(user_id__in=wanted).delete()
    for user_id, role in wanted.items():
        if user_id not in current:
            EncounterResponder.objects.create(encounter=encounter, user_id=user_id, role=role)
        elif current[user_id] != role:
            responders.filter(user_id=user_id).update(role=role)


def _cad_taken(program_id: int, number: str, *, exclude_pk: int | None = None) -> bool:
    # Unique in the program, whoever may see the other encounter (the answer is yes or no).
    taken = Encounter.objects.system("is this CAD number taken").filter(
        program_id=program_id, cad_incident_number=number
    )
    if exclude_pk is not None:
        taken = taken.exclude(pk=exclude_pk)
    return taken.exists()


def _cad_conflict() -> ValidationError:
    return _error("This CAD incident number is already recorded.", "conflict", "cad_incident_number")


@transaction.atomic
def create_encounter(
    *,
    by: User,
    individual: Individual | None = None,
    cad_incident_number: str,
    call_received_at: datetime,
    call_source: str = Encounter.CallSource.CALL_911,
    call_type: str = "",
    dispatched_at: datetime | None = None,
    on_scene_at: datetime | None = None,
    cleared_at: datetime | None = None,
    location_text: str = "",
    latitude=None,
    longitude=None,
    area: str = "",
    team: str = "",
    law_enforcement: str = Encounter.CoResponse.NONE,
    reason_for_call: str = "",
    interventions=(),
    disposition: str = "",
    transport_destination: str = "",
    narrative: str = "",
    responders=(),
) -> Encounter:
    """Record a field encounter. `individual` None: nobody located or identified (yet)."""
    by = require_writer(by)
    given = {
        "cad_incident_number": cad_incident_number,
        "call_source": call_source,
        "call_type": call_type,
        "location_text": location_text,
        "latitude": latitude,
        "longitude": longitude,
        "area": area,
        "team": team,
        "law_enforcement": law_enforcement,
        "reason_for_call": reason_for_call,
        "interventions": interventions,
        "disposition": disposition,
        "transport_destination": transport_destination,
        "narrative": narrative,
    }
    fields = {name: _clean_field(name, value) for name, value in given.items()}
    times = {
        "call_received_at": _time(call_received_at, "call_received_at", required=True),
        "dispatched_at": _time(dispatched_at, "dispatched_at"),
        "on_scene_at": _time(on_scene_at, "on_scene_at"),
        "cleared_at": _time(cleared_at, "cleared_at"),
    }
    _check_times(times)
    person = _person(individual, by)
    team_members = _responders(responders, by.program_id)
    if _cad_taken(by.program_id, fields["cad_incident_number"]):
        raise _cad_conflict()
    try:
        with transaction.atomic():  # a concurrent save of the same CAD number loses here
            encounter = Encounter.objects.create(
                program_id=by.program_id, individual=person, created_by=by, **fields, **times
            )
    except IntegrityError:
        raise _cad_conflict() from None
    _set_responders(encounter, team_members)
    return encounter


@transaction.atomic
def update_encounter(encounter: Encounter, *, by: User, **changes) -> Encounter:
    """Change the fields named in `changes` (only those of ENCOUNTER_FIELDS). `responders`
    replaces the team; `individual` may name the person once they are identified."""
    by = require_writer(by)
    if not isinstance(encounter, Encounter):
        raise _error("Expected an encounter.")
    unknown = set(changes) - ENCOUNTER_FIELDS
    if unknown:
        raise _error(f"These fields cannot be changed here: {', '.join(sorted(unknown))}.")
    locked = Encounter.objects.visible_to(by).select_for_update().filter(pk=encounter.pk).first()
    if locked is None:
        raise _error("Encounter not found.", "not_found")
    cleaned = {
        name: _clean_field(name, value)
        for name, value in changes.items()
        if name not in (*TIMES, "individual", "responders")
    }
    times = {name: getattr(locked, name) for name in TIMES}
    for name in TIMES:
        if name in changes:
            times[name] = _time(changes[name], name, required=name == "call_received_at")
    _check_times(times)
    cleaned.update({name: times[name] for name in TIMES if name in changes})
    if "individual" in changes:
        person = _person(changes["individual"], by)
        cleaned["individual"] = person
    team_members = _responders(changes["responders"], locked.program_id) if "responders" in changes else None
    number = cleaned.get("cad_incident_number")
    if number is not None and _cad_taken(locked.program_id, number, exclude_pk=locked.pk):
        raise _cad_conflict()

    changed = [name for name, value in cleaned.items() if getattr(locked, name) != value]
    for name in changed:
        setattr(locked, name, cleaned[name])
    if changed:
        try:
            with transaction.atomic():
                locked.save(update_fields=[*changed, "updated_at"])
        except IntegrityError:
            raise _cad_conflict() from None
    if team_members is not None:
        _set_responders(locked, team_members)
    return locked


def _vital(name: str, value):
    if value is None or value == "":
        return None
    if name == "temperature_c":
        try:
            number = Decimal(str(value)).quantize(Decimal("0.1"))
        except InvalidOperation:
            raise _error("The temperature must be a number.", field=name) from None
        if not Decimal(20) <= number <= Decimal(46):
            raise _error("The temperature must be between 20 and 46 °C.", field=name)
        return number
    if isinstance(value, bool) or not isinstance(value, int):
        raise _error(f"The {name.replace('_', ' ')} must be a whole number.", field=name)
    low, high = VITALS[name]
    if not low <= value <= high:
        raise _error(f"The {name.replace('_', ' ')} must be between {low} and {high}.", field=name)
    return value


def _raise_risk(encounter: Encounter, level: str) -> None:
    """Raise the person's risk, and that of their open cases, to `level` when it is higher."""
    if encounter.individual_id is None or level not in _RISK_ORDER:
        return
    lower = [risk for risk in _RISK_ORDER if _RISK_ORDER.index(risk) < _RISK_ORDER.index(level)]
    person = (
        Individual.objects.system("a screen raises the person's risk")
        .select_for_update()
        .get(pk=encounter.individual_id)
    )
    if person.risk_level in lower:
        person.risk_level = level
        person.save(update_fields=["risk_level", "updated_at"])
    open_cases = Case.objects.system("a screen raises the risk of the person's open cases").open()
    for case in open_cases.select_for_update().filter(individual_id=person.pk, risk_level__in=lower):
        case.risk_level = level
        case.save(update_fields=["risk_level", "updated_at"])


@transaction.atomic
def record_assessment(
    encounter: Encounter,
    *,
    by: User,
    kind: str,
    performed_at: datetime,
    heart_rate: int | None = None,
    systolic_bp: int | None = None,
    diastolic_bp: int | None = None,
    respiratory_rate: int | None = None,
    spo2: int | None = None,
    temperature_c=None,
    blood_glucose: int | None = None,
    cssrs_wish_dead: bool | None = None,
    cssrs_suicidal_thoughts: bool | None = None,
    cssrs_method: bool | None = None,
    cssrs_intent: bool | None = None,
    cssrs_plan: bool | None = None,
    cssrs_behavior: bool | None = None,
    cssrs_behavior_past_3_months: bool | None = None,
    clinical_impression: str = "",
) -> Assessment:
    """Record vitals and/or a C-SSRS screen; the risk level is derived from the answers here."""
    by = require_writer(by)
    if not isinstance(encounter, Encounter):
        raise _error("Expected an encounter.")
    if kind not in Assessment.Kind.values:
        raise _error("Unknown kind of assessment.", field="kind")
    performed_at = _time(performed_at, "performed_at", required=True)
    vitals = {
        "heart_rate": heart_rate,
        "systolic_bp": systolic_bp,
        "diastolic_bp": diastolic_bp,
        "respiratory_rate": respiratory_rate,
        "spo2": spo2,
        "temperature_c": temperature_c,
        "blood_glucose": blood_glucose,
    }
    vitals = {name: _vital(name, value) for name, value in vitals.items()}
    if None not in (vitals["systolic_bp"], vitals["diastolic_bp"]) and vitals["systolic_bp"] <= vitals["diastolic_bp"]:
        raise _error("The systolic pressure must be above the diastolic.", field="systolic_bp")
    answers = {
        "wish_dead": cssrs_wish_dead,
        "suicidal_thoughts": cssrs_suicidal_thoughts,
        "method": cssrs_method,
        "intent": cssrs_intent,
        "plan": cssrs_plan,
        "behavior": cssrs_behavior,
        "behavior_past_3_months": cssrs_behavior_past_3_months,
    }
    for name, answer in answers.items():
        if answer not in (None, True, False):
            raise _error("Each screener answer is yes, no, or not asked.", field=f"cssrs_{name}")
    if answers["behavior_past_3_months"] is not None and answers["behavior"] is not True:
        raise _error("Asked only after a yes to question 6.", field="cssrs_behavior_past_3_months")
    if not isinstance(clinical_impression, str) or len(clinical_impression) > 10000:
        raise _error("The clinical impression must be text of at most 10000 characters.", field="clinical_impression")
    risk = derive_cssrs_risk(**answers)
    if kind == Assessment.Kind.CSSRS and risk is None:
        raise _error("A C-SSRS screen needs at least one answer.")
    if risk is None and all(v is None for v in vitals.values()) and not clinical_impression.strip():
        raise _error("Record at least one vital sign, a screener answer or an impression.")

    found = Encounter.objects.visible_to(by).filter(pk=encounter.pk).first()
    if found is None:
        raise _error("Encounter not found.", "not_found")
    if performed_at < found.call_received_at:
        raise _error("The assessment cannot be before the call.", field="performed_at")
    assessment = Assessment.objects.create(
        encounter=found,
        kind=kind,
        performed_by=by,
        performed_at=performed_at,
        risk_level=risk or "",
        clinical_impression=clinical_impression.strip(),
        **vitals,
        **{f"cssrs_{name}": answer for name, answer in answers.items()},
    )
    if risk is not None:
        _raise_risk(found, risk)
    return assessment
