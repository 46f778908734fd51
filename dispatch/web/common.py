"""What every page shares: the blueprint, templates, filters, CSP nonce, sign-in and assets.

Front-end packages (``nhsuk-frontend``, ``swagger-ui-dist``) are installed by npm into the
project's ``node_modules`` by the README's commands and served from ``/static/vendor/`` so the
pages work on a machine with no internet. Templates extend ``nhsuk/template.jinja`` from
``nhsuk-frontend-jinja`` (templates only; it pairs with npm ``nhsuk-frontend`` 10.6.1).

Pages work without JavaScript: every step is a plain form post, and the NHS.UK script only
adds niceties (focusing the error summary, the header menu). Views parse, call a service,
commit once and render; the rules live in ``dispatch.services`` and ``triage``.
"""

from __future__ import annotations

import functools
import re
import secrets
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
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
from werkzeug.wrappers import Response

from dispatch import forms, webauth
from dispatch.auth import current_actor
from dispatch.db import get_session
from dispatch.errors import DispatchError
from dispatch.permissions import (
    ADMIN,
    CALL_HANDLER,
    COORDINATOR,
    FIELD_STAFF,
    MANAGER,
    allowed,
    rule_for,
)
from dispatch.request_clock import now
from dispatch.wording import london_time
from triage.timing import local

VENDOR_PACKAGES = ("nhsuk-frontend", "swagger-ui-dist")
NODE_MODULES = Path(__file__).resolve().parents[2] / "node_modules"
NHSUK_DIST = "nhsuk-frontend/dist/nhsuk"
NHSUK_CSS = "dist/nhsuk/nhsuk-frontend.min.css"
#: An ``@font-face`` rule whose source is on another host (https://assets.nhs.uk/fonts/...).
EXTERNAL_FONT_FACE = re.compile(r"@font-face\s*\{[^}]*url\(\s*[\"']?https?://[^}]*\}")
ASSET_PATH = f"/static/vendor/{NHSUK_DIST}/assets"
SERVICE_NAME = "Rapid response dispatch"
# Where each role lands after signing in; admins get the home page with links to what they
# may use.
ROLE_HOME = {CALL_HANDLER: "web.new_referral", COORDINATOR: "web.board",
             MANAGER: "web.kpi_page", FIELD_STAFF: "web.my_visits"}
__all__ = ["ADMIN", "ROLE_HOME", "bp", "init_app", "london_time"]

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
    templates = Path(__file__).resolve().parent.parent / "templates"
    loader = ChoiceLoader([FileSystemLoader(templates), PackageLoader("nhsuk_frontend_jinja")])
    # Escape every template, whatever its extension: the NHS.UK components end in ``.jinja``,
    # which Flask's default (only .html, .xml...) leaves raw, so text passed to a component
    # (a patient's address, a referral note, a display name) would be rendered as markup.
    # Only what we build is marked safe (``{% set %}`` blocks, ``caller()``, WTForms fields).
    app.jinja_options = {**app.jinja_options, "undefined": ChainableUndefined,
                         "bytecode_cache": BYTECODE_CACHE, "autoescape": True}
    app.jinja_loader = loader
    if "jinja_env" in app.__dict__:  # something rendered already: adjust the live env
        app.jinja_env.undefined = ChainableUndefined
        app.jinja_env.autoescape = True
    webauth.init_app(app)
    app.register_blueprint(bp)
    for name, function in TEMPLATE_FILTERS.items():
        app.add_template_filter(function, name)
    app.context_processor(_page_context)
    app.after_request(_allow_page_scripts)


def uk_date(value: date | datetime | None) -> str:
    """"1 December 2026": a date as people in the UK write it (a moment: its London date)."""
    if value is None:
        return ""
    day = local(value).date() if isinstance(value, datetime) else value
    return f"{day.day} {day:%B %Y}"


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


def countdown(minutes: int) -> str:
    """"1 h 05 min left", "12 min overdue": a deadline as a coordinator glances at it."""
    left = abs(int(minutes))
    text = f"{left // 60} h {left % 60:02d} min" if left >= 60 else f"{left} min"
    return f"{text} overdue" if minutes < 0 else f"{text} left"


def clock(moment: datetime | None, today: datetime | None = None) -> str:
    """"14:05" on the London clock; with ``today``, another day's time is "Wed 09:30"."""
    if moment is None:
        return ""
    wall = local(moment)
    if today is not None and wall.date() != local(today).date():
        return f"{wall:%a %H:%M}"
    return f"{wall:%H:%M}"


CATEGORY_NAMES = {"emergency_999": "999 emergency", "urgent_2h": "2-hour urgent",
                  "response_24h": "24-hour", "planned": "Planned", "signpost": "Signpost",
                  "out_of_scope": "Out of scope (children's pathway)"}


NEWS2_NAMES = {
    "respiration_rate": "Respiration rate", "spo2": "SpO2", "on_oxygen": "Air or oxygen",
    "systolic_bp": "Systolic blood pressure", "pulse": "Pulse",
    "consciousness": "Consciousness", "temperature": "Temperature",
}
TEMPLATE_FILTERS: dict[str, Callable[..., Any]] = {
    "london": london_time, "uk_date": uk_date, "nhs_number": nhs_number, "duration": duration,
    "plan_value": plan_value, "nhs_items": choice_items,
    "news2_name": lambda name: NEWS2_NAMES.get(name, name),
    "countdown": countdown, "hm": clock,
    "category_name": lambda code: CATEGORY_NAMES.get(code or "", (code or "").replace("_", " ")),
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
        policy = BASE_CSP.replace("script-src 'self'", f"script-src 'self' 'nonce-{nonce}'")
        hosts = g.get("csp_img_hosts")  # the board's configured map tile server, if any
        if hosts:
            policy = policy.replace("img-src 'self' data:",
                                    "img-src 'self' data: " + " ".join(hosts))
        response.headers["Content-Security-Policy"] = policy
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


def _has_control_characters(value: str | None) -> bool:
    """CR, LF and other control characters in a return address (header splitting)."""
    return any(ord(c) < 32 or ord(c) == 127 for c in value or "")


@bp.errorhandler(DispatchError)
def _dispatch_error(exc: DispatchError) -> ResponseReturnValue:
    """A service error on a page; a page script's fetch asking for JSON gets the API's JSON."""
    from dispatch.error_pages import wants_json
    from dispatch.http_errors import handle_dispatch_error

    if wants_json():
        return handle_dispatch_error(exc)
    return render_template("errors/error.html", status=exc.status, message=exc.message), exc.status


# --- assets and the front door ---------------------------------------------------------------


@bp.get("/static/vendor/<package>/<path:filename>")
def vendor(package: str, filename: str) -> Response:
    """Serve a file of an allowed npm package. :raise 404: unknown package or file."""
    if package not in VENDOR_PACKAGES:
        abort(404)
    if package == "nhsuk-frontend" and filename == NHSUK_CSS:
        return Response(_local_stylesheet(), mimetype="text/css",
                        headers={"Cache-Control": "public, max-age=3600"})
    return send_from_directory(NODE_MODULES / package, filename)


@functools.cache
def _local_stylesheet() -> str:
    """The NHS.UK stylesheet without its ``@font-face`` rules, which fetch the Frutiger font
    from assets.nhs.uk: no page asks a host outside the service for anything (the font is
    licensed for NHS.UK sites only, so we do not serve it; the stylesheet's own fallback,
    Arial, is used)."""
    css = (NODE_MODULES / "nhsuk-frontend" / NHSUK_CSS).read_text(encoding="utf-8")
    return EXTERNAL_FONT_FACE.sub("", css)


@bp.get("/favicon.ico")
def favicon() -> Response:
    """The NHS favicon, where browsers (and the API docs page) look for it."""
    return send_from_directory(NODE_MODULES / NHSUK_DIST / "assets" / "images", "favicon.ico",
                               max_age=86400)


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
    """Links to the pages the signed-in role may use; for coordinators and managers, the care
    packages waiting for their decision first."""
    from dispatch.auth import current_actor
    from dispatch.db import get_session
    from dispatch.services.package_queue import waiting_for
    from dispatch.services.packages import approval_limits

    actor = current_actor()
    limits = approval_limits(current_app.config.get("APPROVAL_LIMITS_PENCE"))
    waiting = (waiting_for(get_session(), actor, limits)
               if actor.role in ("coordinator", "manager") else [])
    get_session().commit()
    return render_template("home.html", waiting_packages=waiting)


# --- sign in and out -------------------------------------------------------------------------


@bp.route("/sign-in", methods=["GET", "POST"])
def sign_in() -> ResponseReturnValue:
    """Sign in with a username and password; five wrong passwords lock the account."""
    form = forms.SignInForm()
    if _has_control_characters(request.args.get("next")) or _has_control_characters(
            request.form.get("next")):
        from dispatch.error_pages import page_text

        return render_template(
            "errors/error.html", status=400, text=page_text(400),
            message="The return address in this link is not valid (it contains line breaks "
                    "or control characters). Open the service from its start page."), 400
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

