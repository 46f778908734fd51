"""KPI arithmetic over a day's rows (pure: rows and ``as_of`` in, numbers out).

Definitions (the report says them too, so a manager can check a figure by hand):

- **Response time**: first arrival at the patient (``Visit.arrived_at``, any of the
  referral's visits) minus ``Referral.received_at``.
- **Met**: first arrival at or before the referral's deadline (the disposition's, not a visit
  deadline moved by a later booking: a booking outside the timeframe is still a breach).
  **Breached**: arrived after it, or nobody had arrived by ``as_of`` and the deadline has
  passed. **Pending**: nobody yet and the deadline is still ahead; pending referrals are left
  out of the compliance share until they are decided.
- **2-hour compliance** counts only ``urgent_2h`` referrals received 08:00-20:00 Europe/London
  (the NHS urgent community response standard's hours). **Out-of-hours 2-hour compliance**
  (``urgent_2h_out_of_hours``) counts the other ``urgent_2h`` referrals, those received
  20:00-08:00, each against its own deadline (triage gives one the out-of-hours service must
  meet, or the next morning's slot); their breaches are in the breach list like any other
  (issue 13, hazard 8: they were in no figure at all). **24-hour compliance** counts every
  ``response_24h`` referral. Each referral is in exactly one line (``line``).
- **Median** is the middle value (the mean of the middle two for an even count); **90th
  percentile** is the nearest-rank value: the ``ceil(0.9 n)``-th smallest, always a real
  response time.
- **Breach cause**: the last jeopardy cause recorded at or before the deadline (what the
  deadline watch saw going wrong), else the first recorded after it, else ``declined`` if a
  worker turned the visit down, else ``late_arrival`` (arrived late with no warning) or
  ``not_attended``.
- **Utilisation**: (minutes on site + minutes travelling) / rostered minutes (shift minus
  breaks). **Travel per visit**: travel minutes / visits attended.
"""

from __future__ import annotations

import math
import statistics
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, time
from typing import Any

from dispatch.config import LONDON
from dispatch.reports.types import (
    UNATTENDED,
    BookingRow,
    DayRows,
    DeclineRow,
    ResponseRow,
    WorkerDay,
)

UCR_OPENS, UCR_CLOSES = time(8, 0), time(20, 0)
URGENT, DAY = "urgent_2h", "response_24h"
P90 = 0.9
#: NHS England's ambition for the 2-hour urgent community response: 70% within 2 hours.
UCR_AMBITION = 0.70

Point = tuple[float, float]


def in_ucr_hours(moment: datetime) -> bool:
    """True from 08:00 up to (not including) 20:00 on the London clock."""
    wall = moment.astimezone(LONDON).time()
    return UCR_OPENS <= wall < UCR_CLOSES


def response_minutes(row: ResponseRow) -> float | None:
    """Minutes from receipt to first arrival; None before anyone arrives."""
    if row.first_arrival is None:
        return None
    return (row.first_arrival - row.received_at).total_seconds() / 60


def outcome(row: ResponseRow, as_of: datetime) -> str:
    """``met``, ``breached`` or ``pending`` (see the module docstring)."""
    if row.first_arrival is not None:
        return "met" if row.first_arrival <= row.deadline else "breached"
    return "breached" if as_of > row.deadline else "pending"


def counts_for_2h(row: ResponseRow) -> bool:
    """Whether a referral counts towards 2-hour compliance: urgent and received in hours."""
    return row.category == URGENT and in_ucr_hours(row.received_at)


def counts_out_of_hours(row: ResponseRow) -> bool:
    """Whether a referral counts towards out-of-hours 2-hour compliance: urgent, received
    outside 08:00-20:00 London."""
    return row.category == URGENT and not in_ucr_hours(row.received_at)


URGENT_OUT_OF_HOURS = "urgent_2h_out_of_hours"


def line(row: ResponseRow) -> str | None:
    """The compliance line a referral counts in: ``urgent_2h``, ``urgent_2h_out_of_hours`` or
    ``response_24h``; None for the others (planned), which have no compliance line."""
    if row.category == URGENT:
        return URGENT if in_ucr_hours(row.received_at) else URGENT_OUT_OF_HOURS
    return DAY if row.category == DAY else None


def compliance(rows: Iterable[ResponseRow], as_of: datetime) -> dict[str, Any]:
    """``{count, met, breached, pending, compliance}``; compliance is met / (met + breached),
    None when nothing is decided yet."""
    tally = Counter(outcome(r, as_of) for r in rows)
    decided = tally["met"] + tally["breached"]
    return {"count": decided, "met": tally["met"], "breached": tally["breached"],
            "pending": tally["pending"],
            "compliance": round(tally["met"] / decided, 4) if decided else None}


def nearest_rank(values: Sequence[float], q: float) -> float | None:
    """The nearest-rank ``q`` quantile: the ``ceil(q n)``-th smallest value (None if empty)."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(1, math.ceil(q * len(ordered))) - 1]


def time_stats(rows: Iterable[ResponseRow]) -> dict[str, Any]:
    """``{n, median, p90}`` of response minutes over the rows that have an arrival."""
    minutes = [m for r in rows if (m := response_minutes(r)) is not None]
    return {"n": len(minutes),
            "median": round(statistics.median(minutes), 1) if minutes else None,
            "p90": round(p, 1) if (p := nearest_rank(minutes, P90)) is not None else None}


def breach_cause(row: ResponseRow) -> str:
    """The cause named for a breach (see the module docstring)."""
    before = [cause for at, cause in row.causes if at <= row.deadline]
    if before:
        return before[-1]
    if row.causes:
        return row.causes[0][1]
    if row.declined:
        return "declined"
    return "late_arrival" if row.first_arrival is not None else "not_attended"


def breaches(rows: Iterable[ResponseRow], as_of: datetime) -> list[dict[str, Any]]:
    """Each breached referral with its cause(s) and how late it was (or still is)."""
    out = []
    for row in sorted(rows, key=lambda r: r.deadline):
        if outcome(row, as_of) != "breached":
            continue
        arrived = row.first_arrival
        late = ((arrived or as_of) - row.deadline).total_seconds() / 60
        out.append({
            "referral_id": row.referral_id, "visit_reference": row.visit_reference,
            "category": row.category, "line": line(row),
            "out_of_hours": line(row) == URGENT_OUT_OF_HOURS,
            "team": row.team, "received_at": row.received_at,
            "deadline": row.deadline, "first_arrival": arrived,
            "minutes_late": round(late, 1), "cause": breach_cause(row),
            "causes": list(dict.fromkeys(c for _, c in row.causes)),
        })
    return out


def route_travel_minutes(
    points: Sequence[Point], leg_minutes: Callable[[Point, Point], float]
) -> float:
    """Travel along ``points`` in order (base, visits..., [base]) with a leg estimator."""
    return sum(leg_minutes(a, b) for a, b in zip(points, points[1:], strict=False))


def utilisation(workers: Iterable[WorkerDay]) -> dict[str, Any]:
    """Per worker and overall: (visit + travel) / rostered minutes, and travel per visit."""
    rows = []
    totals = Counter[str]()
    for w in sorted(workers, key=lambda w: (w.team, w.name)):
        busy = w.visit_minutes + w.travel_minutes
        rows.append({
            "staff_id": w.staff_id, "name": w.name, "team": w.team,
            "shift_minutes": round(w.shift_minutes, 1), "visit_minutes": round(w.visit_minutes, 1),
            "travel_minutes": round(w.travel_minutes, 1), "visits": w.visits,
            "utilisation": round(busy / w.shift_minutes, 4) if w.shift_minutes else None,
            "travel_minutes_per_visit": round(w.travel_minutes / w.visits, 1) if w.visits else None,
        })
        totals.update({"shift": w.shift_minutes, "busy": busy, "travel": w.travel_minutes,
                       "visits": w.visits})
    return {
        "workers": rows,
        "overall": round(totals["busy"] / totals["shift"], 4) if totals["shift"] else None,
        "travel_minutes_per_visit": (round(totals["travel"] / totals["visits"], 1)
                                     if totals["visits"] else None),
    }


def declines(rows: Iterable[DeclineRow]) -> dict[str, Any]:
    """Declines with a count per reason (most common first)."""
    items = sorted(rows, key=lambda d: d.at)
    by_reason = Counter(d.reason for d in items)
    return {"count": len(items), "by_reason": dict(by_reason.most_common()),
            "items": [{"at": d.at, "team": d.team, "staff_id": d.staff_id,
                       "visit_reference": d.visit_reference, "reason": d.reason} for d in items]}


def bookings(rows: Iterable[BookingRow]) -> dict[str, Any]:
    """Bookings made outside their disposition's timeframe, each with its reason and approver."""
    items = sorted(rows, key=lambda b: b.at)
    return {"count": len(items), "items": [
        {"at": b.at, "visit_reference": b.visit_reference, "category": b.category,
         "timeframe_minutes": b.timeframe_minutes, "approval_required": b.approval_required,
         "approved_by": b.approved_by, "reason": b.reason} for b in items]}


def summarise(rows: DayRows, as_of: datetime) -> dict[str, Any]:
    """Every KPI for one set of rows (a network, a team or everything)."""
    urgent_in_hours = [r for r in rows.responses if counts_for_2h(r)]
    urgent_out_of_hours = [r for r in rows.responses if counts_out_of_hours(r)]
    day = [r for r in rows.responses if r.category == DAY]
    found = breaches([*urgent_in_hours, *urgent_out_of_hours, *day], as_of)
    return {
        "urgent_2h": compliance(urgent_in_hours, as_of),
        URGENT_OUT_OF_HOURS: compliance(urgent_out_of_hours, as_of),
        "response_24h": compliance(day, as_of),
        "response_minutes": {URGENT: time_stats(urgent_in_hours),
                             URGENT_OUT_OF_HOURS: time_stats(urgent_out_of_hours),
                             DAY: time_stats(day),
                             "all": time_stats([*urgent_in_hours, *urgent_out_of_hours, *day])},
        "breaches": found,
        "breach_causes": dict(Counter(b["cause"] for b in found).most_common()),
        "bookings_outside_timeframe": bookings(rows.bookings),
        "utilisation": utilisation(rows.workers),
        "declines": declines(rows.declines),
    }


def teams(rows: DayRows) -> list[str]:
    """The teams (roles) present in the rows, ``unattended`` last."""
    names = {r.team for r in rows.responses} | {w.team for w in rows.workers}
    names |= {d.team for d in rows.declines}
    return sorted(names - {UNATTENDED}) + ([UNATTENDED] if UNATTENDED in names else [])


def for_team(rows: DayRows, team: str) -> DayRows:
    """The rows of one team: responses it attended first, its workers and its declines.
    Bookings are made by call handlers for a network, so they stay at network level."""
    return DayRows(
        responses=tuple(r for r in rows.responses if r.team == team),
        workers=tuple(w for w in rows.workers if w.team == team),
        declines=tuple(d for d in rows.declines if d.team == team),
    )


def for_network(rows: DayRows, network_id: int | None) -> DayRows:
    """The rows of one network (by the referral's, worker's or visit's network)."""
    return DayRows(
        responses=tuple(r for r in rows.responses if r.network_id == network_id),
        workers=tuple(w for w in rows.workers if w.network_id == network_id),
        declines=tuple(d for d in rows.declines if d.network_id == network_id),
        bookings=tuple(b for b in rows.bookings if b.network_id == network_id),
        networks={k: v for k, v in rows.networks.items() if k == network_id},
    )


def report(rows: DayRows, as_of: datetime) -> dict[str, Any]:
    """The whole report: all networks together, then each network with its teams."""
    seen = ({r.network_id for r in rows.responses} | {w.network_id for w in rows.workers}
            | {d.network_id for d in rows.declines} | {b.network_id for b in rows.bookings}
            | set(rows.networks))
    networks = []
    for network_id in sorted(seen, key=lambda n: (n is None, n or 0)):
        part = for_network(rows, network_id)
        code, name = rows.networks.get(network_id, ("", "no network")) if network_id else (
            "", "no network")
        networks.append({
            "network_id": network_id, "code": code, "name": name,
            "summary": summarise(part, as_of),
            "teams": [{"team": t, **summarise(for_team(part, t), as_of)} for t in teams(part)],
        })
    return {"as_of": as_of, "summary": summarise(rows, as_of), "networks": networks}
