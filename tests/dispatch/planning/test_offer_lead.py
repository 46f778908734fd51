"""The live planner's offer lead (issue 17): only work planned to start soon is texted; later
work is booked provisionally and stays movable, and a 2-hour visit is always offered at once."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy import orm as so

from dispatch import models as m
from dispatch.config import DEFAULTS, offer_lead
from dispatch.planning import pipeline
from dispatch.services.watch import jeopardy_cause
from routing.travel import GeodesicTravelTime
from tests.dispatch import factories as f
from tests.dispatch.planning.test_planning import NOW

LIMIT = 50  # solutions: the search is a pure function of the rows


def _world(session: so.Session) -> m.Network:
    """One nurse on shift all day; a 24-hour visit due soon, one that cannot start for four
    hours, and a 2-hour visit that cannot start for an hour."""
    net = f.network(session)
    base = f.base(session, network_id=net.id)
    nurse = f.staff(session, code="dn", network_id=net.id, base_id=base.id,
                    skills=["wound_care", "falls_assessment", "clinical_assessment"])
    session.add(m.Shift(code="sh-dn", staff_id=nurse.id, base_id=base.id,
                        starts_at=NOW - timedelta(hours=1), ends_at=NOW + timedelta(hours=7),
                        breaks=[]))
    patients = [f.patient(session, nhs_number=nhs, family_name=f"P{i}", lat=lat, lon=-0.225,
                          network_id=net.id)
                for i, (nhs, lat) in enumerate((("9434765919", 51.512), ("9434765870", 51.515),
                                                 ("9434765927", 51.509)))]
    ref = f.referral(session, patients[0].id, network_id=net.id)
    f.visit(session, ref.id, patients[0].id, reference="2001", network_id=net.id,
            category="response_24h", priority=3, skills=["wound_care"], duration_minutes=30,
            earliest_start=NOW, deadline=NOW + timedelta(minutes=50))
    f.visit(session, ref.id, patients[1].id, reference="2002", network_id=net.id,
            category="response_24h", priority=3, skills=["wound_care"], duration_minutes=30,
            earliest_start=NOW + timedelta(hours=4), deadline=NOW + timedelta(hours=5))
    f.visit(session, ref.id, patients[2].id, reference="2003", network_id=net.id,
            category="urgent_2h", priority=1, skills=["falls_assessment"],
            duration_minutes=30, earliest_start=NOW + timedelta(hours=1),
            deadline=NOW + timedelta(hours=2))
    session.commit()
    return net


def _plan(session: so.Session, network: m.Network, lead: timedelta | None) -> None:
    pipeline.run(pipeline.OneSession(session), now=NOW, provider=GeodesicTravelTime(),
                 network_id=network.id,
                 options=pipeline.Options(method="improve", seconds=5, solution_limit=LIMIT,
                                          offer_lead=lead))
    session.commit()
    session.expire_all()


def _states(session: so.Session) -> dict[str, tuple[str, int]]:
    texts = dict(session.execute(
        sa.select(m.Visit.reference, sa.func.count(m.Message.id))
        .outerjoin(m.Message, m.Message.visit_id == m.Visit.id)
        .group_by(m.Visit.reference)).all())
    return {v.reference: (v.status, texts[v.reference])
            for v in session.scalars(sa.select(m.Visit))}


@pytest.mark.safety("H-234")
def test_work_beyond_the_lead_is_provisional_and_urgent_work_is_offered(
        session: so.Session) -> None:
    """Lead 30 min: the visit due soon is offered, the one four hours out is booked with the
    nurse but not texted, the 2-hour visit (planned an hour out) is texted all the same."""
    network = _world(session)
    _plan(session, network, timedelta(minutes=30))
    assert _states(session) == {"2001": ("offered", 1), "2002": ("assigned", 0),
                                "2003": ("offered", 1)}


@pytest.mark.safety("H-234")
def test_without_a_lead_every_planned_visit_is_offered(session: so.Session) -> None:
    network = _world(session)
    _plan(session, network, None)
    assert _states(session) == {"2001": ("offered", 1), "2002": ("offered", 1),
                                "2003": ("offered", 1)}


@pytest.mark.safety("H-234")
def test_a_provisional_visit_is_offered_once_it_comes_within_the_lead(
        session: so.Session) -> None:
    network = _world(session)
    _plan(session, network, timedelta(minutes=30))
    session.execute(sa.update(m.Visit).where(m.Visit.reference.in_(("2001", "2003")))
                    .values(status="cancelled"))  # the morning's work out of the way
    session.commit()
    pipeline.run(pipeline.OneSession(session), now=NOW + timedelta(hours=3, minutes=45),
                 provider=GeodesicTravelTime(), network_id=network.id,
                 options=pipeline.Options(method="improve", seconds=5, solution_limit=LIMIT,
                                          offer_lead=timedelta(minutes=30)))
    session.commit()
    session.expire_all()
    assert _states(session)["2002"] == ("offered", 1)


@pytest.mark.safety("H-234")
def test_offer_lead_setting() -> None:
    assert DEFAULTS["OFFER_LEAD_MINUTES"] is None
    assert offer_lead({}) is None
    assert offer_lead({"OFFER_LEAD_MINUTES": 90}) == timedelta(minutes=90)


@pytest.mark.safety("H-234")
def test_the_watch_escalates_a_provisional_visit_that_will_be_late() -> None:
    """A provisional (assigned, untold) visit planned past its deadline, or not started by it,
    is a late arrival to the deadline watch like an offered one (H-234-C2)."""
    visit = m.Visit(status="assigned", category="response_24h", created_at=NOW,
                    planned_start=NOW + timedelta(hours=3), deadline=NOW + timedelta(hours=2))
    assert jeopardy_cause(visit, now=NOW) == "late_arrival"
    visit.planned_start = NOW + timedelta(hours=1)
    assert jeopardy_cause(visit, now=NOW) is None
    assert jeopardy_cause(visit, now=NOW + timedelta(hours=2, minutes=1)) == "late_arrival"
