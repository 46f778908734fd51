"""Care plan pages (issue 16, item 2): every version with its review date, a form to write the
next version, and the coordinator's own caseload with plans past review flagged.

Reads go through the H-009 rules (consent, or the emergency override on the referral page);
a refused read is audited and answered 403 with the way to record consent.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from flask import flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_wtf import FlaskForm
from wtforms import DateField, RadioField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length

from dispatch import forms
from dispatch.auth import current_actor, request_id
from dispatch.db import get_session
from dispatch.errors import Forbidden, InvalidInput
from dispatch.models import Patient
from dispatch.request_clock import now
from dispatch.services import care_plans as service
from dispatch.services import carers, onward, patients, practices
from dispatch.services.caseload import caseload_rows
from dispatch.web.common import bp
from triage.timing import local

PURPOSE = "review and write the shared care plan"
STATUS_CHOICES = (("in_place", "In place"), ("not_in_place", "Not in place"),
                  ("not_discussed", "Not yet discussed"))
DEFAULT_REVIEW_DAYS = 90


class CarePlanForm(FlaskForm):
    """The whole plan (a new version is a whole plan): one goal or need per line."""

    summary = TextAreaField("Summary", validators=[InputRequired("Write a one-line summary"),
                                                   Length(max=2000)])
    goals = TextAreaField("Goals (one per line)", validators=[Length(max=4000)])
    needs = TextAreaField("Needs (one per line)", validators=[Length(max=4000)])
    crisis_plan = TextAreaField("What to do in a crisis", validators=[
        InputRequired("Say what to do in a crisis"), Length(max=2000)])
    next_of_kin = StringField("Next of kin", validators=[Length(max=300)])
    dnacpr = RadioField("DNACPR decision", choices=forms.options(STATUS_CHOICES),
                        validators=[InputRequired("Say whether a DNACPR decision is in place")])
    respect = RadioField("ReSPECT form", choices=forms.options(STATUS_CHOICES),
                         validators=[InputRequired("Say whether a ReSPECT form is in place")])
    review_due = DateField("Review by", validators=[InputRequired("Enter the review date")])
    reviewer = StringField("Who reviews it", validators=[InputRequired("Say who reviews it"),
                                                          Length(max=120)])


@bp.app_template_global("warnings_of")
def warnings_of(content: dict[str, Any]) -> list[str]:
    """DNACPR / ReSPECT warnings of a plan's content, for every page's banner."""
    return service.warnings_of(content)


def _lines(text: str | None) -> tuple[str, ...]:
    return tuple(line.strip() for line in (text or "").splitlines() if line.strip())


def _patient(patient_id: int) -> Patient:
    """:raise NotFound: no such patient."""
    return patients.get_patient(get_session(), patient_id)


def _versions(patient: Patient) -> tuple[Any, list[service.PlanVersion]] | None:
    session = get_session()
    try:
        return service.read_versions(session, patient=patient, actor=current_actor(),
                                     now=now(), purpose=PURPOSE, request_id=request_id())
    except Forbidden:
        session.commit()  # the refusal stays in the audit trail
        return None


def _refused(patient: Patient) -> tuple[str, int]:
    return render_template("integrated/care_plan_refused.html", patient=patient), 403


@bp.get("/patients/<int:patient_id>/care-plan")
def care_plan_page(patient_id: int) -> ResponseReturnValue:
    """The current version (DNACPR/ReSPECT banner, review date, past review) and the rest."""
    patient = _patient(patient_id)
    found = _versions(patient)
    if found is None:
        return _refused(patient)
    read, versions = found
    links = carers.read_links(get_session(), patient.id, actor=current_actor(), now=now(),
                              purpose=PURPOSE, request_id=request_id())
    get_session().commit()
    return render_template("integrated/care_plan.html", patient=patient, basis=read.basis,
                           versions=versions, current=versions[0] if versions else None,
                           now=now(), carer_links=links)


@bp.get("/patients/<int:patient_id>/care-plan/new")
def care_plan_new(patient_id: int) -> ResponseReturnValue:
    """The form for the next version, filled in from the current one."""
    patient = _patient(patient_id)
    found = _versions(patient)
    if found is None:
        return _refused(patient)
    _, versions = found
    get_session().commit()
    form = CarePlanForm(formdata=None, data=_prefill(versions[0] if versions else None))
    return _render_form(patient, form)


def _prefill(current: service.PlanVersion | None) -> dict[str, Any]:
    review = local(now()).date() + timedelta(days=DEFAULT_REVIEW_DAYS)
    if current is None:
        return {"review_due": review, "dnacpr": "not_discussed", "respect": "not_discussed"}
    content = current.plan.content or {}

    def status(key: str) -> str:
        value = content.get(key)
        if value is True:
            return "in_place"
        return value if isinstance(value, str) else "not_discussed"

    return {"summary": current.plan.summary,
            "goals": "\n".join(str(g) for g in content.get("goals", []) or []),
            "needs": "\n".join(str(n) for n in content.get("needs", []) or []),
            "crisis_plan": content.get("crisis_plan") or content.get("escalation") or "",
            "next_of_kin": _kin_text(content.get("next_of_kin")),
            "dnacpr": status("dnacpr"), "respect": status("respect"), "review_due": review,
            "reviewer": current.review.reviewer if current.review else ""}


def _kin_text(value: Any) -> str:
    if isinstance(value, dict):
        return ", ".join(str(v) for v in value.values() if v)
    return str(value or "")


@bp.post("/patients/<int:patient_id>/care-plan/new")
def care_plan_create(patient_id: int) -> ResponseReturnValue:
    """Write the next version; audited. Post/Redirect/Get."""
    patient = _patient(patient_id)
    form = CarePlanForm()
    if not form.validate():
        return _render_form(patient, form), 422
    review_due: date = form.review_due.data
    new = service.NewVersion(
        summary=form.summary.data or "", goals=_lines(form.goals.data),
        needs=_lines(form.needs.data), crisis_plan=form.crisis_plan.data or "",
        next_of_kin=form.next_of_kin.data or "", dnacpr=form.dnacpr.data or "",
        respect=form.respect.data or "", review_due=review_due,
        reviewer=form.reviewer.data or "")
    session = get_session()
    try:
        made = service.author_version(session, patient=patient, new=new, actor=current_actor(),
                                      now=now(), request_id=request_id())
    except InvalidInput as exc:
        session.rollback()
        forms.put_errors(form, exc.errors)
        return _render_form(patient, form), 422
    session.commit()
    flash(f"Version {made.plan.version} of the care plan saved; review by "
          f"{review_due:%-d %B %Y}.")
    return redirect(url_for("web.care_plan_page", patient_id=patient.id), code=303)


def _render_form(patient: Patient, form: CarePlanForm) -> str:
    return render_template("integrated/care_plan_form.html", patient=patient, form=form,
                           errors=forms.error_list(form))


@bp.get("/caseload")
def my_caseload() -> str:
    """The signed-in coordinator's patients, highest risk first, with what needs doing:
    care plans past review first; each patient listed is audited."""
    session = get_session()
    actor = current_actor()
    rows = caseload_rows(session, actor=actor, coordinator_user_id=actor.user_id or 0,
                         now=now(), request_id=request_id())
    tasks = onward.read_tasks(session, actor=actor, now=now(), request_id=request_id(),
                              owner_user_id=actor.user_id or 0, open_only=True,
                              purpose="the owner's open tasks")
    session.commit()
    total = practices.caseload_size(session, coordinator_user_id=actor.user_id or 0)
    return render_template("integrated/caseload.html", rows=rows, now=now(), tasks=tasks,
                           today=local(now()).date(), total=total)
