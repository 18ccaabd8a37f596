"""One pass of a beat-scheduled sweep, as the referral chase (referrals.chase) and the follow-ups'
sweep (cases.follow_up_sweep) run it: the ids of what is due are read first, in one bounded read;
the rows are then loaded a batch at a time and each is moved one step by the sweep's own function.
A row whose step raises is logged and left due for the next tick, so one broken row does not hold
up the rest; the counts of the pass say what each step did.
"""

import logging
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import TypeVar

logger = logging.getLogger(__name__)

BATCH_SIZE = 500
# One pass stops after this many items; the next tick carries on where it stopped.
MAX_ITEMS_PER_PASS = 20_000

Row = TypeVar("Row")


def in_batches(
    ids: Sequence[int], load: Callable[[list[int]], Mapping[int, Row]], *, batch_size: int | None = None
) -> Iterator[list[Row]]:
    """The rows of `ids`, in their order, `batch_size` at a time. `load` reads one chunk of ids
    ({id: row}, as in_bulk); an id it no longer finds (a row moved meanwhile) is left out."""
    batch_size = batch_size or BATCH_SIZE
    for start in range(0, len(ids), batch_size):
        chunk = list(ids[start : start + batch_size])
        loaded = load(chunk)
        yield [loaded[pk] for pk in chunk if pk in loaded]


def run_pass(
    name: str, batches: Iterable[list[Row]], step: Callable[[Row], str | None], *, still_due: Callable[[], int]
) -> dict[str, int]:
    """Make `step` on every row of the pass and count what it returned ("already_claimed" for None:
    another process got there first). `still_due` counts what is left for the next tick."""
    counts: Counter[str] = Counter()
    for batch in batches:
        for row in batch:
            try:
                outcome = step(row)
            except Exception:
                # One broken row must not hold up the rest; it stays due and is tried next tick.
                logger.exception("%s: the step of %s %s failed", name, type(row).__name__, row.pk)
                outcome = "failed"
            counts[outcome or "already_claimed"] += 1
    # Past the limit, failed, or claimed by another sweep that has not finished: for the next tick.
    left = still_due()
    if left:
        counts["still_due"] = left
    logger.info("%s %s", name, dict(counts))
    return dict(counts)
