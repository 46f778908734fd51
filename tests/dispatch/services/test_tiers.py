"""Risk tiers that shape who serves whom (issue 17 item 1): hybrid workers serve the top two
tiers, coordinators own the top three, planned visits by tier; per network, defaults from the
seeds; the planner and manual assignment keep to them and say so when they refuse."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import orm as so

from dispatch import models as m
from dispatch.actors import Actor
from dispatch.errors import InvalidInput
from dispatch.planning import pipeline
from dispatch.planning.problem import build_problem
from dispatch.services import packages as svc
from dispatch.services import strata, tariffs
from routing.travel import GeodesicTravelTime
from tests.dispatch import factories as f
from tests.dispatch.planning.test_planning import NOW, world  # noqa: F401  (fixture)

MANAGER = Actor(None, "manager", "manager")
NOT_ELIGIBLE = "no one on shift with the skills may serve moderate-risk patients"


def _moderate_personal_care(session: so.Session, world: dict[str, Any]) -> m.Visit:  # noqa: F811
    """World visit 1002 (personal care: only the hybrid worker has it) for a moderate-risk
    patient."""
    world["patients"][1].risk_tier = "moderate"
    session.commit()
    return world["visits"][1]


# -- the rules ---------------------------------------------------------------------------------


def test_default_rules_are_the_seeds() -> None:
    """Hybrid workers serve very high and high; coordinators own the top three; planned
    visits by tier, all after a 24-hour response."""
    rules = strata.rules_from(None)
    assert strata.ordered(rules.hybrid_tiers) == ["very_high", "high"]
    assert strata.ordered(rules.coordinated_tiers) == ["very_high", "high", "moderate"]
    assert [rules.planned_priority[t] for t in ("very_high", "high", "moderate", "low",
                                                "very_low")] == [4, 4, 5, 5, 5]
    assert rules.serves("district_nurse") is None
    assert rules.refusal("hybrid_worker", "high") is None
    assert rules.refusal("hybrid_worker", "moderate") == (
        "hybrid workers in this network serve very high and high risk patients only; "
        "this patient is moderate risk")
    assert rules.refusal("district_nurse", "very_low") is None
    assert rules.urgent_any_tier and not rules.applies_to(2) and rules.applies_to(3)


def test_rules_validation_names_the_field_and_reason() -> None:
    with pytest.raises(InvalidInput) as bad:
        strata.validate({"hybrid_tiers": ["top"], "planned_priority": {"high": 2},
                         "colour": "red"})
    errors = bad.value.errors or {}
    assert set(errors) == {"hybrid_tiers", "planned_priority", "colour"}
    assert "from 4 to 5" in errors["planned_priority"][0]
    assert strata.validate({"hybrid_tiers": ["high", "very_high", "high"]}) == {
        "hybrid_tiers": ["very_high", "high"]}


def test_seeds_per_capita_weekly_social_care() -> None:
    """£13,357 a year for a very high risk person is £256.87 a week (seeds/002)."""
    assert strata.social_care_weekly_pence("very_high") == 25_687
    assert strata.PER_CAPITA["very_high"].total == 24_402


# -- the planner ---------------------------------------------------------------------------------


def test_problem_carries_tier_groups_and_what_each_shift_serves(
        session: so.Session, world: dict[str, Any]) -> None:  # noqa: F811
    """The visit's group is its patient's tier (none for a 2-hour visit, exempt by default);
    the hybrid shift serves the top two tiers; the nurse's shift every tier (routing itself
    knows no tiers)."""
    _moderate_personal_care(session, world)
    problem, index = build_problem(session, now=NOW, provider=GeodesicTravelTime(),
                                   network_id=world["network"].id)
    groups = {index.visits[v.id]: v.group for v in problem.visits}
    assert groups[world["visits"][1].id] == "moderate-risk patients"
    assert groups[world["visits"][0].id] is None  # a 2-hour visit: exempt by default
    serves = {index.staff_of_shift[s.id]: s.serves for s in problem.shifts}
    assert serves[world["hybrid"].id] == {"very high-risk patients", "high-risk patients"}
    assert serves[world["nurse"].id] is None


@pytest.mark.safety("H-232")
def test_planner_leaves_a_lower_tier_visit_to_hybrid_workers_unassigned_saying_why(
        session: so.Session, world: dict[str, Any]) -> None:  # noqa: F811
    """Only the hybrid worker has personal care, the patient is moderate risk: the planner
    does not send the hybrid worker and records the reason on the visit; once the network
    lets its hybrid workers serve moderate risk, it does."""
    visit = _moderate_personal_care(session, world)
    options = pipeline.Options(method="solve", seconds=5, solution_limit=50)

    pipeline.run(pipeline.OneSession(session), now=NOW, provider=GeodesicTravelTime(),
                 network_id=world["network"].id, options=options)
    session.commit()
    session.refresh(visit)
    assert visit.assigned_staff_id is None
    assert visit.unassigned_reason == NOT_ELIGIBLE

    strata.set_rules(session, network_id=world["network"].id, actor=MANAGER, now=NOW,
                     data={"hybrid_tiers": ["very_high", "high", "moderate"]})
    pipeline.run(pipeline.OneSession(session), now=NOW, provider=GeodesicTravelTime(),
                 network_id=world["network"].id, options=options)
    session.commit()
    session.refresh(visit)
    assert visit.assigned_staff_id == world["hybrid"].id and visit.unassigned_reason is None


# -- manual assignment -----------------------------------------------------------------------------


@pytest.mark.safety("H-232")
def test_manual_assignment_refuses_a_hybrid_worker_for_a_lower_tier_with_the_reason(
        client: FlaskClient, token_for: Callable[..., dict[str, str]], session: so.Session,
        world: dict[str, Any]) -> None:  # noqa: F811
    """The candidates list the hybrid worker as refused with the rule; assigning anyway is a
    409 naming the rule, even confirmed, and nothing is saved; the board says the same."""
    visit = _moderate_personal_care(session, world)
    headers = token_for("coordinator")

    found = client.get(f"/api/visits/{visit.id}/candidates", headers=headers).json
    hybrid = next(c for c in found if c["staff_id"] == world["hybrid"].id)
    assert hybrid["refused"] is True
    assert "serve very high and high risk patients only" in hybrid["reason"]
    assert "moderate risk" in hybrid["reason"]

    answer = client.post(f"/api/visits/{visit.id}/assign", headers=headers, json={
        "staff_id": world["hybrid"].id, "start": (NOW + timedelta(minutes=40)).isoformat(),
        "version": visit.version, "confirm": True})
    assert answer.status_code == 409
    assert answer.json["message"] == (
        "Hybrid may not take it: hybrid workers in this network serve very high and high "
        "risk patients only; this patient is moderate risk")
    session.expire_all()
    assert visit.status == "unassigned" and visit.assigned_staff_id is None


def test_board_assign_button_refuses_with_the_reason(
        app: Any, session: so.Session, world: dict[str, Any]) -> None:  # noqa: F811
    from tests.dispatch.web.test_web_day import office_client

    visit = _moderate_personal_care(session, world)
    web, _ = office_client(app, session, "coordinator")
    answer = web.post(f"/board/visits/{visit.id}/assign", data={
        "staff_id": str(world["hybrid"].id), "start_time": "11:00",
        "version": str(visit.version), "confirm": "yes"})
    assert answer.status_code == 409
    assert "serve very high and high risk patients only" in answer.get_data(as_text=True)


# -- planned visits by tier ----------------------------------------------------------------------


def test_package_visits_take_the_priority_of_the_patients_tier(
        session: so.Session) -> None:
    """A very high risk patient's package visits are priority 4, a low risk patient's 5; a
    network may change it."""
    tariffs.ensure_default_tariff(session, date(2026, 12, 1))
    net = f.network(session)
    top = f.patient(session, network_id=net.id, lat=51.512, lon=-0.225)
    low = f.patient(session, network_id=net.id, lat=51.512, lon=-0.225, risk_tier="low",
                    nhs_number="9434765870")
    coordinator = Actor(None, "coord", "coordinator")
    priorities = {}
    for patient in (top, low):
        package = svc.create_package(
            session, patient_id=patient.id, start_date=date(2026, 12, 2), end_date=None,
            lines=[svc.LineRequest("medication_visit", 7, 1)], actor=coordinator, now=NOW)
        svc.submit_package(session, package_id=package.id, actor=coordinator, now=NOW)
        svc.approve_package(session, package_id=package.id, actor=_manager(session), now=NOW)
        visits = svc.activate_package(session, package_id=package.id, actor=coordinator,
                                      now=NOW)
        priorities[patient.risk_tier] = {v.priority for v in visits}
    assert priorities == {"very_high": {4}, "low": {5}}

    strata.set_rules(session, network_id=net.id, actor=MANAGER, now=NOW,
                     data={"planned_priority": {"low": 4}})
    assert svc.planned_priority(session, package) == 4


def _manager(session: so.Session) -> Actor:
    from tests.dispatch.services.test_packages import _user

    return _user(session, "manager")


# -- configuration through the API, coordinators --------------------------------------------------


def test_tier_rules_api_defaults_set_refused_and_invalid(
        client: FlaskClient, token_for: Callable[..., dict[str, str]],
        session: so.Session) -> None:
    network = f.network(session)
    session.commit()
    manager, coordinator = token_for("manager"), token_for("coordinator")
    url = f"/api/networks/{network.id}/tier-rules"

    got = client.get(url, headers=coordinator)
    assert got.status_code == 200
    assert got.json["hybrid_tiers"] == ["very_high", "high"] and got.json["customised"] == []

    put = client.put(url, headers=manager, json={"coordinated_tiers": ["very_high", "high"]})
    assert put.status_code == 200, put.json
    assert put.json["coordinated_tiers"] == ["very_high", "high"]
    assert put.json["hybrid_tiers"] == ["very_high", "high"]  # left out: the default
    assert put.json["customised"] == ["coordinated_tiers"]

    assert client.put(url, headers=coordinator, json={}).status_code == 403
    bad = client.put(url, headers=manager, json={"hybrid_tiers": ["everyone"]})
    assert bad.status_code == 422 and "hybrid_tiers" in str(bad.json)
    low = client.put(url, headers=manager, json={"planned_priority": {"high": 6}})
    assert low.status_code == 422 and "planned_priority" in str(low.json)
    assert client.get("/api/networks/999999/tier-rules", headers=manager).status_code == 404


@pytest.mark.safety("H-233")
def test_patients_without_a_coordinator_flagged_by_their_networks_tiers(
        client: FlaskClient, token_for: Callable[..., dict[str, str]],
        session: so.Session) -> None:
    """A moderate-risk patient with no coordinator is flagged (count and list, API) under
    the default rules, and not once the network's coordinators own only the top two tiers;
    a low-risk patient never is."""
    network = f.network(session)
    moderate = f.patient(session, network_id=network.id, risk_tier="moderate")
    f.patient(session, network_id=network.id, risk_tier="low", nhs_number="9434765870")
    session.commit()
    headers = token_for("coordinator")
    query = f"?network_id={network.id}"

    sizes = client.get(f"/api/coordinators/caseloads{query}", headers=headers).json
    listed = client.get(f"/api/coordinators/uncoordinated{query}", headers=headers)
    assert sizes["uncoordinated"] == 1
    assert listed.status_code == 200
    assert [(p["patient_id"], p["risk_tier"]) for p in listed.json] == [(moderate.id,
                                                                          "moderate")]
    assert session.query(m.AuditEvent).filter_by(
        action="view_caseload", patient_id=moderate.id).count() == 1

    strata.set_rules(session, network_id=network.id, actor=MANAGER, now=NOW,
                     data={"coordinated_tiers": ["very_high", "high"]})
    session.commit()
    assert client.get(f"/api/coordinators/caseloads{query}",
                      headers=headers).json["uncoordinated"] == 0


def test_a_planned_referrals_visit_takes_the_priority_of_the_patients_tier(
        client: FlaskClient, token_for: Callable[..., dict[str, str]],
        session: so.Session) -> None:
    """A care package review (triaged planned, priority 4) for a registered low-risk patient
    makes a visit of priority 5 (the tier's, by the network's default rules)."""
    network = f.network(session)
    f.patient(session, network_id=network.id, risk_tier="low", lat=51.512, lon=-0.225)
    session.commit()
    body = {
        "source": "gp", "received_at": "2026-12-01T10:15:00+00:00",
        "referrer": {"name": "Dr A", "role": "GP", "organisation": "Practice"},
        "needs": ["care_package_review"],
        "patient": {"nhs_number": "943 476 5919", "given_name": "Joe", "family_name": "Bloggs",
                    "date_of_birth": "1941-03-02", "address": "1 Wood Lane",
                    "postcode": "w12 7rq"},
    }
    answer = client.post("/api/referrals", json=body, headers=token_for("call_handler"))
    assert answer.status_code in (200, 201), answer.json
    visit = session.query(m.Visit).one()
    assert (visit.category, visit.priority) == ("planned", 5)


@pytest.mark.safety("H-232")
def test_a_two_hour_visit_is_exempt_unless_the_network_says_otherwise(
        session: so.Session, world: dict[str, Any]) -> None:  # noqa: F811
    """By default the tier rule does not bind a 2-hour visit (anyone with the skills, so a
    person in crisis is not kept waiting by it): the problem gives it no group and the hybrid
    worker may be assigned; a network that sets urgent_any_tier false binds it too."""
    visit = _moderate_personal_care(session, world)
    visit.priority, visit.category = 2, "urgent_2h"
    session.commit()

    problem, index = build_problem(session, now=NOW, provider=GeodesicTravelTime(),
                                   network_id=world["network"].id)
    assert next(v for v in problem.visits if index.visits[v.id] == visit.id).group is None
    assert strata.worker_refusal(session, staff=world["hybrid"], visit=visit) is None

    strata.set_rules(session, network_id=world["network"].id, actor=MANAGER, now=NOW,
                     data={"urgent_any_tier": False})
    problem, index = build_problem(session, now=NOW, provider=GeodesicTravelTime(),
                                   network_id=world["network"].id)
    assert next(v for v in problem.visits
                if index.visits[v.id] == visit.id).group == "moderate-risk patients"
    assert "moderate risk" in (strata.worker_refusal(session, staff=world["hybrid"],
                                                     visit=visit) or "")
