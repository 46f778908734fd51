"""A re-plan a request waits for: record it, wake the ``run_plans`` job, wait for the answer.

Shared by the API (``POST /api/staff/{id}/absence``) and the board's absence page, which
re-plan the absent worker's network at once, as "re-plan now" does.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import current_app
from sqlalchemy import orm as so

from dispatch.config import DEFAULTS
from dispatch.jobs.wakeup import wake
from dispatch.planning import runs


def replan_now(session: so.Session, network_id: int | None, *, now: datetime,
               requested_by: str) -> dict[str, Any] | None:
    """Ask for a re-plan of ``network_id`` (committing the request), wake the job and wait for
    it (at most ``REPLAN_WAIT_SECONDS``); what it changed, or None with no network."""
    if network_id is None:
        return None
    config = current_app.config
    plan = runs.request_replan(
        session, network_id=network_id,
        seconds=float(config.get("REOPTIMISE_SECONDS", DEFAULTS["REOPTIMISE_SECONDS"])),
        now=now, requested_by=requested_by)
    session.commit()
    wake("run_plans")
    plan = runs.wait_for(session, plan.id, seconds=float(
        config.get("REPLAN_WAIT_SECONDS", DEFAULTS["REPLAN_WAIT_SECONDS"])))
    result = plan.result or {}
    return {"run_id": plan.id, "status": plan.status,
            **{k: result[k] for k in ("changed", "unassigned", "error") if k in result}}
