"""Property test for hazard H-013: coordinators pin, workers accept, the planner re-plans, time
passes, in any order; after every step no worker holds two open visits they cannot both do.

A small network (three workers, ten visits) on a fixed grid of travel times; every search is
bounded by a solution count, not the clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import orm as so

from dispatch import models as m
from dispatch.errors import Conflict, InvalidInput
from dispatch.planning import invariants, live
from dispatch.services import manual, visit_actions
from routing.travel import Points
from tests.dispatch import factories as f
from tests.dispatch.planning.test_double_booking import COORDINATOR, NHS_NUMBERS, overlaps
from tests.dispatch.planning.test_planning import NOW

BLOCK = 0.001  # degrees per grid block
MINUTES_PER_BLOCK = 2
SKILLS = ("falls_assessment", "wound_care")
WORKER_SKILLS = (list(SKILLS), [SKILLS[0]], [SKILLS[1]])
SHIFT = (timedelta(hours=-1), timedelta(hours=7))


class GridTravel:
    """Car travel on a grid: two minutes a block (Manhattan), the same for every mode."""

    def matrix(self, origins: Points, destinations: Points, mode: str = "car") -> Any:
        o, d = np.asarray(origins, dtype=float), np.asarray(destinations, dtype=float)
        blocks = np.rint(np.abs(o[:, None, :] - d[None, :, :]).sum(axis=2) / BLOCK)
        return (blocks * MINUTES_PER_BLOCK * 60).astype(np.int64)


def at(x: int, y: int) -> tuple[float, float]:
    return (51.5 + BLOCK * x, -0.2 + BLOCK * y)


@dataclass(frozen=True)
class VisitSpec:
    x: int
    y: int
    earliest: int  # quarter hours after NOW
    window: int  # quarter hours
    duration: int
    urgent: bool
    skill: int


@dataclass(frozen=True)
class Pin:
    visit: int
    worker: int
    slot: int  # quarter hours after now


@dataclass(frozen=True)
class Accept:
    visit: int


@dataclass(frozen=True)
class Replan:
    pass


@dataclass(frozen=True)
class Advance:
    minutes: int


visit_specs = st.builds(
    VisitSpec, st.integers(0, 6), st.integers(0, 6), st.integers(0, 12), st.integers(4, 20),
    st.sampled_from((30, 45, 60)), st.booleans(), st.integers(0, 1))
steps = st.one_of(
    st.builds(Pin, st.integers(0, 9), st.integers(0, 2), st.integers(0, 20)),
    st.builds(Accept, st.integers(0, 9)),
    st.just(Replan()),
    st.builds(Advance, st.sampled_from((5, 15, 40))),
)


def build(session: so.Session, specs: list[VisitSpec]) -> dict[str, Any]:
    net = f.network(session)
    lat, lon = at(3, 3)
    base = f.base(session, network_id=net.id, lat=lat, lon=lon)
    workers, shifts = [], []
    for k, skills in enumerate(WORKER_SKILLS):
        staff = f.staff(session, code=f"w{k}", network_id=net.id, base_id=base.id,
                        skills=skills, phone=f"+4477009000{k + 1:02d}")
        shift = m.Shift(code=f"sh{k}", staff_id=staff.id, base_id=base.id,
                        starts_at=NOW + SHIFT[0], ends_at=NOW + SHIFT[1], breaks=[])
        session.add(shift)
        workers.append(staff)
        shifts.append(shift)
    visits = []
    for k, spec in enumerate(specs):
        lat, lon = at(spec.x, spec.y)
        patient = f.patient(session, nhs_number=NHS_NUMBERS[k], family_name=f"P{k}", lat=lat,
                            lon=lon, network_id=net.id)
        ref = f.referral(session, patient.id, network_id=net.id)
        earliest = NOW + timedelta(minutes=15 * spec.earliest)
        visits.append(f.visit(
            session, ref.id, patient.id, reference=f"V{k}", network_id=net.id,
            skills=[SKILLS[spec.skill]], duration_minutes=spec.duration,
            category="urgent_2h" if spec.urgent else "response_24h",
            priority=2 if spec.urgent else 3, earliest_start=earliest,
            deadline=earliest + timedelta(minutes=15 * spec.window)))
    session.flush()
    return {"network": net, "workers": workers, "shifts": shifts, "visits": visits}


def pinned_times(visits: list[m.Visit]) -> dict[int, Any]:
    return {v.id: v.planned_start for v in visits if v.pinned and v.status == "offered"}


@pytest.mark.safety("H-013")
@settings(max_examples=25, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(specs=st.lists(visit_specs, min_size=10, max_size=10),
       plan=st.lists(steps, min_size=3, max_size=10))
def test_no_worker_is_double_booked_whatever_the_order_of_pins_accepts_and_replans(
    session: so.Session, capfd: pytest.CaptureFixture[str], specs: list[VisitSpec],
    plan: list[Pin | Accept | Replan | Advance],
) -> None:
    """After every step, every worker's open visits can all be done, travel included; a
    re-plan never needs refusing; a coordinator's pin keeps its time when the worker can make
    it; and no node ever reaches OR-Tools twice."""
    capfd.readouterr()
    provider = GridTravel()
    example = session.begin_nested()
    try:
        w = build(session, specs)
        now = NOW
        for step in [Replan(), *plan, Replan()]:
            if isinstance(step, Pin):
                visit, staff = w["visits"][step.visit], w["workers"][step.worker]
                if visit.status not in ("unassigned", "assigned", "offered"):
                    continue
                try:
                    manual.assign_manually(
                        session, visit_id=visit.id, staff_id=staff.id,
                        start=now.replace(second=0, microsecond=0)
                        + timedelta(minutes=15 * step.slot),
                        version=visit.version, confirm=True, pin=True, actor=COORDINATOR,
                        now=now, provider=provider)
                except (Conflict, InvalidInput):
                    continue
            elif isinstance(step, Accept):
                visit = w["visits"][step.visit]
                if visit.status == "offered" and visit.assigned_staff_id is not None:
                    staff = session.get(m.Staff, visit.assigned_staff_id)
                    assert staff is not None
                    visit_actions.accept(session, visit=visit, staff=staff, now=now)
            elif isinstance(step, Advance):
                now += timedelta(minutes=step.minutes)
            else:
                before = pinned_times(w["visits"])
                report = live.replan(session, now=now, provider=provider,
                                     network_id=w["network"].id, seconds=30,
                                     solution_limit=30)
                assert report.apply.refused == ()
                reach = timedelta(minutes=12 * MINUTES_PER_BLOCK)  # the farthest drive
                for visit in w["visits"]:
                    pinned_at = before.get(visit.id)
                    if (pinned_at is not None and pinned_at >= now + reach
                            and pinned_at + timedelta(minutes=visit.duration_minutes) + reach
                            <= NOW + SHIFT[1]):
                        assert visit.planned_start == pinned_at, visit.reference
            session.flush()
            assert overlaps(session, provider) == [], step
            everyone = [s.id for s in w["workers"]]
            assert invariants.worker_clashes(session, staff_ids=everyone, now=now,
                                             provider=provider) == [], step
    finally:
        example.rollback()
    assert "used multiple times" not in capfd.readouterr().err
