"""Double-handed visits in the KPIs (issue 15): patient-facing figures count a pair once;
staff figures count each carer's visit (both travelled there and spent the time)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import orm as so

from dispatch import models as m
from dispatch.actors import SYSTEM
from dispatch.services import kpis, pairs
from dispatch.simulation.kpis import carer_visits
from routing.travel import GeodesicTravelTime
from tests.dispatch import factories as f
from tests.dispatch.planning.test_planning import NOW


@pytest.fixture
def pair(session: so.Session) -> tuple[m.Visit, m.Visit]:
    """A hoist transfer this morning: two carers, both arrived at 10:40, both done."""
    net = f.network(session)
    base = f.base(session, network_id=net.id)
    carers = []
    for k in range(2):
        carer = f.staff(session, code=f"c{k}", name=f"Carer {k}", role="hybrid_worker",
                        phone=f"+4477009006{k:02d}", network_id=net.id, base_id=base.id,
                        skills=["personal_care"])
        shift = m.Shift(code=f"sh-c{k}", staff_id=carer.id, base_id=base.id,
                        starts_at=NOW - timedelta(hours=3), ends_at=NOW + timedelta(hours=5),
                        breaks=[])
        session.add(shift)
        session.flush()
        carers.append((carer, shift))
    patient = f.patient(session, network_id=net.id, lat=51.512, lon=-0.225)
    referral = f.referral(session, patient.id, network_id=net.id, received_at=NOW)
    first = f.visit(session, referral.id, patient.id, network_id=net.id,
                    category="response_24h", priority=3, earliest_start=NOW,
                    deadline=NOW + timedelta(hours=24), skills=["personal_care"])
    second = pairs.make_double_handed(session, visit=first, now=NOW, actor=SYSTEM)
    for visit, (carer, shift) in zip((first, second), carers, strict=True):
        visit.status, visit.assigned_staff_id, visit.shift_id = "completed", carer.id, shift.id
        visit.pinned, visit.outcome = True, "visit_completed"
        visit.planned_start = visit.arrived_at = NOW + timedelta(minutes=20)
        visit.completed_at = NOW + timedelta(minutes=65)
    session.commit()
    return first, second


@pytest.mark.safety("H-146")
def test_staff_figures_count_each_carers_visit_patient_figures_the_pair_once(
    session: so.Session, pair: tuple[m.Visit, m.Visit],
) -> None:
    rows = kpis.day_rows(session, day=date(2026, 12, 1), now=NOW + timedelta(hours=2),
                         provider=GeodesicTravelTime())
    assert len(rows.responses) == 1  # one visit to the patient
    assert rows.responses[0].first_arrival == NOW + timedelta(minutes=20)
    mine = {w.name: w for w in rows.workers}
    assert (mine["Carer 0"].visits, mine["Carer 1"].visits) == (1, 1)  # each carer's visit
    assert all(w.visit_minutes == 45 for w in mine.values())
    assert carer_visits(pair) == 2  # the simulator's travel per visit divides by both


def test_carer_visits_skips_visits_not_reached(pair: tuple[m.Visit, m.Visit]) -> None:
    pair[1].arrived_at = None
    assert carer_visits(pair) == 1
