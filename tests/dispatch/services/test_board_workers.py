"""Where the board's map places a worker on shift (H-114): on site at a visit, else at their
last visit started by now, else at their base, always saying which; off sick: not placed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from dispatch.services.board import BoardBase, BoardVisit, Timeline, _workers

NOW = datetime(2026, 12, 1, 10, 20, tzinfo=UTC)


def _visit(n: int, staff_id: int, status: str, start_minutes: int, *,
           completed: bool = False) -> BoardVisit:
    start = NOW + timedelta(minutes=start_minutes)
    return BoardVisit(
        id=n, reference=f"B{n:04d}", status=status, category="urgent_2h", priority=2,
        reason=None, skills=(), district=f"W{n}", earliest_start=start, deadline=start +
        timedelta(hours=2), duration_minutes=45, planned_start=start, staff_id=staff_id,
        staff_name="x", pinned=False, version=1, cause=None, minutes_left=60,
        point=(51.5 + n / 1000, -0.2), completed_at=start + timedelta(minutes=45)
        if completed else None)


def _shift(staff_id: int, *, sick: bool = False) -> Timeline:
    return Timeline(staff_id, 100 + staff_id, f"Worker {staff_id}", "nurse",
                    NOW - timedelta(hours=2), NOW + timedelta(hours=6),
                    NOW - timedelta(minutes=5) if sick else None, (), "car", 1)


@pytest.mark.safety("H-114")
def test_workers_placed_on_site_last_visit_or_base_in_words() -> None:
    rows = [_visit(1, 1, "on_site", -10), _visit(2, 1, "completed", -90, completed=True),
            _visit(3, 2, "completed", -100, completed=True), _visit(4, 2, "offered", 30),
            _visit(5, 4, "on_site", -5)]
    base = BoardBase(9, "Hammersmith hub", (51.49, -0.22))
    timelines = (_shift(1), _shift(2), _shift(3), _shift(4, sick=True))
    placed = {w.staff_id: w for w in _workers(
        timelines, rows, {101: 9, 102: 9, 103: 9, 104: 9}, {9: base}, NOW)}
    assert placed[1].where == "on site at visit B0001" and placed[1].district == "W1"
    assert placed[2].where == "last at visit B0003"  # the offered one starts later
    assert placed[3].where == "at base: Hammersmith hub" and placed[3].point == base.point
    assert 4 not in placed  # off sick since 10:15: not placed on the map


def test_board_rows_carry_every_column_the_jeopardy_rule_reads() -> None:
    """The board reads visits as column rows, not ORM objects: the jeopardy rule must find
    every attribute it reads on such a row (a missing one raises AttributeError)."""
    from collections import namedtuple

    from dispatch.services.board import VISIT_COLUMNS
    from dispatch.services.watch import jeopardy_cause

    names = [c.key for c in VISIT_COLUMNS]
    RowType = namedtuple("RowType", names)  # type: ignore[misc]  # noqa: PYI024
    base = dict.fromkeys(names)
    base.update(created_at=NOW - timedelta(hours=1), deadline=NOW + timedelta(hours=1),
                offered_at=NOW - timedelta(minutes=40), planned_start=NOW + timedelta(hours=2),
                late_allowed_until=NOW + timedelta(hours=3), assigned_staff_id=1,
                late_allowed_staff_id=1)
    for status in ("unassigned", "offered", "accepted", "en_route", "on_site"):
        row = RowType(**{**base, "status": status})
        jeopardy_cause(row, now=NOW)  # type: ignore[arg-type]
