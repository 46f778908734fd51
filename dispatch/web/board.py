"""The dispatch board (coordinators): jeopardy and unassigned visits first, staff timelines, a
map, and manual assign / unassign / pin with the planner's checks shown before saving.

The page works without JavaScript (a Refresh link); ``static/board.js`` polls
``/board/data`` and swaps in the re-rendered parts, so the lists stay current without a
reload. The board shows no patient identifiers (reference, postcode district, reason), so a
board view is audited once, without a patient; opening one visit to dispatch it is audited
against that patient.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import datetime, time, timedelta
from typing import Any

from flask import current_app, flash, g, jsonify, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from markupsafe import Markup
from werkzeug.wrappers import Response

from dispatch import forms
from dispatch.auth import current_actor, request_id
from dispatch.config import DEFAULTS, LONDON
from dispatch.db import get_session
from dispatch.errors import Conflict, InvalidInput
from dispatch.jobs.wakeup import wake
from dispatch.models import Shift, Staff, Visit
from dispatch.planning import jeopardy, runs
from dispatch.planning.runs import provider_for
from dispatch.request_clock import now
from dispatch.services import (
    absence,
    board_page,
    manual,
    network_scope,
    packages,
    pairs,
    pin_warnings,
)
from dispatch.services import board as service
from dispatch.services import board_visit as one_visit
from dispatch.web import board_rows
from dispatch.web.common import bp, london_time
from dispatch.web.drawings import (
    EMPTY_TIMELINE,
    MAP_STATES,
    map_drawing,
    map_list,
    tile_origin,
    timeline_drawing,
)
from dispatch.web.pageforms import (
    AssignForm,
    CoverForm,
    DoubleHandedForm,
    JeopardyDecisionForm,
    PinForm,
    UnassignForm,
)

POLL_SECONDS = 20  # how often board.js asks for fresh lists
START_ROUNDING = timedelta(minutes=5)
DOUBLE_BOOKED = "Not saved: one person cannot be in two places. Choose another worker or time"
PARTS = ("counts", "attention", "planned", "closed", "timelines", "map", "handovers")
VISIT_ID_SLOT = 2147483647  # a placeholder id in the visit link template (never a real row)


def _network_id() -> int | None:
    """``?network=`` if given (0 or ``all``: every network), else the user's own network.

    A coordinator limited to some networks never gets "every network": they get their home
    network instead, and a network of someone else's is refused (403, naming theirs).
    """
    raw = request.args.get("network", "").strip()
    asked = int(raw) if raw.isdigit() and 0 < int(raw) < 2**31 else None
    if asked is None and raw and raw not in ("0", "all"):
        raise InvalidInput("invalid network", errors={"network": ["must be a network id"]})
    return board_page.choose_network(
        get_session(), current_actor(), asked=asked, every=bool(raw),
        user_id=current_user.id if current_user.is_authenticated else None)


def _limits() -> Mapping[str, int]:
    return packages.approval_limits(current_app.config.get("APPROVAL_LIMITS_PENCE"))


def _timeline_groups(board: service.Board) -> list[tuple[str, int, Any]]:
    """All networks: one timeline drawing per network (name, shifts, drawing), folded on the
    page; one network: none (its single drawing is ``timeline``)."""
    if board.network_id is not None:
        return []
    groups = []
    for network_id, name in board.networks:
        mine = tuple(t for t in board.timelines if t.network_id == network_id)
        if mine:
            groups.append((name, len(mine),
                           timeline_drawing(dataclasses.replace(board, timelines=mine))))
    return groups


def _parts(read: board_page.BoardRead) -> dict[str, Any]:
    board, actor = read.board, current_actor()
    if actor.networks is not None:  # the network list shows only the coordinator's own
        board = dataclasses.replace(board, networks=tuple(
            (i, n) for i, n in board.networks if i in actor.networks))
    network_arg = board.network_id or 0
    # One url_for, not one per row: building a URL is a fifth of rendering 1,000 rows.
    template = url_for("web.board_visit", visit_id=VISIT_ID_SLOT, network=network_arg)
    slot = str(VISIT_ID_SLOT)

    def visit_href(visit_id: int) -> str:
        return template.replace(slot, str(visit_id))

    tile_url = current_app.config.get("MAP_TILE_URL") or None
    origin = tile_origin(tile_url)
    if origin is not None:  # the page's policy allows images from the tile server, only it
        g.csp_img_hosts = (origin,)
    drawn_map = map_drawing(board, tile_url=tile_url if origin else None)
    groups = _timeline_groups(board)
    return {"board": board, "every_network": actor.networks is None,
            "pin_warnings": pin_warnings.pinned_costs(board),
            # All networks: one drawing per network (the groups), none for the whole board.
            "timeline": timeline_drawing(board) if not groups else EMPTY_TIMELINE,
            "map": drawn_map, "map_dots": board_rows.map_dots(drawn_map.visits),
            "map_workers": board_rows.map_workers(drawn_map.workers),
            "timeline_rows": board_rows.timeline_rows,
            "map_list": map_list(board), "map_states": tuple(MAP_STATES.values()),
            "map_tile_attribution": current_app.config.get("MAP_TILE_ATTRIBUTION") or "",
            "timeline_groups": groups,
            "attention_rows": board_rows.attention_rows(board.attention, board.now, visit_href),
            "planned_rows": board_rows.planned_rows(board.planned, board.now, visit_href),
            "counts": board.counts(), "network_arg": network_arg,
            "visit_href": visit_href,
            # H-022: unconfirmed hand-overs and overdue referrals out, refreshed with the rest.
            "handovers": read.handovers}


@bp.get("/board")
def board() -> str:
    """The board for one network (or all), as of now."""
    session = get_session()
    page = board_page.view_board(
        session, network_id=_network_id(), actor=current_actor(), now=now(),
        provider=provider_for(current_app), limits=_limits(), purpose="dispatch board",
        request_id=request_id())
    session.commit()
    return render_template("board/board.html", poll_seconds=POLL_SECONDS, absences=page.absences,
                           waiting_packages=page.waiting,
                           absence_words=absence.REASON_WORDS,
                           can_mark_absence=current_actor().role in ("coordinator", "manager"),
                           **_parts(page.read))


@bp.get("/board/data")
def board_data() -> Response:
    """The board's lists as JSON, with each part re-rendered as HTML for ``board.js``."""
    read = board_page.read_board(get_session(), network_id=_network_id(), now=now(),
                                 provider=provider_for(current_app))
    board_rows = read.board
    context = _parts(read)
    html = {name: render_template(f"board/_{name}.html", **context) for name in PARTS}
    get_session().commit()
    return jsonify({
        "as_of": board_rows.now.isoformat(), "as_of_text": london_time(board_rows.now),
        "network": board_rows.network_id, "counts": context["counts"],
        "attention": [_json(v) for v in board_rows.attention],
        "planned": [_json(v) for v in board_rows.planned],
        "escalations": [{"id": e.id, "at": e.at.isoformat(), "kind": e.kind, "cause": e.cause,
                         "visit_id": e.visit_id, "reference": e.reference,
                         "staff_code": e.staff_code, "queued": e.queued,
                         "texted_at": e.texted_at.isoformat() if e.texted_at else None}
                        for e in board_rows.escalations],
        "html": html,
    })


def _json(visit: service.BoardVisit) -> dict[str, Any]:
    return {"id": visit.id, "reference": visit.reference, "status": visit.status,
            "category": visit.category, "cause": visit.cause, "cause_text": visit.cause_text,
            "deadline": visit.deadline.isoformat(), "minutes_left": visit.minutes_left,
            "district": visit.district, "staff": visit.staff_name, "version": visit.version,
            "pair": visit.pair,
            "planned_start": visit.planned_start.isoformat() if visit.planned_start else None}


# --- one visit: assign, unassign, pin ----------------------------------------------------------


def _visit(visit_id: int) -> Visit:
    return one_visit.visit_in_scope(get_session(), visit_id, actor=current_actor())


def _choice_label(staff: Staff, shift: Shift, visit: Visit) -> str:
    missing = sorted(set(visit.skills or ()) - set(staff.skills or ()))
    hours = f"{shift.starts_at.astimezone(LONDON):%H:%M}-{shift.ends_at.astimezone(LONDON):%H:%M}"
    note = f", lacks {', '.join(s.replace('_', ' ') for s in missing)}" if missing else ""
    return f"{staff.name} ({staff.role.replace('_', ' ')}, shift {hours}{note})"


def _default_start(visit: Visit) -> str:
    at = visit.planned_start or max(visit.earliest_start, now())
    if visit.planned_start is None:
        extra = -at.timestamp() % START_ROUNDING.total_seconds()
        at = at + timedelta(seconds=extra)
    return f"{at.astimezone(LONDON):%H:%M}"


def _render_visit(
    visit: Visit, assign: AssignForm | None = None, *, warnings: tuple[str, ...] = (),
    errors: list[dict[str, str]] | None = None, status: int = 200,
    cover: CoverForm | None = None,
) -> ResponseReturnValue:
    session = get_session()
    read = one_visit.read_for_dispatch(
        session, visit, actor=current_actor(), now=now(), provider=provider_for(current_app),
        purpose="manual dispatch", request_id=request_id())
    if assign is None:
        assign = AssignForm(formdata=None, version=visit.version,
                            start_time=_default_start(visit),
                            staff_id=visit.assigned_staff_id, pin=True)
    assign.staff_id.choices = forms.options(
        [("", "Choose a worker"),
         *((str(s.id), _choice_label(s, sh, visit)) for s, sh in read.on_shift)])
    unassign = UnassignForm(formdata=None, version=visit.version, keep_off=True)
    pin = PinForm(formdata=None, version=visit.version, pinned="0" if visit.pinned else "1")
    partner = read.partner
    network_arg = request.values.get("network", visit.network_id or 0)
    covers = (jeopardy.cover_choices(session, visit, now=now())
              if visit.status in jeopardy.DECIDABLE else [])
    if cover is None:
        cover = CoverForm(formdata=None, version=visit.version)
    cover.network_id.choices = forms.options(
        (str(c.network_id), _cover_label(c)) for c in covers)
    session.commit()
    return render_template(
        "board/visit.html", visit=visit, worker=read.worker, assign=assign, unassign=unassign,
        partner=partner, partner_html=_partner_html(partner, network_arg),
        double=DoubleHandedForm(formdata=None, version=visit.version),
        candidates=read.ranked, candidate_form=AssignForm(formdata=None, version=visit.version),
        pin=pin, warnings=warnings, errors=errors or [], district=read.district,
        minutes_left=int((visit.deadline - now()).total_seconds() // 60),
        network_arg=network_arg,
        cause=read.cause, choices=read.choices, decision=JeopardyDecisionForm(formdata=None),
        cover=cover, covers=covers,
    ), status


def _cover_label(choice: jeopardy.CoverChoice) -> str:
    ready = ("someone with the skills is on shift before the deadline" if choice.ready
             else "nobody with the skills on shift before the deadline")
    return f"{choice.code} ({choice.name}): {ready}"


def _partner_html(partner: pairs.Partner | None, network_arg: object) -> Markup:
    """The "Staff needed" row: one, or two with the other worker and a link to their half."""
    if partner is None:
        return Markup("One")
    link = Markup('<a href="{}" id="partner-link">visit {}</a>').format(
        url_for("web.board_visit", visit_id=partner.visit.id, network=network_arg),
        partner.visit.reference)
    status = partner.visit.status.replace("_", " ")
    if partner.kind == pairs.DOUBLE_HANDED:
        who = partner.staff_name or "a second worker not yet chosen"
        return Markup("Two, at the same time, with {} ({}, {})").format(who, link, status)
    return Markup("Linked to {} ({}, {} to {} minutes apart)").format(
        link, partner.kind.replace("_", " "), partner.link.min_gap_minutes,
        partner.link.max_gap_minutes)


@bp.get("/board/visits/<int:visit_id>")
def board_visit(visit_id: int) -> ResponseReturnValue:
    """One visit from the board: assign it (checks first), take it off its worker, pin it."""
    return _render_visit(_visit(visit_id))


def _start_today(text: str, exact: str = "") -> datetime:
    """The start: a candidate's exact ISO start when given, else HH:MM today (London)."""
    if exact:
        try:
            moment = datetime.fromisoformat(exact)
        except ValueError:
            raise InvalidInput("invalid start", errors={"start": ["not a date and time"]}) from None
        if moment.tzinfo is None:
            raise InvalidInput("invalid start", errors={"start": ["needs a time zone"]})
        return moment
    hour, minute = (int(p) for p in text.split(":"))
    day = now().astimezone(LONDON).date()
    return datetime.combine(day, time(hour, minute), tzinfo=LONDON)


@bp.post("/board/visits/<int:visit_id>/assign")
def board_assign(visit_id: int) -> ResponseReturnValue:
    """Check the assignment; with warnings show them and ask to confirm; save when clean or
    confirmed (a double booking is never saved). A stale version shows the 409 message."""
    visit = _visit(visit_id)
    form = AssignForm()
    form.staff_id.choices = []
    if not form.validate() or not form.staff_id.data:
        return _render_visit(visit, form, errors=forms.error_list(form), status=422)
    session = get_session()
    confirmed = form.confirm.data == "yes"
    try:
        start = _start_today(form.start_time.data or "", form.start.data or "")
        result = manual.assign_manually(
            session, visit_id=visit.id, staff_id=form.staff_id.data, start=start,
            version=form.version.data or 0, confirm=confirmed, pin=bool(form.pin.data),
            actor=current_actor(), now=now(), provider=provider_for(current_app))
    except (Conflict, InvalidInput) as exc:
        session.rollback()
        form.confirm.data = ""
        return _render_visit(_visit(visit_id), form, errors=[{"text": exc.message}],
                             status=exc.status)
    if not result.applied:
        session.rollback()
        if not result.double_booked:  # warnings the service accepts once confirmed
            form.confirm.data = "yes"
            return _render_visit(_visit(visit_id), form, warnings=result.warnings)
        form.confirm.data = ""
        return _render_visit(_visit(visit_id), form, warnings=result.warnings, errors=[{
            "text": DOUBLE_BOOKED}],
            status=409)
    session.commit()
    confirmed_note = " (confirmed despite warnings)" if result.warnings else ""
    costs = "".join(f". Your pin {c}" for c in result.costs)
    flash(f"Visit {result.visit.reference} assigned to {_name(form.staff_id.data)} at "
          f"{start.astimezone(LONDON):%H:%M}{confirmed_note}; the worker has been sent the "
          f"offer{costs}")
    return _back_to_board(visit)


def _back_to_board(visit: Visit) -> Response:
    network = request.args.get("network", visit.network_id or 0)
    return redirect(url_for("web.board", network=network), code=303)


def _name(staff_id: int) -> str:
    return one_visit.staff_name(get_session(), staff_id)


@bp.post("/board/visits/<int:visit_id>/unassign")
def board_unassign(visit_id: int) -> ResponseReturnValue:
    """Take the visit off its worker (they are told if they knew); the planner re-places it."""
    visit = _visit(visit_id)
    form = UnassignForm()
    if not form.validate():
        return _render_visit(visit, errors=forms.error_list(form), status=422)
    session = get_session()
    try:
        manual.unassign_manually(session, visit_id=visit.id, version=form.version.data or 0,
                                 reason=(form.reason.data or "").strip(), actor=current_actor(),
                                 now=now(), keep_off=bool(form.keep_off.data))
    except Conflict as exc:
        session.rollback()
        return _render_visit(_visit(visit_id), errors=[{"text": exc.message}], status=409)
    session.commit()
    flash(f"Visit {visit.reference} is unassigned; the planner will place it again")
    return _back_to_board(visit)


@bp.post("/board/visits/<int:visit_id>/pin")
def board_pin(visit_id: int) -> ResponseReturnValue:
    """Pin the visit to its worker (the planner keeps it there), or unpin it."""
    visit = _visit(visit_id)
    form = PinForm()
    if not form.validate():
        return _render_visit(visit, errors=forms.error_list(form), status=422)
    session = get_session()
    pinned = form.pinned.data == "1"
    try:
        manual.set_pin(session, visit_id=visit.id, version=form.version.data or 0, pinned=pinned,
                       actor=current_actor(), now=now())
    except Conflict as exc:
        session.rollback()
        return _render_visit(_visit(visit_id), errors=[{"text": exc.message}], status=409)
    session.commit()
    flash(f"Visit {visit.reference} is {'pinned to its worker' if pinned else 'unpinned'}")
    return redirect(url_for("web.board_visit", visit_id=visit.id), code=303)


@bp.post("/board/visits/<int:visit_id>/double-handed")
def board_double_handed(visit_id: int) -> ResponseReturnValue:
    """The coordinator says the visit needs two staff at once: a second worker's visit is
    linked to it and the planner places both together (issue 15)."""
    visit = _visit(visit_id)
    form = DoubleHandedForm()
    if not form.validate():
        return _render_visit(visit, errors=forms.error_list(form), status=422)
    session = get_session()
    try:
        manual.double_handed(session, visit_id=visit.id, version=form.version.data or 0,
                             reason="coordinator: needs two staff", actor=current_actor(),
                             now=now())
    except Conflict as exc:
        session.rollback()
        return _render_visit(_visit(visit_id), errors=[{"text": exc.message}], status=409)
    session.commit()
    flash(f"Visit {visit.reference} now needs two staff; the planner will book a second worker "
          "for the same time")
    return redirect(url_for("web.board_visit", visit_id=visit.id), code=303)


@bp.post("/board/visits/<int:visit_id>/jeopardy-decision")
def board_jeopardy_decision(visit_id: int) -> ResponseReturnValue:
    """Record the on-call coordinator's choice for a visit nobody can reach in time: late with
    a named worker, cover from another network, or hand back to 111/999 (audited)."""
    visit = _visit(visit_id)
    form = JeopardyDecisionForm()
    if not form.validate():
        return _render_visit(visit, errors=forms.error_list(form), status=422)
    session = get_session()
    choice = form.choice.data or ""
    try:
        jeopardy.decide(session, visit_id=visit.id, choice=choice, actor=current_actor(),
                        now=now(), staff_id=form.staff_id.data,
                        late_minutes=form.late_minutes.data, network_id=form.network_id.data,
                        note=(form.note.data or "").strip() or None)
    except (Conflict, InvalidInput) as exc:
        session.rollback()
        reasons = "; ".join(r for found in exc.errors.values() for r in found)
        text = f"{exc.message}: {reasons}" if reasons else exc.message
        return _render_visit(_visit(visit_id), errors=[{"text": text}], status=exc.status)
    session.commit()
    done = {"allow_late": "may now be served late by the worker you chose",
            "cover": "is now with the other network's planner",
            "hand_back": "is cancelled and handed back to 111/999"}
    flash(f"Visit {visit.reference} {done.get(choice, 'is decided')}; your decision is recorded")
    return _back_to_board(visit)


@bp.post("/board/visits/<int:visit_id>/cover")
def board_cover(visit_id: int) -> ResponseReturnValue:
    """Ask another network's team to cover the visit, with a note they read before why the
    visit is needed; the same service as ``POST /api/visits/{id}/cover`` (audited there)."""
    visit = _visit(visit_id)
    form = CoverForm()
    if not form.validate():
        return _render_visit(visit, cover=form, errors=forms.error_list(form), status=422)
    session = get_session()
    try:
        moved = manual.ask_cover(session, visit_id=visit.id, version=form.version.data or 0,
                                 network_id=form.network_id.data, note=form.note.data,
                                 actor=current_actor(), now=now())
    except InvalidInput as exc:
        session.rollback()
        form.version.data = _visit(visit_id).version
        forms.put_errors(form, exc.errors)
        return _render_visit(_visit(visit_id), cover=form, errors=forms.error_list(form),
                             status=422)
    except Conflict as exc:
        session.rollback()
        return _render_visit(_visit(visit_id), errors=[{"text": exc.message}], status=409)
    network = moved.network_id
    session.commit()
    flash(f"Visit {visit.reference} is now with {_network_code(network)}'s planner, with your "
          "note; it has left your board")
    return redirect(url_for("web.board", network=request.args.get("network", 0)), code=303)


def _network_code(network_id: int | None) -> str:
    return one_visit.network_code(get_session(), network_id)


@bp.post("/board/networks/<int:network_id>/replan")
def board_replan(network_id: int) -> ResponseReturnValue:
    """"Re-plan now": the same run as ``POST /api/networks/{id}/replan`` (a job the request
    waits for); pinned and accepted visits stay where they are."""
    session = get_session()
    network_scope.require(session, current_actor(), network_id, what="That network")
    run = runs.request_replan(
        session, network_id=network_id,
        seconds=float(current_app.config.get("REOPTIMISE_SECONDS",
                                             DEFAULTS["REOPTIMISE_SECONDS"])),
        now=now(), requested_by=current_actor().username)
    session.commit()
    wake("run_plans")
    run = runs.wait_for(session, run.id, seconds=float(current_app.config.get(
        "REPLAN_WAIT_SECONDS", DEFAULTS["REPLAN_WAIT_SECONDS"])))
    result = run.result or {}
    if run.status == "done":
        flash(f"Re-planned: {len(result.get('changed', []))} visit(s) changed, "
              f"{len(result.get('unassigned', []))} unassigned")
    elif run.status in ("pending", "running"):
        flash(f"Re-plan {run.id} is still running; the board shows it once applied")
    else:
        flash(f"Re-plan {run.id} {run.status}: {result.get('error', 'nothing applied')}")
    return redirect(url_for("web.board", network=network_id), code=303)
