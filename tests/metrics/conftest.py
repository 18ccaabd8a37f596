"""Helpers for hand-computed metrics fixtures: calls in March 2025 (local time), read in June."""

from datetime import UTC, datetime, timedelta

import pytest
from django.core.cache import cache
from django.utils import timezone

from metrics import periods
from metrics.compute import compute
from metrics.periods import Selection
from tests import factories as f

MARCH = periods.month(2025, 3)
AS_OF = MARCH.end + timedelta(days=60)


@pytest.fixture(autouse=True)
def fresh_cache():
    cache.clear()  # the team and area pickers are cached per program id, and ids are reused
    yield
    cache.clear()


@pytest.fixture
def no_suppression(settings):
    """Measure tests read every group; suppression has tests of its own."""
    settings.METRICS_MIN_CELL_SIZE = 1


def at(day: int, hour: int = 12, minute: int = 0, *, month: int = 3) -> datetime:
    """A local time in 2025 (March by default), in UTC so that adding hours adds elapsed time
    (9 March 2025 is a daylight-saving change here)."""
    local = timezone.make_aware(datetime(2025, month, day, hour, minute), timezone.get_default_timezone())
    return local.astimezone(UTC)


def minutes(n: float) -> timedelta:
    return timedelta(minutes=n)


def call(program, received=None, *, dispatch=1, response=10, scene=40, person="new", **fields):
    """An encounter received at `received`, dispatched `dispatch` minutes later, on scene `response`
    minutes after that, cleared `scene` minutes after that (None: that time is not recorded)."""
    received = received or at(10)
    dispatched = None if dispatch is None else received + minutes(dispatch)
    on_scene = None if response is None else received + minutes((dispatch or 1) + response)
    cleared = None if scene is None or on_scene is None else on_scene + minutes(scene)
    if person == "new":
        person = f.IndividualFactory(program=program)
    return f.EncounterFactory(
        program=program,
        individual=person,
        call_received_at=received,
        dispatched_at=dispatched,
        on_scene_at=on_scene,
        cleared_at=cleared,
        **fields,
    )


def selection_for(program, period=MARCH, *, as_of=AS_OF, team="", area="") -> Selection:
    return Selection(program_id=program.pk, period=period, as_of=as_of, team=team, area=area)


def total(program, measure: str, **kwargs) -> dict:
    return compute(selection_for(program, **kwargs), [measure], groupings=[]).total(measure).values


def by(program, measure: str, grouping: str, **kwargs) -> dict:
    """{group label: figures} of one measure by one grouping."""
    table = compute(selection_for(program, **kwargs), [measure], groupings=[grouping]).table(measure, grouping)
    return {row.label: row.values for row in table.rows}
