"""A care package's approval page: cost, threshold and who must decide; Approve or Reject.

The rules are ``dispatch.services.packages`` (the same as ``/api/packages/<id>/approve``): a
coordinator decides within their limit for their own network, above it the package waits for a
manager. The page says before anyone clicks whether the viewer may decide it, and why not; a
refused attempt is audited, as in the API.
"""

from __future__ import annotations

from collections.abc import Mapping

from flask import current_app, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue

from dispatch import forms
from dispatch.auth import current_actor, request_id
from dispatch.db import get_session
from dispatch.errors import Conflict, InvalidInput
from dispatch.request_clock import now
from dispatch.services import packages as service
from dispatch.web.common import bp
from dispatch.web.package_pages import ends_on
from dispatch.web.pageforms import ApproveForm, RejectForm

PURPOSE = "commission a care package"


def _limits() -> Mapping[str, int]:
    return service.approval_limits(current_app.config.get("APPROVAL_LIMITS_PENCE"))


def _render(package_id: int, *, approve: ApproveForm | None = None,
            reject: RejectForm | None = None, errors: list[dict[str, str]] | None = None,
            status: int = 200) -> ResponseReturnValue:
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
        errors=errors or []), status


@bp.get("/packages/<int:package_id>")
def package_page(package_id: int) -> ResponseReturnValue:
    """The package, what it costs, and whether you may decide it."""
    return _render(package_id)


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
