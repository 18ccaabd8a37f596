"""Saying what a raw row holds as the models would say it: for the person page, which reads with
hand-written SQL (cases.timeline, cases.panels) and so has no model instances to ask."""

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache

from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.safestring import SafeString, mark_safe

from audit.access import Seen


@dataclass(frozen=True)
class Line:
    """A record shown as one line of HTML, read without a model instance (the timeline's events, the
    caseload's rows): the record, for the audit, and its line, every value in it escaped."""

    obj: Seen
    html: SafeString


def joined(lines: list[Line]) -> SafeString:
    """The lines as one piece of HTML, written by the template in one go (a template loop over 50 lines
    cost a quarter of a millisecond)."""
    return mark_safe("".join(line.html for line in lines))  # noqa: S308 (each line escaped its values)


def aware(at) -> datetime | None:
    """A time read from a raw row. SQLite hands it back as text or as a naive datetime (it stores UTC)."""
    if at is None:
        return None
    if isinstance(at, str):
        at = parse_datetime(at)
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def day_and_time(at: datetime, zone=None) -> str:
    """A time in the program's time zone as the lists write it: "Mon 7 Dec 14:30" (the date filter's
    "D j M H:i"). `zone`: the current time zone, when the caller looked it up once for many rows."""
    local = at.astimezone(zone or timezone.get_current_timezone())
    return f"{local:%a} {local.day} {local:%b %H:%M}"


def duration_value(value) -> timedelta:
    """A DurationField read from a raw row. SQLite hands it back as a number of microseconds."""
    return value if isinstance(value, timedelta) else timedelta(microseconds=value)


def user_name(first_name: str | None, last_name: str | None, username: str | None) -> str:
    """As User.__str__ says it (the full name, or else the username), without building a User."""
    return f"{first_name or ''} {last_name or ''}".strip() or (username or "")


@cache
def _labels(model, field: str) -> dict:
    return dict(model._meta.get_field(field).flatchoices)


def label(model, field: str, value: str) -> str:
    """What get_FOO_display() would say."""
    return str(_labels(model, field).get(value, value))


def link_format(name: str, arity: int):
    """The URL of route `name` as a function of its `arity` ids: reverse() once with placeholder ids,
    then a str.format per row (a page of 50 to 150 rows called reverse() hundreds of times)."""
    marks = [str(9_000_000_001 + i) for i in range(arity)]  # digits: every <int:> converter takes them
    url = reverse(name, args=marks)
    for i, mark in enumerate(marks):
        url = url.replace(mark, f"{{{i}}}")
    return url.format


@cache
def _link_format(name: str, arity: int):
    return link_format(name, arity)


def link(name: str, *ids: int) -> str:
    """The URL of route `name` for these ids, by link_format, made once per route (not at import:
    the URLconf imports the modules that call this)."""
    return _link_format(name, len(ids))(*ids)


def shorten(text: str, limit: int) -> str:
    """As the truncatechars filter: at most `limit` characters, an ellipsis when cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


# --- phone numbers: tap to call, tap to text ----------------------------------------------------


@dataclass(frozen=True)
class PhoneLinks:
    """How a phone number is shown to staff: the number, the tel:/sms: targets where calling or texting
    is allowed, and, where it is not, why in plain words."""

    number: str
    call_href: str = ""
    text_href: str = ""
    why_not: str = ""


def dial_string(number: str) -> str:
    """The number as a tel:/sms: target wants it: digits, a leading + kept; "" when it is no number."""
    digits = "".join(ch for ch in number if ch.isdigit())
    if len(digits) < 3:
        return ""
    return ("+" if number.strip().startswith("+") else "") + digits


def phone_links(number: str, *, person=None, consented: bool | None = None, can_text: bool = True) -> PhoneLinks:
    """The one rule for tap-to-call and tap-to-text on staff pages.

    `person`: the number is that person's own; their do-not-contact flag and safe channels decide.
    `consented`: the number is a support contact's; without their consent to contact, no link.
    Neither: a number the person chose to give (a safety plan's helpers, services): links.
    """
    number = (number or "").strip()
    target = dial_string(number)
    if not number or not target:
        return PhoneLinks(number=number)
    if consented is not None and not consented:
        return PhoneLinks(number=number, why_not="Do not call or text: they have not agreed to be contacted.")
    may_call = may_text = True
    if person is not None:
        if person.is_do_not_contact:
            return PhoneLinks(number=number, why_not="Do not call or text: the person asked not to be contacted.")
        channels = set(person.safe_contact_channels or [])
        if channels:  # recorded: only those channels are safe
            may_call, may_text = "phone" in channels, "text" in channels
    may_text = may_text and can_text
    why_not = ""
    if person is not None and not may_call and not may_text:
        why_not = "Do not call or text: neither is a safe way to reach them."
    elif person is not None and not may_call:
        why_not = "Texts only: a call is not a safe way to reach them."
    elif person is not None and not may_text and can_text:
        why_not = "Calls only: a text is not a safe way to reach them."
    return PhoneLinks(
        number=number,
        call_href=f"tel:{target}" if may_call else "",
        text_href=f"sms:{target}" if may_text else "",
        why_not=why_not,
    )


# --- safety plans -------------------------------------------------------------------------------

STEP_STATUS_LABELS = {"to_do": "To do", "in_progress": "In progress", "done": "Done"}
PARTICIPANT_ROLE_LABELS = {"individual": "The person", "family": "Family", "caregiver": "Caregiver", "staff": "Staff"}
# printed once on every copy of a plan: (who, number, whether a text reaches them)
CRISIS_LINES = (
    ("988 Suicide & Crisis Lifeline, call or text", "988", True),
    ("Emergency: police, fire, ambulance", "911", False),
)


@dataclass(frozen=True)
class PlanEntry:
    """One row of a plan as people read it: what (name, sign, step), a few details, maybe a phone."""

    text: str
    details: tuple[str, ...] = ()
    phone: str = ""

    @property
    def line(self) -> str:
        return " · ".join(part for part in (self.text, *self.details, self.phone) if part)


@dataclass(frozen=True)
class PlanSectionRows:
    title: str
    entries: tuple[PlanEntry, ...]


def _is_crisis_line(phone: str) -> bool:
    return dial_string(phone) in {number for _label, number, _text in CRISIS_LINES}


def plan_sections(plan, *, for_person: bool = False) -> list[PlanSectionRows]:
    """The six sections of a plan as entries. `for_person` (print, PDF, the person's copy) leaves out a
    988 or 911 entry: those are printed once, in the crisis box."""

    def texts(values):
        return tuple(PlanEntry(text=value) for value in values)

    def people(values, *detail_keys):
        return tuple(
            PlanEntry(
                text=value.get("name", ""),
                details=tuple(value[key] for key in detail_keys if value.get(key)),
                phone=value.get("phone", ""),
            )
            for value in values
            if not (for_person and _is_crisis_line(value.get("phone", "")))
        )

    steps = tuple(
        PlanEntry(
            text=f"{value.get('method', '')}: {value.get('step', '')}",
            details=tuple(
                part
                for part in (
                    f"who: {value['who']}" if value.get("who") else "",
                    STEP_STATUS_LABELS.get(value.get("status", "to_do"), value.get("status", "")),
                )
                if part
            ),
        )
        for value in plan.environment_steps
    )
    return [
        PlanSectionRows("Signs that a crisis may be starting", texts(plan.warning_signs)),
        PlanSectionRows("Things I can do on my own to take my mind off it", texts(plan.coping_strategies)),
        PlanSectionRows("People and places that help me feel better", people(plan.distractions, "place")),
        PlanSectionRows("People I can ask for help", people(plan.help_contacts, "relationship")),
        PlanSectionRows("Professionals and services I can call", people(plan.professional_contacts, "note")),
        PlanSectionRows("Making my surroundings safer", steps),
    ]


def plan_participants(plan) -> str:
    return ", ".join(
        f"{value.get('name', '')} ({PARTICIPANT_ROLE_LABELS.get(value.get('role', ''), value.get('role', ''))})"
        for value in plan.participants
    )


# --- human words: follow-ups, durations, languages, referral events -------------------------------

_SCHEDULED = re.compile(r"(\d+)\s*([hd])")
_APPOINTMENT = re.compile(r"appt-(\d+)")


def follow_up_name(label_text: str) -> str:
    """A follow-up's label as people say it: "24h" → "24-hour follow-up", "appt-18" → "Ask how the
    referral appointment went"; any other label (a short reason typed by staff) as it is."""
    text = (label_text or "").strip()
    if match := _SCHEDULED.fullmatch(text):
        number, unit = match.groups()
        return f"{number}-{'hour' if unit == 'h' else 'day'} follow-up"
    if _APPOINTMENT.fullmatch(text):
        return "Ask how the referral appointment went"
    return text


def duration(delta: timedelta) -> str:
    """A length of time the way a person would say it, to one unit: "5 min", "2 h", "3 days", "2 weeks",
    "4 months", "1 year". Under a minute: "less than a minute"."""
    seconds = abs(delta.total_seconds())
    minutes, hours, days = seconds / 60, seconds / 3600, seconds / 86400
    if minutes < 1:
        return "less than a minute"
    if hours < 1:
        return f"{int(minutes)} min"
    if days < 1:
        return f"{int(hours)} h"
    if days < 14:
        return _plural(int(days), "day")
    if days < 60:
        return _plural(int(days // 7), "week")
    if days < 730:
        return _plural(int(days // 30), "month")
    return _plural(int(days // 365), "year")


def _plural(number: int, unit: str) -> str:
    return f"{number} {unit}{'' if number == 1 else 's'}"


def due_phrase(due_at: datetime, now: datetime) -> str:
    """ "due in 3 h", "due now", "overdue by 2 days"."""
    delta = due_at - now
    if abs(delta) < timedelta(minutes=1):
        return "due now"
    return f"due in {duration(delta)}" if delta > timedelta(0) else f"overdue by {duration(delta)}"


def ago(at: datetime, now: datetime) -> str:
    """ "3 days ago", "just now"."""
    delta = now - at
    return "just now" if delta < timedelta(minutes=1) else f"{duration(delta)} ago"


def language_names(codes: str) -> str:
    """ "en/ar" or "en, es" → "English, Arabic"; a code Django does not know is shown as it was typed."""
    from django.conf.locale import LANG_INFO

    names = []
    for code in re.split(r"[\s,/;]+", codes or ""):
        if code:
            info = LANG_INFO.get(code.lower()) or LANG_INFO.get(code.lower().split("-")[0]) or {}
            names.append(info.get("name", code))
    return ", ".join(names)


# referrals/outbox.py's event types, as the message to the partner said it
_DELIVERY_EVENTS = {
    "referral.requested": "New referral sent",
    "referral.cancelled": "Referral cancelled",
    "referral.entered": "Referral entered in error",
    "referral.outcome_requested": "Asked how it went",
    "referral.reminder": "Reminder to answer",
}


def delivery_event_name(event_type: str) -> str:
    return _DELIVERY_EVENTS.get(event_type, event_type.removeprefix("referral.").replace("_", " ").capitalize())


_EVENT_VERBS = {
    "draft": "drafted the referral",
    "requested": "sent the referral to the partner",
    "accepted": "accepted the referral",
    "rejected": "declined the referral",
    "cancelled": "cancelled the referral",
    "in-progress": "started working with the person",
    "on-hold": "put the referral on hold",
    "completed": "marked the referral completed",
    "failed": "said they could not help",
    "entered-in-error": "marked the referral entered in error",
}


def referral_event_sentence(event) -> str:
    """One history line of a referral as a sentence: "Safe Harbor Housing accepted the referral."; a
    change that keeps the status ("Accepted → Accepted") says what did change."""
    who = _event_actor(event)
    if event.from_status == event.to_status:
        if event.business_status:
            what = f"updated the referral: {event.get_business_status_display().lower()}"
        else:
            what = "added a note" if event.note else "updated the referral"
    elif event.from_status == "on-hold" and event.to_status == "in-progress":
        what = "resumed work with the person"
    else:
        what = _EVENT_VERBS.get(event.to_status, f"moved the referral to {event.get_to_status_display().lower()}")
        if event.business_status and event.to_status != "requested":
            what += f" ({event.get_business_status_display().lower()})"
    return f"{who} {what}."


def _event_actor(event) -> str:
    if event.actor_user_id:
        return str(event.actor_user)
    if event.actor_credential_id:
        return event.actor_credential.name
    return "The system"
