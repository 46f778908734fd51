"""A plan that gives a worker's offered slot to another visit applies (issue 18, London finding).

At London scale 9 of 10 whole-network plans solved from scratch over the standing offers were
refused as double bookings: the apply counted the visits the plan takes off their workers (its
``unassigned``, written after the routes) as still holding them, skipped the first visit moved
into such a slot as a clash, wrote the rest of the route round it and then refused the whole
apply. Nothing was double-booked, but the plan was lost (re-optimisations that drop an offer
met the same).
"""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from sqlalchemy import orm as so

from dispatch import models as m
from dispatch.db import get_database
from dispatch.planning import live, pipeline
from routing.travel import GeodesicTravelTime
from routing.types import Route, Stop, Unassigned
from tests.dispatch import factories as f
from tests.dispatch.planning.test_planning import NOW, world  # noqa: F401  (fixture)

PROVIDER = GeodesicTravelTime()


@pytest.mark.safety("H-090")
def test_plan_giving_an_offered_slot_to_another_visit_is_applied(
    app: Flask, session: so.Session, world: dict[str, Any]  # noqa: F811
) -> None:
    """The nurse has the fall offered at 10:20. A new plan (from scratch) puts another fall
    in that very slot and leaves the first unplaced: both writes are made (the new visit
    offered at 10:20, the first taken off her), no clash is reported and nothing is refused;
    she holds one visit at 10:20."""
    database, nurse = get_database(app), world["nurse"]
    live.place_new_visits(session, now=NOW, provider=PROVIDER, seconds=0.5)
    session.commit()
    first = world["visits"][0]
    session.refresh(first)
    assert (first.status, first.assigned_staff_id) == ("offered", nurse.id)
    other = f.visit(session, first.referral_id, world["patients"][1].id, reference="1009",
                    network_id=world["network"].id, earliest_start=NOW,
                    deadline=NOW + timedelta(hours=2))
    session.commit()
    tx = pipeline.ShortTransactions(database)
    with tx.session() as s:
        found = pipeline.read(s, now=NOW, provider=PROVIDER, network_id=world["network"].id)
    key = {row: k for k, row in found.index.visits.items()}
    route = found.current.route_of(key[first.id])
    assert route is not None
    stop = next(s for s in route.stops if s.visit_id == key[first.id])
    swapped = Route(route.shift_id, route.worker_id, tuple(
        Stop(key[other.id], s.arrival, s.start, s.end) if s is stop else s
        for s in route.stops), route.departure, route.return_time, route.breaks, route.travel)
    plan = dataclasses.replace(
        found.current,
        routes=tuple(swapped if r is route else r for r in found.current.routes),
        unassigned=(*found.current.unassigned,
                    Unassigned(key[first.id], "no capacity left", "no_capacity")))

    report = pipeline.apply(tx, plan=plan, index=found.index, now=NOW, provider=PROVIDER,
                            network_id=world["network"].id, read_generation=found.generation)

    assert report.refused == ()
    assert report.conflicts == 0
    assert (report.assigned, report.unassigned) == (1, 1)
    session.expire_all()
    placed = session.get(m.Visit, other.id)
    assert (placed.status, placed.assigned_staff_id) == ("offered", nurse.id)
    assert placed.planned_start == found.index.at(stop.start)
    assert session.get(m.Visit, first.id).status == "unassigned"
    held = session.scalars(sa.select(m.Visit.id).where(
        m.Visit.assigned_staff_id == nurse.id, m.Visit.status == "offered",
        m.Visit.planned_start == placed.planned_start)).all()
    assert held == [other.id]
