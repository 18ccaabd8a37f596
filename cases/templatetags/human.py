"""Human words on the pages, from the one module that says them (cases.display):
follow-up names, durations, languages, referral events and the partner messages' names."""

from django import template

from cases import display

register = template.Library()

register.filter("follow_up_name", display.follow_up_name)
register.filter("language_names", display.language_names)
register.filter("delivery_event_name", display.delivery_event_name)
register.filter("referral_event", display.referral_event_sentence)


@register.filter
def due_phrase(due_at, now):
    return display.due_phrase(due_at, now) if due_at and now else ""


@register.filter
def ago(at, now):
    return display.ago(at, now) if at and now else ""


@register.filter
def since(at, now):
    """How long since `at`, to one unit: "3 days" (under a column that says what it is)."""
    return display.duration(now - at) if at and now else ""
