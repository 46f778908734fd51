"""Absence from the board: mark a worker sick, absent or finishing early, and cancel it.

The same service and re-plan as ``POST /api/staff/{id}/absence``: their open visits in the
time are taken off them (texted), the network is re-planned at once, and the board lists the
absence (with a Cancel button) under the staff timelines.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import sqlalchemy as sa
from flask import current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import RadioField, SelectField, StringField
from wtforms.validators import InputRequired, Length, Optional, Regexp, ValidationError

from dispatch import forms
from dispatch.auth import current_actor
from dispatch.config import LONDON
from dispatch.db import get_session
from dispatch.errors import Conflict, InvalidInput
from dispatch.jobs.replan_request import replan_now
from dispatch.models import Shift, Staff
from dispatch.planning.runs import provider_for
from dispatch.request_clock import now
from dispatch.services import absence as service
from dispatch.services import give_back, network_scope
from dispatch.services.board_visit import staff_name
from dispatch.services.manual import hm
from dispatch.web.common import bp
from dispatch.web.pageforms import optional_int

HHMM = Regexp(r"^([01]?\d|2[0-3]):[0-5]\d$", message="Enter a time like 14:30")
REASON_LABELS = {"sick": "Off sick", "absent": "Absent (another reason)",
                 "finishing_early": "Finishing early"}


def _uk_date(form: FlaskForm, field: StringField) -> None:
    """A date typed the UK way (1/12/2026) or by a date picker (2026-12-01)."""
    if field.data:
        try:
            forms.read_date(field.data)
        except ValueError as exc:
            raise ValidationError(forms.BAD_DATE) from exc


class AbsenceForm(FlaskForm):
    """Who, why, from and until (today unless a day is given)."""

    staff_id = SelectField("Worker", coerce=optional_int, choices=[], validate_choice=False,
                           validators=[InputRequired("Choose the worker")])
    reason = RadioField("Why", choices=forms.options(REASON_LABELS.items()),
                        validators=[InputRequired("Choose why they are off")])
    from_day = StringField("Starting on (date, if not today)", validators=[Optional(),
                                                                         _uk_date])
    from_time = StringField("From (UK time)", validators=[
        InputRequired("Enter the time the absence starts"), HHMM])
    until_day = StringField("Back on (date, if not the day it starts)",
                            validators=[Optional(), _uk_date])
    until_time = StringField("Back at (UK time)", validators=[Optional(), HHMM])
    note = StringField("Note (optional)", validators=[Optional(), Length(max=200)])


def _workers(network_id: int | None) -> list[Staff]:
    """Active field workers of the network (or of the coordinator's networks), with a shift
    in the coming four weeks or the last day (an absence may start another day)."""
    session, actor = get_session(), current_actor()
    today = now().astimezone(LONDON).date()
    start = datetime.combine(today, time(), tzinfo=LONDON) - timedelta(days=1)
    on_shift = sa.select(Shift.staff_id).where(
        Shift.ends_at > start, Shift.starts_at < start + service.MAX_LENGTH)
    stmt = (sa.select(Staff)  # no DISTINCT: PostgreSQL cannot compare the JSON skills column
            .where(Staff.active.is_(True), Staff.role != "coordinator",
                   Staff.id.in_(on_shift), network_scope.visible(actor, Staff.network_id))
            .order_by(Staff.name))
    if network_id is not None:
        stmt = stmt.where(Staff.network_id == network_id)
    return list(session.scalars(stmt))


def _render(form: AbsenceForm, network_id: int | None, status: int = 200
            ) -> ResponseReturnValue:
    form.staff_id.choices = forms.options(
        [("", "Choose a worker"), *((str(s.id), s.name) for s in _workers(network_id))])
    errors = [{"text": field.errors[0], "href": f"#{field.id}"}
              for field in form if field.errors]
    upcoming, past = service.listing(get_session(), networks=current_actor().networks,
                                     network_id=network_id, now=now())
    released = {r.absence.id: give_back.released(get_session(), r.absence, r.staff)
                for r in past if r.absence.released_visit_ids}
    return render_template("board/absence.html", form=form, errors=errors, released=released,
                           network_arg=network_id or 0, upcoming=upcoming, past=past,
                           reason_words=service.REASON_WORDS, past_days=service.PAST_DAYS,
                           when=lambda moment: hm(moment, now())), status


def _network_arg() -> int | None:
    raw = request.values.get("network", "")
    return int(raw) if raw.isdigit() and 0 < int(raw) < 2**31 else None


@bp.get("/board/absence")
def absence_page() -> ResponseReturnValue:
    """The form: a worker (``?staff=`` preselects), why, from and until."""
    staff = request.args.get("staff", "")
    form = AbsenceForm(formdata=None, staff_id=int(staff) if staff.isdigit() else None,
                       from_time=f"{now().astimezone(LONDON):%H:%M}")
    return _render(form, _network_arg())


def _moment(day: date, text: str) -> datetime:
    hour, minute = (int(p) for p in text.split(":"))
    return datetime.combine(day, time(hour, minute), tzinfo=LONDON)


@bp.post("/board/absence")
def absence_record() -> ResponseReturnValue:
    """Record the absence, release the worker's visits in it and re-plan their network."""
    form, network_id = AbsenceForm(), _network_arg()
    if not form.validate():
        return _render(form, network_id, 422)
    session, actor = get_session(), current_actor()
    today = now().astimezone(LONDON).date()
    from_day = forms.read_date(form.from_day.data) if form.from_day.data else today
    until_day = forms.read_date(form.until_day.data) if form.until_day.data else from_day
    until = _moment(until_day, form.until_time.data) if form.until_time.data else None
    try:
        staff = network_scope.require_staff(session, actor, int(form.staff_id.data))
        outcome = service.record_absence(
            session, staff_id=staff.id, starts_at=_moment(from_day, form.from_time.data),
            ends_at=until, reason=form.reason.data, note=form.note.data, actor=actor,
            now=now())
    except InvalidInput as exc:
        session.rollback()
        for name, messages in (exc.errors or {}).items():
            field = {"until": form.until_time, "reason": form.reason}.get(name, form.from_time)
            field.errors = [messages[0][0].upper() + messages[0][1:]]
        return _render(form, network_id, 422)
    session.commit()
    replan = replan_now(session, outcome.staff.network_id, now=now(),
                        requested_by=actor.username) or {}
    text = service.describe(outcome.absence, outcome.staff, now())
    moved = ", ".join(v.reference for v in outcome.released)
    flash(f"{text}. {len(outcome.released)} visit(s) taken off them and re-planned"
          f"{': ' + moved if moved else ''}.")
    if outcome.kept:
        flash(f"Still with them (on site): {', '.join(v.reference for v in outcome.kept)}. "
              f"Ring {outcome.staff.name} to agree how it ends.")
    if replan.get("status") not in (None, "done"):
        flash(f"The re-plan is {replan.get('status')}; the board shows it once applied.")
    return _to_board(network_id or outcome.staff.network_id)


@bp.post("/board/absences/<int:absence_id>/cancel")
def absence_cancel(absence_id: int) -> ResponseReturnValue:
    """Cancel an absence (the worker is back): re-plan their network."""
    session, actor = get_session(), current_actor()
    row = service.get(session, absence_id)
    staff = network_scope.require_staff(session, actor, row.staff_id)
    try:
        absence = service.cancel_absence(session, absence_id=absence_id, actor=actor,
                                         now=now())
    except Conflict as exc:
        session.rollback()
        flash(exc.message[:1].upper() + exc.message[1:], "warning")
        return _back(staff.network_id)
    session.commit()
    replan = replan_now(session, staff.network_id, now=now(),
                        requested_by=actor.username) or {}
    session.expire_all()  # the re-plan committed in its own session: read what it applied
    fates = service.describe_fates(service.released_fates(session, absence), staff)
    flash(f"Cancelled the absence of {staff.name}; the network was re-planned, so the "
          f"planner can give them visits again." + (f" Visits it had taken off them: {fates}."
                                                    if fates else ""))
    if replan.get("status") not in (None, "done"):
        flash(f"The re-plan is {replan.get('status')}; the board shows it once applied.")
    return _back(staff.network_id)


@bp.post("/board/absences/<int:absence_id>/visits/<int:visit_id>/give-back")
def absence_give_back(absence_id: int, visit_id: int) -> ResponseReturnValue:
    """Give a released visit back to the returning worker: the normal manual assignment at
    their best start, pinned; a refusal or warning is shown in words and nothing is saved."""
    session, actor = get_session(), current_actor()
    try:
        result = give_back.give_back(session, absence_id=absence_id, visit_id=visit_id,
                                     actor=actor, now=now(), provider=provider_for(current_app))
    except Conflict as exc:
        session.rollback()
        flash(f"Not given back: {exc.message}.", "warning")
        return _to_absences()
    if not result.applied:
        session.rollback()
        flash(f"Not given back: {'; '.join(result.warnings)}. Open visit "
              f"{result.visit.reference} from the board to decide.", "warning")
        return _to_absences()
    session.commit()
    start = result.visit.planned_start
    flash(f"Visit {result.visit.reference} given back to "
          f"{staff_name(session, result.visit.assigned_staff_id or 0)} at "
          f"{hm(start, now()) if start else 'the planned time'}; they have been sent the offer")
    return _to_absences()


def _to_absences() -> Response:
    return redirect(url_for("web.absence_page", network=_network_arg() or 0), code=303)


def _back(network_id: int | None) -> Response:
    """To the absence page when the button was pressed there, else to the board."""
    if request.values.get("back") == "absences":
        return redirect(url_for("web.absence_page", network=_network_arg() or 0), code=303)
    return _to_board(_network_arg() or network_id)


def _to_board(network_id: int | None) -> Response:
    return redirect(url_for("web.board", network=network_id or 0), code=303)
