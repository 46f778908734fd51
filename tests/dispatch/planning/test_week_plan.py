"""A week of care-package visits planned together (issue 15 item 4): each visit in its own
day's window, a patient's calls spaced, one carer preferred across the week; read-only."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy import orm as so

from dispatch import models as m
from dispatch.config import LONDON
from dispatch.planning.week import CALL_SPACING, plan_week, week_problem
from routing.travel import GeodesicTravelTime
from tests.dispatch import factories as f
from tests.dispatch.planning.test_planning import NOW

DAYS = [date(2026, 12, 2) + timedelta(days=k) for k in range(3)]


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=LONDON).astimezone(UTC)


def _week(session: so.Session) -> dict[str, object]:
    """Wendy works all three days, Xavier the last two (same base); Pat has one home-care
    call a day 08:00-10:00; Quinn two calls on the second day with overlapping windows."""
    net = f.network(session)
    base = f.base(session, network_id=net.id)
    staff = {}
    for k, (code, name, days) in enumerate((("w", "Wendy", DAYS), ("x", "Xavier", DAYS[1:]))):
        member = f.staff(session, code=code, name=name, role="hybrid_worker",
                         phone=f"+4477009003{k:02d}", network_id=net.id, base_id=base.id,
                         skills=["personal_care"])
        staff[name] = member
        for day in days:
            session.add(m.Shift(code=f"sh-{code}-{day}", staff_id=member.id, base_id=base.id,
                                starts_at=_at(day, 8), ends_at=_at(day, 16), breaks=[]))
    pat = f.patient(session, nhs_number="9434765919", family_name="Pat", lat=51.512,
                    lon=-0.225, network_id=net.id)
    quinn = f.patient(session, nhs_number="9434765870", family_name="Quinn", lat=51.515,
                      lon=-0.225, network_id=net.id)
    visits: dict[str, m.Visit] = {}
    for who in (pat, quinn):
        package = m.CarePackage(patient_id=who.id, network_id=net.id, status="active",
                                start_date=DAYS[0], created_by="cara", created_at=NOW)
        session.add(package)
        session.flush()
        windows = ([(d, _at(d, 8), _at(d, 10)) for d in DAYS] if who is pat
                   else [(DAYS[1], _at(DAYS[1], 8), _at(DAYS[1], 10)),
                         (DAYS[1], _at(DAYS[1], 8, 30), _at(DAYS[1], 12))])
        for k, (_, earliest, deadline) in enumerate(windows):
            ref = f"{who.family_name[0]}{k}"
            visits[ref] = f.visit(
                session, None, who.id, reference=ref, package_id=package.id,
                network_id=net.id, category="planned", priority=4, skills=["personal_care"],
                duration_minutes=30, earliest_start=earliest, deadline=deadline,
                reason=f"care package {package.id}: home_care_hour")
    session.commit()
    return {"network": net, "visits": visits, "staff": staff}


@pytest.mark.safety("H-141")
def test_week_problem_groups_spaces_and_asks_for_continuity(session: so.Session) -> None:
    world = _week(session)
    problem, index = week_problem(session, now=NOW, provider=GeodesicTravelTime(),
                                  network_id=world["network"].id)  # type: ignore[attr-defined]
    assert problem.continuity and len(problem.shifts) == 5 and len(problem.visits) == 5
    ids = {row: vid for vid, row in index.visits.items()}
    visits = world["visits"]
    assert isinstance(visits, dict)
    assert {problem.visit(ids[v.id]).patient for v in visits.values()} == {
        str(visits["P0"].patient_id), str(visits["Q0"].patient_id)}
    [rule] = problem.spacing
    assert rule.visits == (ids[visits["Q0"].id], ids[visits["Q1"].id])
    assert rule.min_gap == CALL_SPACING.total_seconds()


@pytest.mark.safety("H-141")
def test_plan_week_keeps_one_carer_and_the_spacing_and_writes_nothing(
    session: so.Session,
) -> None:
    world = _week(session)
    visits = world["visits"]
    assert isinstance(visits, dict)
    found = plan_week(session, now=NOW, provider=GeodesicTravelTime(),
                      network_id=world["network"].id,  # type: ignore[attr-defined]
                      seconds=5, solution_limit=50)
    by_ref = {v.reference: v for v in found.visits}
    assert all(v.start is not None for v in found.visits), found.visits
    assert {by_ref[r].staff_name for r in ("P0", "P1", "P2")} == {"Wendy"}
    for ref, day in (("P0", DAYS[0]), ("P1", DAYS[1]), ("P2", DAYS[2])):
        start = by_ref[ref].start
        assert start is not None and _at(day, 8) <= start <= _at(day, 10)
    q0, q1 = by_ref["Q0"].start, by_ref["Q1"].start
    assert q0 is not None and q1 is not None and q1 - q0 >= CALL_SPACING
    session.expire_all()
    statuses = set(session.scalars(sa.select(m.Visit.status)))
    assert statuses == {"unassigned"}
    assert session.scalars(sa.select(m.Visit.assigned_staff_id)).all() == [None] * 5
