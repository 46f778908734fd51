"""A small dispatch world for the SMS tests: a network with an on-call phone, a patient, two
workers and one urgent visit ("4821"), built with the shared row factories."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import orm as so

from dispatch import models as m
from tests.dispatch import factories as f

NOW = datetime(2026, 12, 1, 10, 20, tzinfo=UTC)  # the tests' FIXED_NOW; London = UTC in December
ON_CALL = "+447700900900"
BASE_URL = "https://dispatch.example.nhs.uk"


@dataclass
class World:
    network: m.Network
    patient: m.Patient
    nurse: m.Staff
    other: m.Staff
    referral: m.Referral
    visit: m.Visit


def make_world(session: so.Session, *, suffix: str = "", reference: str = "4821") -> World:
    """Rows for one visit; ``suffix`` keeps codes and phones unique when building several."""
    network = f.network(session, code=f"HF-N1{suffix}", on_call_phone=ON_CALL)
    base = f.base(session, code=f"B1{suffix}", network_id=network.id)
    patient = f.patient(session, network_id=network.id,
                        **({"nhs_number": "4010232137"} if suffix else {}))
    nurse = f.staff(session, code=f"S1{suffix}", phone=f"+4477009000{suffix or '0'}1",
                    network_id=network.id, base_id=base.id)
    other = f.staff(session, code=f"S2{suffix}", phone=f"+4477009000{suffix or '0'}2",
                    network_id=network.id, base_id=base.id)
    referral = f.referral(session, patient.id, network_id=network.id, status="scheduled")
    visit = f.visit(session, referral.id, patient.id, network_id=network.id, reference=reference,
                    earliest_start=NOW, deadline=NOW + timedelta(hours=2))
    return World(network, patient, nurse, other, referral, visit)
