"""Administrators and managers: the audit trail, filtered (by NHS number too) and paginated,
with action names in words and the service's own jobs shown as "system"; its CSV export; and
(administrators) the Caldicott guardian's daily report of emergency care-plan overrides.
Read-only: no route here (or anywhere) changes or deletes an audit event. Each look at the
trail is itself audited, since the trail names patients."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from flask import Response, render_template, request
from flask.typing import ResponseReturnValue

from dispatch.auth import current_actor, request_id
from dispatch.db import close_session, get_database, get_session
from dispatch.errors import InvalidInput
from dispatch.forms import BAD_DATE, read_date
from dispatch.nhs_numbers import InvalidNhsNumber, normalise_nhs_number
from dispatch.request_clock import now
from dispatch.services import audit_view as service
from dispatch.services import care_plan_access as access
from dispatch.services.care_plan_access import LONDON, OVERRIDE_ACTION
from dispatch.web.common import bp

FILTER_LABELS = {"nhs_number": "NHS number", "patient_id": "Patient id", "user": "Username",
                 "action": "Action", "date_from": "From", "date_to": "To"}
#: How the service's own jobs (the planner, the deadline watch, the SMS sender) are named.
SYSTEM_NAME = "system"


def _filters() -> service.AuditFilter:
    """The filter from the query string. :raise InvalidInput: an unreadable value."""
    args = request.args
    errors: dict[str, list[str]] = {}
    patient_id = None
    if raw := args.get("patient_id", "").strip():
        if raw.isdigit() and 0 < int(raw) < 2**31:
            patient_id = int(raw)
        else:
            errors["patient_id"] = ["Enter the patient id as a whole number"]
    days: dict[str, date | None] = {}
    for name in ("date_from", "date_to"):
        raw = args.get(name, "").strip()
        try:
            days[name] = read_date(raw) if raw else None
        except ValueError:
            errors[name] = [BAD_DATE]
    nhs = None
    if raw := args.get("nhs_number", "").strip():
        try:
            nhs = normalise_nhs_number(raw[:20])
        except InvalidNhsNumber as exc:
            errors["nhs_number"] = [str(exc)[:1].upper() + str(exc)[1:]]
    if errors:
        raise InvalidInput("invalid audit filter", errors=errors)
    try:
        return service.AuditFilter(patient_id=patient_id, nhs_number=nhs,
                                   username=args.get("user", "").strip()[:80] or None,
                                   action=args.get("action", "").strip()[:48] or None,
                                   date_from=days["date_from"], date_to=days["date_to"])
    except ValueError as exc:
        raise InvalidInput("invalid audit filter", errors={"date_to": [str(exc)]}) from exc


@bp.get("/admin/audit")
def audit_page() -> ResponseReturnValue:
    """Who saw or changed what, when and why: newest first, 50 a page."""
    try:
        filters = _filters()
    except InvalidInput as exc:
        return _render(service.AuditFilter(), None, errors=exc.errors or {}), 422
    page = request.args.get("page", "1")
    session = get_session()
    listing = service.view_events(session, filters=filters,
                                  page=int(page) if page.isdigit() and len(page) < 7 else 1,
                                  actor=current_actor(), now=now(), request_id=request_id())
    session.commit()
    return _render(filters, listing)


def _render(filters: service.AuditFilter, listing: service.AuditPage | None,
            errors: dict[str, list[str]] | None = None) -> str:
    values = {**{k: "" for k in FILTER_LABELS}, **dict(request.args)} if errors else \
        {**{k: "" for k in FILTER_LABELS}, **filters.as_args()}
    summary: list[dict[str, Any]] = [{"text": msgs[0], "href": f"#{name}"}
                                     for name, msgs in (errors or {}).items()]
    return render_template(
        "admin/audit.html", listing=listing, values=values, labels=FILTER_LABELS,
        field_errors=errors or {}, errors=summary, args=filters.as_args(),
        actions=sorted(service.actions(get_session()), key=service.action_words),
        override_action=OVERRIDE_ACTION,
        action_words=service.action_words, who=_who)


def _who(event: Any) -> str:
    """Who did it, as the trail shows it: "system" for the service's own jobs (no user),
    otherwise the username and role."""
    if event.user_id is None and (event.username or SYSTEM_NAME) == SYSTEM_NAME:
        return SYSTEM_NAME
    role = f" ({(event.role or '').replace('_', ' ')})" if event.role else ""
    return f"{event.username or SYSTEM_NAME}{role}"


@bp.get("/admin/audit.csv")
def audit_csv() -> Response:
    """The filtered trail as CSV (oldest first, up to 100,000 rows), streamed.

    The export is audited and committed, and the request session closed, before the first
    byte; the rows are then read in short batches, each in its own session, so no transaction
    is open while the client downloads (H-010).
    """
    filters = _filters()
    session = get_session()
    service.record_review(session, filters=filters, action="export_audit", actor=current_actor(),
                          now=now(), request_id=request_id())
    session.commit()
    close_session()
    lines = service.csv_lines(service.iter_events(get_database().sessions, filters=filters))
    stamp = now().date().isoformat()
    return Response(lines, mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="audit-{stamp}.csv"'})


@bp.get("/admin/overrides")
def override_report() -> ResponseReturnValue:
    """The Caldicott guardian's daily report: every care plan read without consent on a day
    (who, patient, purpose, reason, when); today unless ``date`` is given."""
    raw = request.args.get("date", "").strip()
    try:
        day = read_date(raw) if raw else now().astimezone(LONDON).date()
    except ValueError:
        return render_template("admin/overrides.html", day=None, entries=[], raw=raw, errors=[
            {"text": BAD_DATE, "href": "#date"}]), 422
    session = get_session()
    entries = access.view_overrides(session, day=day, actor=current_actor(), now=now(),
                                    purpose="Caldicott guardian review",
                                    request_id=request_id())
    session.commit()
    return render_template("admin/overrides.html", day=day, entries=entries, raw=day.isoformat(),
                           errors=[], previous=day - timedelta(days=1),
                           following=day + timedelta(days=1))
