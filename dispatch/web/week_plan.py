"""The week's plan page (issue 15): preview a network's coming week of care-package visits,
then plan and offer it. The rules are :func:`dispatch.planning.week.commit_week` (the same as
``POST /api/networks/{id}/week-plan`` and ``dispatch plan-week --commit``)."""

from __future__ import annotations

from flask import current_app, render_template, request
from flask.typing import ResponseReturnValue

from dispatch.auth import current_actor, request_id
from dispatch.config import DEFAULTS
from dispatch.db import get_session
from dispatch.errors import InvalidInput
from dispatch.planning import runs, week
from dispatch.request_clock import now
from dispatch.services import network_scope
from dispatch.web.common import bp


def _networks() -> list[tuple[int, str]]:
    actor = current_actor()
    return sorted(((i, n) for i, n in network_scope.network_names(get_session()).items()
                   if actor.covers(i)), key=lambda pair: pair[1])


@bp.get("/packages/week")
def week_plan_page() -> ResponseReturnValue:
    """Choose a network and preview its coming week (nothing is written)."""
    return render_template("packages/week.html", networks=_networks(), done=None,
                           network_id=None, errors={})


@bp.post("/packages/week")
def week_plan_run() -> ResponseReturnValue:
    """Preview (``action=preview``) or plan and offer (``action=commit``) the week."""
    session, actor = get_session(), current_actor()
    networks = _networks()
    raw = request.form.get("network", "")
    network_id = int(raw) if raw.isdigit() else None
    if network_id not in dict(networks):
        errors = {"network": ["Choose a network you coordinate"]}
        return render_template("packages/week.html", networks=networks, done=None,
                               network_id=None, errors=errors), 422
    commit = request.form.get("action") == "commit"
    try:
        done = week.commit_week(
            session, now=now(), provider=runs.provider_for(current_app),
            network_id=network_id, actor=actor,
            seconds=float(current_app.config.get("WEEK_PLAN_SECONDS",
                                                 DEFAULTS["WEEK_PLAN_SECONDS"])),
            solution_limit=current_app.config.get("WEEK_PLAN_SOLUTION_LIMIT"),
            dry_run=not commit, request_id=request_id())
    except InvalidInput as exc:
        session.rollback()
        return render_template("packages/week.html", networks=networks, done=None,
                               network_id=network_id, errors=exc.errors), 422
    session.commit()
    return render_template("packages/week.html", networks=networks, done=done,
                           network_id=network_id, errors={})
