"""A care package's approval page: cost, threshold and who must decide; Approve or Reject.

The rules are ``dispatch.services.packages`` (the same as ``/api/packages/<id>/approve``): a
coordinator decides within their limit for their own network, above it the package waits for a
manager. The page says before anyone clicks whether the viewer may decide it, and why not; a
refused attempt is audited, as in the API.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from flask import current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from dispatch import forms
from dispatch.auth import current_actor, request_id
from dispatch.db import get_session
from dispatch.errors import Conflict, InvalidInput
from dispatch.jobs.wakeup import wake
from dispatch.planning.runs import provider_for
from dispatch.request_clock import now
from dispatch.services import package_slots
from dispatch.services import packages as service
from dispatch.services.slot_holds import hold_minutes
from dispatch.web.common import bp, london_time
from dispatch.web.package_pages import ends_on
from dispatch.web.pageforms import ApproveForm, RejectForm

PURPOSE = "commission a care package"


def _limits() -> Mapping[str, int]:
    return service.approval_limits(current_app.config.get("APPROVAL_LIMITS_PENCE"))


def _render(package_id: int, *, approve: ApproveForm | None = None,
            reject: RejectForm | None = None, errors: list[dict[str, str]] | None = None,
            status: int = 200, line_slots: package_slots.LineSlots | None = None,
            slot_error: str | None = None) -> ResponseReturnValue:
    session, actor = get_session(), current_actor()
    page = service.read_package_page(session, package_id, actor=actor, now=now(),
                                     purpose=PURPOSE, limits=_limits(), request_id=request_id())
    session.commit()
    package = page.package
    return render_template(
        "packages/show.html", package=package, view=page.view, patient=page.patient,
        limit=page.limit, ends=ends_on(package, page.weeks), weeks=page.weeks,
        names=page.names, can_act=actor.role in ("coordinator", "manager"),
        refusal=page.refusal, routing=page.routing, pounds=service.pounds, limits=_limits(),
        approve=approve or ApproveForm(formdata=None), reject=reject or RejectForm(formdata=None),
        errors=errors or [], line_slots=line_slots, slot_error=slot_error), status


@bp.get("/packages/<int:package_id>")
def package_page(package_id: int) -> ResponseReturnValue:
    """The package, what it costs, and whether you may decide it; with ``?slots=<line id>``
    (an active package) the best times for that line's next visit, held for the caller."""
    raw = request.args.get("slots", "")
    line = None
    if raw.isdigit() and current_actor().role in ("coordinator", "manager"):
        line = package_slots.offer_line_slots(
            get_session(), package_id=package_id, item_id=int(raw), actor=current_actor(),
            now=now(), provider=provider_for(current_app),
            hold=hold_minutes(current_app.config), request_id=request_id())
    return _render(package_id, line_slots=line)


@bp.post("/packages/<int:package_id>/slots")
def package_book_slot(package_id: int) -> ResponseReturnValue:
    """Book one of the times offered for a line's next visit (its window narrowed to it)."""
    session = get_session()
    raw_visit, raw_slot = request.form.get("visit_id", ""), request.form.get("slot", "")
    try:
        start = datetime.fromisoformat(raw_slot.strip()) if raw_slot.strip() else None
    except ValueError:
        start = None
    if start is None or start.tzinfo is None or not raw_visit.isdigit():
        return _render(package_id, errors=[{"text": "Choose one of the times offered",
                                            "href": "#times"}], status=422)
    try:
        visit = package_slots.book_line_slot(
            session, package_id=package_id, visit_id=int(raw_visit), start=start,
            actor=current_actor(), now=now(), request_id=request_id())
    except InvalidInput as exc:
        session.rollback()
        message = " ".join(exc.errors.get("slot", [exc.message]))
        return _render(package_id, errors=[{"text": message, "href": "#times"}], status=422)
    except Conflict as exc:
        session.rollback()
        return _render(package_id, errors=[{"text": _sentence(exc.message)}], status=409)
    session.commit()
    wake()  # a provisional booking went back to the planner
    flash(f"Visit {visit.reference} will start between {london_time(visit.earliest_start)} "
          f"and {london_time(visit.deadline)[:5]}.")
    return redirect(url_for("web.package_page", package_id=package_id), code=303)


@bp.post("/packages/<int:package_id>/approve")
def package_approve(package_id: int) -> ResponseReturnValue:
    """Approve within your limit (at the limit is within it)."""
    form = ApproveForm()
    if not form.validate():
        return _render(package_id, approve=form, errors=forms.error_list(form), status=422)
    session = get_session()
    try:
        decision = service.approve_or_refuse(
            session, package_id=package_id, actor=current_actor(), now=now(), purpose=PURPOSE,
            limits=_limits(), note=form.note.data, request_id=request_id())
    except Conflict as exc:
        session.rollback()
        return _render(package_id, errors=[{"text": _sentence(exc.message)}], status=409)
    session.commit()  # the decision, or who tried to decide beyond their authority
    if decision.refused is not None:
        return _render(package_id, errors=[{"text": _sentence(decision.refused.message)}],
                       status=403)
    flash(f"Care package {package_id} approved.")
    return redirect(url_for("web.package_page", package_id=package_id), code=303)


@bp.post("/packages/<int:package_id>/reject")
def package_reject(package_id: int) -> ResponseReturnValue:
    """Reject with a reason (at least 10 characters)."""
    form = RejectForm()
    session = get_session()
    try:
        if not form.validate():
            raise InvalidInput("a rejection needs a reason", errors={})
        decision = service.reject_or_refuse(
            session, package_id=package_id, actor=current_actor(), now=now(),
            reason=form.reason.data or "", purpose=PURPOSE, limits=_limits(),
            request_id=request_id())
    except InvalidInput as exc:
        session.rollback()
        forms.put_errors(form, exc.errors or {})
        return _render(package_id, reject=form, errors=forms.error_list(form), status=422)
    except Conflict as exc:
        session.rollback()
        return _render(package_id, reject=form, errors=[{"text": _sentence(exc.message)}],
                       status=409)
    session.commit()  # the decision, or who tried to decide beyond their authority
    if decision.refused is not None:
        return _render(package_id, reject=form,
                       errors=[{"text": _sentence(decision.refused.message)}], status=403)
    flash(f"Care package {package_id} rejected.")
    return redirect(url_for("web.package_page", package_id=package_id), code=303)


def _sentence(message: str) -> str:
    return message[:1].upper() + message[1:]
