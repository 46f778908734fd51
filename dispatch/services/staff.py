"""Staff and shifts, one at a time (the roster CSV is in ``dispatch.services.rosters``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm as so

import rosters
from dispatch.errors import Conflict, InvalidInput
from dispatch.models import Network, Shift, Staff, StaffBase
from rosters import InvalidFieldError, RosterConsistencyError


def list_staff(session: so.Session, *, network_id: int | None, role: str | None) -> list[Staff]:
    stmt = sa.select(Staff).order_by(Staff.code)
    if network_id:
        stmt = stmt.where(Staff.network_id == network_id)
    if role:
        stmt = stmt.where(Staff.role == role)
    return list(session.scalars(stmt))


def add_staff(session: so.Session, *, data: dict[str, Any], now: datetime) -> Staff:
    """Create a member of staff, checked by the roster rules (role, skills, UK mobile).

    :raise InvalidInput: a bad field or unknown network/base. :raise Conflict: duplicate code/phone.
    """
    errors: dict[str, list[str]] = {}
    try:
        phone = rosters.normalise_uk_mobile(data["phone"])
        member = rosters.StaffMember(
            id=data["code"],
            name=data["name"],
            role=data["role"],
            skills=data["skills"],
            base=str(data["base_id"]),
            phone=phone,
            network=str(data["network_id"]),
            travel_mode=data["travel_mode"],
        )
    except (InvalidFieldError, ValueError) as exc:
        field = getattr(exc, "field", "phone")
        raise InvalidInput("invalid staff member", errors={field: [str(exc)]}) from exc
    if session.get(Network, data["network_id"]) is None:
        errors["network_id"] = ["no such network"]
    if session.get(StaffBase, data["base_id"]) is None:
        errors["base_id"] = ["no such base"]
    if errors:
        raise InvalidInput("invalid staff member", errors=errors)
    clash = session.scalar(
        sa.select(Staff).where(sa.or_(Staff.code == member.id, Staff.phone == member.phone))
    )
    if clash is not None:
        raise Conflict(f"staff {clash.code!r} already has this code or phone number")
    row = Staff(
        code=member.id,
        name=member.name,
        role=member.role,
        skills=sorted(member.skills),
        phone=member.phone,
        network_id=data["network_id"],
        base_id=data["base_id"],
        travel_mode=member.travel_mode,
        created_at=now,
    )
    session.add(row)
    session.flush()
    return row


def list_shifts(
    session: so.Session,
    *,
    start: datetime | None = None,
    end: datetime | None = None,
    staff_id: int | None = None,
) -> list[Shift]:
    stmt = sa.select(Shift).order_by(Shift.starts_at, Shift.id)
    if start:
        stmt = stmt.where(Shift.ends_at > start)
    if end:
        stmt = stmt.where(Shift.starts_at < end)
    if staff_id:
        stmt = stmt.where(Shift.staff_id == staff_id)
    return list(session.scalars(stmt))


def add_shift(session: so.Session, *, data: dict[str, Any]) -> Shift:
    """Create a shift, checked by the roster rules and against the worker's other shifts.

    :raise InvalidInput: bad times or breaks, unknown staff/base, overlap with another shift.
    """
    staff = session.get(Staff, data["staff_id"])
    errors: dict[str, list[str]] = {}
    if staff is None:
        errors["staff_id"] = ["no such staff member"]
    if session.get(StaffBase, data["base_id"]) is None:
        errors["base_id"] = ["no such base"]
    if errors:
        raise InvalidInput("invalid shift", errors=errors)
    try:
        candidate = rosters.Shift(
            id=data["code"],
            staff_id=str(data["staff_id"]),
            start=data["starts_at"],
            end=data["ends_at"],
            base=str(data["base_id"]),
            breaks=tuple(rosters.Break(b["start"], b["end"]) for b in data["breaks"]),
        )
        others = [
            rosters.Shift(
                id=s.code,
                staff_id=str(s.staff_id),
                start=s.starts_at,
                end=s.ends_at,
                base=str(s.base_id),
            )
            for s in list_shifts(session, staff_id=data["staff_id"])
        ]
        if any(rosters.shifts_overlap(candidate, o) for o in others):
            raise RosterConsistencyError("overlaps another shift of this worker")
    except InvalidFieldError as exc:
        raise InvalidInput("invalid shift", errors={exc.field: [exc.message]}) from exc
    except (RosterConsistencyError, ValueError) as exc:
        raise InvalidInput("invalid shift", errors={"starts_at": [str(exc)]}) from exc
    if session.scalar(sa.select(Shift.id).where(Shift.code == candidate.id)) is not None:
        raise Conflict(f"a shift with code {candidate.id!r} already exists")
    row = Shift(
        code=candidate.id,
        staff_id=data["staff_id"],
        base_id=data["base_id"],
        starts_at=candidate.start,
        ends_at=candidate.end,
        breaks=[{"start": b.start.isoformat(), "end": b.end.isoformat()} for b in candidate.breaks],
    )
    session.add(row)
    session.flush()
    return row
