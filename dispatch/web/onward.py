"""Referrals out, hand-overs and tasks on pages (issue 16, item 4; hazard H-022).

``/onward/<id>``: one referral out and the form to record what the other service did (confirm
a hand-over: who took it). ``/patients/<id>/onward``: a patient's referrals out and tasks, and
the forms to add them. Every page names the patient and is audited.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_wtf import FlaskForm
from wtforms import DateField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from dispatch import forms
from dispatch.auth import current_actor, request_id
from dispatch.db import get_session
from dispatch.errors import Conflict, InvalidInput
from dispatch.models import OnwardReferral, Patient
from dispatch.request_clock import now
from dispatch.services import onward as service
from dispatch.services import patients
from dispatch.web.common import bp
from triage.timing import local

STATUS_CHOICES = (("accepted", "Accepted: they have taken it (say who)"),
                  ("done", "Done"), ("declined", "Declined (say why)"))
SERVICE_CHOICES = tuple(service.SERVICE_NAMES.items())


@bp.app_template_global("service_names")
def service_names() -> dict[str, str]:
    return service.SERVICE_NAMES


class StatusForm(FlaskForm):
    """What the other service did."""

    status = RadioField("What happened?", choices=forms.options(STATUS_CHOICES),
                        validators=[InputRequired("Choose what happened")])
    service = SelectField("Which service took it", choices=forms.options(SERVICE_CHOICES),
                          validators=[Optional()])
    contact = StringField("Who took it (name and role)", validators=[Length(max=120)])
    outcome = TextAreaField("Notes (why it was declined, or the outcome)",
                            validators=[Length(max=300)])


class OnwardForm(FlaskForm):
    """A new referral out."""

    service = SelectField("Refer to", choices=forms.options(SERVICE_CHOICES),
                          validators=[InputRequired("Choose the service")])
    reason = TextAreaField("Why", validators=[InputRequired("Say why the person is referred"),
                                              Length(max=500)])


class TaskForm(FlaskForm):
    """A new task."""

    title = StringField("Task", validators=[InputRequired("Say what is to be done"),
                                            Length(max=200)])
    owner_name = StringField("Owner", validators=[InputRequired("Say who owns it"),
                                                  Length(max=120)])
    due = DateField("Due", validators=[InputRequired("Enter the due date")])


@bp.get("/onward/<int:onward_id>")
def onward_page(onward_id: int) -> str:
    """One referral out with the form to record what the other service did."""
    session = get_session()
    row = service.read_onward(session, onward_id, actor=current_actor(), now=now(),
                              request_id=request_id(), purpose="follow a referral out")
    session.commit()
    form = StatusForm(formdata=None, data={"service": row.service})
    return _render(row, form)


def _render(row: OnwardReferral, form: StatusForm, extra: list[str] | None = None) -> str:
    patient = get_session().get(Patient, row.patient_id)
    return render_template("integrated/onward.html", o=row, patient=patient, form=form,
                           overdue=service.is_overdue(row, now()),
                           errors=forms.error_list(form, extra or []))


@bp.post("/onward/<int:onward_id>/status")
def onward_status(onward_id: int) -> ResponseReturnValue:
    """Record accepted (who took it), done or declined; audited. Post/Redirect/Get."""
    session = get_session()
    row = service.get_onward(session, onward_id)
    form = StatusForm()
    if not form.validate():
        return _render(row, form), 422
    try:
        service.change_status(session, onward=row, status=form.status.data or "",
                              actor=current_actor(), now=now(),
                              contact=form.contact.data or None,
                              outcome=form.outcome.data or None,
                              service=form.service.data or None, request_id=request_id())
    except (InvalidInput, Conflict) as exc:
        session.rollback()
        extra = forms.put_errors(form, exc.errors) if exc.errors else [exc.message]
        return _render(service.get_onward(session, onward_id), form, extra), exc.status
    session.commit()
    flash(f"Referral out {row.id}: {row.status}.")
    return redirect(url_for("web.onward_page", onward_id=row.id), code=303)


def _patient(patient_id: int) -> Patient:
    return patients.get_patient(get_session(), patient_id)


@bp.get("/patients/<int:patient_id>/onward")
def patient_onward(patient_id: int) -> str:
    """The patient's referrals out and tasks, and the forms to add them; audited."""
    patient = _patient(patient_id)
    due = local(now()).date() + timedelta(days=7)
    return _render_patient(patient, OnwardForm(formdata=None),
                           TaskForm(formdata=None, data={"due": due}))


def _render_patient(patient: Patient, onward_form: OnwardForm, task_form: TaskForm,
                    errors: list[dict[str, str]] | None = None) -> str:
    session = get_session()
    found = service.read_patient_onward(session, patient, actor=current_actor(), now=now(),
                                        request_id=request_id())
    session.commit()
    return render_template(
        "integrated/patient_onward.html", patient=patient, onward_form=onward_form,
        task_form=task_form, errors=errors or [], at=now(), is_overdue=service.is_overdue,
        referrals=found.referrals, tasks=found.tasks, today=local(now()).date())


@bp.post("/patients/<int:patient_id>/onward")
def patient_onward_create(patient_id: int) -> ResponseReturnValue:
    """Send a referral out; audited. Post/Redirect/Get."""
    patient = _patient(patient_id)
    form = OnwardForm()
    task_form = TaskForm(formdata=None)
    if form.validate():
        session = get_session()
        try:
            service.create_onward(session, patient=patient, service=form.service.data or "",
                                  reason=form.reason.data or "", actor=current_actor(),
                                  now=now(), request_id=request_id())
        except InvalidInput as exc:
            session.rollback()
            forms.put_errors(form, exc.errors)
        else:
            session.commit()
            flash(f"Referral to {service.SERVICE_NAMES[form.service.data or 'other']} sent.")
            return redirect(url_for("web.patient_onward", patient_id=patient.id), code=303)
    return _render_patient(patient, form, task_form, forms.error_list(form)), 422


@bp.post("/patients/<int:patient_id>/tasks")
def patient_task_create(patient_id: int) -> ResponseReturnValue:
    """Add a task with an owner and a due date; audited. Post/Redirect/Get."""
    patient = _patient(patient_id)
    form = TaskForm()
    if form.validate():
        session = get_session()
        due: date = form.due.data
        try:
            service.create_task(session, title=form.title.data or "", due=due,
                                owner_name=form.owner_name.data or "", patient_id=patient.id,
                                actor=current_actor(), now=now(), request_id=request_id())
        except InvalidInput as exc:
            session.rollback()
            forms.put_errors(form, exc.errors)
        else:
            session.commit()
            flash("Task added.")
            return redirect(url_for("web.patient_onward", patient_id=patient.id), code=303)
    return _render_patient(patient, OnwardForm(formdata=None), form, forms.error_list(form)), 422


@bp.post("/tasks/<int:task_id>/done")
def task_done(task_id: int) -> ResponseReturnValue:
    """Mark a task done; back to where it was shown. Post/Redirect/Get."""
    session = get_session()
    task = service.get_task(session, task_id)
    service.complete_task(session, task=task, actor=current_actor(), now=now(),
                          request_id=request_id())
    session.commit()
    flash(f"Task done: {task.title}.")
    from_caseload = request.form.get("back") == "caseload" or not task.patient_id
    target: Any = (url_for("web.my_caseload") if from_caseload
                   else url_for("web.patient_onward", patient_id=task.patient_id))
    return redirect(target, code=303)
