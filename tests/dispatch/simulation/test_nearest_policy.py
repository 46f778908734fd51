"""The nearest-worker baseline keeps the rota's breaks, as the planner does, and times the
two halves of a double-handed visit together."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy import orm as so

from dispatch import models as m
from dispatch.actors import SYSTEM
from dispatch.services import pairs
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


@pytest.mark.safety("H-147")
def test_the_second_carer_of_a_pair_is_timed_with_the_first(session: so.Session) -> None:
    """A hoist transfer: the near nurse takes the first half (she could start at once), the
    other is on a break for the next 40 minutes; the second half goes to her and both halves
    start together when she can come (the first nurse's half moves; her offer says so)."""
    visit, staff = _world(session, breaks={"far": (-5, 40)})
    second = pairs.make_double_handed(session, visit=visit, now=NOW, actor=SYSTEM)
    positions = {staff["near"].id: (51.512, -0.225), staff["far"].id: (51.52, -0.20)}
    assert nearest_assign(session, visit=visit, now=NOW, provider=GeodesicTravelTime(),
                          positions=positions)
    first_start = visit.planned_start
    assert visit.assigned_staff_id == staff["near"].id and first_start is not None

    assert nearest_assign(session, visit=second, now=NOW, provider=GeodesicTravelTime(),
                          positions=positions)

    assert second.assigned_staff_id == staff["far"].id
    assert second.planned_start == visit.planned_start
    assert visit.planned_start is not None and visit.planned_start > first_start
    texts = session.scalars(sa.select(m.Message.body).where(
        m.Message.staff_id == staff["near"].id)).all()
    # Her offer was not sent yet: it is rewritten with the common time (one text an offer).
    assert len(texts) == 1 and f"{visit.planned_start:%H:%M}-" in texts[0]
