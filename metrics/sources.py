"""The rows each measure counts, and the groups it can be broken down by.

Three sources: encounters received in the period, referrals sent in the period, and cases open
at the end of the period. Each is read for one program (the Selection's, which metrics.access
takes from the signed-in supervisor) and narrowed by team and area of the call when asked.

Demographic breakdowns (DIMENSIONS) describe the person: race/ethnicity, age band (at the time
of the record), language and the area where they live or stay. Every source reaches its person
through `individual`. Splits are a measure's own categories (call source, partner, navigator...).
"""

from dataclasses import dataclass
from datetime import datetime

from django.conf.locale import LANG_INFO
from django.db.models import Case as CaseWhen
from django.db.models import F, IntegerField, Q, QuerySet, Value, When
from django.db.models.functions import Coalesce

from cases.models import Case, Encounter, Individual
from metrics import definitions as d
from metrics import sql
from metrics.periods import Selection
from referrals.models import Referral


@dataclass(frozen=True)
class Grouping:
    key: str
    title: str
    is_demographic: bool


# Program metrics count a whole program's records; only counts leave, small cells suppressed
# (metrics.access says who may see them).
METRICS = "program metrics: counts of the program's records"

DIMENSIONS = {
    "race_ethnicity": Grouping("race_ethnicity", "Race / ethnicity", True),
    "age_band": Grouping("age_band", "Age band", True),
    "language": Grouping("language", "Primary language", True),
    "area": Grouping("area", "Area where the person lives or stays", True),
}
SPLITS = {
    "call_source": Grouping("call_source", "Call source", False),
    "call_type": Grouping("call_type", "Call type", False),
    "month": Grouping("month", "Month", False),
    "destination": Grouping("destination", "Transport destination", False),
    "partner": Grouping("partner", "Partner agency", False),
    "navigator": Grouping("navigator", "Navigator", False),
}
ALL = Grouping("all", "All", False)
GROUPINGS = {"all": ALL} | DIMENSIONS | SPLITS


def _demographics(at: str) -> dict:
    return {
        "race_ethnicity": sql.known("individual__race_ethnicity"),
        "age_band": sql.age_band("individual__date_of_birth", at),
        "language": sql.known("individual__primary_language"),
        "area": sql.known("individual__area"),
    }


@dataclass(frozen=True)
class Source:
    key: str
    title: str
    age_at: str  # the moment a person's age is taken at

    def rows(self, selection: Selection) -> QuerySet:
        raise NotImplementedError

    def groupings(self) -> dict:
        """Grouping key -> the SQL expression of a row's group (NULL: the row is in no group)."""
        return _demographics(self.age_at)


def _received_in(rows: QuerySet, selection: Selection, at: str) -> QuerySet:
    """The selection's program's rows whose time `at` falls in the selection's period."""
    return rows.filter(program_id=selection.program_id, **{f"{at}__gte": selection.start, f"{at}__lt": selection.end})


def _in_team_and_area(rows: QuerySet, selection: Selection, *, via: str = "") -> QuerySet:
    """The rows whose call (encounter) had the selection's team and area, when it names them; `via`
    is the path from a row to its encounter (empty: the rows are encounters)."""
    if selection.team:
        rows = rows.filter(**{f"{via}team": selection.team})
    if selection.area:
        rows = rows.filter(**{f"{via}area": selection.area})
    return rows


class Encounters(Source):
    def rows(self, selection):
        rows = _in_team_and_area(
            _received_in(Encounter.objects.system(METRICS), selection, "call_received_at"), selection
        )
        # When the team was done with the person: the clock the follow-up measures start from.
        return rows.annotate(clock=Coalesce("cleared_at", "on_scene_at", "call_received_at"))

    def groupings(self):
        transported = Q(disposition__in=d.TRANSPORTED)
        return super().groupings() | {
            "call_source": F("call_source"),
            "call_type": sql.known("call_type", unknown="not recorded"),
            "month": sql.month_key("call_received_at"),
            "destination": CaseWhen(
                When(transported, then=sql.known("transport_destination", unknown="not recorded")), default=None
            ),
        }


class Referrals(Source):
    def rows(self, selection):
        rows = _received_in(
            Referral.objects.system(METRICS).exclude(status=d.REFERRAL_ERROR), selection, "requested_at"
        )
        return _in_team_and_area(rows, selection, via="case__encounter__")

    def groupings(self):
        return super().groupings() | {"partner": F("organization_id")}


class OpenCases(Source):
    def rows(self, selection):
        point = selection.point
        rows = (
            Case.objects.system(METRICS)
            .filter(program_id=selection.program_id, opened_at__lt=point)
            .filter(Q(closed_at__isnull=True) | Q(closed_at__gte=point))
            .exclude(closed_reason=Case.ClosedReason.DUPLICATE)
        )
        return _in_team_and_area(rows, selection, via="encounter__")

    def groupings(self):
        # 0 stands for "no navigator assigned", so those cases make a group of their own.
        return super().groupings() | {"navigator": Coalesce("navigator_id", Value(0), output_field=IntegerField())}


ENCOUNTERS = Encounters("encounters", "Encounters received in the period", age_at="call_received_at")
REFERRALS = Referrals("referrals", "Referrals sent in the period", age_at="requested_at")
OPEN_CASES = OpenCases("open_cases", "Cases open at the end of the period", age_at="opened_at")
SOURCES = {s.key: s for s in (ENCOUNTERS, REFERRALS, OPEN_CASES)}


# --- labels -------------------------------------------------------------------------------------

AGE_LABELS = {key: label for key, label, _ in sql.AGE_BANDS} | {"unknown": "Unknown"}
RACE_LABELS = dict(Individual.RaceEthnicity.choices)
SOURCE_LABELS = dict(Encounter.CallSource.choices)
# Keys that sort last in any grouping: "not known" comes after every real group.
UNKNOWN_KEYS = {"unknown", "not recorded", 0}


def static_label(grouping: str, key) -> str:
    """The label of a group that needs no lookup (partners and navigators are looked up by id)."""
    if grouping == "race_ethnicity":
        return RACE_LABELS.get(key, "Unknown")
    if grouping == "age_band":
        return AGE_LABELS.get(key, str(key))
    if grouping == "language":
        return "Unknown" if key == "unknown" else LANG_INFO.get(key, {}).get("name", key)
    if grouping == "call_source":
        return SOURCE_LABELS.get(key, key)
    if grouping == "month":
        return datetime(key // 100, key % 100, 1).strftime("%B %Y")  # noqa: DTZ001 (a label, not a moment)
    if key in ("unknown", "not recorded"):
        return "Not recorded"
    return str(key)


def sort_key(grouping: str, key, label: str) -> tuple:
    """Race and age bands in their list order, months in time order, the rest by label; unknown last."""
    ordered = {"race_ethnicity": list(RACE_LABELS), "age_band": list(AGE_LABELS)}.get(grouping)
    if ordered is not None:
        return (key in UNKNOWN_KEYS, ordered.index(key) if key in ordered else len(ordered), label)
    return (key in UNKNOWN_KEYS, key if grouping == "month" else 0, label.lower())
