"""Every model invariant is enforced by the database itself, not only by Python."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import orm as so

from dispatch import models as m
from tests.dispatch import factories as f
from tests.dispatch.factories import NOW


def _refused(session: so.Session, build: Callable[[], Any]) -> None:
    """Assert the database refuses what ``build`` writes, leaving the session usable.

    PostgreSQL refuses some bad values before the CHECK runs (a too-long string, a failed cast
    inside the check-digit expression) with a DataError; either way the row is not stored.
    """
    with pytest.raises((sa.exc.IntegrityError, sa.exc.DataError)), session.begin_nested():
        build()
        session.flush()


def _insert_raw(session: so.Session, table: str, **values: Any) -> None:
    """Insert bypassing the ORM (and its Python-side defaults) to reach the database checks."""
    session.execute(sa.insert(m.Base.metadata.tables[table]).values(**values))


@pytest.fixture
def world(session: so.Session) -> dict[str, Any]:
    net = f.network(session)
    pat = f.patient(session, network_id=net.id)
    ref = f.referral(session, pat.id, network_id=net.id)
    stf = f.staff(session, network_id=net.id)
    return {"network": net, "patient": pat, "referral": ref, "staff": stf}


@pytest.mark.parametrize(
    "nhs_number",
    ["9434765918", "943476591", "94347659190", "94347659A9", "1234567890"],
)
def test_patient_bad_nhs_number_refused_by_database(session: so.Session, nhs_number: str) -> None:
    """A wrong check digit, length or a letter is refused even if Python checks are bypassed."""
    _refused(session, lambda: f.patient(session, nhs_number=nhs_number))


def test_patient_valid_nhs_number_accepted(session: so.Session) -> None:
    """The published example number passes the database's check-digit constraint."""
    assert f.patient(session).id is not None


def test_patient_nhs_number_unique(session: so.Session) -> None:
    """One patient per NHS number."""
    f.patient(session)
    _refused(session, lambda: f.patient(session, given_name="Other"))


@pytest.mark.parametrize(
    "override",
    [
        {"risk_tier": "extreme"},
        {"frailty": 0},
        {"frailty": 10},
        {"consent_to_share": True},  # consent without who and when
        {"lat": 95.0},
    ],
)
def test_patient_bad_fields_refused(session: so.Session, override: dict[str, Any]) -> None:
    """Tier, frailty range, recorded consent and coordinates are database checks."""
    _refused(session, lambda: f.patient(session, **override))


def test_patient_consent_with_recorder_accepted(session: so.Session) -> None:
    """Consent is accepted when the recorder and time are given."""
    row = f.patient(
        session, consent_to_share=True, consent_recorded_by="GP", consent_recorded_at=NOW
    )
    assert row.consent_to_share


def test_network_borough_checked(session: so.Session) -> None:
    """Only London's 33 local authorities exist (issue 18: all of London, not only the
    tri-borough); anything else, or the ONS spelling of a tri-borough name, is refused."""
    f.network(session, code="CAM-1", borough="Camden")
    _refused(session, lambda: f.network(session, code="SUR-1", borough="Surrey"))
    _refused(session, lambda: f.network(session, code="HF-2", borough="Hammersmith and Fulham"))


@pytest.mark.parametrize("phone", ["07700900001", "+44 7700 900001", "+4477009000011234", "+44x"])
def test_staff_phone_must_be_e164(session: so.Session, phone: str) -> None:
    """SMS needs E.164 numbers: '+' and 8-15 digits, nothing else."""
    _refused(session, lambda: f.staff(session, phone=phone))


@pytest.mark.parametrize("override", [{"role": "surgeon"}, {"travel_mode": "helicopter"}])
def test_staff_vocabularies_checked(session: so.Session, override: dict[str, Any]) -> None:
    """Roles and travel modes are closed lists."""
    _refused(session, lambda: f.staff(session, **override))


@pytest.mark.parametrize(
    "override",
    [
        {"source": "pigeon"},
        {"status": "lost"},
        {"category": "whenever"},
        {"priority": 0},
        {"news2_total": 21},
        {"frailty": 10},
        {"deadline": NOW - timedelta(minutes=1)},
        {"status": "triaged", "category": None},
    ],
)
def test_referral_bad_fields_refused(
    session: so.Session, world: dict[str, Any], override: dict[str, Any]
) -> None:
    """Referral vocabularies, ranges and 'triaged implies a category' are database checks."""
    _refused(session, lambda: f.referral(session, world["patient"].id, **override))


def test_referral_idempotency_key_unique(session: so.Session, world: dict[str, Any]) -> None:
    """Two referrals can never share an Idempotency-Key."""
    pid = world["patient"].id
    f.referral(session, pid, idempotency_key="k1")
    _refused(session, lambda: f.referral(session, pid, idempotency_key="k1"))


@pytest.mark.parametrize(
    "override",
    [
        {"earliest_start": NOW + timedelta(hours=3)},  # after the deadline
        {"status": "flying"},
        {"duration_minutes": 0},
        {"priority": 6},
        {"status": "assigned"},  # staffed status without staff
        {"status": "completed"},  # no staff, no outcome
        {"outcome": "vanished"},
        {"jeopardy_cause": "bad luck"},
        {"category": "soon"},
    ],
)
def test_visit_bad_fields_refused(
    session: so.Session, world: dict[str, Any], override: dict[str, Any]
) -> None:
    """Visit window, statuses, staffing and outcomes are database checks."""
    ids = world["referral"].id, world["patient"].id
    _refused(session, lambda: f.visit(session, *ids, **override))


def test_visit_needs_referral_or_package(session: so.Session, world: dict[str, Any]) -> None:
    """A visit comes from a referral or a care package; one from nowhere is refused."""
    _refused(session, lambda: f.visit(session, None, world["patient"].id))


def test_visit_committed_status_must_be_pinned(session: so.Session, world: dict[str, Any]) -> None:
    """An accepted visit is pinned, so the planner can never move it."""
    ids = world["referral"].id, world["patient"].id
    sid = world["staff"].id
    _refused(
        session,
        lambda: f.visit(session, *ids, status="accepted", assigned_staff_id=sid, pinned=False),
    )
    row = f.visit(session, *ids, status="accepted", assigned_staff_id=sid, pinned=True)
    assert row.pinned


def test_visit_unassigned_cannot_name_staff(session: so.Session, world: dict[str, Any]) -> None:
    """'unassigned' with a worker is a contradiction the database refuses."""
    ids = world["referral"].id, world["patient"].id
    _refused(session, lambda: f.visit(session, *ids, assigned_staff_id=world["staff"].id))


def test_visit_reference_unique(session: so.Session, world: dict[str, Any]) -> None:
    """An SMS reference can only ever point at one visit."""
    ids = world["referral"].id, world["patient"].id
    f.visit(session, *ids)
    _refused(session, lambda: f.visit(session, *ids))


def test_foreign_keys_enforced(session: so.Session) -> None:
    """A referral for a patient who does not exist is refused (SQLite foreign keys are on)."""
    _refused(session, lambda: f.referral(session, 999_999))


def test_shift_must_end_after_start(session: so.Session, world: dict[str, Any]) -> None:
    """A shift ending before it starts is refused."""
    b = f.base(session)

    def build() -> None:
        session.add(
            m.Shift(
                code="SH1",
                staff_id=world["staff"].id,
                base_id=b.id,
                starts_at=NOW,
                ends_at=NOW - timedelta(hours=1),
            )
        )

    _refused(session, build)


def test_care_plan_versions_unique_and_append_only(
    session: so.Session, world: dict[str, Any]
) -> None:
    """Care plans are versioned: a version number is used once, and no version is rewritten."""
    pid = world["patient"].id
    session.add(m.CarePlan(patient_id=pid, version=1, summary="v1", author="GP"))
    session.flush()
    _refused(
        session,
        lambda: session.add(m.CarePlan(patient_id=pid, version=1, summary="x", author="GP")),
    )
    with pytest.raises(sa.exc.DBAPIError), session.begin_nested():
        session.execute(sa.text("UPDATE care_plans SET summary = 'rewritten'"))


def test_audit_events_append_only(session: so.Session) -> None:
    """The audit trail refuses UPDATE and DELETE in the database (trigger), on both engines."""
    session.add(m.AuditEvent(action="view_care_plan", username="u"))
    session.flush()
    for statement in ("UPDATE audit_events SET action = 'x'", "DELETE FROM audit_events"):
        with pytest.raises(sa.exc.DBAPIError), session.begin_nested():
            session.execute(sa.text(statement))


@pytest.mark.parametrize(
    ("direction", "status"),
    [("inbound", "pending"), ("outbound", "received"), ("sideways", "sent")],
)
def test_message_direction_and_status_consistent(
    session: so.Session, direction: str, status: str
) -> None:
    """Inbound messages are 'received'; outbound never are."""
    _refused(
        session,
        lambda: session.add(
            m.Message(direction=direction, status=status, to_number="+447700900001", body="x")
        ),
    )


def test_message_send_key_unique(session: so.Session) -> None:
    """An idempotent send key can be recorded only once."""
    session.add(m.Message(direction="outbound", to_number="+447700900001", body="a", send_key="k"))
    session.flush()
    _refused(
        session,
        lambda: session.add(
            m.Message(direction="outbound", to_number="+447700900001", body="b", send_key="k")
        ),
    )


@pytest.mark.parametrize(
    "override",
    [
        {"status": "pending"},
        {"status": "rejected"},
        {"weekly_cost_pence": -1},
        {"end_date": date(2026, 11, 1)},
    ],
)
def test_care_package_checks(
    session: so.Session, world: dict[str, Any], override: dict[str, Any]
) -> None:
    """Package statuses, a reason for rejection, non-negative costs and date order."""
    values = {
        "patient_id": world["patient"].id,
        "start_date": date(2026, 12, 1),
        "created_by": "coord",
        **override,
    }
    _refused(session, lambda: session.add(m.CarePackage(**values)))


def test_user_role_checked(session: so.Session) -> None:
    """Roles are the five of the permission table."""
    _refused(session, lambda: session.add(m.User(username="x", display_name="x", role="god")))


def test_raw_insert_without_status_defaults_refused(
    session: so.Session, world: dict[str, Any]
) -> None:
    """Bypassing the ORM does not bypass NOT NULL on the referral's received_at."""
    with pytest.raises(sa.exc.IntegrityError), session.begin_nested():
        _insert_raw(
            session,
            "referrals",
            patient_id=world["patient"].id,
            source="111",
            referrer_name="x",
            status="received",
            needs=[],
            red_flags=[],
            observations={},
            version=1,
            created_at=NOW,
            updated_at=NOW,
        )


def test_datetimes_round_trip_aware(session: so.Session, world: dict[str, Any]) -> None:
    """Times come back as aware UTC on SQLite too, so deadline arithmetic never mixes zones."""
    ref = world["referral"]
    session.expire_all()
    got = session.get(m.Referral, ref.id)
    assert got is not None and got.deadline == NOW + timedelta(hours=2)
    assert got.deadline.utcoffset() == timedelta(0)


def test_naive_datetime_refused(session: so.Session, world: dict[str, Any]) -> None:
    """A naive time is a bug (whose clock?), refused before it reaches the database."""
    with pytest.raises(sa.exc.StatementError), session.begin_nested():
        f.referral(session, world["patient"].id, received_at=NOW.replace(tzinfo=None))
