"""``/api/staff``, ``/api/shifts`` and ``/api/rosters/import``: who is working, and when."""

from __future__ import annotations

from typing import Any

from flask import request
from flask.views import MethodView
from flask_smorest import Blueprint, abort

from dispatch.api.schemas import (
    ImportSummarySchema,
    ShiftCreateSchema,
    ShiftOutSchema,
    ShiftQuerySchema,
    StaffCreateSchema,
    StaffQuerySchema,
    StaffSchema,
)
from dispatch.db import get_session
from dispatch.request_clock import now
from dispatch.services import rosters as service
from dispatch.services import staff as staff_service

blp = Blueprint("staff", __name__, url_prefix="/api", description="Staff, shifts and rosters")

MAX_ROSTER_BYTES = 2 * 1024 * 1024


@blp.route("/staff")
class StaffCollection(MethodView):
    @blp.arguments(StaffQuerySchema, location="query")
    @blp.response(200, StaffSchema(many=True))
    def get(self, query: dict[str, Any]) -> Any:
        """Staff, optionally of one network or role."""
        return staff_service.list_staff(
            get_session(), network_id=query.get("network"), role=query.get("role")
        )

    @blp.arguments(StaffCreateSchema)
    @blp.response(201, StaffSchema)
    def post(self, data: dict[str, Any]) -> Any:
        """Add a member of staff (skills and phone are checked by the roster rules)."""
        session = get_session()
        row = staff_service.add_staff(session, data=data, now=now())
        session.commit()
        return row


@blp.route("/shifts")
class ShiftCollection(MethodView):
    @blp.arguments(ShiftQuerySchema, location="query")
    @blp.response(200, ShiftOutSchema(many=True))
    def get(self, query: dict[str, Any]) -> Any:
        """Shifts overlapping a time range (default: all), in start order."""
        return staff_service.list_shifts(get_session(), **query)

    @blp.arguments(ShiftCreateSchema)
    @blp.response(201, ShiftOutSchema)
    def post(self, data: dict[str, Any]) -> Any:
        """Add a shift; breaks must lie inside it and it must not overlap the worker's others."""
        session = get_session()
        row = staff_service.add_shift(session, data=data)
        session.commit()
        return row


@blp.route("/rosters/import")
class RosterImport(MethodView):
    @blp.response(200, ImportSummarySchema)
    @blp.alt_response(422, description="Every bad line (line, column, reason); nothing imported")
    @blp.doc(
        requestBody={
            "required": True,
            "content": {
                "text/csv": {
                    "schema": {
                        "type": "string",
                        "description": "Roster CSV (see rosters/ROSTER_CSV.md)",
                    }
                }
            },
        }
    )
    def post(self) -> Any:
        """Import a roster CSV (body ``text/csv``, or a multipart ``file``). All or nothing."""
        upload = request.files.get("file")
        raw = upload.read(MAX_ROSTER_BYTES + 1) if upload else request.get_data()
        if len(raw) > MAX_ROSTER_BYTES:
            abort(413, message=f"a roster file may be at most {MAX_ROSTER_BYTES} bytes")
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            abort(422, message="invalid roster file", errors={"file": ["must be UTF-8 text"]})
        if not text.strip():
            abort(422, message="invalid roster file", errors={"file": ["is empty"]})
        session = get_session()
        summary = service.import_roster_csv(session, text=text, now=now())
        session.commit()
        return summary
