"""The week's plan page (issue 15): preview a network's coming week of care-package visits,
then plan and offer it. The rules are :func:`dispatch.planning.week.commit_week` (the same as
``POST /api/networks/{id}/week-plan`` and ``dispatch plan-week --commit``).

The solve runs as a planning task, never in the request (up to ``WEEK_PLAN_SECONDS``): the
form records it (:func:`dispatch.planning.runs.request_week`) and goes to the run's page,
which says it is planning (its script asks again every few seconds) and shows the result when the
task is done."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import current_app, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from dispatch.auth import current_actor, request_id
from dispatch.config import DEFAULTS
from dispatch.db import get_session
from dispatch.errors import NotFound
from dispatch.jobs.wakeup import wake
from dispatch.planning import runs, week
from dispatch.request_clock import now
from dispatch.services import network_scope
from dispatch.web.common import bp

#: How often the run's page asks again while the plan is being worked out (seconds).
REFRESH_SECONDS = 3


def _networks() -> list[tuple[int, str]]:
    actor = current_actor()
    return sorted(((i, n) for i, n in network_scope.network_names(get_session()).items()
                   if actor.covers(i)), key=lambda pair: pair[1])


def _page(**values: Any) -> str:
    defaults: dict[str, Any] = {"networks": _networks(), "done": None, "run": None,
                                "network_id": None, "errors": {},
                                "refresh": REFRESH_SECONDS}
    return render_template("packages/week.html", **(defaults | values))


@bp.get("/packages/week")
def week_plan_page() -> ResponseReturnValue:
    """Choose a network and preview its coming week (nothing is written)."""
    return _page()


@bp.post("/packages/week")
def week_plan_run() -> ResponseReturnValue:
    """Preview (``action=preview``) or plan and offer (``action=commit``) the week: recorded
    as a planning task, then the run's page."""
    session, actor = get_session(), current_actor()
    networks = _networks()
    raw = request.form.get("network", "")
    network_id = int(raw) if raw.isdigit() else None
    if network_id is None or network_id not in dict(networks):
        return _page(networks=networks,
                     errors={"network": ["Choose a network you coordinate"]}), 422
    commit = request.form.get("action") == "commit"
    plan = runs.request_week(
        session, network_id=network_id, days=week.WEEK_DAYS, dry_run=not commit,
        seconds=float(current_app.config.get("WEEK_PLAN_SECONDS",
                                             DEFAULTS["WEEK_PLAN_SECONDS"])),
        now=now(), requested_by=actor.username)
    session.commit()
    wake("run_plans")
    return redirect(url_for("web.week_plan_status", run_id=plan.id), code=303)


@bp.get("/packages/week/runs/<int:run_id>")
def week_plan_status(run_id: int) -> ResponseReturnValue:
    """The run's progress (pending, planning) and, when done, what it did or would do."""
    session, actor = get_session(), current_actor()
    plan = runs.read_plan(session, run_id, actor=actor, now=now(),
                          purpose="see the week's plan", request_id=request_id())
    if plan.kind not in runs.WEEK_KINDS or not actor.covers(plan.network_id):
        raise NotFound(f"no week's plan {run_id}")
    session.commit()
    done = None
    if plan.status == "done" and plan.result is not None:
        done = dict(plan.result)
        done["visits"] = [
            v | {"start": None if v["start"] is None else datetime.fromisoformat(v["start"])}
            for v in plan.result["visits"]]
    return _page(run=plan, done=done, network_id=plan.network_id)
