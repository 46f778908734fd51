"""The capacity planner's page (managers): start a search, watch its progress, read the answer.

The search runs as a job (``run_capacity_plans``), never in this request: the page records the
run, wakes the job and sends the manager to the run's page, which refreshes itself (a meta
refresh, no script) every few seconds while the run is pending or running.
"""

from __future__ import annotations

from typing import Any

from flask import redirect, render_template, url_for
from flask.typing import ResponseReturnValue

from dispatch import forms
from dispatch.auth import current_actor
from dispatch.capacity import charts, runs
from dispatch.capacity.search import ALL_NETWORKS
from dispatch.db import get_session
from dispatch.errors import InvalidInput
from dispatch.jobs.wakeup import wake
from dispatch.request_clock import now
from dispatch.web.common import bp
from dispatch.web.pageforms import CapacityPlanForm

#: Seconds between refreshes of a run's page while it runs.
REFRESH_SECONDS = 5


def _form() -> CapacityPlanForm:
    form = CapacityPlanForm()
    form.network.choices = [("", "All networks"), *((c, c) for c in ALL_NETWORKS)]
    return form


@bp.get("/capacity")
def capacity_page() -> ResponseReturnValue:
    """The form and the recent runs."""
    form = _form()
    if form.date.data is None:
        form.date.data = now().date()
    return render_template("capacity/index.html", form=form, runs=runs.latest(get_session()))


@bp.post("/capacity")
def capacity_start() -> ResponseReturnValue:
    """Record a run and wake the job; 422 with the fields at fault."""
    form = _form()
    session = get_session()
    if not form.validate():
        return render_template("capacity/index.html", form=form, runs=runs.latest(session),
                               errors=forms.error_list(form)), 422
    data: dict[str, Any] = {
        "date": form.date.data.isoformat() if form.date.data else "", "seed": form.seed.data,
        "target": float(form.target.data or 0) / 100, "growth": float(form.growth.data or 0),
        "days": form.days.data, "networks": [form.network.data] if form.network.data else [],
    }
    try:
        row = runs.create(session, data=data, now=now(), requested_by=current_actor().username)
    except InvalidInput as exc:
        session.rollback()
        forms.put_errors(form, exc.errors or {})
        return render_template("capacity/index.html", form=form, runs=runs.latest(session),
                               errors=forms.error_list(form)), 422
    session.commit()
    wake("run_capacity_plans")
    return redirect(url_for("web.capacity_run", run_id=row.id), code=303)


@bp.get("/capacity/<int:run_id>")
def capacity_run(run_id: int) -> ResponseReturnValue:
    """One run: progress while it runs, the recommendation and charts when done."""
    row = runs.get(get_session(), run_id)
    running = row.status in ("pending", "running")
    return render_template(
        "capacity/run.html", run=row, result=row.result or {}, running=running,
        refresh=REFRESH_SECONDS if running else None,
        charts=[(name, charts.TITLES[name], f"/api/capacity-plans/{row.id}/charts/{name}.svg")
                for name in charts.CHARTS] if row.result else [])
