"""Care package pages (issue 14): the list (waiting for my decision first, then waiting for
others, drafts, running, ended), building a package from the tariff with its cost worked out
by the server as you go (no script), and the later steps: submit, activate, end.

The rules stay in ``dispatch.services.packages`` (pricing, routing to an approver, limits,
networks); these views parse, call it and render. Approve and reject are on the package's
page (``dispatch.web.packages``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from dispatch.auth import current_actor, request_id
from dispatch.config import LONDON
from dispatch.db import get_session
from dispatch.errors import Conflict, InvalidInput
from dispatch.jobs.wakeup import wake
from dispatch.models import CarePackage, Patient, User
from dispatch.request_clock import now
from dispatch.services import network_scope, package_queue, tariffs
from dispatch.services import packages as service
from dispatch.services.patients import find_patients
from dispatch.web.common import bp

LINES = 4  # item rows on a new form; empty ones are ignored
#: "Add another item" adds rows up to this many (a package with more is refused on the form).
MAX_LINES = 20
SECTIONS = (("decide", "Waiting for your decision"), ("others", "Waiting for someone else"),
            ("draft", "Drafts"), ("running", "Approved and active"),
            ("closed", "Ended and rejected"))


def _limits() -> Mapping[str, int]:
    return service.approval_limits(current_app.config.get("APPROVAL_LIMITS_PENCE"))


@dataclass(frozen=True)
class Row:
    """One package in the list, with people by name."""

    package: CarePackage
    patient: str
    built_by: str
    ends: date | None


def ends_on(package: CarePackage, weeks: int) -> date | None:
    """The last day: the end date if set, else the start plus the longest line's weeks."""
    if package.end_date is not None:
        return package.end_date
    return package.start_date + timedelta(weeks=weeks) - timedelta(days=1) if weeks else None


def waiting_for(session: Any, actor: Any) -> list[CarePackage]:
    """Submitted packages ``actor`` may decide (their networks, within their limit)."""
    return package_queue.waiting_for(session, actor, _limits())


@bp.get("/packages")
def packages_list() -> ResponseReturnValue:
    """Care packages: waiting for your decision first, then the rest by state."""
    session, actor = get_session(), current_actor()
    search = " ".join(request.args.get("patient", "").split())
    try:
        found = service.list_packages(session, limit=500, patient_name=search or None)
    except InvalidInput as exc:
        session.rollback()
        return render_template("packages/list.html", sections=SECTIONS,
                               rows={key: [] for key, _ in SECTIONS}, pounds=service.pounds,
                               can_build=actor.role in ("coordinator", "manager"),
                               search=search[:service.NAME_MAX],
                               search_error=(exc.errors or {}).get("patient", [""])[0]), 422
    packages = [p for p in found if actor.covers(p.network_id)]
    mine = {p.id for p in waiting_for(session, actor)}
    patients = {p.id: p for p in session.scalars(sa.select(Patient).where(
        Patient.id.in_({p.patient_id for p in packages})))}
    names = dict(session.execute(sa.select(User.username, User.display_name)).all())
    sections: dict[str, list[Row]] = {key: [] for key, _ in SECTIONS}
    for package in packages:
        who = patients.get(package.patient_id)
        weeks = max((i.weeks for i in package.items), default=0)
        row = Row(package, f"{who.given_name} {who.family_name.upper()}" if who else "Unknown",
                  names.get(package.created_by, package.created_by), ends_on(package, weeks))
        key = {"submitted": "decide" if package.id in mine else "others", "draft": "draft",
               "approved": "running", "active": "running"}.get(package.status, "closed")
        sections[key].append(row)
    session.commit()
    return render_template("packages/list.html", sections=SECTIONS, rows=sections,
                           pounds=service.pounds,
                           can_build=actor.role in ("coordinator", "manager"), search=search,
                           search_error=None)


# --- building a package -------------------------------------------------------------------------


def _line_count(values: Mapping[str, str]) -> int:
    """Rows to show: at least :data:`LINES`, one spare after the last item chosen, as many
    as the form had, one more after "Add another item"; at most :data:`MAX_LINES`."""
    filled = [n for n in range(MAX_LINES) if values.get(f"code_{n}")]
    count = max(LINES, max(filled) + 2 if filled else 0)
    raw = str(values.get("rows", ""))
    if raw.isdigit():
        count = max(count, min(int(raw), MAX_LINES))
    if values.get("action") == "add_line":
        count += 1
    return min(count, MAX_LINES)


def _form_lines(values: Mapping[str, str] | None = None) -> list[dict[str, str]]:
    if values is None:
        values = request.form if request.method == "POST" else request.args
    return [{"code": values.get(f"code_{n}", ""), "units": values.get(f"units_{n}", ""),
             "weeks": values.get(f"weeks_{n}", "")} for n in range(_line_count(values))]


def _parse(session: Any) -> tuple[Patient | None, date | None, date | None,
                                  list[service.LineRequest], dict[str, list[str]]]:
    """The form as service input, and what is wrong with it (keyed by field id)."""
    form, errors = request.form, {}
    patient = None
    number = "".join(form.get("nhs_number", "").split())
    try:
        found = find_patients(session, nhs_number=number) if number else []
        patient = found[0] if found else None
        if patient is None:
            errors["nhs_number"] = ["No patient with that NHS number" if number
                                    else "Enter the patient's NHS number"]
    except InvalidInput:
        errors["nhs_number"] = ["Enter a valid 10-digit NHS number"]
    days: dict[str, date | None] = {}
    for name in ("start_date", "end_date"):
        raw = form.get(name, "").strip()
        try:
            days[name] = date.fromisoformat(raw) if raw else None
        except ValueError:
            errors[name] = ["Enter a date like 2026-12-07"]
    if days.get("start_date") is None and "start_date" not in errors:
        errors["start_date"] = ["Enter the start date"]
    lines = []
    for n, line in enumerate(_form_lines()):
        if not line["code"]:
            continue
        try:
            lines.append(service.LineRequest(line["code"], float(line["units"]),
                                             int(line["weeks"])))
        except ValueError:
            errors[f"units_{n}"] = ["Enter how many a week and for how many weeks, as numbers"]
    if not lines and not any(k.startswith("units_") for k in errors):
        errors["code_0"] = ["Choose at least one item from the tariff"]
    return patient, days.get("start_date"), days.get("end_date"), lines, errors


def _quote(session: Any, start: date | None, lines: list[service.LineRequest]
           ) -> tuple[list[dict[str, Any]], int, int]:
    """Each priced line and the weekly and total cost, from the tariff on the start date."""
    on = start or now().astimezone(LONDON).date()
    prices = {t.code: t for t in tariffs.tariff_on(session, on)}
    rows, costs = [], []
    for line in lines:
        tariff = prices.get(line.tariff_code)
        if tariff is None or line.units_per_week <= 0 or line.weeks <= 0:
            continue
        weekly = service.line_weekly_pence(line.units_per_week, tariff.unit_cost_pence)
        rows.append({"name": tariff.name, "units": line.units_per_week, "unit": tariff.unit,
                     "weeks": line.weeks, "unit_cost": tariff.unit_cost_pence,
                     "weekly": weekly, "total": weekly * line.weeks})
        costs.append((line.units_per_week, tariff.unit_cost_pence, line.weeks))
    weekly, total = service.package_costs(costs)
    return rows, weekly, total


def _render_new(errors: dict[str, list[str]] | None = None, status: int = 200,
                quote: tuple[list[dict[str, Any]], int, int] | None = None,
                package: CarePackage | None = None, values: Mapping[str, str] | None = None,
                ) -> ResponseReturnValue:
    session = get_session()
    today = now().astimezone(LONDON).date()
    if values is None:
        values = request.form if request.method == "POST" else request.args
    routing = service.route_for(quote[2], _limits()) if quote and quote[1] else None
    summary = [{"text": msgs[0], "href": f"#{name}"} for name, msgs in (errors or {}).items()]
    page = render_template(
        "packages/new.html", tariff=tariffs.tariff_on(session, today),
        lines=_form_lines(values), package=package,
        values=values, field_errors=errors or {}, errors=summary, quote=quote,
        routing=routing, pounds=service.pounds, default_start=today + timedelta(days=1),
        max_lines=MAX_LINES)
    session.commit()
    return page, status


@bp.get("/packages/new")
def package_new() -> ResponseReturnValue:
    """Build a package: the patient, dates and items from the tariff."""
    tariffs.ensure_default_tariff(get_session(), now().astimezone(LONDON).date())
    return _render_new()


@bp.post("/packages/new")
def package_create() -> ResponseReturnValue:
    """"Work out the cost" re-renders with the cost; "Save" keeps a draft (and "Save and send
    for approval" submits it), then shows the package."""
    session, actor = get_session(), current_actor()
    tariffs.ensure_default_tariff(session, now().astimezone(LONDON).date())
    patient, start, end, lines, errors = _parse(session)
    quote = _quote(session, start, lines)
    if request.form.get("action") == "add_line":
        return _render_new({}, 200, quote)
    if request.form.get("action") == "quote" or errors:
        return _render_new(errors, 422 if errors and request.form.get("action") != "quote"
                           else 200, quote)
    assert patient is not None and start is not None
    try:
        network_scope.require(session, actor, patient.network_id, what="That patient")
        package = service.create_package(session, patient_id=patient.id, start_date=start,
                                         end_date=end, lines=lines, actor=actor, now=now(),
                                         request_id=request_id())
        if request.form.get("action") == "submit":
            service.submit_package(session, package_id=package.id, actor=actor, now=now(),
                                   limits=_limits(), request_id=request_id())
    except InvalidInput as exc:
        session.rollback()
        return _render_new(_field_errors(exc.errors or {}), 422, quote)
    session.commit()
    flash(f"Care package {package.id} saved"
          f"{' and sent for approval' if package.status == 'submitted' else ' as a draft'}.")
    return redirect(url_for("web.package_page", package_id=package.id), code=303)


def _field_errors(errors: Mapping[str, list[str]]) -> dict[str, list[str]]:
    """The service's keys (``items.0.units_per_week``) as the form's ids (``units_0``)."""
    out = {}
    for key, messages in errors.items():
        parts = key.split(".")
        if parts[0] == "items" and len(parts) == 3:
            name = {"tariff_code": "code", "units_per_week": "units"}.get(parts[2], parts[2])
            key = f"{name}_{parts[1]}"
        elif key == "items":
            key = "code_0"
        out[key] = [messages[0][:1].upper() + messages[0][1:]]
    return out


@bp.get("/packages/<int:package_id>/edit")
def package_edit(package_id: int) -> ResponseReturnValue:
    """A draft's form, filled in as saved."""
    session, actor = get_session(), current_actor()
    package = service.get_package(session, package_id)
    network_scope.require(session, actor, package.network_id, what=f"Care package {package_id}")
    patient = session.get(Patient, package.patient_id)
    codes = {t.id: t.code for t in tariffs.tariff_on(session, package.start_date)}
    values = {"nhs_number": patient.nhs_number or "" if patient else "",
              "start_date": package.start_date.isoformat(),
              "end_date": package.end_date.isoformat() if package.end_date else ""}
    for n, item in enumerate(sorted(package.items, key=lambda i: i.id)[:MAX_LINES]):
        values.update({f"code_{n}": codes.get(item.tariff_item_id, ""),
                       f"units_{n}": f"{item.units_per_week:g}", f"weeks_{n}": str(item.weeks)})
    start = package.start_date
    lines = [service.LineRequest(values[f"code_{n}"], float(values[f"units_{n}"]),
                                 int(values[f"weeks_{n}"]))
             for n in range(MAX_LINES) if values.get(f"code_{n}")]
    return _render_new(quote=_quote(session, start, lines), package=package, values=values)


@bp.post("/packages/<int:package_id>/edit")
def package_update(package_id: int) -> ResponseReturnValue:
    """Save a changed draft ("Work out the cost" only re-renders)."""
    session, actor = get_session(), current_actor()
    package = service.get_package(session, package_id)
    network_scope.require(session, actor, package.network_id, what=f"Care package {package_id}")
    _, start, end, lines, errors = _parse(session)
    errors.pop("nhs_number", None)  # the patient of a package does not change
    quote = _quote(session, start, lines)
    if request.form.get("action") == "add_line":
        return _render_new({}, 200, quote, package=package)
    if request.form.get("action") == "quote" or errors:
        return _render_new(errors, 422 if errors and request.form.get("action") != "quote"
                           else 200, quote, package=package)
    assert start is not None
    try:
        service.update_draft(session, package_id=package_id, start_date=start, end_date=end,
                             lines=lines, actor=actor, now=now(), request_id=request_id())
        if request.form.get("action") == "submit":
            service.submit_package(session, package_id=package_id, actor=actor, now=now(),
                                   limits=_limits(), request_id=request_id())
    except InvalidInput as exc:
        session.rollback()
        return _render_new(_field_errors(exc.errors or {}), 422, quote, package=package)
    except Conflict as exc:
        session.rollback()
        flash(exc.message[:1].upper() + exc.message[1:], "error")
        return redirect(url_for("web.package_page", package_id=package_id), code=303)
    session.commit()
    flash(f"Care package {package_id} saved"
          f"{' and sent for approval' if request.form.get('action') == 'submit' else ''}.")
    return redirect(url_for("web.package_page", package_id=package_id), code=303)


# --- later steps ----------------------------------------------------------------------------------


def _step(package_id: int, work: Any, done: str) -> ResponseReturnValue:
    session, actor = get_session(), current_actor()
    package = service.get_package(session, package_id)
    network_scope.require(session, actor, package.network_id, what=f"Care package {package_id}")
    try:
        result = work(session, actor)
    except (Conflict, InvalidInput) as exc:
        session.rollback()
        flash(exc.message[:1].upper() + exc.message[1:], "error")
        return redirect(url_for("web.package_page", package_id=package_id), code=303)
    session.commit()
    if result:
        wake()  # activation made visits: place them now
    flash(f"Care package {package_id} {done}.")
    return redirect(url_for("web.package_page", package_id=package_id), code=303)


@bp.post("/packages/<int:package_id>/submit")
def package_submit(package_id: int) -> ResponseReturnValue:
    """Send a draft for approval (to the lowest role whose limit covers it)."""
    return _step(package_id, lambda s, a: service.submit_package(
        s, package_id=package_id, actor=a, now=now(), limits=_limits(),
        request_id=request_id()) and None, "sent for approval")


@bp.post("/packages/<int:package_id>/activate")
def package_activate(package_id: int) -> ResponseReturnValue:
    """Start an approved package: its visits are made and planned."""
    return _step(package_id, lambda s, a: service.activate_package(
        s, package_id=package_id, actor=a, now=now(), request_id=request_id()), "started")


@bp.post("/packages/<int:package_id>/end")
def package_end(package_id: int) -> ResponseReturnValue:
    """End a package; its visits not yet under way are cancelled."""
    reason = request.form.get("reason", "").strip()[:300] or None
    return _step(package_id, lambda s, a: service.end_package(
        s, package_id=package_id, actor=a, now=now(), reason=reason,
        request_id=request_id()) and None, "ended")

