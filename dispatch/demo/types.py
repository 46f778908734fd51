"""Frozen dataclasses for the synthetic tri-borough: places, people, roster, demo users.

Plain data, no SQLAlchemy: the generators (``population``, ``roster``) build these and only
``load`` turns them into rows. Rows refer to each other by stable *codes* (``HF-NORTH``,
``HF-NORTH-B1``), never by database ids, so the same seed gives equal objects in any database.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class Outcode:
    """A postcode district (outward code) and the mean coordinate of its postcodes."""

    outcode: str
    lat: float
    lon: float


@dataclass(frozen=True, slots=True)
class DemoNetwork:
    """A provider network covering some postcode districts of one borough."""

    code: str
    name: str
    borough: str
    on_call_phone: str
    #: Texted when an urgent decision waits too long for the on-call coordinator (H-040).
    manager_phone: str
    districts: tuple[str, ...]
    gp_practices: tuple[str, ...]
    care_coordinators: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class DemoBase:
    """A staff base (community hub) of a network."""

    code: str
    name: str
    network_code: str
    postcode: str
    lat: float
    lon: float


@dataclass(frozen=True, slots=True)
class DemoCarePlan:
    """One version of a patient's shared care plan."""

    version: int
    summary: str
    content: Mapping[str, Any]
    author: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class DemoPatient:
    """One person on the synthetic register, with the care-plan versions they have (if any)."""

    nhs_number: str
    given_name: str
    family_name: str
    date_of_birth: date
    address: str
    postcode: str
    lat: float
    lon: float
    phone: str | None
    gp_practice: str
    named_lead: str | None
    network_code: str
    risk_tier: str
    frailty: int | None
    conditions: tuple[str, ...]
    access_notes: str | None
    consent_to_share: bool
    consent_recorded_by: str | None
    consent_recorded_at: datetime | None
    care_plans: tuple[DemoCarePlan, ...] = ()


@dataclass(frozen=True, slots=True)
class Population:
    """The whole synthetic register and the places it lives in."""

    seed: int
    today: date
    networks: tuple[DemoNetwork, ...]
    bases: tuple[DemoBase, ...]
    patients: tuple[DemoPatient, ...]


@dataclass(frozen=True, slots=True)
class DemoBreak:
    """A break inside a shift (aware datetimes, Europe/London)."""

    start: datetime
    end: datetime


@dataclass(frozen=True, slots=True)
class DemoStaff:
    """A member of staff with the network and base they work from."""

    code: str
    name: str
    role: str
    skills: tuple[str, ...]
    phone: str
    network_code: str
    base_code: str
    travel_mode: str


@dataclass(frozen=True, slots=True)
class DemoShift:
    """One rostered shift (aware datetimes, Europe/London) with its breaks."""

    code: str
    staff_code: str
    base_code: str
    pattern: str
    starts_at: datetime
    ends_at: datetime
    breaks: tuple[DemoBreak, ...] = ()


@dataclass(frozen=True, slots=True)
class Roster:
    """Staff and the shifts that cover the hours around ``now``."""

    now: datetime
    staff: tuple[DemoStaff, ...]
    shifts: tuple[DemoShift, ...]


@dataclass(frozen=True, slots=True)
class DemoUser:
    """A demo sign-in. ``password`` is plain text only here, to be printed once by the CLI."""

    username: str
    display_name: str
    role: str
    password: str
    network_code: str | None = None
    staff_code: str | None = None


@dataclass(frozen=True, slots=True)
class DemoSummary:
    """What :func:`dispatch.demo.load.load_demo` wrote, and the sign-ins to print once."""

    seed: int
    networks: int
    bases: int
    patients: int
    care_plans: int
    staff: int
    shifts: int
    users: tuple[DemoUser, ...]
    tier_counts: Mapping[str, int] = field(default_factory=dict)
