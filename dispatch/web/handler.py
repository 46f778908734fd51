"""The call handler's pages: find the patient, log the referral, read back the disposition."""

from __future__ import annotations

from datetime import datetime, time
from typing import Any

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from marshmallow import ValidationError

from dispatch import forms
from dispatch.auth import current_actor, request_id
from dispatch.config import LONDON
from dispatch.db import get_session
from dispatch.errors import Conflict, Forbidden, InvalidInput
from dispatch.jobs.wakeup import wake
from dispatch.models import Patient, Referral
from dispatch.planning.runs import provider_for
from dispatch.request_clock import now
from dispatch.schemas.referrals import ReferralCreateSchema
from dispatch.services import (
    bookings,
    care_plans,
    carers,
    onward,
    patients,
    referrals,
    slot_holds,
    slots,
)
from dispatch.services import care_plan_access as access
from dispatch.services.duplicates import ReferralRead, possible_duplicates
from dispatch.services.patient_matching import PatientMismatch
from dispatch.services.referral_commands import NewReferral
from dispatch.services.slot_holds import hold_minutes
from dispatch.web.common import bp, london_time
from triage import CFS_NAMES, NEEDS, RED_FLAGS, UCR_NEEDS
from triage.timing import local


@bp.get("/referrals/new")
def new_referral() -> str:
    """Step 1, find the patient; step 2 (a patient selected or being registered), the referral."""
    patient = _selected_patient(request.args.get("patient", type=int))
    form = forms.ReferralForm(formdata=None)
    form.prepare(now=now(), patient_id=patient.id if patient else None)
    context = _patient_context(patient, override=None)
    get_session().commit()
    return _render_new(form=form, register="register" in request.args, **context)


class _OpenReferral:
    """A registration on the form matched a patient with an open referral (H-031): stopped
    before logging, to show the handler what is open; logging again confirms."""

    def __init__(self, patient_id: int, duplicates: list[Any]) -> None:
        self.patient_id = patient_id
        self.duplicates = duplicates


class _Mismatch:
    """What the page says about a patient_mismatch (field names only, never stored values)."""

    def __init__(self, exc: PatientMismatch, *, nhs_number_given: bool) -> None:
        self.fields = [f.replace("_", " ") for f in exc.fields]
        self.patient_ids = exc.patient_ids
        self.nhs_number_given = nhs_number_given
        self.untraced = exc.untraced


@bp.post("/referrals/new")
def create_referral() -> ResponseReturnValue:
    """Log the referral: triage it and show the result (a double submit makes one referral)."""
    form = forms.ReferralForm()
    unplaced: list[str] = []
    mismatch: _Mismatch | None = None
    open_referral: _OpenReferral | None = None
    if form.validate():
        result = _submit(form)
        if isinstance(result, Referral):
            return redirect(url_for("web.referral_page", referral_id=result.id), code=303)
        if isinstance(result, _Mismatch):
            mismatch = result
        elif isinstance(result, _OpenReferral):
            open_referral = result
        else:
            unplaced = result
    patient = _selected_patient(form.patient_id.data) if form.patient_id.data else None
    form.prepare(now=now(), patient_id=patient.id if patient else None)
    if open_referral is None:
        form.patient_decision.data = ""  # a confirmation is asked each time, never carried over
    context = _patient_context(patient, override=None)
    get_session().commit()
    errors = forms.error_list(form, unplaced)
    if mismatch is not None:
        errors = [{"text": "Check the patient's details: they differ from the registered "
                   "patient's", "href": "#patient-mismatch"}, *errors]
    if open_referral is not None:
        form.duplicate_seen.data = str(open_referral.patient_id)
        context["duplicates"] = open_referral.duplicates
        errors = [{"text": "This patient already has an open referral: ask the caller, then "
                   "log the referral again if it is new", "href": "#possible-duplicates"},
                  *errors]
    else:
        form.duplicate_seen.data = ""
    return _render_new(form=form, register=patient is None, errors=errors, mismatch=mismatch,
                       **context)


def _submit(form: forms.ReferralForm) -> Referral | list[str] | _Mismatch | _OpenReferral:
    """The referral made (or already made by this form), the patient mismatch to ask about,
    or messages for the summary."""
    payload = form.payload()
    if payload is None:
        return []
    try:
        loaded: NewReferral = ReferralCreateSchema().load(payload)
    except ValidationError as exc:
        return forms.put_errors(form, exc.normalized_messages())
    session = get_session()
    key = f"web-{form.form_token.data}" if form.form_token.data else None
    try:
        made = referrals.create_referral(session, command=loaded, actor=current_actor(),
                                         now=now(), idempotency_key=key, request_id=request_id())
    except PatientMismatch as exc:
        session.rollback()
        return _Mismatch(exc, nhs_number_given=bool(loaded.patient and loaded.patient.nhs_number))
    except InvalidInput as exc:
        session.rollback()
        return forms.put_errors(form, exc.errors or {"form": [exc.message]})
    except Conflict:
        session.rollback()
        earlier = referrals.earlier_submission(session, key, loaded)
        if earlier is not None:
            return earlier  # the first of a double submit won: show its result
        form.form_token.data = forms.new_form_token()
        return ["This form was already used for another referral. Check the details and "
                "submit again to log a new referral"]
    if (made.created and made.possible_duplicates and not form.patient_id.data
            and form.duplicate_seen.data != str(made.referral.patient_id)):
        # H-031: registered on the form, it matched a patient with an open referral: show
        # it before logging, as for a patient chosen from the search.
        seen = _OpenReferral(made.referral.patient_id, list(made.possible_duplicates))
        session.rollback()
        return seen
    session.commit()
    if made.created and made.referral.visits:
        wake()  # place the new visit now, not at the placer's next poll
    return made.referral


@bp.post("/referrals/new/find")
def find_patient() -> str:
    """Search the register; no match offers to register the patient with what was typed."""
    find = forms.FindPatientForm()
    found: list[Patient] | None = None
    if find.validate() and (terms := find.search_terms()) is not None:
        session = get_session()
        try:
            found = patients.search_patients(session, query=terms, actor=current_actor(),
                                             now=now(), purpose="find the patient for a referral",
                                             request_id=request_id())
        except InvalidInput as exc:
            forms.put_errors(find, exc.errors)
        session.commit()
    form = forms.ReferralForm(formdata=None, data=_register_prefill(find) if found == [] else None)
    form.prepare(now=now(), patient_id=None)
    return _render_new(form=form, find=find, results=found, register=found == [],
                       errors=forms.error_list(find))


def _register_prefill(find: forms.FindPatientForm) -> dict[str, Any]:
    """What was searched, carried into the register form ("Joe Bloggs": given and family)."""
    data = {name: getattr(find, name).data for name in
            ("nhs_number", "dob_day", "dob_month", "dob_year", "postcode")}
    *given, family = (find.family_name.data or "").split() or [""]
    return {**data, "given_name": " ".join(given) or None, "family_name": family or None}


@bp.post("/referrals/new/care-plan")
def care_plan_override() -> ResponseReturnValue:
    """Show a care plan without recorded consent: an emergency (call handlers and coordinators
    only), with a purpose from the list and a reason; audited and reported to the Caldicott
    guardian."""
    override_form = forms.CarePlanOverrideForm()
    valid = override_form.validate()
    patient_id = override_form.patient_id.data or request.form.get("patient_id", type=int)
    patient = _selected_patient(patient_id)
    if patient is None:
        abort(404)
    override = None
    if valid:
        try:
            override = access.parse_override(override_form.purpose.data,
                                             override_form.reason.data)
        except InvalidInput as exc:
            forms.put_errors(override_form, exc.errors)
    context = _patient_context(patient, override=override, override_form=override_form)
    get_session().commit()
    form = forms.ReferralForm(formdata=None)
    form.prepare(now=now(), patient_id=patient.id)
    status = 200 if context["care_plan_basis"] else 403 if override is not None else 422
    return _render_new(form=form, errors=forms.error_list(override_form), **context), status


def _selected_patient(patient_id: int | None) -> Patient | None:
    """The patient being referred, with the look-up audited. :raise NotFound: no such patient."""
    if patient_id is None:
        return None
    return patients.view_patient(get_session(), patient_id, actor=current_actor(), now=now(),
                                 purpose="referral for urgent community care",
                                 request_id=request_id())


def _patient_context(
    patient: Patient | None, *, override: access.Override | None,
    override_form: forms.CarePlanOverrideForm | None = None,
) -> dict[str, Any]:
    """The patient summary and their care plan where the rules allow (each read audited; an
    attempted override that is refused is audited too)."""
    actor = current_actor()
    context: dict[str, Any] = {"patient": patient, "care_plan": None, "care_plan_basis": None,
                               "may_override": access.may_override(actor),
                               "override_purposes": access.OVERRIDE_PURPOSES, "duplicates": []}
    if patient is None:
        return context
    # Hazard H-002: the patient's open referrals, shown before another is logged.
    context["duplicates"] = possible_duplicates(get_session(), patient.id)
    override_form = override_form or forms.CarePlanOverrideForm(formdata=None)
    override_form.patient_id.data = patient.id
    context["override_form"] = override_form
    session = get_session()
    if override is None and access.refusal(session, actor=actor, patient=patient,
                                           now=now()) is not None:
        return context  # nothing asked for yet: offer the override where the role allows
    try:
        read = access.read_care_plan(session, actor=actor, patient=patient, now=now(),
                                     purpose="referral for urgent community care",
                                     override=override, request_id=request_id())
    except Forbidden as exc:
        override_form.reason.errors = [*override_form.reason.errors,
                                       exc.message[:1].upper() + exc.message[1:]]
        return context
    # Issue 16: the version's review date; a plan past it is marked on the 111 view.
    review = care_plans.review_of(session, read.plan)
    past = read.plan is not None and care_plans.PlanVersion(read.plan, review).past_review(now())
    return {**context, "care_plan": read.plan, "care_plan_basis": read.basis,
            "care_plan_override": read.override, "care_plan_review": review,
            "care_plan_past_review": past}


def _render_new(**context: Any) -> str:
    context.setdefault("find", forms.FindPatientForm(formdata=None))
    context.setdefault("errors", [])
    context.setdefault("patient", None)
    context.setdefault("mismatch", None)
    context.setdefault("duplicates", [])
    return render_template(
        "referrals/new.html", needs=NEEDS, ucr_needs=UCR_NEEDS,
        other_needs=forms.OTHER_NEEDS, red_flags=RED_FLAGS, cfs_names=CFS_NAMES, **context)


# --- the result -----------------------------------------------------------------------------


@bp.get("/referrals/<int:referral_id>")
def referral_page(referral_id: int) -> str:
    """The disposition at once: 999 advice first, category, deadline, NEWS2 and every reason."""
    read = _read_referral(referral_id)
    offered = _offered_slots(read.referral) if request.args.get("slots") else None
    get_session().commit()
    return _render_result(read, forms.BookingForm(formdata=None), slots=offered)


def _offered_slots(referral: Referral) -> list[slots.OfferedSlot] | None:
    """The best times to offer for the open visit (issue 15), the read audited; None when
    there is no visit to book."""
    if _open_visit(referral) is None:
        return None
    return slots.offer_slots(get_session(), referral.id, actor=current_actor(), now=now(),
                             provider=provider_for(current_app),
                             purpose="offer the caller a time", request_id=request_id(),
                             hold=hold_minutes(current_app.config))


@bp.post("/referrals/<int:referral_id>/booking")
def book_later_start(referral_id: int) -> ResponseReturnValue:
    """Book a later start; past the deadline warn, and for short timeframes need approval."""
    read = _read_referral(referral_id)
    visit = _open_visit(read.referral)
    form = forms.BookingForm()
    start = _booking_start(form) if form.validate() else None
    return _book(read, visit, form, start)


@bp.post("/referrals/<int:referral_id>/booking/slot")
def book_slot(referral_id: int) -> ResponseReturnValue:
    """Book one of the offered times: within the deadline at once; after it, the booking
    form comes back filled in with the warning, for the reason (and approval) it needs."""
    read = _read_referral(referral_id)
    visit = _open_visit(read.referral)
    choice = forms.SlotChoiceForm()
    start = _slot_start(choice) if choice.validate() else None
    form = forms.BookingForm(formdata=None)
    if start is None or visit is None:
        get_session().commit()
        return _render_result(read, form, slot_form=choice, errors=forms.error_list(choice))
    try:
        slot_holds.require_hold(get_session(), visit_id=visit.id, start=start, now=now())
    except InvalidInput as exc:
        choice.slot.errors = [*choice.slot.errors, *exc.errors["slot"]]
        get_session().commit()
        return _render_result(read, form, slot_form=choice, errors=forms.error_list(choice))
    wall = local(start)
    form.start_day.data, form.start_time.data = wall.date().isoformat(), f"{wall:%H:%M}"
    if start > visit.deadline:
        get_session().commit()
        return _render_result(read, form, start=start)
    return _book(read, visit, form, start)


def _slot_start(choice: forms.SlotChoiceForm) -> datetime | None:
    try:
        start = datetime.fromisoformat((choice.slot.data or "").strip())
    except ValueError:
        start = None
    if start is None or start.tzinfo is None:
        choice.slot.errors = [*choice.slot.errors, "Choose one of the times offered"]
        return None
    return start


def _book(read: ReferralRead, visit: Any, form: forms.BookingForm,
          start: datetime | None) -> ResponseReturnValue:
    """Book ``start`` for the open visit with the form's reason and approval (the
    safeguards of :mod:`dispatch.services.bookings`); on refusal the page shows why."""
    if start is not None and visit is not None:
        approval = bookings.Approval(form.approver_name.data or "", form.approver_role.data or "")
        session = get_session()
        try:
            made = bookings.book_later_start(
                session, visit_id=visit.id, start=start, actor=current_actor(), now=now(),
                reason=form.reason.data or "", confirmed=bool(form.confirm.data),
                approval=approval, request_id=request_id())
        except InvalidInput as exc:
            session.rollback()
            forms.put_errors(form, exc.errors)
        else:
            session.commit()
            flash(_booking_message(made), "warning" if made.check.outside_timeframe else "info")
            return redirect(url_for("web.referral_page", referral_id=read.referral.id),
                            code=303)
    get_session().commit()
    return _render_result(read, form, start=start, errors=forms.error_list(form))


def _booking_start(form: forms.BookingForm) -> datetime | None:
    """The requested start as London wall-clock time; errors go on the fields."""
    try:
        day = forms.read_date(form.start_day.data or "")
    except ValueError:
        form.start_day.errors = [*form.start_day.errors, forms.BAD_DATE]
        return None
    try:
        at = time.fromisoformat((form.start_time.data or "").strip())
    except ValueError:
        form.start_time.errors = [*form.start_time.errors, "Enter a real time, like 15:00"]
        return None
    return local(datetime.combine(day, at, tzinfo=LONDON))


def _booking_message(made: bookings.Booking) -> str:
    visit = made.visit
    window = f"between {london_time(visit.earliest_start)} and {london_time(visit.deadline)}"
    if made.check.outside_timeframe:
        return (f"Booked outside the timeframe: visit {visit.reference} is now due {window}. "
                "This booking is logged and will appear in reports.")
    return f"Visit {visit.reference} will start {window}."


def _read_referral(referral_id: int) -> ReferralRead:
    """The referral with the patient's other open referrals, the read audited."""
    return referrals.read_referral(get_session(), referral_id, actor=current_actor(), now=now(),
                                   purpose="read back the disposition", request_id=request_id())


def read_back_reasons(disposition: dict[str, Any]) -> tuple[list[str], list[str]]:
    """The disposition's reasons split for the read-back, each said once.

    The first reason is triage's summary of the category and deadline, which the page already
    says in its card; for a 999 disposition the reasons that call for 999 go in the red card
    and the rest under "Why". Repeats (the same reason from two findings) are dropped.
    """
    reasons = list(dict.fromkeys(disposition.get("reasons") or []))[1:]
    if disposition.get("category") != "emergency_999":
        return [], reasons
    urgent = [r for r in reasons if "999" in r]
    return urgent, [r for r in reasons if r not in urgent]


def _open_visit(referral: Referral) -> Any:
    return next((v for v in referral.visits if v.status in bookings.BOOKABLE_STATUSES), None)


def _render_result(read: ReferralRead, form: forms.BookingForm, **context: Any) -> str:
    referral = read.referral
    visit = _open_visit(referral)
    check, frame = None, None
    if visit is not None:
        frame = bookings.timeframe(referral, visit)
        if context.get("start") is not None:
            check = bookings.check_booking(referral, visit, start=context["start"])
    patient = patients.get_patient(get_session(), referral.patient_id)
    context.setdefault("errors", [])
    context.setdefault("slots", None)
    context.setdefault("slot_form", forms.SlotChoiceForm(formdata=None))
    context["duplicates"] = list(read.possible_duplicates)
    context["handovers"] = onward.for_referral(get_session(), referral.id)  # H-022
    # Issue 16: a carer breakdown shows who the carer is (links, audited as a carer read).
    context["carer_links"] = []
    if set(referral.needs or ()) & set(carers.CARER_NEEDS):
        context["carer_links"] = carers.read_links(
            get_session(), referral.patient_id, actor=current_actor(), now=now(),
            purpose="a referral about the carer: who the carer is", request_id=request_id())
        get_session().commit()  # the page's own reads were committed before this one
    disposition = referral.disposition or {}
    urgent_reasons, other_reasons = read_back_reasons(disposition)
    return render_template(
        "referrals/show.html", referral=referral, d=disposition, patient=patient,
        urgent_reasons=urgent_reasons, other_reasons=other_reasons,
        visit=visit, visits=referral.visits, booking=form, check=check, timeframe=frame,
        approval_timeframe=bookings.APPROVAL_TIMEFRAME, needs=NEEDS, red_flags=RED_FLAGS,
        **context)

