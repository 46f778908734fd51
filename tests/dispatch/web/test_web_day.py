"""Helpers for the field staff, board, KPI, package and audit page tests (no tests here): a
small hand-made day on one network, and users signed in as a worker or office role."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import orm as so

from dispatch import models as m
from tests.dispatch import factories as f
from tests.dispatch.web.test_web_support import add_web_user, sign_in, web_client

NOW = f.NOW + timedelta(minutes=80)  # the app's FIXED_NOW, 10:20 UTC (London) on 1 Dec 2026


@dataclass
class Day:
    network: m.Network
    base: m.StaffBase
    nurse: m.Staff
    other: m.Staff
    patient: m.Patient
    mine: m.Visit  # offered to the nurse
    theirs: m.Visit  # offered to the other worker
    late: m.Visit  # unassigned, deadline passed: jeopardy


def make_day(session: so.Session) -> Day:
    """One network, a base, two nurses on shift 08:00-20:00, a patient and three visits."""
    network = f.network(session)
    base = f.base(session, network_id=network.id)
    nurse = f.staff(session, network_id=network.id, base_id=base.id,
                    skills=["falls_assessment", "wound_care"])
    other = f.staff(session, code="S2", name="Nurse Two", phone="+447700900002",
                    network_id=network.id, base_id=base.id, skills=["falls_assessment"])
    for n, worker in enumerate((nurse, other)):
        session.add(m.Shift(code=f"SH{n}", staff_id=worker.id, base_id=base.id,
                            starts_at=f.NOW - timedelta(hours=1),
                            ends_at=f.NOW + timedelta(hours=11),
                            breaks=[{"start": (f.NOW + timedelta(hours=4)).isoformat(),
                                     "end": (f.NOW + timedelta(hours=4, minutes=30)).isoformat()}]))
    patient = f.patient(session, network_id=network.id, lat=51.515, lon=-0.225,
                        access_notes="Key safe by the door, code 4821", consent_to_share=True,
                        consent_recorded_by="Dr Patel", consent_recorded_at=f.NOW)
    session.add(m.CarePlan(patient_id=patient.id, version=1, author="Dr Patel",
                           summary="Lives alone; early dementia", content={"lives": "alone"}))
    referral = f.referral(session, patient.id, network_id=network.id)
    mine = _visit(session, referral.id, patient.id, network.id, "4821", nurse.id, "offered")
    theirs = _visit(session, referral.id, patient.id, network.id, "5555", other.id, "offered")
    late = f.visit(session, referral.id, patient.id, reference="7777", network_id=network.id,
                   deadline=f.NOW + timedelta(minutes=30), reason="Fall at home, no injury")
    session.commit()
    return Day(network, base, nurse, other, patient, mine, theirs, late)


def _visit(session: so.Session, referral_id: int, patient_id: int, network_id: int,
           reference: str, staff_id: int, status: str, **kw: Any) -> m.Visit:
    return f.visit(session, referral_id, patient_id, reference=reference, network_id=network_id,
                   assigned_staff_id=staff_id, status=status, offered_at=NOW,
                   planned_start=NOW + timedelta(minutes=20), reason="Sudden confusion", **kw)


def worker_client(app: Flask, session: so.Session, staff: m.Staff) -> FlaskClient:
    """A client signed in as a field-staff user linked to ``staff``."""
    user = add_web_user(session, "field_staff")
    user.staff_id = staff.id
    session.commit()
    client = web_client(app)
    assert sign_in(client, user.username).status_code == 303
    return client


def office_client(app: Flask, session: so.Session, role: str,
                  **user_fields: Any) -> tuple[FlaskClient, m.User]:
    """A client signed in as a new user of an office ``role`` (fields set on the user)."""
    user = add_web_user(session, role)
    for name, value in user_fields.items():
        setattr(user, name, value)
    session.commit()
    client = web_client(app)
    assert sign_in(client, user.username).status_code == 303
    return client, user
