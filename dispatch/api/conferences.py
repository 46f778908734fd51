"""``/api/groups/{id}/case-conferences``, ``/api/case-conferences`` and
``/api/conference-cases``: multidisciplinary case conferences (issue 16, item 6)."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint

from dispatch.api import care_schemas as s
from dispatch.auth import current_actor, request_id
from dispatch.db import get_session
from dispatch.request_clock import now
from dispatch.services import conferences as service
from dispatch.services import patients as patient_service
from dispatch.services import practices

blp = Blueprint("conferences", __name__, url_prefix="/api",
                description="Case conferences: cases, notes, root causes and actions")


@blp.route("/groups/<int:group_id>/case-conferences")
class GroupConferences(MethodView):
    @blp.arguments(s.ConferenceCreateSchema)
    @blp.response(201, s.ConferenceSchema)
    @blp.alt_response(404, description="No such group")
    def post(self, data: dict[str, Any], group_id: int) -> Any:
        """Build the next conference's list: the group's patients sent to 999, admitted,
        discharged or in jeopardy since the last one; audited per patient."""
        session = get_session()
        group = practices.get_group(session, group_id)
        conference = service.build_conference(session, group=group, held_at=data["held_at"],
                                              actor=current_actor(), now=now(),
                                              request_id=request_id())
        session.commit()
        return service.with_cases(session, conference)


@blp.route("/case-conferences/<int:conference_id>")
class ConferenceById(MethodView):
    @blp.response(200, s.ConferenceSchema)
    @blp.alt_response(404, description="No such conference")
    def get(self, conference_id: int) -> Any:
        """A conference with its cases, notes, root causes and actions; audited per patient."""
        session = get_session()
        conference = service.read_conference(session, conference_id, actor=current_actor(),
                                             now=now(), request_id=request_id())
        session.commit()
        return conference


@blp.route("/case-conferences/<int:conference_id>/cases")
class ConferencePicks(MethodView):
    @blp.arguments(s.PickSchema)
    @blp.response(201, s.ConferenceCaseSchema)
    @blp.alt_response(409, description="Already on the list")
    def post(self, data: dict[str, Any], conference_id: int) -> Any:
        """A coordinator's own pick for the list; audited."""
        session = get_session()
        conference = service.get_conference(session, conference_id)
        patient = patient_service.get_patient(session, data["patient_id"])
        case = service.pick_case(session, conference=conference, patient=patient,
                                 note=data.get("note"), actor=current_actor(), now=now(),
                                 request_id=request_id())
        session.commit()
        return service.CaseWithActions(case, [])


@blp.route("/conference-cases/<int:case_id>")
class ConferenceCaseById(MethodView):
    @blp.arguments(s.CaseUpdateSchema)
    @blp.response(200, s.ConferenceCaseSchema)
    def patch(self, data: dict[str, Any], case_id: int) -> Any:
        """Notes and the root cause of an emergency admission; audited."""
        session = get_session()
        case = service.record_case(session, case=service.get_case(session, case_id),
                                   actor=current_actor(), now=now(), request_id=request_id(),
                                   **data)
        session.commit()
        return service.CaseWithActions(case, service.actions_of(session, case.id))


@blp.route("/conference-cases/<int:case_id>/actions")
class ConferenceActions(MethodView):
    @blp.arguments(s.ActionCreateSchema)
    @blp.response(201, s.ActionSchema)
    def post(self, data: dict[str, Any], case_id: int) -> Any:
        """An action (owner, due date) on the owner's home page until done; audited."""
        session = get_session()
        task = service.add_action(session, case=service.get_case(session, case_id),
                                  actor=current_actor(), now=now(), request_id=request_id(),
                                  **data)
        session.commit()
        return task
