"""Pooled network budgets (issue 17): committed spend, the approval check, the chart's rows."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from sqlalchemy import orm as so

from dispatch import models as m
from dispatch.actors import Actor
from dispatch.errors import Conflict, Forbidden, InvalidInput
from dispatch.services import budgets
from dispatch.services import packages as svc
from tests.dispatch import factories as f
from tests.dispatch.services.test_packages import NOW, TODAY, _package, _user, priced  # noqa: F401
from tests.dispatch.web.test_web_day import office_client

MANAGER_ACTOR = Actor(None, "manager", "manager")


def _budget(session: so.Session, network_id: int, pounds: int) -> m.NetworkBudget:
    """A budget for December 2026 to March 2027, half health, half social care."""
    return budgets.set_budget(session, network_id=network_id, period_start=date(2026, 12, 1),
                              period_end=date(2027, 4, 1), health_pence=pounds * 50,
                              social_care_pence=pounds * 50, actor=MANAGER_ACTOR, now=NOW)


def _submitted(session: so.Session, patient: m.Patient, weeks: int) -> m.CarePackage:
    """Home care 7 hours a week (£234.50 a week) for ``weeks`` weeks, submitted."""
    package = _package(session, patient, ("home_care_hour", 7, weeks))
    svc.submit_package(session, package_id=package.id, actor=Actor(None, "coord", "coordinator"),
                       now=NOW)
    return package


def test_committed_spend_counts_approved_packages_weeks_in_the_period(
        session: so.Session, priced: m.Patient) -> None:  # noqa: F811
    """An approved four-week package commits its four weeks; a draft commits nothing."""
    budget = _budget(session, priced.network_id, 10_000)
    approved = _submitted(session, priced, 4)
    svc.approve_package(session, package_id=approved.id, actor=_user(session, "coordinator"),
                        now=NOW)
    _package(session, priced, ("home_care_hour", 7, 4))

    figures = budgets.figures(session, budget)

    assert figures.committed_pence == approved.weekly_cost_pence * 4
    assert figures.available_pence == 1_000_000 - approved.weekly_cost_pence * 4


@pytest.mark.safety("H-231")
def test_coordinator_refused_over_budget_with_the_figures(
        session: so.Session, priced: m.Patient) -> None:  # noqa: F811
    """Within the coordinator's limit but over the network's budget: refused, naming the
    budget, what is committed, what is left and by how much it is over; a manager may."""
    _budget(session, priced.network_id, 500)
    package = _submitted(session, priced, 4)

    with pytest.raises(Forbidden) as refused:
        svc.approve_package(session, package_id=package.id,
                            actor=_user(session, "coordinator"), now=NOW)

    message = refused.value.message
    assert "over its budget" in message and "budget £500" in message
    assert "committed £0" in message and "it needs a manager" in message
    assert package.status == "submitted"
    svc.approve_package(session, package_id=package.id, actor=_user(session, "manager"),
                        now=NOW)
    assert package.status == "approved"


@pytest.mark.safety("H-231")
def test_no_budget_no_budget_check(session: so.Session, priced: m.Patient) -> None:  # noqa: F811
    """A network without a budget for the period approves on the limit alone (as before)."""
    package = _submitted(session, priced, 4)

    svc.approve_package(session, package_id=package.id, actor=_user(session, "coordinator"),
                        now=NOW)

    assert package.status == "approved"


def test_budget_overlap_and_bad_period_refused(session: so.Session,
                                               priced: m.Patient) -> None:  # noqa: F811
    """Two budgets for one network may not overlap; a period must end after it starts."""
    _budget(session, priced.network_id, 1_000)
    with pytest.raises(Conflict):
        _budget(session, priced.network_id, 2_000)
    with pytest.raises(InvalidInput) as bad:
        budgets.set_budget(session, network_id=priced.network_id,
                           period_start=date(2027, 5, 1), period_end=date(2027, 4, 1),
                           health_pence=1, social_care_pence=1, actor=MANAGER_ACTOR, now=NOW)
    assert "period_end" in (bad.value.errors or {})
    with pytest.raises(InvalidInput, match="invalid budget"):
        budgets.set_budget(session, network_id=priced.network_id,
                           period_start=date(2030, 1, 1), period_end=date(9999, 1, 1),
                           health_pence=1, social_care_pence=1, actor=MANAGER_ACTOR, now=NOW)


def test_by_month_splits_budget_and_commitments(session: so.Session,
                                                priced: m.Patient) -> None:  # noqa: F811
    """Four months: the budget pro rata by days, the package's spend in the months it runs."""
    budget = _budget(session, priced.network_id, 12_000)
    package = _submitted(session, priced, 4)
    svc.approve_package(session, package_id=package.id, actor=_user(session, "coordinator"),
                        now=NOW)

    rows = budgets.by_month(session, budget)

    assert [r[0] for r in rows] == [date(2026, 12, 1), date(2027, 1, 1), date(2027, 2, 1),
                                    date(2027, 3, 1)]
    assert sum(r[1] for r in rows) == pytest.approx(1_200_000, abs=2)
    assert rows[0][2] == package.weekly_cost_pence * 4 and rows[1][2] == 0


def test_api_budgets_set_read_and_chart(app: Any, client: Any, token_for: Any,
                                        session: so.Session) -> None:
    """A manager sets a budget; the figures and months come back; the chart draws; a
    coordinator may read but not set one."""
    network = f.network(session)
    session.commit()
    manager, coordinator = token_for("manager"), token_for("coordinator")
    body = {"period_start": "2026-12-01", "period_end": "2027-04-01",
            "health_pence": 600_000, "social_care_pence": 400_000}

    created = client.post(f"/api/networks/{network.id}/budgets", json=body, headers=manager)

    assert created.status_code == 201
    data = created.get_json()
    assert data["total_pence"] == 1_000_000 and data["available_pence"] == 1_000_000
    assert len(data["by_month"]) == 4
    listed = client.get(f"/api/networks/{network.id}/budgets", headers=coordinator)
    assert listed.status_code == 200 and listed.get_json()[0]["id"] == data["id"]
    chart = client.get(f"/api/budgets/{data['id']}/chart.svg", headers=coordinator)
    assert chart.status_code == 200 and chart.mimetype == "image/svg+xml"
    refused = client.post(f"/api/networks/{network.id}/budgets", json=body,
                          headers=coordinator)
    assert refused.status_code == 403
    clash = client.post(f"/api/networks/{network.id}/budgets", json=body, headers=manager)
    assert clash.status_code == 409


def test_budgets_page_shows_figures_and_chart(app: Any, session: so.Session,
                                              priced: m.Patient) -> None:  # noqa: F811
    """The page lists each network's budget, committed and left, with the month chart."""
    _budget(session, priced.network_id, 10_000)
    session.commit()
    client, _ = office_client(app, session, "manager")

    html = client.get("/budgets").get_data(as_text=True)

    assert "£10,000" in html and 'id="chart-budget-' in html


def test_budget_amounts_default_to_the_seeds_per_capita_spend(session: so.Session) -> None:
    """Left out, the amounts come from the seeds' per-capita spend of the network's top three
    strata (5 % pooled): one very high risk patient for a whole year (365 days, 2028 is a
    leap year) is £13,357 x 5 % of social care and £3,356 x 5 % of community health; the
    low risk patient adds nothing."""
    network = f.network(session)
    f.patient(session, network_id=network.id, risk_tier="very_high")
    f.patient(session, network_id=network.id, risk_tier="low", nhs_number="9434765870")
    session.flush()

    budget = budgets.set_budget(session, network_id=network.id, period_start=date(2027, 4, 1),
                                period_end=date(2028, 3, 31), health_pence=None,
                                social_care_pence=None, actor=MANAGER_ACTOR, now=NOW)

    assert budget.social_care_pence == 13_357 * 5
    assert budget.health_pence == 3_356 * 5


# -- H-231-C2: an over-budget package goes to a manager when it is sent --------------------


@pytest.mark.safety("H-231")
def test_over_budget_package_routed_to_a_manager_on_submit_with_the_figures(
        session: so.Session, priced: m.Patient) -> None:  # noqa: F811
    """Within a coordinator's limit (£938) but over the network's £500 budget: sent, it waits
    for a manager (audit and API), on the manager's list and not the coordinator's, with
    the figures; within budget it stays the coordinator's."""
    from dispatch.services import package_queue

    _budget(session, priced.network_id, 500)
    coordinator, manager = _user(session, "coordinator"), _user(session, "manager")
    limits = svc.approval_limits()
    package = _submitted(session, priced, 4)

    view = svc.describe(session, package)
    assert view.awaiting_role == "manager"
    assert view.over_budget is not None and "budget £500" in view.over_budget
    assert "left £500" in view.over_budget and "£438 over" in view.over_budget
    event = session.query(m.AuditEvent).filter_by(action="submit_package",
                                                  entity_id=str(package.id)).one()
    assert event.details["required_role"] == "manager" and "over_budget" in event.details
    assert package in package_queue.waiting_for(session, manager, limits)
    assert package not in package_queue.waiting_for(session, coordinator, limits)
    assert "it needs a manager" in (svc.approval_check(session, package=package,
                                                       actor=coordinator) or "")

    small = _package(session, priced, ("medication_visit", 1, 1))  # £19
    svc.submit_package(session, package_id=small.id, actor=coordinator, now=NOW)
    assert svc.describe(session, small).awaiting_role == "coordinator"
    assert svc.describe(session, small).over_budget is None
    assert small in package_queue.waiting_for(session, coordinator, limits)


@pytest.mark.safety("H-231")
def test_api_shows_the_over_budget_figures_and_the_page_warns_the_manager(
        app: Any, client: Any, token_for: Any, session: so.Session,
        priced: m.Patient) -> None:  # noqa: F811
    """Through the API: sending answers awaiting_role manager and over_budget; the manager's
    page shows the figures above the approve button."""
    _budget(session, priced.network_id, 500)
    package = _package(session, priced, ("home_care_hour", 7, 4))
    session.commit()
    coordinator = token_for("coordinator")

    sent = client.post(f"/api/packages/{package.id}/submit", headers=coordinator)

    assert sent.status_code == 200, sent.get_json()
    body = sent.get_json()
    assert body["awaiting_role"] == "manager" and "£438 over" in body["over_budget"]
    assert body["tier_weekly_guide_pence"] > 0
    approve = client.post(f"/api/packages/{package.id}/approve", json={},
                          headers=coordinator)
    assert approve.status_code == 403 and "over its budget" in str(approve.get_json())
    web, _ = office_client(app, session, "manager")
    html = web.get(f"/packages/{package.id}").get_data(as_text=True)
    assert 'id="over-budget"' in html and "£438 over" in html and 'id="approve"' in html
    assert "£256.87 a week for a very high risk person" in html  # the seeds' per-capita spend
