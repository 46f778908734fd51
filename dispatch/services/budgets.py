"""Pooled network budgets: what a network may spend on care packages, and what is committed.

The seeds' business case moves health and social care money into one pot per provider network
(seeds/002: pooled budgets, a care coordinator commissioning packages up to a threshold).
A budget covers a period (``period_start`` inclusive, ``period_end`` exclusive). Spend is
*committed* by every approved or active package of the network for the weeks it runs inside
the period: its weekly cost times the days of overlap over seven (a package without an end
date runs for the weeks its total buys). Approving a package checks the approver's limit
(``packages``) **and** the budget left: a package that would take the network over its
budget is refused to anyone but a manager, with the figures, so the decision goes to someone
who can move money.

Default amounts (:func:`suggested_pence`) come from the seeds' per-capita spend: the social
care spend per head of each risk stratum (seeds/002, social care column) for the network's
registered top-three-strata patients, times :data:`POOLED_SHARE`, plus the same share of their
community and primary care spend as the health part. The share is our assumption (the
business case's reinvestment of £24-41m against £590m total spend is 4-7 %).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Final

import sqlalchemy as sa
from sqlalchemy import orm as so

from dispatch.actors import Actor
from dispatch.errors import Conflict, InvalidInput, NotFound
from dispatch.models import CarePackage, Network, NetworkBudget, Patient
from dispatch.services import audit, strata

#: Package statuses whose cost is committed against the budget.
COMMITTING: Final = ("approved", "active")
#: Share of the top strata's per-capita spend pooled for packages (module docstring).
POOLED_SHARE: Final = 0.05
#: Per head a year, pounds, of the strata whose spend is pooled (the top three, which the
#: seeds' business case targets: "77 % of total costs"): social care, and community and
#: primary care, from the one copy of the seeds' table (dispatch.services.strata.PER_CAPITA).
POOLED_TIERS: Final = ("very_high", "high", "moderate")
SOCIAL_CARE_PER_CAPITA: Final = {t: strata.PER_CAPITA[t].social_care for t in POOLED_TIERS}
COMMUNITY_PER_CAPITA: Final = {t: strata.PER_CAPITA[t].community for t in POOLED_TIERS}
DAYS_PER_YEAR: Final = 365
#: A budget period is at most five years (a typing error otherwise; the chart is by month).
MAX_PERIOD_DAYS: Final = 5 * 366


@dataclass(frozen=True)
class BudgetFigures:
    """A budget and where it stands (pence)."""

    budget: NetworkBudget
    committed_pence: int

    @property
    def available_pence(self) -> int:
        """Budget left (negative when over)."""
        return self.budget.total_pence - self.committed_pence


def pounds(pence: int) -> str:
    """£1,234 (whole pounds, minus sign for negatives)."""
    sign = "-" if pence < 0 else ""
    return f"{sign}£{abs(pence) // 100:,}"


def set_budget(
    session: so.Session, *, network_id: int, period_start: date, period_end: date,
    health_pence: int | None, social_care_pence: int | None, actor: Actor, now: datetime,
) -> NetworkBudget:
    """Record a network's budget for a period; an amount left out is the seeds' per-capita
    figure for the network's register (:func:`suggested_pence`). :raise NotFound: no network.
    :raise InvalidInput: bad period or amounts. :raise Conflict: overlaps a budget it has."""
    if session.get(Network, network_id) is None:
        raise NotFound(f"network {network_id} not found")
    errors: dict[str, list[str]] = {}
    if period_end <= period_start:
        errors["period_end"] = ["must be after period_start"]
    elif (period_end - period_start).days > MAX_PERIOD_DAYS:
        errors["period_end"] = [f"a budget period is at most {MAX_PERIOD_DAYS} days"]
    elif health_pence is None or social_care_pence is None:
        health, social = suggested_pence(session, network_id, (period_end - period_start).days)
        health_pence = health if health_pence is None else health_pence
        social_care_pence = social if social_care_pence is None else social_care_pence
    for name, value in (("health_pence", health_pence), ("social_care_pence",
                                                          social_care_pence)):
        if value is not None and value < 0:
            errors[name] = ["must be 0 or more"]
    if errors or health_pence is None or social_care_pence is None:
        raise InvalidInput("invalid budget", errors=errors)
    clash = session.scalars(sa.select(NetworkBudget).where(
        NetworkBudget.network_id == network_id, NetworkBudget.period_start < period_end,
        NetworkBudget.period_end > period_start)).first()
    if clash is not None:
        raise Conflict(f"network {network_id} already has a budget for {clash.period_start} "
                       f"to {clash.period_end}")
    budget = NetworkBudget(network_id=network_id, period_start=period_start,
                           period_end=period_end, health_pence=health_pence,
                           social_care_pence=social_care_pence, created_by=actor.username,
                           created_at=now)
    session.add(budget)
    session.flush()
    audit.record(session, actor=actor, action="set_budget", now=now,
                 entity=("network_budget", budget.id), purpose="commissioning",
                 details={"network_id": network_id, "period_start": period_start.isoformat(),
                          "period_end": period_end.isoformat(), "total_pence":
                          budget.total_pence})
    return budget


def suggested_pence(session: so.Session, network_id: int, days: int) -> tuple[int, int]:
    """(health, social care) pence for ``days`` from the seeds' per-capita spend."""
    counts = {row[0]: int(row[1]) for row in session.execute(
        sa.select(Patient.risk_tier, sa.func.count()).where(Patient.network_id == network_id)
        .group_by(Patient.risk_tier))}
    scale = POOLED_SHARE * days / DAYS_PER_YEAR * 100
    social = sum(SOCIAL_CARE_PER_CAPITA[t] * counts.get(t, 0) for t in SOCIAL_CARE_PER_CAPITA)
    health = sum(COMMUNITY_PER_CAPITA[t] * counts.get(t, 0) for t in COMMUNITY_PER_CAPITA)
    return round(health * scale), round(social * scale)


def budgets_of(session: so.Session, network_id: int) -> list[NetworkBudget]:
    """A network's budgets, earliest first."""
    return list(session.scalars(sa.select(NetworkBudget).where(
        NetworkBudget.network_id == network_id).order_by(NetworkBudget.period_start)))


def budget_on(session: so.Session, network_id: int, day: date) -> NetworkBudget | None:
    """The network's budget whose period holds ``day``, if any."""
    return session.scalars(sa.select(NetworkBudget).where(
        NetworkBudget.network_id == network_id, NetworkBudget.period_start <= day,
        NetworkBudget.period_end > day)).first()


def spend_in(package: CarePackage, start: date, end: date) -> int:
    """Pence of ``package`` falling in ``start..end`` (weekly cost per day of overlap).

    A package without an end date runs for the weeks its total buys (its lines' weeks)."""
    weekly = package.weekly_cost_pence
    if weekly <= 0:
        return 0
    runs_to = package.end_date or package.start_date + timedelta(
        days=math.ceil(package.total_cost_pence * 7 / weekly))
    first, last = max(package.start_date, start), min(runs_to, end)
    days = (last - first).days
    return max(0, min(package.total_cost_pence, round(weekly * days / 7)))


def figures(session: so.Session, budget: NetworkBudget,
            exclude_package_id: int | None = None) -> BudgetFigures:
    """The budget with the spend committed against it."""
    packages = _committing(session, budget.network_id, exclude_package_id)
    committed = sum(spend_in(p, budget.period_start, budget.period_end) for p in packages)
    return BudgetFigures(budget, committed)


def over_budget(session: so.Session, package: CarePackage) -> str | None:
    """Why approving ``package`` would overspend its network's budget (with the figures), or
    None: no network, no budget for its start date, or it fits."""
    if package.network_id is None:
        return None
    budget = budget_on(session, package.network_id, package.start_date)
    if budget is None:
        return None
    now_standing = figures(session, budget, exclude_package_id=package.id)
    this = spend_in(package, budget.period_start, budget.period_end)
    over = this - now_standing.available_pence
    if over <= 0:
        return None
    return (f"this package would take the network over its budget for "
            f"{budget.period_start:%d %B %Y} to {budget.period_end:%d %B %Y}: budget "
            f"{pounds(budget.total_pence)}, committed {pounds(now_standing.committed_pence)}, "
            f"left {pounds(now_standing.available_pence)}, this package "
            f"{pounds(this)} in the period, {pounds(over)} over; it needs a manager")


def describe(session: so.Session, budget: NetworkBudget) -> dict[str, Any]:
    """A budget with its figures and months (the API's and the page's shape)."""
    standing = figures(session, budget)
    return {
        "id": budget.id, "network_id": budget.network_id,
        "period_start": budget.period_start, "period_end": budget.period_end,
        "health_pence": budget.health_pence, "social_care_pence": budget.social_care_pence,
        "total_pence": budget.total_pence, "committed_pence": standing.committed_pence,
        "available_pence": standing.available_pence,
        "by_month": [{"month": m, "budget_pence": b, "committed_pence": c}
                     for m, b, c in by_month(session, budget)],
    }


def network_budgets(session: so.Session) -> list[tuple[str, list[dict[str, Any]]]]:
    """(network name, its budgets described) for every network, by name (the page)."""
    networks = session.execute(sa.select(Network.id, Network.name).order_by(Network.name))
    return [(name, [describe(session, b) for b in budgets_of(session, network_id)])
            for network_id, name in networks.all()]


def by_month(session: so.Session, budget: NetworkBudget) -> list[tuple[date, int, int]]:
    """(month start, budget for the month pro rata, committed in the month) for the chart."""
    packages = _committing(session, budget.network_id, None)
    span = (budget.period_end - budget.period_start).days
    rows = []
    for first, last in _months(budget.period_start, budget.period_end):
        share = round(budget.total_pence * (last - first).days / span)
        rows.append((first, share, sum(spend_in(p, first, last) for p in packages)))
    return rows


def _committing(session: so.Session, network_id: int,
                exclude: int | None) -> list[CarePackage]:
    stmt = sa.select(CarePackage).where(CarePackage.network_id == network_id,
                                        CarePackage.status.in_(COMMITTING))
    if exclude is not None:
        stmt = stmt.where(CarePackage.id != exclude)
    return list(session.scalars(stmt.order_by(CarePackage.id)))


def _months(start: date, end: date) -> Iterator[tuple[date, date]]:
    cursor = start
    while cursor < end:
        following = (cursor.replace(day=1) + timedelta(days=32)).replace(day=1)
        yield cursor, min(following, end)
        cursor = following
