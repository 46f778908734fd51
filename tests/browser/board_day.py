"""A demo-like day for the board: the demo roster and register, plus open visits in every state
(no tests here). Used by the board's browser test and by ``board_timing`` (render time).

Visits are written directly (a referral and a visit each) rather than through triage, so a
few hundred are made in well under a second and their states are chosen, not planned: some
unassigned and overdue (jeopardy), some unassigned and due later, the rest offered, accepted or
on site with staff on shift, one after another along each worker's shift.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy import orm as so

from dispatch import models as m

REASONS = ("Fall at home, no injury", "Sudden confusion", "Catheter blocked",
           "Carer unable to cope", "Unstable blood sugar", "End-of-life crisis")
COORDINATOR = "board-coordinator"
MANAGER = "board-manager"
PASSWORD = "browser test password"


@dataclass(frozen=True)
class SeededDay:
    network_id: int
    visits: int
    jeopardy_reference: str


def add_open_visits(session: so.Session, *, now: datetime, count: int, seed: int = 7,
                    network_id: int | None = None) -> SeededDay:
    """``count`` open visits spread over the networks (or one), in mixed states."""
    rng = random.Random(seed)
    nets = [network_id] if network_id else list(session.scalars(sa.select(m.Network.id)))
    patients = {n: list(session.scalars(sa.select(m.Patient.id).where(
        m.Patient.network_id == n).limit(max(count, 50)))) for n in nets}
    shifts = {n: list(session.execute(sa.select(m.Shift.id, m.Shift.staff_id, m.Shift.starts_at,
                                                m.Shift.ends_at).join(m.Staff).where(
        m.Staff.network_id == n, m.Staff.role != "coordinator", m.Shift.starts_at <= now,
        m.Shift.ends_at > now + timedelta(hours=2)))) for n in nets}
    cursor: dict[int, datetime] = {}
    first_jeopardy = ""
    for i in range(count):
        net = nets[i % len(nets)]
        patient_id = rng.choice(patients[net])
        received = now - timedelta(minutes=rng.randint(5, 110))
        category = "urgent_2h" if rng.random() < 0.6 else "response_24h"
        deadline = received + timedelta(hours=2 if category == "urgent_2h" else 24)
        referral = m.Referral(patient_id=patient_id, network_id=net, source="111",
                              referrer_name="Board seed", received_at=received, status="scheduled",
                              category=category, priority=2, deadline=deadline)
        session.add(referral)
        session.flush()
        visit = m.Visit(reference=f"B{i:04d}", referral_id=referral.id, patient_id=patient_id,
                        network_id=net, category=category, skills=["falls_assessment"],
                        duration_minutes=45, earliest_start=received, deadline=deadline,
                        priority=2, reason=rng.choice(REASONS), created_at=received)
        roll = rng.random()
        if roll < 0.15 or not shifts[net]:
            if deadline < now and not first_jeopardy:
                first_jeopardy = visit.reference
        else:
            shift_id, staff_id, _, ends = rng.choice(shifts[net])
            start = cursor.get(staff_id, now + timedelta(minutes=rng.randint(0, 30)))
            if start + timedelta(minutes=45) < ends:
                cursor[staff_id] = start + timedelta(minutes=45 + rng.randint(10, 30))
                visit.assigned_staff_id, visit.shift_id, visit.planned_start = (
                    staff_id, shift_id, start)
                visit.status = rng.choice(("offered", "offered", "accepted"))
                visit.offered_at = now - timedelta(minutes=rng.randint(0, 16))
                visit.pinned = visit.status == "accepted"
        session.add(visit)
    session.flush()
    return SeededDay(nets[0], count, first_jeopardy)
