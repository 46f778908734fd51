"""The tariff: priced items a coordinator builds a care package from, with effective dates.

Prices live in ``tariff_items`` rows (``effective_from`` inclusive, ``effective_to``
exclusive, so a price change on 1 April closes the old row on 1 April and opens the new one
the same day: there is never a gap or an overlap). A package line is priced on the package's
start date and the unit cost is copied onto the line, so a later price change never alters a
package already built.

What an item means for the visit planner (how many visits, how long, which skills, at what
times of day) is not a price and is not in the table: it is :data:`VISIT_PATTERNS` here, keyed
by tariff code, so a new price never changes what a package delivers.

The default tariff (:data:`DEFAULT_TARIFF`) is an illustrative 2026/27 London price list in
pence. Sources of the orders of magnitude: the Homecare Association's minimum price for
homecare (about GBP 32-33 an hour for 2025/26, uplifted for April 2026), PSSRU Unit Costs of
Health and Social Care (therapy and nursing contact hours), and typical London council rates
for night sitting, meals and community equipment. A real deployment replaces them with its own
contract prices through :func:`set_price`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy import orm as so

from dispatch.actors import Actor
from dispatch.config import LONDON
from dispatch.errors import Conflict, InvalidInput, NotFound
from dispatch.models import TariffItem
from dispatch.services import audit

#: The default prices start with the 2026/27 financial year.
DEFAULT_TARIFF_FROM = date(2026, 4, 1)
FINANCIAL_YEAR_START = (4, 1)  # 1 April
MAX_UNIT_COST_PENCE = 10_000_000  # GBP 100,000 a unit: anything above is a typing error


@dataclass(frozen=True)
class TariffEntry:
    """One default tariff line: code, display name, unit and price in pence."""

    code: str
    name: str
    unit: str
    unit_cost_pence: int


#: The default tariff (2026/27, pence). Illustrative London prices; see the module docstring.
DEFAULT_TARIFF: tuple[TariffEntry, ...] = (
    TariffEntry("home_care_hour", "Home care (personal care), per hour", "hour", 3_350),
    TariffEntry("reablement_visit", "Reablement visit (45 minutes)", "visit", 3_100),
    TariffEntry("medication_visit", "Medication prompt visit (30 minutes)", "visit", 1_900),
    TariffEntry("night_sitting", "Night sitting, 22:00 to 07:00", "night", 21_000),
    TariffEntry("therapy_session", "Therapy session (OT or physiotherapy, 1 hour)", "session",
                7_200),
    TariffEntry("carer_respite_hour", "Carer respite (sitting service), per hour", "hour",
                3_200),
    TariffEntry("meals_delivered", "Hot meal delivered", "meal", 720),
    TariffEntry("day_centre", "Day centre place", "day", 7_500),
    TariffEntry("equipment_loan", "Community equipment loan (bed, hoist, frame)", "week",
                1_800),
    TariffEntry("telecare", "Telecare alarm and monitoring", "week", 550),
)

Window = tuple[time, time]
#: Start windows (Europe/London) by the number of visits on a day: a visit starts inside one.
DEFAULT_WINDOWS: dict[int, tuple[Window, ...]] = {
    1: ((time(8, 0), time(10, 0)),),
    2: ((time(8, 0), time(10, 0)), (time(17, 0), time(19, 0))),
    3: ((time(8, 0), time(10, 0)), (time(12, 0), time(14, 0)), (time(17, 0), time(19, 0))),
    4: ((time(7, 30), time(9, 30)), (time(12, 0), time(13, 30)), (time(16, 30), time(18, 0)),
        (time(20, 0), time(21, 30))),
}


@dataclass(frozen=True)
class VisitPattern:
    """What one unit of a tariff item means for visits.

    ``minutes_per_unit`` converts units to care minutes (an hour is 60, a 45-minute visit 45);
    the week's minutes are split into visits of about ``visit_minutes`` each (see
    :func:`visits_per_week`), spread evenly over the days (:func:`daily_counts`), each day's
    visits starting in that count's ``windows``.
    """

    minutes_per_unit: int
    visit_minutes: int
    skills: tuple[str, ...]
    windows: dict[int, tuple[Window, ...]]

    @property
    def max_per_day(self) -> int:
        return max(self.windows)


#: Tariff codes whose units are visits by our field staff. Others (meals, equipment, telecare,
#: day centre, respite) are delivered by other providers and create no visits.
VISIT_PATTERNS: dict[str, VisitPattern] = {
    "home_care_hour": VisitPattern(60, 60, ("personal_care",), DEFAULT_WINDOWS),
    "reablement_visit": VisitPattern(45, 45, ("reablement",), DEFAULT_WINDOWS),
    "medication_visit": VisitPattern(30, 30, ("medication_prompt",), DEFAULT_WINDOWS),
    "therapy_session": VisitPattern(60, 60, ("reablement",),
                                    {1: ((time(10, 0), time(15, 0)),)}),
    # A night sit is one long visit; the worker must arrive by 22:30.
    "night_sitting": VisitPattern(540, 540, ("personal_care",),
                                  {1: ((time(22, 0), time(22, 30)),)}),
}


@dataclass(frozen=True)
class PlannedVisit:
    """One visit a package line implies: its start window (aware, UTC) and length."""

    earliest_start: datetime
    deadline: datetime
    duration_minutes: int
    skills: tuple[str, ...]


def visits_per_week(pattern: VisitPattern, units_per_week: float) -> tuple[int, int]:
    """(visits a week, minutes each): the week's care minutes in visits of about the nominal
    length. Fourteen reablement visits are fourteen 45-minute visits; 10.5 home care hours are
    eleven visits of 57 minutes (rounded to the minute, so the week may differ by a few)."""
    minutes = units_per_week * pattern.minutes_per_unit
    count = max(1, math.ceil(round(minutes / pattern.visit_minutes, 6)))
    return count, max(15, round(minutes / count))


def daily_counts(per_week: int) -> tuple[int, ...]:
    """Spread ``per_week`` visits over seven days as evenly as possible (three a week fall on
    days 3, 5 and 7 of the package week; fourteen are two a day)."""
    return tuple((d + 1) * per_week // 7 - d * per_week // 7 for d in range(7))


def check_pattern(code: str, units_per_week: float) -> str | None:
    """Why ``units_per_week`` of ``code`` cannot be turned into visits, or None if it can."""
    pattern = VISIT_PATTERNS.get(code)
    if pattern is None:
        return None
    count, _ = visits_per_week(pattern, units_per_week)
    if max(daily_counts(count)) > pattern.max_per_day:
        return (f"at most {pattern.max_per_day} visit(s) a day for {code} "
                f"({pattern.max_per_day * 7} a week)")
    return None


def expand_visits(
    code: str, *, units_per_week: float, first_day: date, last_day: date
) -> list[PlannedVisit]:
    """Every visit a line implies from ``first_day`` to ``last_day`` inclusive (a pure rule).

    Windows are London wall-clock times, converted to UTC per date, so a visit at 08:00 stays at
    08:00 across the clock change. Codes without a pattern imply no visits.
    """
    pattern = VISIT_PATTERNS.get(code)
    if pattern is None or last_day < first_day:
        return []
    count, minutes = visits_per_week(pattern, units_per_week)
    per_day = daily_counts(count)
    out = []
    for offset in range((last_day - first_day).days + 1):
        day = first_day + timedelta(days=offset)
        n = per_day[offset % 7]
        for start, end in pattern.windows.get(n, ()):
            out.append(PlannedVisit(_at(day, start), _at(day, end), minutes, pattern.skills))
    return out


def _at(day: date, wall: time) -> datetime:
    return datetime.combine(day, wall, tzinfo=LONDON).astimezone(ZoneInfo("UTC"))


def financial_year_start(today: date) -> date:
    """1 April on or before ``today``."""
    month, day = FINANCIAL_YEAR_START
    start = date(today.year, month, day)
    return start if start <= today else date(today.year - 1, month, day)


def ensure_default_tariff(session: so.Session, today: date) -> list[TariffItem]:
    """Add the default tariff where a code has no price yet (idempotent); return the rows added.

    The rows take effect on :data:`DEFAULT_TARIFF_FROM`, or on the start of the current
    financial year if that is earlier, so a demo run on a machine whose clock is before April
    2026 still has prices for today.
    """
    known = set(session.scalars(sa.select(TariffItem.code).distinct()))
    start = min(DEFAULT_TARIFF_FROM, financial_year_start(today))
    added = [
        TariffItem(code=e.code, name=e.name, unit=e.unit, unit_cost_pence=e.unit_cost_pence,
                   effective_from=start, effective_to=None)
        for e in DEFAULT_TARIFF if e.code not in known
    ]
    session.add_all(added)
    session.flush()
    return added


def price_on(session: so.Session, code: str, on: date) -> TariffItem:
    """The tariff row for ``code`` in effect on ``on``.

    :raise NotFound: no such code, or no price in effect that day.
    """
    row = session.scalar(
        sa.select(TariffItem).where(
            TariffItem.code == code, TariffItem.effective_from <= on,
            sa.or_(TariffItem.effective_to.is_(None), TariffItem.effective_to > on))
        .order_by(TariffItem.effective_from.desc()).limit(1)
    )
    if row is None:
        raise NotFound(f"tariff item {code!r} has no price on {on.isoformat()}")
    return row


@dataclass(frozen=True)
class PricedItem:
    """A tariff row as the API shows it: with whether it creates visits, and their skills."""

    row: TariffItem

    @property
    def implies_visits(self) -> bool:
        return self.row.code in VISIT_PATTERNS

    @property
    def visit_skills(self) -> list[str]:
        pattern = VISIT_PATTERNS.get(self.row.code)
        return list(pattern.skills) if pattern else []


def tariff_on(session: so.Session, on: date) -> list[TariffItem]:
    """The whole tariff as it stands on ``on``, by code."""
    stmt = sa.select(TariffItem).where(
        TariffItem.effective_from <= on,
        sa.or_(TariffItem.effective_to.is_(None), TariffItem.effective_to > on),
    ).order_by(TariffItem.code)
    return list(session.scalars(stmt))


def set_price(
    session: so.Session, *, code: str, unit_cost_pence: int, effective_from: date, actor: Actor,
    now: datetime, name: str | None = None, unit: str | None = None,
    request_id: str | None = None,
) -> TariffItem:
    """Give ``code`` a new price from ``effective_from``: the open row is closed that day.

    A new code needs ``name`` and ``unit``. Packages already priced keep their copied costs.

    Raises
    ------
    InvalidInput
        Negative or absurd cost; a new code without name or unit.
    Conflict
        A price already starts on or after ``effective_from`` (history is not rewritten).
    """
    if not 0 <= unit_cost_pence <= MAX_UNIT_COST_PENCE:
        raise InvalidInput("invalid price", errors={
            "unit_cost_pence": [f"must be between 0 and {MAX_UNIT_COST_PENCE}"]})
    rows = list(session.scalars(sa.select(TariffItem).where(TariffItem.code == code)
                                .order_by(TariffItem.effective_from)))
    if not rows and not (name and unit):
        raise InvalidInput("invalid price",
                           errors={"name": ["a new tariff code needs a name and a unit"]})
    if rows and rows[-1].effective_from >= effective_from:
        raise Conflict(f"{code} already has a price from {rows[-1].effective_from.isoformat()}; "
                       "a new price must start later")
    if rows and (rows[-1].effective_to is None or rows[-1].effective_to > effective_from):
        rows[-1].effective_to = effective_from
    row = TariffItem(code=code, name=name or rows[-1].name, unit=unit or rows[-1].unit,
                     unit_cost_pence=unit_cost_pence, effective_from=effective_from)
    session.add(row)
    session.flush()
    audit.record(session, actor=actor, action="set_tariff_price", now=now,
                 entity=("tariff_item", row.id), purpose="tariff maintenance",
                 request_id=request_id,
                 details={"code": code, "unit_cost_pence": unit_cost_pence,
                          "effective_from": effective_from.isoformat()})
    return row
