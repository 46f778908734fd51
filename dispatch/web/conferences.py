"""Case conference pages (issue 16, item 6): a group's conferences and building the next
list; one conference with each case's notes, root cause and actions. The open tasks of the
signed-in person (actions included) are on their home page (:func:`my_open_tasks`).
"""

from __future__ import annotations

from datetime import date, datetime, time

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from dispatch.auth import current_actor, request_id
from dispatch.config import LONDON
from dispatch.db import get_session
from dispatch.errors import DispatchError, InvalidInput
from dispatch.models import Task
from dispatch.models.conferences import ROOT_CAUSES
from dispatch.request_clock import now
from dispatch.services import conferences as service
from dispatch.services import onward, practices
from dispatch.web.common import bp

ROOT_CAUSE_NAMES = {code: code.replace("_", " ").capitalize() for code in ROOT_CAUSES}


@bp.app_template_global("my_open_tasks")
def my_open_tasks() -> list[Task]:
    """The signed-in person's open tasks and actions, soonest due first (titles and dates
    only: the home page names no patient)."""
    if not current_user.is_authenticated:
        return []
    return onward.list_tasks(get_session(), owner_user_id=current_user.id, open_only=True)


@bp.get("/groups/<int:group_id>/conferences")
def group_conferences(group_id: int) -> str:
    """The group's case conferences, newest first, and the form to build the next list."""
    session = get_session()
    group = practices.get_group(session, group_id)
    return render_template("integrated/group_conferences.html", group=group,
                           conferences=service.conferences_of(session, group.id),
                           errors=[])


@bp.post("/groups/<int:group_id>/conferences")
def group_conference_build(group_id: int) -> ResponseReturnValue:
    """Build the next conference's list; Post/Redirect/Get."""
    session = get_session()
    group = practices.get_group(session, group_id)
    try:
        day = date.fromisoformat(request.form.get("held_on", ""))
        at = time.fromisoformat(request.form.get("held_time", "") or "13:00")
    except ValueError:
        return render_template(
            "integrated/group_conferences.html", group=group,
            conferences=service.conferences_of(session, group.id),
            errors=[{"text": "Enter the date and time of the conference", "href": "#held_on"}]
        ), 422
    conference = service.build_conference(
        session, group=group, held_at=datetime.combine(day, at, tzinfo=LONDON),
        actor=current_actor(), now=now(), request_id=request_id())
    session.commit()
    flash(f"Case conference list built: {len(conference.cases)} case(s).")
    return redirect(url_for("web.conference_page", conference_id=conference.id), code=303)


@bp.get("/case-conferences/<int:conference_id>")
def conference_page(conference_id: int) -> str:
    """A conference: each case with why it is listed, notes, root cause and actions."""
    session = get_session()
    conference = service.read_conference(session, conference_id, actor=current_actor(),
                                         now=now(), request_id=request_id())
    people = conference.people
    actions = {c.id: c.actions for c in conference.cases}
    session.commit()
    return render_template("integrated/conference.html", conference=conference,
                           group=practices.get_group(session, conference.group_id),
                           people=people, actions=actions, root_causes=ROOT_CAUSE_NAMES,
                           errors=[])


@bp.post("/conference-cases/<int:case_id>")
def conference_case_save(case_id: int) -> ResponseReturnValue:
    """Save a case's notes and root cause; Post/Redirect/Get."""
    session = get_session()
    case = service.get_case(session, case_id)
    try:
        service.record_case(session, case=case, notes=request.form.get("notes", ""),
                            root_cause=request.form.get("root_cause") or None,
                            actor=current_actor(), now=now(), request_id=request_id())
    except InvalidInput as exc:
        session.rollback()
        flash(f"Not saved: {exc.message}.", "error")
    else:
        session.commit()
        flash("Case notes saved.")
    return redirect(url_for("web.conference_page", conference_id=case.conference_id,
                            _anchor=f"case-{case.id}"), code=303)


@bp.post("/conference-cases/<int:case_id>/actions")
def conference_action_add(case_id: int) -> ResponseReturnValue:
    """Add an action (owner, due date) to a case; Post/Redirect/Get."""
    session = get_session()
    case = service.get_case(session, case_id)
    try:
        due = date.fromisoformat(request.form.get("due", ""))
    except ValueError:
        flash("Not saved: enter the action's due date.", "error")
        return redirect(url_for("web.conference_page", conference_id=case.conference_id),
                        code=303)
    try:
        owner = request.form.get("owner_user_id", type=int)
        service.add_action(session, case=case, title=request.form.get("title", ""), due=due,
                           owner_user_id=owner, owner_name=request.form.get("owner_name", ""),
                           actor=current_actor(), now=now(), request_id=request_id())
    except DispatchError as exc:
        session.rollback()
        flash(f"Not saved: {exc.message} ({', '.join(exc.errors)}).", "error")
    else:
        session.commit()
        flash("Action added.")
    return redirect(url_for("web.conference_page", conference_id=case.conference_id,
                            _anchor=f"case-{case.id}"), code=303)
