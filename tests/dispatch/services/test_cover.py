"""Cross-cover: a visit whose skills the home team lacks goes to the nearest team that has them."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm as so

from dispatch import models as m
from dispatch.actors import Actor
from dispatch.services.cover import covering_network
from dispatch.services.referral_commands import new_referral_from_json
from dispatch.services.referrals import create_referral
from tests.dispatch import factories as f
from tests.fakes.dispatch_world import NOW

HANDLER = Actor(user_id=None, username="handler", role="call_handler")


def _teams(session: so.Session) -> dict[str, Any]:
    """Home team (no equipment skill) in White City; a near team and a far team that have it,
    everyone on a day shift around ``NOW``."""
    home = f.network(session, code="HF-N1")
    near = f.network(session, code="HF-S1", name="H&F South")
    far = f.network(session, code="WM-W1", name="Westminster West", borough="Westminster")
    places = {home: (51.51, -0.23), near: (51.49, -0.22), far: (51.52, -0.14)}
    staff = {}
    for k, (network, (lat, lon)) in enumerate(places.items()):
        base = f.base(session, code=f"B{k}", network_id=network.id, lat=lat, lon=lon)
        skills = ["falls_assessment"] if network is home else ["equipment", "falls_assessment"]
        staff[network.code] = f.staff(session, code=f"S{k}", phone=f"+44770090010{k}",
                                      network_id=network.id, base_id=base.id, role="therapist",
                                      skills=skills)
        _shift(session, staff[network.code], base.id, f"D{k}")
    patient = f.patient(session, network_id=home.id, lat=51.505, lon=-0.228)
    return {"home": home, "near": near, "far": far, "patient": patient, "staff": staff}


def _shift(session: so.Session, staff: m.Staff, base_id: int, code: str) -> m.Shift:
    row = m.Shift(code=code, staff_id=staff.id, base_id=base_id,
                  starts_at=NOW - timedelta(hours=3), ends_at=NOW + timedelta(hours=6))
    session.add(row)
    session.flush()
    return row


def _refer(session: so.Session, patient: m.Patient, needs: list[str]) -> m.Visit:
    payload = {
        "source": "111",
        "received_at": NOW.isoformat(),
        "needs": needs,
        "observations": {"respiration_rate": 16, "spo2": 97, "systolic_bp": 128, "pulse": 76,
                         "consciousness": "alert", "temperature": 36.9},
        "patient": {"nhs_number": patient.nhs_number},
    }
    result = create_referral(session, command=new_referral_from_json(payload), actor=HANDLER,
                             now=NOW)
    [visit] = result.referral.visits
    return visit


def test_visit_needing_a_skill_the_home_team_lacks_goes_to_the_nearest_team(
    session: so.Session,
) -> None:
    """Urgent equipment for a White City patient: the nearby team with the skill serves it,
    and the visit says why it is on their board."""
    teams = _teams(session)

    visit = _refer(session, teams["patient"], ["urgent_equipment"])

    assert visit.network_id == teams["near"].id
    assert visit.reason is not None
    assert visit.reason.startswith("Cross-cover: no one in HF-N1 has equipment")
    assert visit.referral is not None and visit.referral.network_id == teams["home"].id


def test_home_team_keeps_what_it_can_serve(session: so.Session) -> None:
    """A fall: the home team has the skill, so nothing moves."""
    teams = _teams(session)

    visit = _refer(session, teams["patient"], ["fall_no_injury"])

    assert visit.network_id == teams["home"].id
    assert not (visit.reason or "").startswith("Cross-cover")


def test_skilled_team_with_no_one_rostered_in_time_is_passed_over(session: so.Session) -> None:
    """The near team's only equipment worker is off until tonight: the far team, rostered now,
    serves the urgent visit; a 24-hour visit due tomorrow could wait for the near team."""
    teams = _teams(session)
    near_worker = teams["staff"]["HF-S1"]
    session.execute(sa.update(m.Shift).where(m.Shift.staff_id == near_worker.id)
                    .values(starts_at=NOW + timedelta(hours=10), ends_at=NOW + timedelta(hours=18)))
    patient = teams["patient"]

    urgent = covering_network(session, patient, ["equipment"], start=NOW,
                              deadline=NOW + timedelta(hours=2))
    tomorrow = covering_network(session, patient, ["equipment"], start=NOW,
                                deadline=NOW + timedelta(hours=24))

    assert urgent == teams["far"].id and tomorrow == teams["near"].id


def test_no_cover_without_a_map_position_or_anyone_skilled(session: so.Session) -> None:
    """Without the patient's position, or with nobody anywhere skilled, the home team keeps it
    (and the planner reports it as no_skill there, as before)."""
    teams = _teams(session)
    patient = teams["patient"]

    window = {"start": NOW, "deadline": NOW + timedelta(hours=2)}
    assert covering_network(session, patient, ["iv_therapy"], **window) == teams["home"].id
    patient.lat = patient.lon = None
    assert covering_network(session, patient, ["equipment"], **window) == teams["home"].id
