"""The board's warning when a coordinator's pinned decision now costs a deadline (issue 14).

The planner never moves a pinned visit (a coordinator's decision, or one the worker accepted),
so when the day changes round it, keeping it may make it, or the visits after it on the same
worker's round, late. The board says so, so the coordinator can decide again (unpin, or move
it by hand); nothing here changes the plan. Pure: it reads the board's rows only. A 2-hour
visit the planner could not place because a pin holds the one worker who could reach it in
time is named too (:func:`blocked_urgent`, from ``blocked_by``, which the planning run
records: :mod:`dispatch.planning.pin_costs`).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from dispatch.services.board import Board, BoardVisit
from dispatch.services.manual import hm

#: Pinned visits whose time is still the coordinator's to change (not yet under way).
DECIDED = ("assigned", "offered", "accepted")


@dataclass(frozen=True)
class PinWarning:
    """One warning: the pinned visit, the visit that is late because of it (maybe itself)."""

    pinned_id: int
    late_id: int
    text: str


def pinned_costs(board: Board) -> tuple[PinWarning, ...]:
    """Pinned visits planned after their deadline, and later visits of the same worker planned
    after theirs (behind a pinned one), in words with times."""
    rounds: dict[int, list[BoardVisit]] = defaultdict(list)
    for row in (*board.attention, *board.planned):
        if row.staff_id is not None and row.planned_start is not None:
            rounds[row.staff_id].append(row)
    out = []
    for rows in rounds.values():
        rows.sort(key=lambda r: r.planned_start or r.deadline)
        for n, pin in enumerate(rows):
            if not pin.pinned or pin.status not in DECIDED:
                continue
            start = pin.planned_start
            assert start is not None
            if start > pin.deadline:
                out.append(PinWarning(pin.id, pin.id, (
                    f"Visit {pin.reference} is pinned to {pin.staff_name} at "
                    f"{hm(start, board.now)}, after its deadline {hm(pin.deadline, board.now)}. "
                    "The planner will not move it: unpin it or assign it again")))
            for later in rows[n + 1:]:
                later_start = later.planned_start
                if later.pinned or later_start is None or later_start <= later.deadline:
                    continue
                out.append(PinWarning(pin.id, later.id, (
                    f"Visit {later.reference} with {later.staff_name} is planned at "
                    f"{hm(later_start, board.now)}, after its deadline "
                    f"{hm(later.deadline, board.now)}, behind visit {pin.reference} pinned "
                    f"at {hm(start, board.now)}. Unpin {pin.reference} to let the planner "
                    "rearrange them")))
                break  # one warning per pinned visit and round is enough to act on
    return (*out, *blocked_urgent(board))


#: Pins a blocked 2-hour visit may name (the coordinator's, not yet accepted by the worker).
COORDINATOR_PINS = ("assigned", "offered")


def blocked_urgent(board: Board) -> tuple[PinWarning, ...]:
    """2-hour visits the planner could not place because a coordinator's pin holds the only
    worker who could reach them in time (``blocked_by``, stored after the planning run by
    :mod:`dispatch.planning.pin_costs`): the pin (visit, worker, time) and its cost, in words.
    Shown only while both rows still say so (the 2-hour visit unassigned, the pin pinned)."""
    rows = {row.id: row for row in (*board.attention, *board.planned)}
    out = []
    for row in board.attention:
        pin = rows.get(row.blocked_by or 0)
        if (row.status != "unassigned" or pin is None or not pin.pinned
                or pin.status not in COORDINATOR_PINS or pin.planned_start is None):
            continue
        out.append(PinWarning(pin.id, row.id, (
            f"Visit {pin.reference} pinned to {pin.staff_name} at "
            f"{hm(pin.planned_start, board.now)} leaves visit {row.reference} (2-hour, due "
            f"{hm(row.deadline, board.now)}) unassigned: {pin.staff_name} could reach it in "
            f"time without that pin. The planner will not undo your pin: unpin "
            f"{pin.reference} or assign {row.reference} yourself")))
    return tuple(out)
