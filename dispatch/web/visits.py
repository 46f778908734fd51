"""Field staff: "My visits today" and the visit page the SMS links to (``/visits/<reference>``).

A worker sees only visits assigned to them (anything else is "not found", so a guessed
reference reveals nothing); coordinators and admins may open any. Every view is audited, and
the care plan is shown only where ``care_plan_access`` allows (consent, or this referral's FHIR
Consent; for a worker, a visit open or closed in the last 7 days), its read audited with the
purpose "attend visit". Accept, decline, arrived and done are the SMS state machine
(``dispatch.services.visit_actions``): a CSRF-protected form each, Post/Redirect/Get, and a
stale action (already accepted, reassigned meanwhile) shows the service's Conflict message.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import quote, urlencode

from flask import flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue

from dispatch import forms
from dispatch.auth import current_actor, request_id
from dispatch.db import get_session
from dispatch.errors import Conflict, InvalidInput, NotFound
from dispatch.models import Patient, Staff, Visit
from dispatch.request_clock import now
from dispatch.services import field_visits as field
from dispatch.services import visit_actions
from dispatch.states import VISIT_ACTIVE_STATUSES as ACTIVE
from dispatch.web.common import bp
from dispatch.web.pageforms import (
    OBSERVATIONS,
    OUTCOME_LABELS,
    ActionForm,
    CompleteForm,
    DeclineForm,
)

PURPOSE = "attend visit"
EXPIRED = [{"text": "The form expired; try again"}]
PLAN_REFUSALS = {
    "no_consent": "The patient has not consented to share their care plan. Ask the "
                  "coordinator if you need more information.",
    "no_care_relationship": "The care plan is shown only while you have a visit with this "
                            "patient (open, or closed in the last 7 days).",
}
DONE_MESSAGES = {
    "accept": "You accepted visit {ref}. Mark your arrival when you get there.",
    "decline": "You declined visit {ref}. The coordinator will find someone else.",
    "arrive": "Arrival recorded for visit {ref}.",
    "complete": "Visit {ref} is done: {outcome}.",
}


def _reference_visit(reference: str) -> Visit:
    """The visit, if this user may see it. :raise NotFound: no such visit, or not theirs."""
    return field.visit_for(get_session(), reference, actor=current_actor())


def _worker() -> Staff:
    """The signed-in worker's staff row. :raise NotFound: the user is not linked to one."""
    return field.worker_of(get_session(), current_actor())


@bp.get("/my-visits")
def my_visits() -> str:
    """Today's visits for the signed-in worker: open ones first, soonest first."""
    actor, session = current_actor(), get_session()
    today = field.my_visits(session, actor=actor, now=now(), purpose=PURPOSE,
                            request_id=request_id())
    rows, partners = today.rows, today.partners
    session.commit()
    moment = now()
    return render_template("visits/mine.html", rows=rows, linked=actor.staff_id is not None,
                           partners=partners, late_flag=lambda visit: late_flag(visit, moment))


def late_flag(visit: Visit, moment: Any) -> str | None:
    """Why a visit on "My visits" is late, in a few words, or None: arrived after its deadline,
    not arrived and the deadline has passed, or planned to start after it."""
    if visit.arrived_at is not None:
        return "Arrived late" if visit.arrived_at > visit.deadline else None
    if visit.status in ACTIVE and moment > visit.deadline:
        minutes = int((moment - visit.deadline).total_seconds() // 60)
        return f"Late: deadline passed {minutes} min ago"
    if visit.planned_start is not None and visit.planned_start > visit.deadline:
        return "Planned after the deadline"
    return None


@bp.get("/visits/<reference>")
def visit_page(reference: str) -> ResponseReturnValue:
    """The visit: where, how to get in, why, by when, the care plan (with consent), actions."""
    return _render(_reference_visit(reference))


def _render(visit: Visit, *, errors: list[dict[str, str]] | None = None,
            decline: DeclineForm | None = None, complete: CompleteForm | None = None,
            status: int = 200) -> ResponseReturnValue:
    session = get_session()
    read = field.read_visit(session, visit, actor=current_actor(), now=now(), purpose=PURPOSE,
                            request_id=request_id())
    session.commit()
    return render_template(
        "visits/show.html", visit=visit, patient=read.patient, referral=read.referral,
        plan=read.plan, partner=read.partner, plan_note=_plan_note(read), mine=read.mine,
        errors=errors or [], action=ActionForm(formdata=None),
        decline=decline or DeclineForm(formdata=None),
        complete=complete or CompleteForm(formdata=None), outcome_labels=OUTCOME_LABELS,
        observation_names=list(OBSERVATIONS),
        observation_labels={k: v[0] for k, v in OBSERVATIONS.items()},
        directions=directions(read.patient),
        visit_end=(visit.planned_start + timedelta(minutes=visit.duration_minutes)
                   if visit.planned_start else None),
        minutes_left=int((visit.deadline - now()).total_seconds() // 60)), status


@dataclass(frozen=True)
class Directions:
    """Links that hand the address to the phone's maps (nothing is fetched by the page)."""

    maps: str
    geo: str


def directions(patient: Patient) -> Directions:
    """A maps directions link to the patient's address, and a ``geo:`` link (Android maps
    apps), built from the address and postcode, or the coordinates when they are known."""
    place = ", ".join(p for p in (patient.address, patient.postcode) if p)
    maps = "https://www.google.com/maps/dir/?" + urlencode({"api": 1, "destination": place})
    where = (f"{patient.lat:.5f},{patient.lon:.5f}" if patient.lat is not None
             and patient.lon is not None else "0,0")
    return Directions(maps, f"geo:{where}?q={quote(place)}")


def _plan_note(read: field.VisitRead) -> str | None:
    """Why no care plan is shown (None when one is).

    Field staff need a visit with the patient that is open or closed in the last 7 days; the
    plan needs the patient's consent, or a FHIR Consent that came with this visit's referral.
    """
    if read.plan_refused is not None:
        return PLAN_REFUSALS.get(read.plan_refused, PLAN_REFUSALS["no_consent"])
    return None if read.plan else "No care plan is recorded for this patient."


def _act(
    reference: str, name: str, do: Callable[[Visit, Staff], Visit], **fmt: str
) -> ResponseReturnValue:
    """Run one state-machine action for the signed-in worker; commit and redirect, or show
    the Conflict (stale or foreign action) on the page with 409."""
    visit = _reference_visit(reference)
    staff = _worker()
    session = get_session()
    try:
        do(visit, staff)
    except (Conflict, InvalidInput) as exc:
        session.rollback()
        return _render(_reference_or_gone(reference, visit), status=exc.status,
                       errors=[{"text": _sentence(exc.message)}])
    session.commit()
    flash(DONE_MESSAGES[name].format(ref=visit.reference, **fmt))
    if name == "decline":  # no longer theirs: the visit page would be "not found"
        return redirect(url_for("web.my_visits"), code=303)
    return redirect(url_for("web.visit_page", reference=visit.reference), code=303)


def _reference_or_gone(reference: str, visit: Visit) -> Visit:
    try:
        return _reference_visit(reference)
    except NotFound:  # taken away meanwhile: say so on the list instead
        raise Conflict(f"visit {visit.reference} is no longer assigned to you") from None


def _sentence(message: str) -> str:
    return message[:1].upper() + message[1:]


@bp.post("/visits/<reference>/accept")
def visit_accept(reference: str) -> ResponseReturnValue:
    """Accept the visit (it is then pinned to you)."""
    if not ActionForm().validate():
        return _render(_reference_visit(reference), errors=EXPIRED, status=400)
    return _act(reference, "accept", lambda v, s: visit_actions.accept(
        get_session(), visit=v, staff=s, now=now(), actor=current_actor()))


@bp.post("/visits/<reference>/decline")
def visit_decline(reference: str) -> ResponseReturnValue:
    """Decline, with a reason (counted in the KPIs); the planner finds someone else."""
    form = DeclineForm()
    if not form.validate():
        return _render(_reference_visit(reference), decline=form, status=422,
                       errors=forms.error_list(form))
    return _act(reference, "decline", lambda v, s: visit_actions.decline(
        get_session(), visit=v, staff=s, reason=form.text(), now=now(), actor=current_actor()))


@bp.post("/visits/<reference>/arrive")
def visit_arrive(reference: str) -> ResponseReturnValue:
    """Record your arrival (arriving without accepting first counts as accepting)."""
    if not ActionForm().validate():
        return _render(_reference_visit(reference), errors=EXPIRED, status=400)
    return _act(reference, "arrive", lambda v, s: visit_actions.arrive(
        get_session(), visit=v, staff=s, now=now(), actor=current_actor()))


@bp.post("/visits/<reference>/complete")
def visit_complete(reference: str) -> ResponseReturnValue:
    """Done, with the outcome."""
    form = CompleteForm()
    if not form.validate():
        return _render(_reference_visit(reference), complete=form, status=422,
                       errors=forms.error_list(form))
    outcome = form.outcome.data or ""
    return _act(reference, "complete", lambda v, s: visit_actions.complete(
        get_session(), visit=v, staff=s, outcome=outcome, now=now(), actor=current_actor(),
        notes=form.notes.data, observations=form.observations()),
        outcome=OUTCOME_LABELS.get(outcome, outcome).split(":")[0].lower())
