"""Care packages: costs, tariff dates, threshold routing, states, audit, visits, planning."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient
from sqlalchemy import orm as so

from dispatch import models as m
from dispatch.actors import Actor
from dispatch.errors import Forbidden, IllegalTransition, InvalidInput
from dispatch.planning import live
from dispatch.services import packages as svc
from dispatch.services import tariffs
from dispatch.services.network_scope import set_networks
from dispatch.services.users import add_user
from routing.travel import GeodesicTravelTime
from tests.dispatch import factories as f

NOW = datetime.fromisoformat("2026-12-01T10:20:00+00:00")  # the app's FIXED_NOW (London = UTC)
TODAY = date(2026, 12, 1)
LIMITS = dict(svc.DEFAULT_APPROVAL_LIMITS_PENCE)


@pytest.fixture
def priced(session: so.Session) -> m.Patient:
    """The default tariff and one patient near White City, in a network."""
    tariffs.ensure_default_tariff(session, TODAY)
    net = f.network(session)
    patient = f.patient(session, network_id=net.id, lat=51.512, lon=-0.225)
    session.commit()
    return patient


def _user(session: so.Session, role: str, limit: int | None = None, **kw: Any) -> Actor:
    user = add_user(session, username=f"{role}-{uuid.uuid4().hex[:8]}", role=role, now=NOW).user
    user.approval_limit_pence = limit
    user.network_id = kw.get("network_id")
    if user.network_id is not None:  # a coordinator of that network only
        set_networks(session, user=user, network_ids=[user.network_id], all_networks=False)
    session.flush()
    return Actor(user_id=user.id, username=user.username, role=role)


def _package(session: so.Session, patient: m.Patient, *lines: tuple[str, float, int],
             start: date = TODAY, actor: Actor | None = None) -> m.CarePackage:
    return svc.create_package(
        session, patient_id=patient.id, start_date=start, end_date=None,
        lines=[svc.LineRequest(code, units, weeks) for code, units, weeks in lines],
        actor=actor or Actor(None, "coord", "coordinator"), now=NOW)


# -- costs ----------------------------------------------------------------------------------


def test_line_weekly_pence_rounds_half_up() -> None:
    """Half a penny rounds up (not to even), and the units are taken as typed."""
    assert svc.line_weekly_pence(10.5, 3333) == 34997  # 34,996.5p
    assert svc.line_weekly_pence(0.5, 1) == 1
    assert svc.line_weekly_pence(0.1, 3) == 0  # 0.3p


def test_package_costs_sum_weekly_and_total() -> None:
    """Weekly is the sum of lines; total weights each line by its own weeks."""
    weekly, total = svc.package_costs([(14, 3100, 6), (3, 7200, 4)])
    assert weekly == 14 * 3100 + 3 * 7200
    assert total == 14 * 3100 * 6 + 3 * 7200 * 4


def test_create_package_computes_costs_from_tariff(session: so.Session, priced: m.Patient) -> None:
    """Costs come from the tariff, never from the request, and are copied onto the lines."""
    package = _package(session, priced, ("reablement_visit", 14, 6), ("meals_delivered", 7, 6))
    assert package.status == "draft"
    assert package.weekly_cost_pence == 14 * 3_100 + 7 * 720
    assert package.total_cost_pence == 6 * (14 * 3_100 + 7 * 720)
    assert sorted(i.unit_cost_pence for i in package.items) == [720, 3_100]


def test_price_used_is_the_one_effective_on_start_date(
    session: so.Session, priced: m.Patient
) -> None:
    """A new price from 1 Jan prices January packages; December packages keep the old one."""
    tariffs.set_price(session, code="reablement_visit", unit_cost_pence=3_300,
                      effective_from=date(2027, 1, 1), actor=Actor(None, "a", "admin"), now=NOW)
    before = _package(session, priced, ("reablement_visit", 7, 1), start=date(2026, 12, 31))
    after = _package(session, priced, ("reablement_visit", 7, 1), start=date(2027, 1, 1))
    assert (before.weekly_cost_pence, after.weekly_cost_pence) == (7 * 3_100, 7 * 3_300)


def test_create_package_rejects_bad_lines(session: so.Session, priced: m.Patient) -> None:
    """Unknown codes, zero units and too many visits a day are named per line."""
    with pytest.raises(InvalidInput) as caught:
        _package(session, priced, ("caviar", 1, 1), ("home_care_hour", 0, 1),
                 ("reablement_visit", 29, 2))
    assert set(caught.value.errors) == {"items.0.tariff_code", "items.1.units_per_week",
                                        "items.2.units_per_week"}


def test_ensure_default_tariff_is_idempotent(session: so.Session) -> None:
    """A second call adds nothing; a clock before April 2026 still gets today's prices."""
    first = tariffs.ensure_default_tariff(session, date(2025, 6, 1))
    second = tariffs.ensure_default_tariff(session, date(2025, 6, 1))
    assert len(first) == len(tariffs.DEFAULT_TARIFF) and second == []
    assert tariffs.price_on(session, "home_care_hour", date(2025, 6, 1)).unit_cost_pence == 3_350


# -- thresholds -----------------------------------------------------------------------------


@pytest.mark.parametrize("role", svc.APPROVER_ROLES)
@pytest.mark.parametrize("delta", [-1, 0, 1])
def test_threshold_routing_at_below_and_above(role: str, delta: int) -> None:
    """Each approver role may decide up to and including its limit; a penny more needs the next
    role (or, above the manager's, a manager with a higher personal limit)."""
    total = LIMITS[role] + delta
    refusal = svc.approval_refusal(total, role, None, LIMITS)
    routed = svc.route_for(total, LIMITS)
    if delta <= 0:
        assert refusal is None
        assert (routed.role, routed.above_every_default) == (role, False)
    else:
        assert refusal is not None and "above your approval limit" in refusal
        assert "needs a manager" in refusal
        assert routed.above_every_default == (role == "manager")


def test_route_for_picks_lowest_covering_role() -> None:
    """At the coordinator's limit it stays with coordinators; a penny more goes to a manager."""
    coordinator = LIMITS["coordinator"]
    assert svc.route_for(coordinator, LIMITS).role == "coordinator"
    assert svc.route_for(coordinator + 1, LIMITS).role == "manager"


@pytest.mark.parametrize("role", ["admin", "call_handler", "field_staff"])
def test_roles_without_authority_cannot_approve(role: str) -> None:
    """Admins (separation of duties) and non-approving roles are refused even for 1p or with a
    personal limit."""
    refusal = svc.approval_refusal(1, role, 10_000_000, LIMITS)
    assert refusal is not None and "cannot approve" in refusal
    assert ("separation of duties" in refusal) == (role == "admin")


def test_personal_limit_replaces_role_default() -> None:
    """A coordinator's own limit can be higher or lower than the role's."""
    assert svc.approval_refusal(600_000, "coordinator", 1_000_000, LIMITS) is None
    assert svc.approval_refusal(200_000, "coordinator", 100_000, LIMITS) is not None


def test_approval_limits_rejects_bad_settings() -> None:
    """Only approving roles and whole non-negative pence are accepted as settings."""
    assert svc.approval_limits({"coordinator": 1})["coordinator"] == 1
    with pytest.raises(ValueError, match="only coordinator, manager approve"):
        svc.approval_limits({"admin": 5})
    with pytest.raises(ValueError, match="whole number"):
        svc.approval_limits({"manager": 1.5})


def _block(session: so.Session, patient: m.Patient, total: int) -> m.CarePackage:
    """A one-week package costing exactly ``total`` pence (a test-only tariff code)."""
    code = f"block_{total}"
    tariffs.set_price(session, code=code, unit_cost_pence=total, effective_from=TODAY,
                      name="Test block", unit="block", actor=Actor(None, "a", "admin"), now=NOW)
    return _package(session, patient, (code, 1, 1))


@pytest.mark.parametrize("delta", [-1, 0, 1])
def test_coordinator_approval_in_service_at_threshold_edges(
    session: so.Session, priced: m.Patient, delta: int
) -> None:
    """Through the service: a coordinator approves at and below the limit; above it the
    package was routed to a manager and the coordinator gets a 403 naming that role."""
    package = _block(session, priced, LIMITS["coordinator"] + delta)
    svc.submit_package(session, package_id=package.id, actor=_user(session, "coordinator"),
                       now=NOW)
    assert svc.awaiting_role(session, package) == ("manager" if delta > 0 else "coordinator")
    coordinator = _user(session, "coordinator", None, network_id=None)
    if delta <= 0:
        svc.approve_package(session, package_id=package.id, actor=coordinator, now=NOW)
        assert (package.status, package.decided_by) == ("approved", coordinator.username)
    else:
        with pytest.raises(Forbidden, match="needs a manager"):
            svc.approve_package(session, package_id=package.id, actor=coordinator, now=NOW)
        svc.approve_package(session, package_id=package.id, actor=_user(session, "manager"),
                            now=NOW)
        assert package.status == "approved"


def test_coordinator_of_another_network_cannot_decide(
    session: so.Session, priced: m.Patient
) -> None:
    """A network's coordinator decides that network's packages only."""
    other = f.network(session, code="KC-N1", name="K&C North", borough="Kensington & Chelsea")
    package = _block(session, priced, 1_000)
    svc.submit_package(session, package_id=package.id, actor=Actor(None, "c", "coordinator"),
                       now=NOW)
    with pytest.raises(Forbidden, match="own network"):
        svc.approve_package(session, package_id=package.id, now=NOW,
                            actor=_user(session, "coordinator", network_id=other.id))


# -- states and audit -----------------------------------------------------------------------


def test_rejection_needs_a_reason(session: so.Session, priced: m.Patient) -> None:
    """A rejection without a real reason is refused; with one it is stored."""
    package = _block(session, priced, 1_000)
    svc.submit_package(session, package_id=package.id, actor=Actor(None, "c", "coordinator"),
                       now=NOW)
    manager = _user(session, "manager")
    with pytest.raises(InvalidInput):
        svc.reject_package(session, package_id=package.id, actor=manager, now=NOW, reason="no")
    svc.reject_package(session, package_id=package.id, actor=manager, now=NOW,
                       reason="family already arranging private care")
    assert package.status == "rejected"
    assert package.decision_reason == "family already arranging private care"


@pytest.mark.parametrize("action", ["approve", "activate", "end"])
def test_illegal_moves_from_draft_are_refused(
    session: so.Session, priced: m.Patient, action: str
) -> None:
    """A draft cannot be approved, started or ended; the error names what is allowed."""
    package = _block(session, priced, 1_000)
    manager = _user(session, "manager")
    call: Callable[..., Any] = {"approve": svc.approve_package, "activate": svc.activate_package,
                                "end": svc.end_package}[action]
    with pytest.raises(IllegalTransition, match="allowed from 'draft': submitted"):
        call(session, package_id=package.id, actor=manager, now=NOW)


def test_each_change_is_audited(session: so.Session, priced: m.Patient) -> None:
    """Create, submit (with the role it waits for), approve, activate and end each leave an
    audit event on the patient."""
    coordinator = _user(session, "coordinator")
    package = _package(session, priced, ("reablement_visit", 14, 1), start=TODAY,
                       actor=coordinator)
    for step in (svc.submit_package, svc.approve_package, svc.activate_package,
                 svc.end_package):
        step(session, package_id=package.id, actor=coordinator, now=NOW)
    events = session.scalars(sa.select(m.AuditEvent).where(
        m.AuditEvent.entity_type == "care_package",
        m.AuditEvent.entity_id == str(package.id)).order_by(m.AuditEvent.id)).all()
    assert [e.action for e in events] == ["create_package", "submit_package", "approve_package",
                                          "activate_package", "end_package"]
    assert all(e.patient_id == priced.id and e.username == coordinator.username for e in events)
    assert events[1].details["required_role"] == "coordinator"


# -- visits ---------------------------------------------------------------------------------


def test_daily_counts_spread_visits_evenly() -> None:
    """Three a week fall on alternate days; fourteen are two a day."""
    assert tariffs.daily_counts(3) == (0, 0, 1, 0, 1, 0, 1)
    assert tariffs.daily_counts(14) == (2,) * 7


def test_expand_visits_keeps_london_wall_clock_across_clock_change() -> None:
    """08:00 London is 08:00 UTC before 29 March 2026 and 07:00 UTC after it."""
    visits = tariffs.expand_visits("reablement_visit", units_per_week=7,
                                   first_day=date(2026, 3, 28), last_day=date(2026, 3, 30))
    starts = [v.earliest_start for v in visits]
    assert starts == [datetime(2026, 3, 28, 8, tzinfo=UTC), datetime(2026, 3, 29, 7, tzinfo=UTC),
                      datetime(2026, 3, 30, 7, tzinfo=UTC)]
    assert all(v.deadline - v.earliest_start == timedelta(hours=2) for v in visits)


def _approved(session: so.Session, patient: m.Patient, start: date, units: float = 14,
              code: str = "reablement_visit") -> m.CarePackage:
    manager = _user(session, "manager")
    package = _package(session, patient, (code, units, 1), start=start)
    svc.submit_package(session, package_id=package.id, actor=manager, now=NOW)
    svc.approve_package(session, package_id=package.id, actor=manager, now=NOW)
    return package


def test_activation_creates_visits_with_windows_and_skills(
    session: so.Session, priced: m.Patient
) -> None:
    """Reablement twice a day for a week from tomorrow: 14 unassigned planned visits, 08-10 and
    17-19 London, reablement skill, no referral, priority 4, each with its own reference."""
    package = _approved(session, priced, date(2026, 12, 2))
    visits = svc.activate_package(session, package_id=package.id,
                                  actor=Actor(None, "c", "coordinator"), now=NOW)
    assert package.status == "active" and len(visits) == 14
    assert {(v.earliest_start.hour, v.deadline.hour) for v in visits} == {(8, 10), (17, 19)}
    assert {(v.package_id, v.referral_id, v.category, v.priority, v.status)
            for v in visits} == {(package.id, None, "planned", 4, "unassigned")}
    assert all(v.skills == ["reablement"] and v.duration_minutes == 45 for v in visits)
    assert len({v.reference for v in visits}) == 14
    assert all(v.network_id == priced.network_id for v in visits)


def test_activation_skips_windows_already_over(session: so.Session, priced: m.Patient) -> None:
    """Started at 10:20 on its first day, this morning's 08-10 visit is not created."""
    package = _approved(session, priced, TODAY)
    visits = svc.activate_package(session, package_id=package.id,
                                  actor=Actor(None, "c", "coordinator"), now=NOW)
    assert len(visits) == 13 and min(v.earliest_start for v in visits).hour == 17


def test_ending_a_package_cancels_its_open_visits(session: so.Session, priced: m.Patient) -> None:
    """Ending stops the care: visits not yet under way are cancelled, the end date is today."""
    package = _approved(session, priced, date(2026, 12, 2))
    svc.activate_package(session, package_id=package.id, actor=Actor(None, "c", "coordinator"),
                         now=NOW)
    svc.end_package(session, package_id=package.id, actor=Actor(None, "c", "coordinator"),
                    now=NOW, reason="admitted to hospital")
    statuses = set(session.scalars(sa.select(m.Visit.status).where(
        m.Visit.package_id == package.id)))
    assert package.status == "ended" and statuses == {"cancelled"}
    assert package.end_date == package.start_date  # never before the start


def test_package_visits_are_planned(session: so.Session, priced: m.Patient) -> None:
    """After activation the live planner offers this evening's visit to the worker on shift
    who holds the reablement skill, inside its 17:00-19:00 window."""
    base = f.base(session, network_id=priced.network_id)
    worker = f.staff(session, code="hw", name="Hybrid", role="hybrid_worker",
                     network_id=priced.network_id, base_id=base.id,
                     skills=["reablement", "personal_care"])
    session.add(m.Shift(code="sh-hw", staff_id=worker.id, base_id=base.id,
                        starts_at=NOW - timedelta(hours=1), ends_at=NOW + timedelta(hours=10)))
    package = _approved(session, priced, TODAY)
    svc.activate_package(session, package_id=package.id, actor=Actor(None, "c", "coordinator"),
                         now=NOW)
    session.commit()
    live.place_new_visits(session, now=NOW, provider=GeodesicTravelTime(), seconds=0.5)
    evening = session.scalars(sa.select(m.Visit).where(m.Visit.package_id == package.id)
                              .order_by(m.Visit.earliest_start)).first()
    assert evening is not None
    assert (evening.status, evening.assigned_staff_id) == ("offered", worker.id)
    assert evening.planned_start is not None
    assert evening.earliest_start <= evening.planned_start <= evening.deadline


# -- API ------------------------------------------------------------------------------------


def test_api_threshold_flow(
    client: FlaskClient, token_for: Callable[..., dict[str, str]], session: so.Session,
    priced: m.Patient,
) -> None:
    """Above the coordinator's limit: POST builds it, submit routes it to a manager, the
    coordinator's approval is a 403 naming the manager role, the manager's succeeds."""
    coordinator, manager = token_for("coordinator"), token_for("manager")
    body = {"patient_id": priced.id, "start_date": "2026-12-02",
            "items": [{"tariff_code": "night_sitting", "units_per_week": 7, "weeks": 4}]}
    created = client.post("/api/packages", json=body, headers=coordinator)
    assert created.status_code == 201, created.json
    pid = created.json["id"]
    assert created.json["total_cost_pence"] == 7 * 21_000 * 4
    assert created.json["total_cost"] == "£5,880.00"
    submitted = client.post(f"/api/packages/{pid}/submit", headers=coordinator)
    assert submitted.json["awaiting_role"] == "manager"
    refused = client.post(f"/api/packages/{pid}/approve", json={}, headers=coordinator)
    assert refused.status_code == 403 and "needs a manager" in refused.json["message"]
    approved = client.post(f"/api/packages/{pid}/approve", json={}, headers=manager)
    assert approved.status_code == 200 and approved.json["status"] == "approved"
    actions = session.scalars(sa.select(m.AuditEvent.action).where(
        m.AuditEvent.entity_id == str(pid), m.AuditEvent.entity_type == "care_package")).all()
    assert "package_decision_refused" in actions


def test_api_reject_requires_reason_and_admin_is_forbidden(
    client: FlaskClient, token_for: Callable[..., dict[str, str]], priced: m.Patient
) -> None:
    """Reject without a reason is a 422; an admin may not decide at all (403)."""
    coordinator = token_for("coordinator")
    body = {"patient_id": priced.id, "start_date": "2026-12-02",
            "items": [{"tariff_code": "meals_delivered", "units_per_week": 7, "weeks": 2}]}
    pid = client.post("/api/packages", json=body, headers=coordinator).json["id"]
    client.post(f"/api/packages/{pid}/submit", headers=coordinator)
    assert client.post(f"/api/packages/{pid}/reject", json={},
                       headers=coordinator).status_code == 422
    assert client.post(f"/api/packages/{pid}/approve", json={},
                       headers=token_for("admin")).status_code == 403
    rejected = client.post(f"/api/packages/{pid}/reject", headers=coordinator,
                           json={"reason": "needs are met by the day centre"})
    assert rejected.json["status"] == "rejected"


def test_api_tariff_lists_prices_and_visit_items(
    client: FlaskClient, token_for: Callable[..., dict[str, str]], priced: m.Patient
) -> None:
    """GET /api/tariff shows today's prices and which items create visits."""
    rows = {r["code"]: r for r in client.get("/api/tariff", headers=token_for("call_handler")).json}
    assert rows["reablement_visit"]["implies_visits"] is True
    assert rows["meals_delivered"]["implies_visits"] is False
    assert rows["home_care_hour"]["unit_cost_pence"] == 3_350
