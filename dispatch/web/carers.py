"""Carer pages (issue 16, item 3): a patient's carers and the form to add one; a carer's page
with the people they look after, their own assessments, and texting them a visit's arrival
window (only with the patient's consent). Every page names patients and is audited.
"""

from __future__ import annotations

from datetime import date, timedelta

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from dispatch import forms
from dispatch.auth import current_actor, request_id
from dispatch.db import get_session
from dispatch.errors import Conflict, DispatchError, InvalidInput
from dispatch.models import Carer, Patient, Visit
from dispatch.request_clock import now
from dispatch.services import carers as service
from dispatch.services import patients
from dispatch.web.common import bp
from triage.timing import local


class CarerForm(FlaskForm):
    """A new carer of this patient."""

    name = StringField("Carer's name", validators=[InputRequired("Enter the carer's name"),
                                                   Length(max=120)])
    relationship = StringField("Relationship to the patient", validators=[
        InputRequired("Say how they are related, for example wife"), Length(max=40)])
    phone = StringField("Phone", validators=[Optional(), Length(max=20)])
    lives_with_patient = BooleanField("Lives with the patient")
    next_of_kin = BooleanField("Next of kin")
    consent_to_contact = BooleanField(
        "The patient agrees that we contact this carer about visits")


class AssessmentForm(FlaskForm):
    due = DateField("Assessment due by", validators=[InputRequired("Enter the due date")])


class AssessmentDoneForm(FlaskForm):
    assessor = StringField("Assessed by", validators=[InputRequired("Say who assessed"),
                                                      Length(max=120)])
    outcome = TextAreaField("Outcome", validators=[InputRequired("Say what came of it"),
                                                   Length(max=500)])


def _patient(patient_id: int) -> Patient:
    return patients.get_patient(get_session(), patient_id)


@bp.get("/patients/<int:patient_id>/carers")
def patient_carers(patient_id: int) -> str:
    """The patient's carers and the form to add one; audited."""
    return _render_patient(_patient(patient_id), CarerForm(formdata=None))


def _render_patient(patient: Patient, form: CarerForm, errors: list[dict[str, str]] | None = None
                    ) -> str:
    session = get_session()
    links = service.read_patient_carers(session, patient, actor=current_actor(), now=now(),
                                        purpose="who cares for the patient",
                                        request_id=request_id())
    session.commit()
    return render_template("integrated/patient_carers.html", patient=patient, links=links,
                           form=form, errors=errors or [])


@bp.post("/patients/<int:patient_id>/carers")
def patient_carer_add(patient_id: int) -> ResponseReturnValue:
    """Add a carer linked to this patient; audited. Post/Redirect/Get."""
    patient = _patient(patient_id)
    form = CarerForm()
    if form.validate():
        session = get_session()
        link = service.NewLink(relationship=form.relationship.data or "",
                               lives_with_patient=bool(form.lives_with_patient.data),
                               next_of_kin=bool(form.next_of_kin.data),
                               consent_to_contact=bool(form.consent_to_contact.data))
        try:
            service.add_carer(session, patient=patient, name=form.name.data or "", link=link,
                              phone=form.phone.data, actor=current_actor(), now=now(),
                              request_id=request_id())
        except (InvalidInput, Conflict) as exc:
            session.rollback()
            forms.put_errors(form, exc.errors)
        else:
            session.commit()
            flash(f"{form.name.data} added as a carer.")
            return redirect(url_for("web.patient_carers", patient_id=patient.id), code=303)
    return _render_patient(patient, form, forms.error_list(form)), 422


@bp.get("/carers/<int:carer_id>")
def carer_page(carer_id: int) -> str:
    """A carer: the people they look after, their assessments, texts about visits."""
    carer = service.get_carer(get_session(), carer_id)
    due = local(now()).date() + timedelta(days=28)
    return _render_carer(carer, AssessmentForm(formdata=None, data={"due": due}),
                         AssessmentDoneForm(formdata=None))


def _render_carer(carer: Carer, plan_form: AssessmentForm, done_form: AssessmentDoneForm,
                  errors: list[dict[str, str]] | None = None) -> str:
    session = get_session()
    page = service.read_carer_page(session, carer, actor=current_actor(), now=now(),
                                   purpose="a carer and the people they look after",
                                   request_id=request_id())
    session.commit()
    return render_template(
        "integrated/carer.html", carer=carer, people=page.people, visits=page.visits,
        assessments=page.assessments, plan_form=plan_form,
        done_form=done_form, errors=errors or [], today=local(now()).date(),
        window=service.arrival_window)


@bp.post("/carers/<int:carer_id>/assessments")
def carer_assessment_plan(carer_id: int) -> ResponseReturnValue:
    """Arrange the carer's assessment; audited. Post/Redirect/Get."""
    session = get_session()
    carer = service.get_carer(session, carer_id)
    form = AssessmentForm()
    if form.validate():
        due: date = form.due.data
        try:
            service.plan_assessment(session, carer=carer, due=due, actor=current_actor(),
                                    now=now(), request_id=request_id())
        except InvalidInput as exc:
            session.rollback()
            forms.put_errors(form, exc.errors)
        else:
            session.commit()
            flash(f"Carer's assessment arranged, due by {due:%-d %B %Y}.")
            return redirect(url_for("web.carer_page", carer_id=carer.id), code=303)
    return _render_carer(carer, form, AssessmentDoneForm(formdata=None),
                         forms.error_list(form)), 422


@bp.post("/carer-assessments/<int:assessment_id>/done")
def carer_assessment_done(assessment_id: int) -> ResponseReturnValue:
    """Record the assessment done with its outcome; audited. Post/Redirect/Get."""
    session = get_session()
    row = service.get_assessment(session, assessment_id)
    carer = service.get_carer(session, row.carer_id)
    form = AssessmentDoneForm()
    if form.validate():
        try:
            service.record_assessment(session, assessment=row, outcome=form.outcome.data or "",
                                      assessor=form.assessor.data or "", actor=current_actor(),
                                      now=now(), request_id=request_id())
        except DispatchError as exc:
            session.rollback()
            forms.put_errors(form, exc.errors or {"outcome": [exc.message]})
        else:
            session.commit()
            flash("Carer's assessment recorded.")
            return redirect(url_for("web.carer_page", carer_id=carer.id), code=303)
    return _render_carer(carer, AssessmentForm(formdata=None), form,
                         forms.error_list(form)), 422


@bp.post("/carer-links/<int:link_id>/visit-text")
def carer_visit_text(link_id: int) -> ResponseReturnValue:
    """Text the carer the visit's arrival window (nothing clinical), with consent; audited."""
    session = get_session()
    link = service.get_link(session, link_id)
    visit = session.get(Visit, request.form.get("visit_id", type=int) or 0)
    try:
        if visit is None:
            raise InvalidInput("choose a visit", errors={"visit_id": ["choose a visit"]})
        service.text_about_visit(session, link=link, visit=visit, actor=current_actor(),
                                 now=now(), request_id=request_id())
    except DispatchError as exc:
        session.rollback()
        session.commit()
        flash(f"Not sent: {exc.message}.", "error")
        return redirect(url_for("web.carer_page", carer_id=link.carer_id), code=303)
    session.commit()
    flash(f"Text about visit {visit.reference} queued to {link.carer.name}.")
    return redirect(url_for("web.carer_page", carer_id=link.carer_id), code=303)
