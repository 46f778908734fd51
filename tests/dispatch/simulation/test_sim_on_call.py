"""The simulated on-call coordinator answers an accepted 2-hour visit that now runs late (H-041):
moves it to a worker who can be there sooner, else lets its own worker go late."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy import orm as so

from dispatch import models as m
from dispatch.database import Database
from dispatch.services.watch import watch_deadlines
from dispatch.simulation.engine import Simulation
from dispatch.simulation.types import SimulationConfig
from tests.dispatch import factories as f
from tests.dispatch.planning.test_jeopardy import (
    NIGHT,
    _accepted_then_pushed_late,
    _night,
    _withdrawn_texts,
)

WATCHED_AT = NIGHT + timedelta(minutes=31)


def _on_call(now: Any, policy: str = "optimised") -> Simulation:
    """A simulation whose only use here is its coordinator (no database of its own needed)."""
    config = SimulationConfig(seed=1, day=date(2026, 12, 1), policy=policy)
    sim = Simulation(config, cast(Database, None), start=NIGHT,
                     end=NIGHT + timedelta(hours=3), specs=[])
    sim.now = now
    return sim


def _night_nurse_overruns(session: so.Session, world: dict[str, Any]) -> None:
    """The night nurse is held at another patient's home until after the 2-hour deadline."""
    held = f.patient(session, nhs_number="9434765927", family_name="Held", lat=51.515,
                     lon=-0.22, network_id=world["home"].id)
    theirs = f.referral(session, held.id, network_id=world["home"].id, status="in_progress")
    shift = session.scalar(sa.select(m.Shift).where(m.Shift.staff_id == world["night"].id))
    assert shift is not None
    f.visit(session, theirs.id, held.id, reference="5200", network_id=world["home"].id,
            category="response_24h", priority=3, skills=[], duration_minutes=150,
            earliest_start=NIGHT, deadline=NIGHT + timedelta(hours=6), status="on_site",
            pinned=True, assigned_staff_id=world["night"].id, shift_id=shift.id,
            planned_start=NIGHT + timedelta(minutes=20),
            arrived_at=NIGHT + timedelta(minutes=20))
    session.commit()


def _accepted_late(session: so.Session, *, neighbour_free: bool) -> tuple[dict[str, Any],
                                                                          m.Visit]:
    world, visit = _accepted_then_pushed_late(session, neighbour_free=neighbour_free)
    _night_nurse_overruns(session, world)
    watch_deadlines(session, now=WATCHED_AT, public_url="https://x")
    session.commit()
    assert visit.jeopardy_cause == "late_arrival"
    return world, visit


def test_simulated_on_call_moves_an_accepted_late_visit_to_a_worker_who_is_there_sooner(
        session: so.Session) -> None:
    """Its nurse is held past the deadline and the neighbouring network's nurse is free: the
    visit goes to that nurse (on time), the first is told it is withdrawn, jeopardy ends."""
    world, visit = _accepted_late(session, neighbour_free=True)
    sim = _on_call(WATCHED_AT)

    networks = sim._decide(session)
    session.commit()

    assert sim.decisions["accepted_late_moved"] == 1
    assert visit.status == "unassigned" and visit.jeopardy_cause is None
    assert visit.late_allowed_staff_id == world["other"].id
    assert visit.network_id == world["near"].id and networks == {world["near"].id}
    assert _withdrawn_texts(session, world["night"]) == 1


def test_simulated_on_call_lets_the_own_worker_go_late_when_nobody_is_sooner(
        session: so.Session) -> None:
    """The neighbour's nurse is busy too: the visit stays with the nurse who accepted it,
    untold, allowed late past the plan's start, and the watch does not ask again."""
    world, visit = _accepted_late(session, neighbour_free=False)
    planned = visit.planned_start
    sim = _on_call(WATCHED_AT)

    sim._decide(session)
    session.commit()

    assert sim.decisions["accepted_late_kept"] == 1 and sim.decisions["accepted_late_moved"] == 0
    assert (visit.status, visit.assigned_staff_id) == ("accepted", world["night"].id)
    assert visit.late_allowed_staff_id == world["night"].id
    assert planned is not None and visit.late_allowed_until is not None
    assert visit.late_allowed_until >= planned + timedelta(minutes=15)
    assert _withdrawn_texts(session, world["night"]) == 0
    watch_deadlines(session, now=WATCHED_AT + timedelta(minutes=5), public_url="https://x")
    assert visit.jeopardy_cause is None


def test_simulated_on_call_leaves_a_late_visit_nobody_accepted_to_the_planner(
        session: so.Session) -> None:
    """Only accepted 2-hour visits are this decision's: an assigned one late in the plan is
    the planner's to move (nothing decided, nothing counted)."""
    world = _night(session)
    visit = world["visit"]
    visit.status, visit.assigned_staff_id = "assigned", world["night"].id
    visit.planned_start = visit.deadline + timedelta(minutes=20)
    visit.jeopardy_cause = "late_arrival"
    session.commit()
    sim = _on_call(WATCHED_AT)

    assert sim._decide(session) == set()
    assert sum(sim.decisions.values()) == 0 and visit.jeopardy_cause == "late_arrival"


def test_the_phone_list_baseline_has_no_planner_to_move_an_accepted_late_visit(
        session: so.Session) -> None:
    """Under the nearest-worker policy the coordinator has no planner to ask who could be
    there sooner: the accepted visit stays with its worker (the baseline as it was)."""
    world, visit = _accepted_late(session, neighbour_free=True)
    sim = _on_call(WATCHED_AT, policy="nearest")

    sim._decide(session)

    assert sum(sim.decisions.values()) == 0
    assert (visit.status, visit.assigned_staff_id) == ("accepted", world["night"].id)


def test_a_visit_the_coordinator_handed_back_is_reported_as_handed_back() -> None:
    """A handed-back (cancelled) 2-hour visit missed for want of someone to reach it, and the
    report says so: it was reported as "placed but not reached by the end of the day"."""
    from dispatch.simulation.kpis import (
        HANDED_BACK,
        NEVER_PLACED,
        NOT_REACHED,
        STAFFING_CAUSES,
        cause_of,
    )
    from dispatch.simulation.types import VisitLog

    def cause(status: str) -> str:
        return cause_of(m.Visit(status=status, arrived_at=None), VisitLog(), skilled=True)

    assert cause("cancelled") == HANDED_BACK and HANDED_BACK in STAFFING_CAUSES
    assert cause("unassigned") == NEVER_PLACED and cause("accepted") == NOT_REACHED
