"""When the placer tries a never-planned visit again: after a minute at first, then less often.

Why: a visit the placer cannot fit (no one on shift with its skill, every shift full) stays
unassigned. The placer used to try each such visit again every :data:`FIRST_WAIT` for as long
as it stayed: one insertion a minute in every network holding one. A London day leaves about a
quarter of its routine visits unplaced at a time (benchmarks/README.md, "London at scale"), so
the placers would spend cores on insertions that cannot succeed, while the re-optimisation
(every five minutes in production) and the deadline watch already look after those visits.
So a routine visit's wait doubles with each try, up to :data:`LONGEST_WAIT`. A 2-hour visit is
always tried again after :data:`FIRST_WAIT`: it rarely stays here (one that cannot be placed
goes to the coordinator at once, H-006), and when it does, minutes matter.

The record forgets a visit as soon as it is no longer new (placed, in jeopardy, cancelled), so
it stays as small as the list of unplaced visits in a scheduler that runs for months, and a
visit that comes back (a declined offer) starts again from the first wait.

Kept in memory by whoever runs the placer (the scheduler's app, the simulator's day): after a
restart every visit is tried once more, which is harmless.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta

__all__ = ["FIRST_WAIT", "LONGEST_WAIT", "PlacementRetries", "urgent_first"]

#: How long a visit the placer could not place waits before its first retry.
FIRST_WAIT = timedelta(seconds=60)
#: The longest a routine visit waits between tries (three re-optimisations in production).
LONGEST_WAIT = timedelta(minutes=15)


class PlacementRetries:
    """The placer's memory: when each new visit was last tried and how many times."""

    def __init__(self, first_wait: timedelta = FIRST_WAIT,
                 longest_wait: timedelta = LONGEST_WAIT) -> None:
        if first_wait < timedelta(0) or longest_wait < first_wait:
            raise ValueError("waits must satisfy 0 <= first_wait <= longest_wait")
        self.first_wait = first_wait
        self.longest_wait = longest_wait
        self._tried: dict[int, tuple[datetime, int]] = {}

    def __contains__(self, visit_id: object) -> bool:
        return visit_id in self._tried

    def __len__(self) -> int:
        return len(self._tried)

    def wait(self, visit_id: int, *, urgent: bool) -> timedelta:
        """How long after its last try ``visit_id`` waits (0 if it was never tried)."""
        if visit_id not in self._tried:
            return timedelta(0)
        if urgent:
            return self.first_wait
        tries = self._tried[visit_id][1]
        return min(self.first_wait * 2 ** min(tries - 1, 32), self.longest_wait)

    def due(self, new_visits: Mapping[int, Sequence[int]], *, urgent: Iterable[int],
            now: datetime) -> dict[int, list[int]]:
        """The visits of ``new_visits`` (network -> never-planned visit ids, urgent first)
        due a try at ``now``, by network (networks with none are left out). Visits no longer
        in ``new_visits`` are forgotten first."""
        current = {v for ids in new_visits.values() for v in ids}
        self.forget(v for v in list(self._tried) if v not in current)
        urgent_ids = set(urgent)
        found: dict[int, list[int]] = {}
        for network_id, ids in new_visits.items():
            due = [v for v in ids if v not in self._tried
                   or now - self._tried[v][0] >= self.wait(v, urgent=v in urgent_ids)]
            if due:
                found[network_id] = due
        return found

    def tried(self, visit_ids: Iterable[int], now: datetime) -> None:
        """Note a try of each of ``visit_ids`` at ``now``."""
        for visit_id in visit_ids:
            _, tries = self._tried.get(visit_id, (now, 0))
            self._tried[visit_id] = (now, tries + 1)

    def forget(self, visit_ids: Iterable[int]) -> None:
        """Forget ``visit_ids`` (a try that never happened: the task was not sent)."""
        for visit_id in visit_ids:
            self._tried.pop(visit_id, None)


def urgent_first(due: Sequence[int], urgent: Iterable[int]) -> list[list[int]]:
    """``due`` as the runs that place it: the 2-hour visits alone first, then the rest.

    Why: a placement applies once, after every visit it was given has been inserted, and a
    routine visit that finds no room costs its insertion search (up to the placer's second)
    before that. At London scale an urgent referral's offer waited behind ten such
    insertions in its network (8-15 s from the POST to the decision, benchmarks/README.md);
    placed and applied on its own, its offer goes out after its own insertion alone.
    """
    urgent_ids = set(urgent)
    batches = [[v for v in due if v in urgent_ids], [v for v in due if v not in urgent_ids]]
    return [batch for batch in batches if batch]
