"""Saying what a raw row holds as the models would say it: for the person page, which reads with
hand-written SQL (cases.timeline, cases.panels) and so has no model instances to ask."""

from datetime import UTC, datetime
from functools import cache

from django.utils.dateparse import parse_datetime


def aware(at) -> datetime | None:
    """A time read from a raw row. SQLite hands it back as text or as a naive datetime (it stores UTC)."""
    if at is None:
        return None
    if isinstance(at, str):
        at = parse_datetime(at)
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def user_name(first_name: str | None, last_name: str | None, username: str | None) -> str:
    """As User.__str__ says it (the full name, or else the username), without building a User."""
    return f"{first_name or ''} {last_name or ''}".strip() or (username or "")


@cache
def _labels(model, field: str) -> dict:
    return dict(model._meta.get_field(field).flatchoices)


def label(model, field: str, value: str) -> str:
    """What get_FOO_display() would say."""
    return str(_labels(model, field).get(value, value))


def shorten(text: str, limit: int) -> str:
    """As the truncatechars filter: at most `limit` characters, an ellipsis when cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"
