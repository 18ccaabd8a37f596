"""The program measures: one documented, versioned function each.

A measure's docstring is its definition, word for word as the council report and docs/metrics.md
print it; its body is the same definition in code: the rows it counts (its source), and a list
of columns, each a condition on one row. Change either and you change the measure, so bump its
version. metrics.compute turns the columns of every measure of a source into one SQL statement.

Column kinds:
- Count(key, label, when): how many rows meet `when` (every row when None).
- Duration(key, label, seconds, when): over the rows meeting `when` and having a time, how many
  (key_n), the median (key_median) and the 90th percentile (key_p90), in minutes or hours.
- Rate(key, label, numerator, denominator): a percentage of two counts of the same measure.

A measure returns no personal data: counts, times and percentages of groups only.
"""

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cached_property

from django.db.models import Exists, F, OuterRef, Q, Subquery
from django.db.models.expressions import BaseExpression

from cases.models import Contact, Encounter
from metrics import definitions as d
from metrics.sources import DIMENSIONS, ENCOUNTERS, OPEN_CASES, REFERRALS, Source
from metrics.sql import Seconds
from referrals.models import ReferralEvent, Status

# --- columns ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Count:
    key: str
    label: str
    when: Q | BaseExpression | None = None


@dataclass(frozen=True)
class Duration:
    key: str
    label: str
    seconds: BaseExpression
    when: Q | BaseExpression | None = None
    unit: str = "minutes"  # or "hours"
    n_label: str = "number with both times"


@dataclass(frozen=True)
class Rate:
    key: str
    label: str
    numerator: str
    denominator: str


@dataclass(frozen=True)
class Output:
    """One figure a measure reports, as it appears in tables, CSV and the API."""

    key: str
    label: str
    kind: str  # count | percent | minutes | hours
    depends_on: tuple[str, ...] = ()  # counts whose suppression hides this figure


PERCENTILES = (("median", "median", 0.5), ("p90", "90th percentile", 0.9))


def outputs_of(columns) -> list[Output]:
    out = []
    for column in columns:
        if isinstance(column, Count):
            out.append(Output(column.key, column.label, "count"))
        elif isinstance(column, Duration):
            n = f"{column.key}_n"
            out.append(Output(n, f"{column.label}: {column.n_label}", "count"))
            for suffix, words, _ in PERCENTILES:
                out.append(Output(f"{column.key}_{suffix}", f"{column.label}: {words}", column.unit, (n,)))
        else:
            out.append(Output(column.key, column.label, "percent", (column.numerator, column.denominator)))
    return out


# --- the registry -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Measure:
    key: str
    version: int
    title: str
    source: Source
    headline: str  # the figure charted for each group
    splits: tuple[str, ...]
    definition: str
    build: Callable[[datetime], list]

    def columns(self, as_of: datetime) -> list:
        return self.build(as_of)

    @cached_property
    def outputs(self) -> list[Output]:
        return outputs_of(self.build(datetime(2000, 1, 1)))  # noqa: DTZ001 (only the shape is used)

    @property
    def summary(self) -> str:
        return self.definition.split("\n\n", 1)[0].replace("\n", " ")

    @property
    def groupings(self) -> tuple[str, ...]:
        return ("all", *DIMENSIONS, *self.splits)


MEASURES: dict[str, Measure] = {}


def measure(key: str, *, version: int, title: str, source: Source, headline: str, splits=()):
    """Register a measure; its docstring is its definition."""

    def register(build):
        if key in MEASURES or key == "all":
            raise ValueError(f"Measure key {key!r} is taken.")
        if not build.__doc__:
            raise ValueError(f"Measure {key!r} has no definition (docstring).")
        MEASURES[key] = Measure(
            key=key,
            version=version,
            title=title,
            source=source,
            headline=headline,
            splits=tuple(splits),
            definition=inspect.cleandoc(build.__doc__),
            build=build,
        )
        return build

    return register


# --- shared conditions --------------------------------------------------------------------------

NOT_CANCELLED = ~Q(disposition=d.CANCELLED)
CONTACTED = Q(disposition__in=d.CONTACTED)
IDENTIFIED = Q(individual_id__isnull=False)
PEOPLE_MET = Count("contacted", "People met", CONTACTED)  # the denominator of the "% of people met" rates


def share_of_people_met(key: str, label: str, when: Q, *, rate_key: str) -> list:
    """The people met, those of them meeting `when`, and that count as a percentage of the people met."""
    return [PEOPLE_MET, Count(key, label, when), Rate(rate_key, f"{label} (% of people met)", key, "contacted")]


def _reached_within(hours: int):
    """A reached contact on any of the person's cases after the clock and within `hours` of it."""
    return Exists(
        Contact.objects.filter(
            case__individual_id=OuterRef("individual_id"),
            outcome=d.REACHED,
            occurred_at__gt=OuterRef("clock"),
            occurred_at__lte=OuterRef("clock") + timedelta(hours=hours),
        )
    )


# --- encounters ---------------------------------------------------------------------------------


@measure(
    "call_volume",
    version=1,
    title="Call volume",
    source=ENCOUNTERS,
    headline="calls",
    splits=("call_source", "call_type", "month"),
)
def call_volume(as_of):
    """Calls the team was sent to, by source and type.

    Counted: every encounter whose call was received in the period (the 911/CAD "call received"
    time), whatever happened next, cancelled calls included. Split by call source (911, 988
    transfer, police or fire/EMS request, walk-up...) and by CAD call type; a call with no type
    recorded is shown as "Not recorded". Cancelled calls are also counted on their own.
    """
    return [
        Count("calls", "Calls"),
        Count("cancelled", "Cancelled before the team arrived", Q(disposition=d.CANCELLED)),
    ]


@measure(
    "response_time",
    version=1,
    title="Response time (dispatch to on scene)",
    source=ENCOUNTERS,
    headline="response_median",
    splits=("month",),
)
def response_time(as_of):
    """Minutes from dispatch to the team's arrival on scene: median and 90th percentile.

    Counted: encounters received in the period with both a dispatch time and an on-scene time.
    Cancelled calls are left out. A call missing either time is left out of the times and
    counted under "missing a time", so gaps in the record are visible. Unable-to-locate calls
    count when both times are recorded (the team reached the location). Percentiles are
    interpolated between the two nearest values (PostgreSQL's percentile_cont).
    """
    timed = NOT_CANCELLED & Q(dispatched_at__isnull=False, on_scene_at__isnull=False)
    missing = NOT_CANCELLED & (Q(dispatched_at__isnull=True) | Q(on_scene_at__isnull=True))
    return [
        Duration("response", "Response time", Seconds(F("on_scene_at"), F("dispatched_at")), timed),
        Count("missing_time", "Missing a time", missing),
    ]


@measure("time_on_scene", version=1, title="Time on scene", source=ENCOUNTERS, headline="on_scene_median")
def time_on_scene(as_of):
    """Minutes from the team's arrival on scene until it cleared: median and 90th percentile.

    Counted: encounters received in the period with both an on-scene and a cleared time.
    Cancelled calls are left out; a call missing either time is counted under "missing a time".
    """
    timed = NOT_CANCELLED & Q(on_scene_at__isnull=False, cleared_at__isnull=False)
    missing = NOT_CANCELLED & (Q(on_scene_at__isnull=True) | Q(cleared_at__isnull=True))
    return [
        Duration("on_scene", "Time on scene", Seconds(F("cleared_at"), F("on_scene_at")), timed),
        Count("missing_time", "Missing a time", missing),
    ]


@measure(
    "stabilised_in_place",
    version=1,
    title="Stabilised in place",
    source=ENCOUNTERS,
    headline="stabilised_rate",
    splits=("month",),
)
def stabilised_in_place(as_of):
    """Share of people the team met who were stabilised where they were.

    Denominator: encounters received in the period in which the team met the person (disposition
    stabilised in place, voluntary transport to crisis centre, emergency-department transport,
    involuntary hold, arrest or refused services). Numerator: those with the disposition "stabilised in
    place". Cancelled calls, people who could not be located and encounters with no
    disposition recorded are in neither.
    """
    return share_of_people_met(
        "stabilised", "Stabilised in place", Q(disposition=d.D.STABILISED), rate_key="stabilised_rate"
    )


@measure(
    "transports",
    version=1,
    title="Transports by destination",
    source=ENCOUNTERS,
    headline="transports",
    splits=("destination",),
)
def transports(as_of):
    """Transports for care, by destination.

    Counted: encounters received in the period that ended in a transport (disposition voluntary
    transport to crisis centre, emergency-department transport or involuntary hold), split by the
    destination recorded on the encounter ("Not recorded" when empty). An arrest is counted under
    arrests, not here. The rate is over the people the team met (as in "stabilised in place"), so
    cancelled calls and people who could not be located are in neither count.
    """
    return [
        PEOPLE_MET,
        Count("transports", "Transports", Q(disposition__in=d.TRANSPORTED)),
        Count("crisis_centre", "Voluntary, to a crisis centre", Q(disposition=d.D.VOLUNTARY_CRISIS_CENTRE)),
        Count("emergency_department", "To an emergency department", Q(disposition=d.D.EMERGENCY_DEPARTMENT)),
        Rate("transport_rate", "Transported (% of people met)", "transports", "contacted"),
    ]


@measure("involuntary_holds", version=1, title="Involuntary holds", source=ENCOUNTERS, headline="holds")
def involuntary_holds(as_of):
    """Encounters that ended in an involuntary hold (emergency detention).

    Counted: encounters received in the period with the disposition "involuntary hold". The rate
    is over the people the team met (as in "stabilised in place"), so cancelled calls and people
    who could not be located are in neither count.
    """
    return share_of_people_met("holds", "Involuntary holds", Q(disposition=d.D.INVOLUNTARY_HOLD), rate_key="hold_rate")


@measure(
    "law_enforcement",
    version=1,
    title="Law-enforcement co-response",
    source=ENCOUNTERS,
    headline="on_scene_rate",
)
def law_enforcement(as_of):
    """How often police were asked for, and how often they were on scene with the team.

    Denominator: encounters received in the period, cancelled calls left out. "Requested" and "on
    scene" are the encounter's law-enforcement co-response field; "any" is either of them.
    """
    return [
        Count("responses", "Responses (not cancelled)", NOT_CANCELLED),
        Count("requested", "Police requested", NOT_CANCELLED & Q(law_enforcement=Encounter.CoResponse.REQUESTED)),
        Count("on_scene", "Police on scene", NOT_CANCELLED & Q(law_enforcement=Encounter.CoResponse.ON_SCENE)),
        Count("any", "Requested or on scene", NOT_CANCELLED & ~Q(law_enforcement=Encounter.CoResponse.NONE)),
        Rate("on_scene_rate", "Police on scene (% of responses)", "on_scene", "responses"),
        Rate("any_rate", "Police requested or on scene (% of responses)", "any", "responses"),
    ]


@measure("arrests", version=1, title="Arrests", source=ENCOUNTERS, headline="arrests")
def arrests(as_of):
    """Encounters that ended in an arrest.

    Counted: encounters received in the period with the disposition "arrest". The rate is over
    the people the team met (as in "stabilised in place"), so cancelled calls and people who could
    not be located are in neither count.
    """
    return share_of_people_met("arrests", "Arrests", Q(disposition=d.D.ARREST), rate_key="arrest_rate")


@measure("field_contact", version=1, title="Field contact rate", source=ENCOUNTERS, headline="contact_rate")
def field_contact(as_of):
    """Share of calls the team went out on where it found and met the person.

    Denominator: encounters received in the period in which the team went and looked: the person
    was met (as in "stabilised in place") or could not be located. Numerator: those in which the
    team met the person. Cancelled calls are in neither. Encounters with no disposition recorded
    are in neither and are counted under "no disposition".
    """
    return [
        Count("attempted", "Went and looked", Q(disposition__in=d.ATTEMPTED)),
        Count("contacted", "Met the person", CONTACTED),
        Rate("contact_rate", "Field contact rate (%)", "contacted", "attempted"),
        Count("no_disposition", "No disposition", Q(disposition="")),
    ]


@measure("repeat_crisis", version=1, title="Repeat crisis within 30 days", source=ENCOUNTERS, headline="repeat_rate")
def repeat_crisis(as_of):
    """Share of people met who had another crisis call within 30 days.

    Denominator: encounters received in the period with an identified person, cancelled calls
    left out, whose 30 days have passed when the figures are computed. Numerator: those followed
    by another encounter of the same person (any team, any area, not cancelled) more than 0 and
    at most 30 days after the call was received. An encounter whose 30 days have not yet passed
    is counted as "still in its 30 days" and in neither, so a recent period's rate is not
    understated; it is final 30 days after the period ends.
    """
    window = timedelta(days=30)
    index = NOT_CANCELLED & IDENTIFIED
    ripe = index & Q(call_received_at__lte=as_of - window)
    again = Exists(
        Encounter.objects.filter(
            individual_id=OuterRef("individual_id"),
            call_received_at__gt=OuterRef("call_received_at"),
            call_received_at__lte=OuterRef("call_received_at") + window,
        ).exclude(disposition=d.CANCELLED)
    )
    return [
        Count("people", "Encounters whose 30 days have passed", ripe),
        Count("repeat", "Followed by another crisis within 30 days", ripe & Q(again)),
        Rate("repeat_rate", "Repeat crisis within 30 days (%)", "repeat", "people"),
        Count("pending", "Still in its 30 days", index & Q(call_received_at__gt=as_of - window)),
    ]


@measure(
    "follow_up_contact",
    version=1,
    title="Follow-up contact within 24 and 72 hours",
    source=ENCOUNTERS,
    headline="rate_24h",
)
def follow_up_contact(as_of):
    """Share of people met who were reached again within 24 hours, and within 72 hours.

    Denominator: encounters received in the period in which the team met an identified person
    (as in "stabilised in place": cancelled calls and people not located are left out), whose 24
    (or 72) hours have passed when the figures are computed. The clock starts when the team
    cleared the scene (when no cleared time is recorded: on-scene time, then call time).
    Numerator: those with a logged contact whose outcome is "reached", on any of the person's
    cases, after the clock started and within 24 (or 72) hours. Attempts that did not reach the
    person do not count.
    """
    met = CONTACTED & IDENTIFIED
    ripe_24, ripe_72 = met & Q(clock__lte=as_of - timedelta(hours=24)), met & Q(clock__lte=as_of - timedelta(hours=72))
    return [
        Count("due_24h", "Due a contact within 24 h", ripe_24),
        Count("reached_24h", "Reached within 24 h", ripe_24 & Q(_reached_within(24))),
        Rate("rate_24h", "Reached within 24 h (%)", "reached_24h", "due_24h"),
        Count("due_72h", "Due a contact within 72 h", ripe_72),
        Count("reached_72h", "Reached within 72 h", ripe_72 & Q(_reached_within(72))),
        Rate("rate_72h", "Reached within 72 h (%)", "reached_72h", "due_72h"),
    ]


# --- referrals ----------------------------------------------------------------------------------


def _event_at(statuses):
    return Subquery(
        ReferralEvent.objects.filter(referral_id=OuterRef("pk"), to_status__in=statuses)
        .order_by("created_at", "id")
        .values("created_at")[:1]
    )


@measure("referrals", version=1, title="Referrals to partners", source=REFERRALS, headline="made", splits=("partner",))
def referrals(as_of):
    """Referrals made, accepted and completed, and hours to the partner's first answer, per partner.

    Counted: referrals sent to a partner in the period (the time they were requested); drafts
    never sent and referrals entered in error are left out. Accepted: the partner accepted it at
    some point (it may since have been completed, failed or cancelled). Completed: its status is
    completed. Still open: requested, accepted, in progress or on hold when the figures are
    computed; they count as made (and accepted if they were) but not as completed. First answer:
    hours from the request to the first acceptance or rejection; referrals not yet answered are
    left out of the times (see "answered").
    """
    accepted = Q(status__in=d.ACCEPTED_OR_LATER) | Q(
        Exists(ReferralEvent.objects.filter(referral_id=OuterRef("pk"), to_status=Status.ACCEPTED))
    )
    answer = Seconds(_event_at(sorted(d.PARTNER_ANSWERS)), F("requested_at"))
    return [
        Count("made", "Referrals made"),
        Count("accepted", "Accepted", accepted),
        Count("completed", "Completed", Q(status=Status.COMPLETED)),
        Count("open", "Still open", Q(status__in=d.STILL_OPEN)),
        Rate("accepted_rate", "Accepted (% of made)", "accepted", "made"),
        Rate("completed_rate", "Completed (% of made)", "completed", "made"),
        Duration("first_answer", "Time to the partner's first answer", answer, unit="hours", n_label="answered"),
    ]


# --- caseload -----------------------------------------------------------------------------------


@measure(
    "open_caseload", version=1, title="Open caseload per navigator", source=OPEN_CASES, headline="open_cases",
    splits=("navigator",),
)  # fmt: skip
def open_caseload(as_of):
    """Cases open at the end of the period, per navigator.

    Counted: cases opened before the end of the period (or now, for a period not yet over) and
    not closed by then; cases closed as duplicates or opened in error never count. A case is
    counted under its navigator now (reassignments are not replayed), "unassigned" when it has
    none. The team and area are those of the encounter the case was opened from.
    """
    return [
        Count("open_cases", "Open cases"),
        Count("high_risk", "Of which high risk", Q(risk_level="high")),
    ]
