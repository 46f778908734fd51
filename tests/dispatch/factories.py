"""Valid rows for every model, so a test can break exactly one field."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import orm as so

from dispatch import models as m

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
VALID_NHS = "9434765919"


def network(session: so.Session, **kw: Any) -> m.Network:
    row = m.Network(
        **{"code": "HF-N1", "name": "H&F North", "borough": "Hammersmith & Fulham", **kw}
    )
    session.add(row)
    session.flush()
    return row


def base(session: so.Session, **kw: Any) -> m.StaffBase:
    defaults = {"code": "B1", "name": "White City hub", "postcode": "W12 7RQ", "lat": 51.51,
                "lon": -0.23}
    row = m.StaffBase(**{**defaults, **kw})
    session.add(row)
    session.flush()
    return row


def patient(session: so.Session, **kw: Any) -> m.Patient:
    defaults: dict[str, Any] = {
        "nhs_number": VALID_NHS, "given_name": "Joe", "family_name": "Bloggs",
        "date_of_birth": date(1941, 3, 2), "address": "1 Wood Lane", "postcode": "W12 7RQ",
        "risk_tier": "very_high", "frailty": 6, "conditions": ["dementia"],
    }
    row = m.Patient(**{**defaults, **kw})
    session.add(row)
    session.flush()
    return row


def staff(session: so.Session, **kw: Any) -> m.Staff:
    defaults = {"code": "S1", "name": "Nurse One", "role": "district_nurse",
                "skills": ["wound_care"], "phone": "+447700900001", "travel_mode": "car"}
    row = m.Staff(**{**defaults, **kw})
    session.add(row)
    session.flush()
    return row


def referral(session: so.Session, patient_id: int, **kw: Any) -> m.Referral:
    defaults: dict[str, Any] = {
        "patient_id": patient_id, "source": "111", "referrer_name": "Call handler",
        "received_at": NOW, "status": "triaged", "category": "urgent_2h", "priority": 2,
        "deadline": NOW + timedelta(hours=2),
    }
    row = m.Referral(**{**defaults, **kw})
    session.add(row)
    session.flush()
    return row


def visit(session: so.Session, referral_id: int | None, patient_id: int, **kw: Any) -> m.Visit:
    defaults: dict[str, Any] = {
        "reference": "4821", "referral_id": referral_id, "patient_id": patient_id,
        "category": "urgent_2h", "skills": ["falls_assessment"], "duration_minutes": 45,
        "earliest_start": NOW, "deadline": NOW + timedelta(hours=2), "priority": 2,
    }
    row = m.Visit(**{**defaults, **kw})
    session.add(row)
    session.flush()
    return row
