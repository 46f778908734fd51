"""``/api/plans``: ask the scheduler for a plan and read it back."""

from __future__ import annotations

from typing import Any

from flask import current_app, url_for
from flask.views import MethodView
from flask_smorest import Blueprint

from dispatch.api.schemas import (
    PlanRequestSchema,
    PlanSchema,
    ReplanSchema,
    WeekPlanRequestSchema,
    WeekPlanRunSchema,
)
from dispatch.auth import current_actor, request_id
from dispatch.config import DEFAULTS
from dispatch.db import get_session
from dispatch.jobs.wakeup import wake
from dispatch.planning import runs
from dispatch.request_clock import now
from dispatch.services import network_scope

blp = Blueprint(
    "plans",
    __name__,
    url_prefix="/api/plans",
    description="Scheduling runs: POST returns a plan id, GET polls it, DELETE cancels it",
)


@blp.route("")
class Plans(MethodView):
    @blp.arguments(PlanRequestSchema)
    @blp.response(201, PlanSchema)
    def post(self, data: dict[str, Any]) -> Any:
        """Request a plan for a network over a horizon; poll GET /api/plans/{id} for the result.

        The request is recorded ``pending`` and solved by the ``run_plans`` job (woken now),
        never in the web request. ``wait`` holds the answer until the job has finished it (at
        most ``PLAN_WAIT_SECONDS``; the plan may still be pending or running when it answers).
        The plan is a proposal: it does not change any assignment (the re-optimise job does).
        """
        session = get_session()
        plan = runs.create_plan(
            session,
            network_id=data.get("network"),
            horizon_hours=data["horizon_hours"],
            seconds=data["seconds"],
            now=now(),
            requested_by=current_actor().username,
        )
        session.commit()
        wake("run_plans")
        if data["wait"]:
            limit = float(current_app.config.get("PLAN_WAIT_SECONDS",
                                                 DEFAULTS["PLAN_WAIT_SECONDS"]))
            runs.wait_for(session, plan.id, seconds=limit)
        return plan


@blp.route("/<int:plan_id>")
class PlanById(MethodView):
    @blp.response(200, PlanSchema)
    @blp.alt_response(404, description="No such plan")
    def get(self, plan_id: int) -> Any:
        """A plan: its status and, when done, its routes and unassigned visits with reasons.

        The read is audited (a plan names visits, and so patients)."""
        session = get_session()
        plan = runs.read_plan(session, plan_id, actor=current_actor(), now=now(),
                              purpose="read a plan (API)", request_id=request_id())
        session.commit()
        return plan

    @blp.response(200, PlanSchema)
    @blp.alt_response(404, description="No such plan")
    @blp.alt_response(409, description="The plan has already finished (done, failed or "
                      "cancelled)")
    def delete(self, plan_id: int) -> Any:
        """Cancel a pending or running plan request (status ``cancelled``); a running solve
        stores nothing when it ends."""
        session = get_session()
        plan = runs.cancel_plan(session, plan_id, now=now())
        session.commit()
        return plan


networks_blp = Blueprint(
    "networks",
    __name__,
    url_prefix="/api/networks",
    description="A network's plan: re-plan now",
)


@networks_blp.route("/<int:network_id>/replan")
class NetworkReplan(MethodView):
    @networks_blp.response(200, ReplanSchema)
    @networks_blp.alt_response(202, schema=ReplanSchema,
                               description="Still running after REPLAN_WAIT_SECONDS: poll "
                               "GET /api/plans/{run_id}")
    @networks_blp.alt_response(403, description="A network you do not coordinate (the message "
                               "names yours)")
    @networks_blp.alt_response(404, description="No such network")
    def post(self, network_id: int) -> Any:
        """Re-optimise the network now and apply it; answers once applied, with what changed.

        Runs as the ``run_plans`` job (the request waits for it, at most
        ``REPLAN_WAIT_SECONDS``). Pinned (coordinator) and accepted visits stay with their
        worker, pinned ones at their time too, exactly as in the scheduled re-optimisation.
        """
        session = get_session()
        network_scope.require(session, current_actor(), network_id, what="That network")
        plan = runs.request_replan(
            session, network_id=network_id,
            seconds=float(current_app.config.get("REOPTIMISE_SECONDS",
                                                 DEFAULTS["REOPTIMISE_SECONDS"])),
            now=now(), requested_by=current_actor().username)
        session.commit()
        wake("run_plans")
        limit = float(current_app.config.get("REPLAN_WAIT_SECONDS",
                                             DEFAULTS["REPLAN_WAIT_SECONDS"]))
        outcome = runs.ReplanOutcome.of(runs.wait_for(session, plan.id, seconds=limit),
                                        network_id)
        return outcome, 200 if outcome.finished else 202


@networks_blp.route("/<int:network_id>/week-plan")
class NetworkWeekPlan(MethodView):
    @networks_blp.arguments(WeekPlanRequestSchema)
    @networks_blp.response(202, WeekPlanRunSchema)
    @networks_blp.alt_response(403, description="A network you do not coordinate (the message "
                               "names yours)")
    @networks_blp.alt_response(404, description="No such network")
    def post(self, data: dict[str, Any], network_id: int) -> Any:
        """Plan the network's coming days (care-package visits each in its day's window,
        the same carer preferred) and write the package visits back: today's and
        tomorrow's offered to their worker by SMS, later days booked provisionally.

        Pinned, offered, accepted and in-jeopardy visits, and visits that are not package
        visits, are left as they are; a re-run changes only what has changed. ``dry_run``
        says what it would do and writes nothing. Runs as a planning task (the
        ``run_plans`` job, or a worker when a task broker is configured), never in the
        request (``WEEK_PLAN_SECONDS``): the answer is 202 with the run id and the URL to
        poll (``GET /api/plans/{run_id}``), whose ``result`` is what it did.
        """
        session = get_session()
        network_scope.require(session, current_actor(), network_id, what="That network")
        plan = runs.request_week(
            session, network_id=network_id, days=data["days"], dry_run=data["dry_run"],
            seconds=float(current_app.config.get("WEEK_PLAN_SECONDS",
                                                 DEFAULTS["WEEK_PLAN_SECONDS"])),
            now=now(), requested_by=current_actor().username)
        session.commit()
        wake("run_plans")
        return {"network_id": network_id, "dry_run": data["dry_run"], "run_id": plan.id,
                "status": plan.status, "status_url": url_for("plans.PlanById", plan_id=plan.id)}
