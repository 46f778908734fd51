"""``/api/visits``: the visits the scheduler plans and staff attend."""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask.views import MethodView
from flask_smorest import Blueprint

from dispatch.api.schemas import (
    AssignSchema,
    CandidateSchema,
    CoverRequestSchema,
    DoubleHandedSchema,
    JeopardyDecisionSchema,
    JeopardyOptionsSchema,
    ManualResultSchema,
    PinSchema,
    UnassignSchema,
    VisitQuerySchema,
    VisitSchema,
)
from dispatch.auth import current_actor, request_id
from dispatch.db import get_session
from dispatch.planning.runs import provider_for
from dispatch.request_clock import now
from dispatch.services import candidates, manual, pairs
from dispatch.services import visits as service

blp = Blueprint("visits", __name__, url_prefix="/api/visits", description="Visits")


@blp.route("")
class Visits(MethodView):
    @blp.arguments(VisitQuerySchema, location="query")
    @blp.response(200, VisitSchema(many=True))
    def get(self, query: dict[str, Any]) -> Any:
        """Visits, most urgent deadline first; field staff see only their own (an account with
        no staff link sees none). The read is audited: one event naming the visits listed."""
        session = get_session()
        visits = service.read_visits(session, actor=current_actor(), query=query, now=now(),
                                     purpose="list visits (API)", request_id=request_id())
        session.commit()
        return visits


@blp.route("/<int:visit_id>")
class VisitById(MethodView):
    @blp.response(200, VisitSchema)
    @blp.alt_response(404, description="No such visit (or not yours)")
    def get(self, visit_id: int) -> Any:
        """One visit; the read is audited."""
        session = get_session()
        visit = service.read_visit(session, visit_id, actor=current_actor(), now=now(),
                                   purpose="read a visit (API)", request_id=request_id())
        session.commit()
        return visit


@blp.route("/<int:visit_id>/double-handed")
class DoubleHandedVisit(MethodView):
    @blp.arguments(DoubleHandedSchema)
    @blp.response(201, VisitSchema)
    @blp.alt_response(404, description="No such visit")
    @blp.alt_response(409, description="Closed, under way, already linked, or changed since "
                                       "you loaded it")
    def post(self, data: dict[str, Any], visit_id: int) -> Any:
        """Make a visit need two staff at once: a second worker's visit is created, linked to
        it (same time, a different worker) and planned with it; both workers are offered it
        by SMS and each must accept. Returns the visit with its ``partner``."""
        session, actor = get_session(), current_actor()
        visit = manual.double_handed(session, visit_id=visit_id, version=data["version"],
                                     reason=data["reason"], actor=actor, now=now())
        session.commit()
        return pairs.with_partners(session, [visit])[0]


@blp.route("/<int:visit_id>/candidates")
class VisitCandidates(MethodView):
    @blp.response(200, CandidateSchema(many=True))
    @blp.alt_response(404, description="No such visit")
    def get(self, visit_id: int) -> Any:
        """Workers of the visit's network who could take it, best first (arriving before the
        deadline, no warnings, earliest start, least travel), each with the start to pass to
        ``assign``, travel, what it would push later and warnings; those who cannot are
        last with ``refused: true`` and the reason. Empty once the visit is under way or
        closed. The read is audited."""
        session = get_session()
        found = candidates.read_candidates(
            session, visit_id, actor=current_actor(), now=now(),
            provider=provider_for(current_app), purpose="choose a worker (API)",
            request_id=request_id())
        session.commit()
        return found


@blp.route("/<int:visit_id>/assign")
class AssignVisit(MethodView):
    @blp.arguments(AssignSchema)
    @blp.response(200, ManualResultSchema)
    @blp.alt_response(403, description="A visit of a network you do not coordinate")
    @blp.alt_response(409, description="The visit changed since you loaded it")
    def post(self, data: dict[str, Any], visit_id: int) -> Any:
        """Assign by hand. Checks skills, shift, deadline, travel and double-booking first; with
        warnings nothing is saved unless ``confirm`` (a double booking is never saved)."""
        session = get_session()
        result = manual.assign_manually(
            session,
            visit_id=visit_id,
            staff_id=data["staff_id"],
            start=data["start"],
            version=data["version"],
            confirm=data["confirm"],
            pin=data["pin"],
            actor=current_actor(),
            now=now(),
            provider=provider_for(current_app),
        )
        if result.applied:
            session.commit()
        else:
            session.rollback()
        return result


@blp.route("/<int:visit_id>/unassign")
class UnassignVisit(MethodView):
    @blp.arguments(UnassignSchema)
    @blp.response(200, VisitSchema)
    @blp.alt_response(403, description="A visit of a network you do not coordinate")
    @blp.alt_response(409, description="The visit changed since you loaded it")
    def post(self, data: dict[str, Any], visit_id: int) -> Any:
        """Take a visit off its worker (they are told if they knew); the planner re-places it."""
        session = get_session()
        visit = manual.unassign_manually(
            session,
            visit_id=visit_id,
            version=data["version"],
            reason=data["reason"],
            actor=current_actor(),
            now=now(),
            keep_off=data["keep_off"],
        )
        session.commit()
        return visit


@blp.route("/<int:visit_id>/pin")
class PinVisit(MethodView):
    @blp.arguments(PinSchema)
    @blp.response(200, VisitSchema)
    @blp.alt_response(403, description="A visit of a network you do not coordinate")
    @blp.alt_response(409, description="The visit changed since you loaded it")
    def post(self, data: dict[str, Any], visit_id: int) -> Any:
        """Pin an assigned visit to its worker (the planner will not move it), or unpin it."""
        session = get_session()
        visit = manual.set_pin(
            session,
            visit_id=visit_id,
            version=data["version"],
            pinned=data["pinned"],
            actor=current_actor(),
            now=now(),
        )
        session.commit()
        return visit


@blp.route("/<int:visit_id>/jeopardy-options")
class JeopardyOptions(MethodView):
    @blp.response(200, JeopardyOptionsSchema)
    @blp.alt_response(404, description="No such visit")
    def get(self, visit_id: int) -> Any:
        """The on-call coordinator's choices for a 2-hour visit nobody can reach in time:
        late by N minutes with each worker (their earliest feasible start in the current
        plan, earliest first), cover from another network, or hand back to 111/999."""
        return manual.jeopardy_options(get_session(), visit_id, actor=current_actor(),
                                       now=now(), provider=provider_for(current_app))


@blp.route("/<int:visit_id>/jeopardy-decision")
class JeopardyDecision(MethodView):
    @blp.arguments(JeopardyDecisionSchema)
    @blp.response(200, VisitSchema)
    @blp.alt_response(404, description="No such visit")
    @blp.alt_response(409, description="The visit is closed or under way")
    def post(self, data: dict[str, Any], visit_id: int) -> Any:
        """Record the on-call coordinator's decision for a visit in jeopardy (audited).
        ``allow_late`` lets the planner serve it late with that worker, up to that limit and
        no later; ``cover`` moves it to another network; ``hand_back`` cancels it with that
        reason (the patient is handed back to 111/999)."""
        session = get_session()
        visit = manual.decide_jeopardy(
            session, visit_id=visit_id, choice=data["choice"], actor=current_actor(),
            now=now(), staff_id=data.get("staff_id"), late_minutes=data.get("late_minutes"),
            network_id=data.get("network_id"), note=data.get("note"))
        session.commit()
        return visit


@blp.route("/<int:visit_id>/cover")
class CoverVisit(MethodView):
    @blp.arguments(CoverRequestSchema)
    @blp.response(200, VisitSchema)
    @blp.alt_response(403, description="A visit of a network you do not coordinate")
    @blp.alt_response(404, description="No such visit")
    @blp.alt_response(409, description="Closed, accepted or under way, or changed since you "
                                       "loaded it")
    def post(self, data: dict[str, Any], visit_id: int) -> Any:
        """Ask another network to cover an open visit (unassigned, assigned or offered; in
        jeopardy or not): it leaves its worker, moves to that network's board and planner
        with your note before why the visit is needed, and that network re-plans. Audited
        (``ask_cover``). 422 names the field (``network_id``, ``note``)."""
        session = get_session()
        visit = manual.ask_cover(session, visit_id=visit_id, version=data["version"],
                                 network_id=data["network_id"], note=data["note"],
                                 actor=current_actor(), now=now())
        session.commit()
        return visit
