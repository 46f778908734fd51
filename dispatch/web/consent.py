"""Consent to share the care plan, recorded and withdrawn on a page under the patient.

Call handlers and coordinators (the people who talk to patients and carers) record the
decision: who made it (the patient, their attorney or deputy), when, and its scope; each
decision is kept and audited (``dispatch.services.consent``). Looking at the page is audited
too, since it names the patient.
"""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_wtf import FlaskForm
from wtforms import HiddenField, RadioField
from wtforms.validators import AnyOf, InputRequired

from dispatch import forms
from dispatch.api.clock import now
from dispatch.auth import current_actor, request_id
from dispatch.db import get_session
from dispatch.errors import Conflict, InvalidInput
from dispatch.models import Patient
from dispatch.models.consent import CONSENT_SCOPES
from dispatch.services import consent, patients
from dispatch.web.common import bp

PURPOSE = "record the patient's consent to share the care plan"


class ConsentForm(FlaskForm):
    """Give or withdraw consent: who decided, and the scope (one today)."""

    given_by = RadioField("Who made the decision?", choices=forms.options(
        consent.GIVER_LABELS.items()), validators=[InputRequired("Choose who made the decision")])
    scope = HiddenField(default=CONSENT_SCOPES[0], validators=[
        AnyOf(CONSENT_SCOPES, message="Reload the page: the scope is not known")])


def _patient(patient_id: int) -> Patient:
    """:raise NotFound: no such patient."""
    return patients.get_patient(get_session(), patient_id)


@bp.get("/patients/<int:patient_id>/consent")
def consent_page(patient_id: int) -> str:
    """The patient's consent to share the care plan now, its history, and the form to change it."""
    session = get_session()
    patient = consent.view_consent(session, patient_id, actor=current_actor(), now=now(),
                                   purpose=PURPOSE, request_id=request_id())
    session.commit()
    return _render(patient, ConsentForm(formdata=None))


@bp.post("/patients/<int:patient_id>/consent")
def consent_record(patient_id: int) -> ResponseReturnValue:
    """Record consent (who decided, scope); audited. Post/Redirect/Get."""
    return _decide(patient_id, consent.record_consent, "Consent to share the care plan recorded.")


@bp.post("/patients/<int:patient_id>/consent/withdraw")
def consent_withdraw(patient_id: int) -> ResponseReturnValue:
    """Withdraw consent: the care plan is no longer shared; audited. Post/Redirect/Get."""
    return _decide(patient_id, consent.withdraw_consent,
                   "Consent withdrawn: the care plan is no longer shared.")


def _decide(patient_id: int, change: consent.ConsentChange, done: str) -> ResponseReturnValue:
    patient = _patient(patient_id)
    form = ConsentForm()
    session = get_session()
    if form.validate():
        try:
            change(session, patient=patient, actor=current_actor(), now=now(),
                   given_by=form.given_by.data or "", scope=form.scope.data or "",
                   request_id=request_id())
        except (InvalidInput, Conflict) as exc:
            session.rollback()
            errors = forms.put_errors(form, exc.errors) if exc.errors else [exc.message]
            return _render(patient, form, extra=errors), exc.status
        session.commit()
        flash(done)
        return redirect(url_for("web.consent_page", patient_id=patient.id), code=303)
    return _render(patient, form), 422


def _render(patient: Patient, form: ConsentForm, extra: list[str] | None = None) -> str:
    errors = forms.error_list(form, [e[:1].upper() + e[1:] for e in extra or []])
    return render_template(
        "patients/consent.html", patient=patient, form=form, errors=errors,
        history=consent.history(get_session(), patient_id=patient.id),
        scope_labels=consent.SCOPE_LABELS, giver_labels=consent.GIVER_LABELS)
