"""Beat's scheduler: Celery's own, except that a broker outage is one line in the log, not a
traceback every tick (a sweep is due every 30 s; docs/reliability.md).

Nothing is lost while beat cannot publish: every sweep scans database columns, so the first tick
after the broker is back finds whatever came due meanwhile.
"""

import logging

from celery.beat import PersistentScheduler
from kombu.exceptions import OperationalError

logger = logging.getLogger(__name__)


class Scheduler(PersistentScheduler):
    broker_down_since_task: str | None = None

    def apply_entry(self, entry, producer=None):
        try:
            self.apply_async(entry, producer=producer, advance=False)
        except Exception as error:  # as Celery's own apply_entry: one bad entry never stops beat
            if not _broker_unreachable(error):
                logger.exception("beat: %s not sent", entry.task)
                return
            if self.broker_down_since_task is None:
                self.broker_down_since_task = entry.task
                logger.warning("beat: the broker cannot be reached; due sweeps are not sent until it is back")
            return
        if self.broker_down_since_task is not None:
            self.broker_down_since_task = None
            logger.warning("beat: the broker is reachable again; due sweeps are sent")
        logger.info("beat: sent %s", entry.task)


def _broker_unreachable(error: BaseException) -> bool:
    """Celery wraps the publish failure in a SchedulingError; kombu's OperationalError is in the chain."""
    seen = 0
    while error is not None and seen < 10:
        if isinstance(error, OperationalError):
            return True
        error, seen = error.__cause__ or error.__context__, seen + 1
    return False
