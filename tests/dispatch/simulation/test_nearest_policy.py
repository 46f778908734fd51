"""The nearest-worker baseline keeps the rota's breaks, as the planner does."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import orm as so

from dispatch import models as m
from dispatch.simulation.policies import nearest_assign
from routing.travel import GeodesicTravelTime
from tests.dispatch import factories as f

NOW = datetime.fromisoformat("2026-12-01T10:20:00+00:00")


def _world(session: so.Session, *, breaks: dict[str, tuple[int, int]]) -> tuple[m.Visit, dict]:
    """Two nurses at one base; ``breaks`` maps a nurse's code to a break (minutes from now)."""
    net = f.network(session)
    base = f.base(session, network_id=net.id)
    staff = {}
    for k, code in enumerate(("near", "far")):
        member = f.staff(session, code=code, network_id=net.id, base_id=base.id,
                         phone=f"+44770090001{k}", skills=["falls_assessment"])
        window = breaks.get(code)
        session.add(m.Shift(
            code=f"sh-{code}", staff_id=member.id, base_id=base.id,
            starts_at=NOW - timedelta(hours=2), ends_at=NOW + timedelta(hours=6),
            breaks=[] if window is None else [{
                "start": (NOW + timedelta(minutes=window[0])).isoformat(),
                "end": (NOW + timedelta(minutes=window[1])).isoformat()}]))
        staff[code] = member
    patient = f.patient(session, lat=51.512, lon=-0.225, network_id=net.id)
    ref = f.referral(session, patient.id, network_id=net.id)
    visit = f.visit(session, ref.id, patient.id, reference="2001", network_id=net.id,
                    skills=["falls_assessment"], duration_minutes=45, earliest_start=NOW,
                    deadline=NOW + timedelta(hours=2))
    session.commit()
    return visit, staff


def test_a_worker_on_a_break_is_not_free(session: so.Session) -> None:
    visit, staff = _world(session, breaks={"near": (-10, 20)})
    positions = {staff["near"].id: (51.512, -0.225), staff["far"].id: (51.52, -0.20)}

    assert nearest_assign(session, visit=visit, now=NOW, provider=GeodesicTravelTime(),
                          positions=positions)

    assert visit.assigned_staff_id == staff["far"].id


def test_a_visit_that_would_run_into_the_break_starts_after_it(session: so.Session) -> None:
    """The only worker's break starts in 15 minutes: the 45-minute visit waits for its end."""
    visit, staff = _world(session, breaks={"near": (15, 45), "far": (15, 45)})

    assert nearest_assign(session, visit=visit, now=NOW, provider=GeodesicTravelTime(),
                          positions={})

    assert visit.planned_start is not None
    assert visit.planned_start >= NOW + timedelta(minutes=45)
