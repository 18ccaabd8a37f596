"""Beat while the broker is down: one line when it goes, one when it is back, no tracebacks."""

import logging

import pytest
from celery.beat import SchedulingError
from kombu.exceptions import OperationalError

from crt.beat import Scheduler
from crt.celery import app


@pytest.fixture
def scheduler(tmp_path):
    return Scheduler(app=app, schedule_filename=str(tmp_path / "beat-schedule"), lazy=True)


def test_beat_uses_the_quiet_scheduler(settings):
    assert settings.CELERY_BEAT_SCHEDULER == "crt.beat:Scheduler"


def test_a_broker_outage_is_one_log_line_not_a_traceback_a_tick(scheduler, monkeypatch, caplog):
    entry = scheduler.Entry(name="deliver-due", task="referrals.sweep_deliveries", schedule=30, app=app)
    down = True
    sent = []

    def apply_async(entry, producer=None, advance=False):
        if down:  # as Celery raises it: kombu's error wrapped in a SchedulingError
            try:
                raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")
            except OperationalError as error:
                raise SchedulingError(f"Couldn't apply scheduled task {entry.name}: {error}") from error
        sent.append(entry.task)

    monkeypatch.setattr(scheduler, "apply_async", apply_async)
    with caplog.at_level(logging.INFO):
        for _ in range(5):  # two and a half minutes of ticks with the broker down
            scheduler.apply_entry(entry)
        down = False
        scheduler.apply_entry(entry)
        scheduler.apply_entry(entry)

    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert [r.getMessage() for r in warnings] == [
        "beat: the broker cannot be reached; due sweeps are not sent until it is back",
        "beat: the broker is reachable again; due sweeps are sent",
    ]
    assert all(r.exc_info is None for r in caplog.records)
    assert sent == ["referrals.sweep_deliveries"] * 2


def test_any_other_error_is_logged_with_its_traceback_and_beat_goes_on(scheduler, monkeypatch, caplog):
    entry = scheduler.Entry(name="deliver-due", task="referrals.sweep_deliveries", schedule=30, app=app)

    def apply_async(entry, producer=None, advance=False):
        raise SchedulingError("Couldn't apply scheduled task deliver-due: bad arguments")

    monkeypatch.setattr(scheduler, "apply_async", apply_async)
    scheduler.apply_entry(entry)  # does not raise
    [record] = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert record.exc_info is not None
