"""The rows a day's KPIs are computed from (plain, frozen, no ORM)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

UNATTENDED = "unattended"  # the "team" of a referral nobody has arrived at yet


@dataclass(frozen=True)
class ResponseRow:
    """One referral that needed a visit, with its first arrival (if any).

    ``team`` is the role of the worker who arrived first (``UNATTENDED`` if nobody has);
    ``causes`` are the jeopardy causes recorded for its visits, oldest first, with when each
    was recorded, so a breach can name what went wrong before its deadline.
    """

    referral_id: int
    network_id: int | None
    category: str
    received_at: datetime
    deadline: datetime
    first_arrival: datetime | None = None
    team: str = UNATTENDED
    visit_reference: str | None = None
    causes: tuple[tuple[datetime, str], ...] = ()
    declined: int = 0


@dataclass(frozen=True)
class WorkerDay:
    """One worker's day: time rostered, on site and travelling, and visits attended."""

    staff_id: int
    name: str
    team: str
    network_id: int | None
    shift_minutes: float
    visit_minutes: float
    travel_minutes: float
    visits: int


@dataclass(frozen=True)
class DeclineRow:
    """A visit turned down by a worker, with the reason they gave."""

    at: datetime
    network_id: int | None
    team: str
    staff_id: int | None
    visit_reference: str | None
    reason: str


@dataclass(frozen=True)
class BookingRow:
    """A visit booked to start after its disposition's deadline (CLINICAL.md: reported)."""

    at: datetime
    network_id: int | None
    visit_reference: str | None
    category: str | None
    timeframe_minutes: int | None
    approval_required: bool
    approved_by: str | None
    reason: str


@dataclass(frozen=True)
class DayRows:
    """Everything one day's report needs, for one network or all."""

    responses: tuple[ResponseRow, ...] = ()
    workers: tuple[WorkerDay, ...] = ()
    declines: tuple[DeclineRow, ...] = ()
    bookings: tuple[BookingRow, ...] = ()
    networks: dict[int, tuple[str, str]] = field(default_factory=dict)  # id -> (code, name)
