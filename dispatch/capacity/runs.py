"""Capacity-planner runs as stored jobs: record a request, run it, report progress, cancel.

Why a job and not the web request: a search plays several simulated days and takes minutes.
``POST /api/capacity-plans`` records a ``pending`` row and wakes the ``run_capacity_plans``
job; the job runs :func:`dispatch.capacity.search.plan` with a progress callback that writes
``progress`` and ``note`` in their own short transactions (so a page polling the row sees them
at once) and checks for a cancel between simulated days. Like plan requests
(:mod:`dispatch.planning.runs`), no transaction is held open while the simulator runs.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import date, datetime
from typing import Any, Final

import sqlalchemy as sa
from sqlalchemy import orm as so

from dispatch.capacity.search import (
    ALL_NETWORKS,
    DEFAULT_DAYS,
    DEFAULT_HELD_OUT_VISITS,
    DEFAULT_HOLDOUT,
    DEFAULT_HOLDOUT_MARGIN,
    DayPlayer,
    PlanRequest,
    plan,
)
from dispatch.database import Database
from dispatch.errors import Conflict, InvalidInput, NotFound
from dispatch.models import CapacityPlan
from dispatch.simulation import mix as mixes
from dispatch.simulation.demand import resolve_mix
from dispatch.simulation.mix import MixError

log = logging.getLogger(__name__)

#: A run from the page or the API plays at most this many days per candidate and candidates
#: (the CLI may go further): a job must end in minutes on a shared machine.
MAX_DAYS: Final = 3
MAX_ROUNDS: Final = 8
MAX_HOLDOUT: Final = 3
#: Held-out days grow to expect this many 2-hour visits at most (and never past
#: ``search.MAX_HELD_OUT_DAYS``): one network's days are small, so this stays in minutes.
MAX_HELD_OUT_VISITS: Final = 100
NOTE_LENGTH: Final = 200


class Cancelled(Exception):
    """The run was cancelled while it ran; the search stops between simulated days."""


def request_of(data: Mapping[str, Any]) -> PlanRequest:
    """A :class:`PlanRequest` from the API's JSON. :raise InvalidInput: field and reason."""
    errors: dict[str, list[str]] = {}
    try:
        day = date.fromisoformat(str(data.get("date", "")))
    except ValueError:
        errors["date"] = ["must be a date, YYYY-MM-DD"]
    networks = tuple(data.get("networks") or ALL_NETWORKS)
    unknown = sorted(set(networks) - set(ALL_NETWORKS))
    if unknown:
        errors["networks"] = [f"unknown network {', '.join(unknown)}"]
    days, rounds = int(data.get("days", DEFAULT_DAYS)), int(data.get("max_rounds", MAX_ROUNDS))
    holdout = int(data.get("holdout", DEFAULT_HOLDOUT))
    margin = float(data.get("holdout_margin", DEFAULT_HOLDOUT_MARGIN))
    visits = int(data.get("held_out_visits", DEFAULT_HELD_OUT_VISITS))
    if not 1 <= days <= MAX_DAYS:
        errors["days"] = [f"must be 1-{MAX_DAYS}"]
    if not 0 <= holdout <= MAX_HOLDOUT:
        errors["holdout"] = [f"must be 0-{MAX_HOLDOUT}"]
    if not 0 <= visits <= MAX_HELD_OUT_VISITS:
        errors["held_out_visits"] = [f"must be 0-{MAX_HELD_OUT_VISITS}"]
    mix = None
    try:
        mix = mix_of(data.get("mix"))
    except MixError as exc:
        errors["mix"] = [str(exc)]
    if not 1 <= rounds <= MAX_ROUNDS:
        errors["max_rounds"] = [f"must be 1-{MAX_ROUNDS}"]
    target, growth = float(data.get("target", 0.95)), float(data.get("growth", 1.0))
    if not 0 < target <= 1:
        errors["target"] = ["must be above 0 and at most 1"]
    elif not 0 <= margin < target:
        errors["holdout_margin"] = ["must be at least 0 and below the target"]
    if not 0 < growth <= 5:
        errors["growth"] = ["must be above 0 and at most 5"]
    if errors:
        raise InvalidInput("invalid capacity plan request", errors=errors)
    return PlanRequest(day=day, seed=int(data.get("seed", 1)), target=target,
                       networks=networks, growth=growth, days=days, max_rounds=rounds,
                       mix=mix, holdout=holdout, holdout_margin=margin,
                       held_out_visits=visits)


def mix_of(value: Any) -> mixes.Mix | None:
    """The request's ``mix``: absent, an object of shares or the ``urgent=0.45,...`` text.
    :raise MixError: with the part at fault."""
    if value is None or value == "" or value == {}:
        return None
    given = mixes.parse(value) if isinstance(value, str) else mixes.from_json(value)
    return resolve_mix(given)


def create(session: so.Session, *, data: Mapping[str, Any], now: datetime,
           requested_by: str) -> CapacityPlan:
    """Record a run (``pending``). :raise InvalidInput: bad request, nothing written."""
    request = request_of(data)
    row = CapacityPlan(status="pending", progress=0.0, requested_by=requested_by,
                       created_at=now, request={
                           "date": request.day.isoformat(), "seed": request.seed,
                           "target": request.target, "networks": list(request.networks),
                           "growth": request.growth, "days": request.days,
                           "max_rounds": request.max_rounds, "holdout": request.holdout,
                           "holdout_margin": request.holdout_margin,
                           "held_out_visits": request.held_out_visits,
                           "mix": mixes.to_json(request.mix)})
    session.add(row)
    session.flush()
    return row


def get(session: so.Session, run_id: int) -> CapacityPlan:
    """:raise NotFound: no such run."""
    row = session.get(CapacityPlan, run_id)
    if row is None:
        raise NotFound(f"capacity plan {run_id} not found")
    return row


def cancel(session: so.Session, run_id: int, *, now: datetime) -> CapacityPlan:
    """Cancel a pending or running run. :raise Conflict: it has already finished."""
    row = get(session, run_id)
    if row.status not in ("pending", "running"):
        raise Conflict(f"capacity plan {run_id} is {row.status}")
    row.status, row.finished_at = "cancelled", now
    session.flush()
    return row


def latest(session: so.Session, limit: int = 10) -> list[CapacityPlan]:
    """The most recent runs, newest first (the page lists them)."""
    return list(session.scalars(
        sa.select(CapacityPlan).order_by(CapacityPlan.id.desc()).limit(limit)))


def run_pending(database: Database, *, clock: Callable[[], datetime],
                player: DayPlayer | None = None) -> list[int]:
    """The job: run every pending request, oldest first. Returns the ids it ran."""
    ran: list[int] = []
    while True:
        with database.session_scope() as session:
            run_id = session.scalars(sa.select(CapacityPlan.id).where(
                CapacityPlan.status == "pending").order_by(CapacityPlan.id).limit(1)).first()
        if run_id is None:
            return ran
        execute(database, run_id, clock=clock, player=player)
        ran.append(run_id)


def execute(database: Database, run_id: int, *, clock: Callable[[], datetime],
            player: DayPlayer | None = None) -> str:
    """Run one stored request; returns its final status (``done``, ``failed``, ``cancelled``)."""
    with database.session_scope() as session:
        row = get(session, run_id)
        if row.status != "pending":
            return row.status
        row.status, row.started_at = "running", clock()
        request = request_of(row.request)

    def progress(share: float, line: str) -> None:
        with database.session_scope() as session:
            row = get(session, run_id)
            if row.status == "cancelled":
                raise Cancelled(line)
            row.progress = round(min(1.0, max(0.0, share)), 4)
            row.note = line[:NOTE_LENGTH]

    try:
        result: dict[str, Any] | None = plan(request, player=player, progress=progress).to_json()
        error = None
    except Cancelled:
        return "cancelled"
    except Exception as exc:  # a failed run says why on its row; the job carries on
        log.exception("capacity plan %s failed", run_id)
        result, error = None, f"{type(exc).__name__}: {exc}"
    with database.session_scope() as session:
        row = get(session, run_id)
        if row.status == "cancelled":
            return row.status
        row.finished_at = clock()
        if error is not None:
            row.status, row.note = "failed", error[:NOTE_LENGTH]
        else:
            row.status, row.progress, row.result = "done", 1.0, result
        return row.status
