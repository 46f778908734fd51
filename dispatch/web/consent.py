"""Consent (share the care plan, contact the carer, text the patient), recorded and withdrawn on
a page under the patient: the scope is chosen with the radios at the top (``?scope=``).

Call handlers and coordinators (the people who talk to patients and carers) record the
decision: who made it (the patient, their attorney or deputy), when, and its scope; each
decision is kept and audited (``dispatch.services.consent``). Looking at the page is audited
too, since it names the patient.
"""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_wtf import FlaskForm
from wtforms import HiddenField, RadioField
from wtforms.validators import AnyOf, InputRequired

from dispatch import forms
from dispatch.auth import current_actor, request_id
from dispatch.db import get_session
from dispatch.errors import Conflict, InvalidInput
from dispatch.models import Patient
from dispatch.models.consent import CONSENT_SCOPES
from dispatch.request_clock import now
from dispatch.services import consent, patients
from dispatch.web.common import bp

PURPOSE = "record the patient's consent to share the care plan"


class ConsentForm(FlaskForm):
    """Give or withdraw consent: who decided, and the scope (chosen on the page above)."""

    given_by = RadioField("Who made the decision?", choices=forms.options(
        consent.GIVER_LABELS.items()), validators=[InputRequired("Choose who made the decision")])
    scope = HiddenField(default=CONSENT_SCOPES[0], validators=[
        AnyOf(CONSENT_SCOPES, message="Reload the page: the scope is not known")])


def _patient(patient_id: int) -> Patient:
    """:raise NotFound: no such patient."""
    return patients.get_patient(get_session(), patient_id)


def _scope() -> str:
    scope = request.args.get("scope", CONSENT_SCOPES[0])
    return scope if scope in CONSENT_SCOPES else CONSENT_SCOPES[0]


@bp.get("/patients/<int:patient_id>/consent")
def consent_page(patient_id: int) -> str:
    """The patient's consents now, the chosen scope's history, and the form to change it."""
    session = get_session()
    patient = consent.view_consent(session, patient_id, actor=current_actor(), now=now(),
                                   purpose=PURPOSE, request_id=request_id())
    session.commit()
    form = ConsentForm(formdata=None)
    form.scope.data = _scope()
    return _render(patient, form)


@bp.post("/patients/<int:patient_id>/consent")
def consent_record(patient_id: int) -> ResponseReturnValue:
    """Record consent (who decided, scope); audited. Post/Redirect/Get."""
    return _decide(patient_id, consent.record_consent, "{title} recorded.")


@bp.post("/patients/<int:patient_id>/consent/withdraw")
def consent_withdraw(patient_id: int) -> ResponseReturnValue:
    """Withdraw consent of the scope; audited. Post/Redirect/Get."""
    return _decide(patient_id, consent.withdraw_consent, "{title} withdrawn.")


def _decide(patient_id: int, change: consent.ConsentChange, done: str) -> ResponseReturnValue:
    patient = _patient(patient_id)
    form = ConsentForm()
    session = get_session()
    if form.validate():
        scope = form.scope.data or ""
        try:
            change(session, patient=patient, actor=current_actor(), now=now(),
                   given_by=form.given_by.data or "", scope=scope,
                   request_id=request_id())
        except (InvalidInput, Conflict) as exc:
            session.rollback()
            errors = forms.put_errors(form, exc.errors) if exc.errors else [exc.message]
            return _render(patient, form, extra=errors), exc.status
        session.commit()
        if scope == CONSENT_SCOPES[0] and change is consent.withdraw_consent:
            flash("Consent withdrawn: the care plan is no longer shared.")
        elif scope == CONSENT_SCOPES[0]:
            flash("Consent to share the care plan recorded.")
        else:
            flash(done.format(title=consent.SCOPE_TITLES[scope]))
        if scope == CONSENT_SCOPES[0]:
            target = url_for("web.consent_page", patient_id=patient.id)
        else:
            target = url_for("web.consent_page", patient_id=patient.id, scope=scope)
        return redirect(target, code=303)
    return _render(patient, form), 422


def _render(patient: Patient, form: ConsentForm, extra: list[str] | None = None) -> str:
    errors = forms.error_list(form, [e[:1].upper() + e[1:] for e in extra or []])
    session = get_session()
    scope = form.scope.data if form.scope.data in CONSENT_SCOPES else CONSENT_SCOPES[0]
    states = consent.scope_states(session, patient=patient)
    chosen = next(s for s in states if s.scope == scope)
    return render_template(
        "patients/consent.html", patient=patient, form=form, errors=errors, scope=scope,
        states=states, chosen=chosen, title=consent.SCOPE_TITLES[scope],
        history=[r for r in consent.history(session, patient_id=patient.id) if r.scope == scope],
        scope_labels=consent.SCOPE_LABELS, scope_titles=consent.SCOPE_TITLES,
        giver_labels=consent.GIVER_LABELS)
