"""Each worker's own travel (issue 15): the roster's travel mode picks the worker's travel
profile in the planner, and bookings are checked at the pace they were planned at."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import numpy as np
import pytest
from sqlalchemy import orm as so

from dispatch.planning import invariants, live
from dispatch.planning.problem import build_problem
from routing.travel import GeodesicTravelTime
from tests.dispatch.planning.test_planning import NOW, world  # noqa: F401  (fixture)


@pytest.mark.safety("H-131")
def test_build_problem_gives_each_workers_modes_profile(
    session: so.Session, world: dict[str, Any]  # noqa: F811
) -> None:
    """The walking worker's shift plans on the walking matrix (the provider's for that mode);
    the driver stays on the problem's own (car) matrix."""
    world["hybrid"].travel_mode = "walk"
    session.commit()
    provider = GeodesicTravelTime()
    problem, index = build_problem(session, now=NOW, provider=provider,
                                   network_id=world["network"].id)
    by_worker = {s.worker_id: s for s in problem.shifts}
    walker = by_worker[str(world["hybrid"].id)]
    driver = by_worker[str(world["nurse"].id)]
    assert (walker.profile, driver.profile) == ("walk", "travel")
    assert set(problem.travel_profiles) == {"walk"}
    walk, car = problem.travel_of(walker), problem.travel_of(driver)
    a, b = walker.start_location, problem.visits[1].location
    assert walk[a, b] != car[a, b]
    assert (walk == problem.travel_profiles["walk"]).all() and (car == problem.travel).all()
    assert index.modes == {world["hybrid"].id: "walk", world["nurse"].id: "car"}


@pytest.mark.safety("H-131")
def test_walking_worker_is_offered_a_start_they_can_walk_to(
    session: so.Session, world: dict[str, Any]  # noqa: F811
) -> None:
    """Planned by their profile: the walker's visit starts no sooner than the walk from base
    (the car's estimate would send them too early)."""
    world["hybrid"].travel_mode = "walk"
    session.commit()
    provider = GeodesicTravelTime()
    live.place_new_visits(session, now=NOW, provider=provider, seconds=0.5)
    personal = world["visits"][1]
    assert personal.assigned_staff_id == world["hybrid"].id
    base = world["shifts"]["hw"].base_id
    from dispatch import models as m

    hub = session.get(m.StaffBase, base)
    assert hub is not None and personal.planned_start is not None
    home = (world["patients"][1].lat, world["patients"][1].lon)
    walk = int(provider.matrix([(hub.lat, hub.lon)], [home], mode="walk")[0][0])
    assert personal.planned_start >= NOW + timedelta(seconds=walk)


@pytest.mark.safety("H-131")
def test_clash_check_uses_each_workers_mode() -> None:
    """Two bookings 250 m apart with just the walk between them: a walker can make it (no
    parking), a driver cannot (5 minutes' parking on top): the check follows the mode."""
    provider = GeodesicTravelTime()
    here, there = (51.5120, -0.2250), (51.51425, -0.2250)  # about 250 m north
    walk = int(provider.matrix([here], [there], mode="walk")[0][0])
    car = int(provider.matrix([here], [there], mode="car")[0][0])
    assert 0 < walk + 5 < car and np.isfinite(walk)
    start = NOW
    first = invariants.Held(1, 7, start, start + timedelta(minutes=30), here)
    second = invariants.Held(2, 7, start + timedelta(minutes=30, seconds=walk + 5),
                             start + timedelta(minutes=60), there)
    walking = invariants.Travel(provider, {7: "walk"})
    driving = invariants.Travel(provider, {7: "car"})
    assert invariants.clashes([first, second], walking) == []
    assert [(c.first, c.second) for c in invariants.clashes([first, second], driving)] == [(1, 2)]
