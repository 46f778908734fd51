"""Server-rendered pages (NHS.UK frontend) and the vendored front-end assets.

Front-end packages (``nhsuk-frontend``, ``swagger-ui-dist``) are installed by npm into the
project's ``node_modules`` by the README's commands and served from ``/static/vendor/`` so the
pages work on a machine with no internet. Templates extend ``nhsuk/template.jinja`` from
``nhsuk-frontend-jinja`` (templates only; it pairs with npm ``nhsuk-frontend`` 10.6.1).

Pages work without JavaScript: every step is a plain form post, and the NHS.UK script only
adds niceties (focusing the error summary, the header menu). Views parse, call a service,
commit once and render; the rules live in ``dispatch.services`` and ``triage``.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import (
    Blueprint,
    Flask,
    abort,
    flash,
    g,
    redirect,
    render_template,
    request,
    send_from_directory,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_login import current_user
from jinja2 import (
    BytecodeCache,
    ChainableUndefined,
    ChoiceLoader,
    FileSystemLoader,
    PackageLoader,
)
from jinja2.bccache import Bucket
from marshmallow import ValidationError
from werkzeug.wrappers import Response

from dispatch import forms, webauth
from dispatch.api.clock import now
from dispatch.api.schemas import ReferralCreateSchema
from dispatch.auth import current_actor, request_id
from dispatch.db import get_session
from dispatch.errors import Conflict, DispatchError, Forbidden, InvalidInput
from dispatch.models import Patient, Referral
from dispatch.permissions import CALL_HANDLER, allowed, rule_for
from dispatch.services import audit, bookings, patients, referrals
from triage import CFS_NAMES, NEEDS, RED_FLAGS, UCR_NEEDS
from triage.timing import LONDON, local

VENDOR_PACKAGES = ("nhsuk-frontend", "swagger-ui-dist")
NODE_MODULES = Path(__file__).resolve().parent.parent / "node_modules"
NHSUK_DIST = "nhsuk-frontend/dist/nhsuk"
ASSET_PATH = f"/static/vendor/{NHSUK_DIST}/assets"
SERVICE_NAME = "Rapid response dispatch"
# Where each role lands after signing in; roles without a page of their own yet get the
# home page with links to what they may use.
ROLE_HOME = {CALL_HANDLER: "web.new_referral"}

try:  # the site-wide header policy, when the hardening module is installed
    from dispatch.security import CSP as BASE_CSP
except ImportError:  # pragma: no cover - same policy, spelled out
    BASE_CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
                "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'")

bp = Blueprint("web", __name__)


class SharedBytecodeCache(BytecodeCache):
    """Compiled templates shared by every app in the process.

    The NHS.UK macros take most of a second to compile; the tests build an app per test and
    would compile them every time. Jinja checks each entry against its source's checksum, so
    an edited template is never served stale.
    """

    def __init__(self) -> None:
        self._store: dict[str, bytes] = {}

    def load_bytecode(self, bucket: Bucket) -> None:
        data = self._store.get(bucket.key)
        if data is not None:
            bucket.bytecode_from_string(data)

    def dump_bytecode(self, bucket: Bucket) -> None:
        self._store[bucket.key] = bucket.bytecode_to_string()


BYTECODE_CACHE = SharedBytecodeCache()


def init_app(app: Flask) -> None:
    """Templates (ours, then nhsuk-frontend-jinja's), sign-in and CSRF, and the pages."""
    templates = Path(__file__).resolve().parent / "templates"
    loader = ChoiceLoader([FileSystemLoader(templates), PackageLoader("nhsuk_frontend_jinja")])
    app.jinja_options = {**app.jinja_options, "undefined": ChainableUndefined,
                         "bytecode_cache": BYTECODE_CACHE}
    app.jinja_loader = loader
    if "jinja_env" in app.__dict__:  # something rendered already: adjust the live env
        app.jinja_env.undefined = ChainableUndefined
    webauth.init_app(app)
    app.register_blueprint(bp)
    for name, function in TEMPLATE_FILTERS.items():
        app.add_template_filter(function, name)
    app.context_processor(_page_context)
    app.after_request(_allow_page_scripts)


def london_time(moment: datetime | str | None) -> str:
    """"12:20 on Tuesday 1 December 2026": the wall-clock time a London call handler reads."""
    if moment is None:
        return ""
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    wall = local(moment)
    return f"{wall:%H:%M} on {wall:%A} {wall.day} {wall:%B %Y}"


def nhs_number(value: str | None) -> str:
    """"9434765919" -> "943 476 5919", the way NHS numbers are printed and read aloud."""
    digits = value or ""
    return f"{digits[:3]} {digits[3:6]} {digits[6:]}" if len(digits) == 10 else digits


def duration(delta: timedelta) -> str:
    """"2 hours", "90 minutes", "3 days": a timeframe as people say it."""
    minutes = int(delta.total_seconds() // 60)
    if minutes % (24 * 60) == 0 and minutes >= 48 * 60:
        return f"{minutes // (24 * 60)} days"
    if minutes % 60 == 0 and minutes >= 60:
        return f"{minutes // 60} hour{'s' if minutes != 60 else ''}"
    return f"{minutes} minutes"


def plan_value(value: Any) -> str:
    """A care plan entry in words (lists joined, yes/no for flags, nested records inline)."""
    if value is None or value == "":
        return "Not recorded"
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, list):
        return ", ".join(plan_value(v) for v in value) or "None"
    if isinstance(value, dict):
        return ", ".join(f"{k.replace('_', ' ')}: {plan_value(v)}" for k, v in value.items())
    return str(value).replace("_", " ")


def choice_items(field: Any) -> list[dict[str, Any]]:
    """A WTForms choice field's options as NHS.UK select / radios items, the value marked."""
    return [{"value": c[0], "text": c[1], "selected": bool(c[2]), "checked": bool(c[2])}
            for c in field.iter_choices()]


NEWS2_NAMES = {
    "respiration_rate": "Respiration rate", "spo2": "SpO2", "on_oxygen": "Air or oxygen",
    "systolic_bp": "Systolic blood pressure", "pulse": "Pulse",
    "consciousness": "Consciousness", "temperature": "Temperature",
}
TEMPLATE_FILTERS: dict[str, Callable[..., Any]] = {
    "london": london_time, "nhs_number": nhs_number, "duration": duration,
    "plan_value": plan_value, "nhs_items": choice_items,
    "news2_name": lambda name: NEWS2_NAMES.get(name, name),
}


def _csp_nonce() -> str:
    """This response's script nonce (the page template's two small inline scripts use it)."""
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(16)
    return str(g.csp_nonce)


def _allow_page_scripts(response: Response) -> Response:
    """Let a rendered page run its own inline scripts, and only those, by nonce.

    The site-wide policy (``dispatch.security``) allows scripts from our origin only; the
    NHS.UK page template marks ``<body>`` as script-capable with an inline script, so pages
    that used a nonce get the same policy plus that nonce.
    """
    nonce = g.get("csp_nonce")
    if nonce and "Content-Security-Policy" not in response.headers:
        response.headers["Content-Security-Policy"] = BASE_CSP.replace(
            "script-src 'self'", f"script-src 'self' 'nonce-{nonce}'")
    return response


def _page_context() -> dict[str, Any]:
    user = current_user if current_user and current_user.is_authenticated else None
    return {
        "cspNonce": _csp_nonce(),
        "assetPath": ASSET_PATH, "nhsuk_dist": f"/static/vendor/{NHSUK_DIST}",
        "service_name": SERVICE_NAME, "signed_in": user, "sign_out_form": forms.SignOutForm(),
        "can": _can, "role_name": lambda role: (role or "").replace("_", " "),
        "news2_names": NEWS2_NAMES,
    }


def _can(endpoint: str, method: str = "GET") -> bool:
    rule = rule_for(endpoint, method)
    role = current_user.role if current_user and current_user.is_authenticated else None
    return rule is not None and allowed(rule, role)


def _home_url() -> str:
    role = current_user.role if current_user.is_authenticated else None
    return url_for(ROLE_HOME.get(role or "", "web.home"))


def _safe_next(target: str | None) -> str | None:
    """Only a path on this site (never ``//evil.example`` or ``https://...``)."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target.rstrip("?") or None


@bp.errorhandler(DispatchError)
def _dispatch_error(exc: DispatchError) -> ResponseReturnValue:
    return render_template("errors/error.html", status=exc.status, message=exc.message), exc.status


# --- assets and the front door ---------------------------------------------------------------


@bp.get("/static/vendor/<package>/<path:filename>")
def vendor(package: str, filename: str) -> Response:
    """Serve a file of an allowed npm package. :raise 404: unknown package or file."""
    if package not in VENDOR_PACKAGES:
        abort(404)
    return send_from_directory(NODE_MODULES / package, filename)


@bp.get("/assets/<path:filename>")
def nhsuk_assets(filename: str) -> Response:
    """The icons the NHS.UK stylesheet asks for at ``/assets/images/...``."""
    return send_from_directory(NODE_MODULES / NHSUK_DIST / "assets", filename)


@bp.get("/")
def index() -> Response:
    """Signed in: the role's home page. Otherwise: sign in."""
    if current_user.is_authenticated:
        return redirect(_home_url())
    return redirect(url_for("web.sign_in"))


@bp.get("/home")
def home() -> str:
    """Links to the pages the signed-in role may use."""
    return render_template("home.html")


# --- sign in and out -------------------------------------------------------------------------


@bp.route("/sign-in", methods=["GET", "POST"])
def sign_in() -> ResponseReturnValue:
    """Sign in with a username and password; five wrong passwords lock the account."""
    form = forms.SignInForm()
    if request.method == "GET":
        if current_user.is_authenticated:
            return redirect(_home_url())
        form.next.data = _safe_next(request.args.get("next"))
        return render_template("sign_in.html", form=form, errors=[])
    errors: list[dict[str, str]] = []
    if form.validate_on_submit():
        session = get_session()
        result = webauth.authenticate(session, username=form.username.data or "",
                                      password=form.password.data or "", now=now())
        session.commit()
        if result.user is not None:
            webauth.start_session(result.user)
            return redirect(_safe_next(form.next.data) or _home_url(), code=303)
        errors = [{"text": result.message or webauth.GENERIC_FAILURE, "href": "#username"}]
    return render_template("sign_in.html", form=form,
                           errors=errors or forms.error_list(form)), 200


@bp.post("/sign-out")
def sign_out() -> Response:
    """Sign out (a POST with the CSRF token, so no other site can sign you out)."""
    session = get_session()
    webauth.end_session(session, actor=current_actor(), now=now())
    session.commit()
    flash("You have signed out.")
    return redirect(url_for("web.sign_in"), code=303)


# --- the call handler's page -----------------------------------------------------------------


@bp.get("/referrals/new")
def new_referral() -> str:
    """Step 1, find the patient; step 2 (a patient selected or being registered), the referral."""
    patient = _selected_patient(request.args.get("patient", type=int))
    form = forms.ReferralForm(formdata=None)
    form.prepare(now=now(), patient_id=patient.id if patient else None)
    context = _patient_context(patient, override_reason=None)
    get_session().commit()
    return _render_new(form=form, register="register" in request.args, **context)


@bp.post("/referrals/new")
def create_referral() -> ResponseReturnValue:
    """Log the referral: triage it and show the result (a double submit makes one referral)."""
    form = forms.ReferralForm()
    unplaced: list[str] = []
    if form.validate():
        result = _submit(form)
        if isinstance(result, Referral):
            return redirect(url_for("web.referral_page", referral_id=result.id), code=303)
        unplaced = result
    patient = _selected_patient(form.patient_id.data) if form.patient_id.data else None
    form.prepare(now=now(), patient_id=patient.id if patient else None)
    context = _patient_context(patient, override_reason=None)
    get_session().commit()
    return _render_new(form=form, register=patient is None, errors=forms.error_list(form, unplaced),
                       **context)


def _submit(form: forms.ReferralForm) -> Referral | list[str]:
    """The referral made (or already made by this form), or messages for the summary."""
    payload = form.payload()
    if payload is None:
        return []
    try:
        loaded = ReferralCreateSchema().load(payload)
    except ValidationError as exc:
        return forms.put_errors(form, exc.normalized_messages())
    session = get_session()
    key = f"web-{form.form_token.data}" if form.form_token.data else None
    try:
        made = referrals.create_referral(session, payload=loaded, actor=current_actor(),
                                         now=now(), idempotency_key=key, request_id=request_id())
    except InvalidInput as exc:
        session.rollback()
        return forms.put_errors(form, exc.errors or {"form": [exc.message]})
    except Conflict:
        session.rollback()
        earlier = session.scalar(sa.select(Referral).where(Referral.idempotency_key == key))
        if earlier is not None and earlier.request_hash == referrals.request_hash(loaded):
            return earlier  # the first of a double submit won: show its result
        form.form_token.data = forms.new_form_token()
        return ["This form was already used for another referral. Check the details and "
                "submit again to log a new referral"]
    session.commit()
    return made.referral


@bp.post("/referrals/new/find")
def find_patient() -> str:
    """Search the register; no match offers to register the patient with what was typed."""
    find = forms.FindPatientForm()
    found: list[Patient] | None = None
    if find.validate() and (terms := find.search_terms()) is not None:
        session = get_session()
        try:
            found = patients.find_patients(session, **terms)
        except InvalidInput as exc:
            forms.put_errors(find, exc.errors)
        for patient in found or []:
            audit.record(session, actor=current_actor(), action="search_patient", now=now(),
                         patient_id=patient.id, entity=("patient", patient.id),
                         purpose="find the patient for a referral", request_id=request_id(),
                         details={"terms": sorted(terms)})
        session.commit()
    form = forms.ReferralForm(formdata=None, data=_register_prefill(find) if found == [] else None)
    form.prepare(now=now(), patient_id=None)
    return _render_new(form=form, find=find, results=found, register=found == [],
                       errors=forms.error_list(find))


def _register_prefill(find: forms.FindPatientForm) -> dict[str, Any]:
    return {name: getattr(find, name).data for name in
            ("nhs_number", "family_name", "dob_day", "dob_month", "dob_year", "postcode")}


@bp.post("/referrals/new/care-plan")
def care_plan_override() -> ResponseReturnValue:
    """Show a care plan without recorded consent: an emergency, with a reason, audited."""
    override = forms.CarePlanOverrideForm()
    valid = override.validate()
    patient_id = override.patient_id.data or request.form.get("patient_id", type=int)
    patient = _selected_patient(patient_id)
    if patient is None:
        abort(404)
    reason = (override.reason.data or "").strip() if valid else None
    context = _patient_context(patient, override_reason=reason, override_form=override)
    get_session().commit()
    form = forms.ReferralForm(formdata=None)
    form.prepare(now=now(), patient_id=patient.id)
    return _render_new(form=form, errors=forms.error_list(override), **context)


def _selected_patient(patient_id: int | None) -> Patient | None:
    """The patient being referred, with the look-up audited. :raise NotFound: no such patient."""
    if patient_id is None:
        return None
    session = get_session()
    patient = patients.get_patient(session, patient_id)
    audit.record(session, actor=current_actor(), action="view_patient", now=now(),
                 patient_id=patient.id, entity=("patient", patient.id),
                 purpose="referral for urgent community care", request_id=request_id())
    return patient


def _patient_context(
    patient: Patient | None, *, override_reason: str | None,
    override_form: forms.CarePlanOverrideForm | None = None,
) -> dict[str, Any]:
    """The patient summary and their care plan where the law allows, each read audited."""
    context: dict[str, Any] = {"patient": patient, "care_plan": None, "care_plan_basis": None}
    if patient is None:
        return context
    override_form = override_form or forms.CarePlanOverrideForm(formdata=None)
    override_form.patient_id.data = patient.id
    context["override_form"] = override_form
    session, actor = get_session(), current_actor()
    try:
        plan, basis = patients.read_care_plan(session, patient=patient,
                                              emergency_reason=override_reason)
    except (Forbidden, InvalidInput) as exc:
        if isinstance(exc, InvalidInput):
            forms.put_errors(override_form, exc.errors)
        if override_reason is not None:
            audit.record(session, actor=actor, action="care_plan_refused", now=now(),
                         patient_id=patient.id, entity=("patient", patient.id),
                         purpose=override_reason[:300], request_id=request_id())
        return context
    audit.record(session, actor=actor, action="view_care_plan", now=now(), patient_id=patient.id,
                 entity=("care_plan", plan.id if plan else None),
                 purpose=override_reason or "referral for urgent community care",
                 request_id=request_id(), details={"basis": basis})
    return {**context, "care_plan": plan, "care_plan_basis": basis}


def _render_new(**context: Any) -> str:
    context.setdefault("find", forms.FindPatientForm(formdata=None))
    context.setdefault("errors", [])
    context.setdefault("patient", None)
    return render_template(
        "referrals/new.html", needs=NEEDS, ucr_needs=UCR_NEEDS,
        other_needs=forms.OTHER_NEEDS, red_flags=RED_FLAGS, cfs_names=CFS_NAMES, **context)


# --- the result -----------------------------------------------------------------------------


@bp.get("/referrals/<int:referral_id>")
def referral_page(referral_id: int) -> str:
    """The disposition at once: 999 advice first, category, deadline, NEWS2 and every reason."""
    referral = _read_referral(referral_id)
    get_session().commit()
    return _render_result(referral, forms.BookingForm(formdata=None))


@bp.post("/referrals/<int:referral_id>/booking")
def book_later_start(referral_id: int) -> ResponseReturnValue:
    """Book a later start; past the deadline warn, and for short timeframes need approval."""
    referral = _read_referral(referral_id)
    visit = _open_visit(referral)
    form = forms.BookingForm()
    start = _booking_start(form) if form.validate() else None
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
            return redirect(url_for("web.referral_page", referral_id=referral.id), code=303)
    get_session().commit()
    return _render_result(referral, form, start=start, errors=forms.error_list(form))


def _booking_start(form: forms.BookingForm) -> datetime | None:
    """The requested start as London wall-clock time; errors go on the fields."""
    try:
        day = date.fromisoformat((form.start_day.data or "").strip())
    except ValueError:
        form.start_day.errors = [*form.start_day.errors, "Enter a real date, like 2026-12-01"]
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


def _read_referral(referral_id: int) -> Referral:
    session = get_session()
    referral = referrals.get_referral(session, referral_id)
    audit.record(session, actor=current_actor(), action="view_referral", now=now(),
                 patient_id=referral.patient_id, entity=("referral", referral.id),
                 purpose="read back the disposition", request_id=request_id())
    return referral


def _open_visit(referral: Referral) -> Any:
    return next((v for v in referral.visits if v.status in bookings.BOOKABLE_STATUSES), None)


def _render_result(referral: Referral, form: forms.BookingForm, **context: Any) -> str:
    visit = _open_visit(referral)
    check, frame = None, None
    if visit is not None:
        frame = bookings.timeframe(referral, visit)
        if context.get("start") is not None:
            check = bookings.check_booking(referral, visit, start=context["start"])
    patient = get_session().get(Patient, referral.patient_id)
    context.setdefault("errors", [])
    return render_template(
        "referrals/show.html", referral=referral, d=referral.disposition or {}, patient=patient,
        visit=visit, visits=referral.visits, booking=form, check=check, timeframe=frame,
        approval_timeframe=bookings.APPROVAL_TIMEFRAME, needs=NEEDS, red_flags=RED_FLAGS,
        **context)
