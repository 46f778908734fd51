"""``/api/onward-referrals`` and ``/api/tasks`` (issue 16, item 4; hazard H-022).

Every read and write names a patient and is audited.
"""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint

from dispatch.api import care_schemas as s
from dispatch.auth import current_actor, request_id
from dispatch.db import get_session
from dispatch.request_clock import now
from dispatch.services import onward as service
from dispatch.services import patients as patient_service

blp = Blueprint("onward", __name__, url_prefix="/api/onward-referrals",
                description="Referrals out and hand-overs: sent, accepted, done, declined")
tasks_blp = Blueprint("tasks", __name__, url_prefix="/api/tasks",
                      description="Tasks with an owner and a due date")


@blp.route("")
class OnwardReferrals(MethodView):
    @blp.arguments(s.OnwardQuerySchema, location="query")
    @blp.response(200, s.OnwardSchema(many=True))
    def get(self, query: dict[str, Any]) -> Any:
        """Referrals out, soonest due first (``open=true``: sent or accepted); audited."""
        session = get_session()
        rows = service.read_onward_list(
            session, actor=current_actor(), now=now(), request_id=request_id(),
            patient_id=query.get("patient_id"), status=query.get("status"),
            open_only=query["open"])
        session.commit()
        return rows

    @blp.arguments(s.OnwardCreateSchema)
    @blp.response(201, s.OnwardSchema)
    @blp.alt_response(404, description="No such patient")
    def post(self, data: dict[str, Any]) -> Any:
        """Refer the person on (memory clinic, adult social care, falls, equipment and
        telecare, children's services...); status ``sent``; audited."""
        session = get_session()
        patient = patient_service.get_patient(session, data.pop("patient_id"))
        row = service.create_onward(session, patient=patient, actor=current_actor(), now=now(),
                                    request_id=request_id(), **data)
        session.commit()
        return service.OnwardWithOverdue(row, now())


@blp.route("/<int:onward_id>")
class OnwardById(MethodView):
    @blp.response(200, s.OnwardSchema)
    @blp.alt_response(404, description="No such referral out")
    def get(self, onward_id: int) -> Any:
        """One referral out; audited."""
        session = get_session()
        row = service.read_onward(session, onward_id, actor=current_actor(), now=now(),
                                  request_id=request_id())
        session.commit()
        return service.OnwardWithOverdue(row, now())


@blp.route("/<int:onward_id>/status")
class OnwardStatus(MethodView):
    @blp.arguments(s.OnwardStatusSchema)
    @blp.response(200, s.OnwardSchema)
    @blp.alt_response(404, description="No such referral out")
    @blp.alt_response(409, description="Already done or declined")
    def post(self, data: dict[str, Any], onward_id: int) -> Any:
        """Record what the other service did: ``accepted`` (with ``contact``, who took it;
        this confirms a hand-over), ``done`` or ``declined`` (with ``outcome``); audited."""
        session = get_session()
        row = service.get_onward(session, onward_id)
        service.change_status(session, onward=row, actor=current_actor(), now=now(),
                              request_id=request_id(), **data)
        session.commit()
        return service.OnwardWithOverdue(row, now())


@tasks_blp.route("")
class Tasks(MethodView):
    @tasks_blp.arguments(s.TaskQuerySchema, location="query")
    @tasks_blp.response(200, s.TaskSchema(many=True))
    def get(self, query: dict[str, Any]) -> Any:
        """Tasks, soonest due first (one owner's or one patient's; ``open=true``: not done)."""
        session = get_session()
        rows = service.read_tasks(session, actor=current_actor(), now=now(),
                                  request_id=request_id(),
                                  owner_user_id=query.get("owner_user_id"),
                                  patient_id=query.get("patient_id"), open_only=query["open"])
        session.commit()
        return rows

    @tasks_blp.arguments(s.TaskCreateSchema)
    @tasks_blp.response(201, s.TaskSchema)
    def post(self, data: dict[str, Any]) -> Any:
        """A task with an owner (a user, or a named person) and a due date; audited."""
        session = get_session()
        if data.get("patient_id") is not None:
            patient_service.get_patient(session, data["patient_id"])
        task = service.create_task(session, actor=current_actor(), now=now(),
                                   request_id=request_id(), **data)
        session.commit()
        return task


@tasks_blp.route("/<int:task_id>/done")
class TaskDone(MethodView):
    @tasks_blp.response(200, s.TaskSchema)
    @tasks_blp.alt_response(404, description="No such task")
    @tasks_blp.alt_response(409, description="Already done")
    def post(self, task_id: int) -> Any:
        """Mark the task done; audited."""
        session = get_session()
        task = service.complete_task(session, task=service.get_task(session, task_id),
                                     actor=current_actor(), now=now(), request_id=request_id())
        session.commit()
        return task
