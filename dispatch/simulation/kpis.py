"""What a simulated day achieved: outcomes, compliance, response times, causes, travel, load.

Outcomes (every referral is exactly one; anything else is a bug and raises):

- ``served``: the referral is completed (a visit was completed, whatever its outcome), or it
  was signposted (advice or another service was the answer; no visit was needed), or it was
  out of scope (a child handed to the children's pathway; no visit);
- ``emergency_999``: triage sent it to 999;
- ``escalated``: its visit is still open and in jeopardy (the deadline watch has escalated it);
- ``open``: its visit is still open and not in jeopardy (for example due tomorrow).

Compliance counts a visit when it is *due*: its deadline fell inside the simulated day, or it
was reached anyway. A visit is met when the worker arrived (``arrived_at``) by the deadline.
``urgent_2h`` counts every urgent visit, whenever its referral came in; it is split into
``urgent_2h_in_hours`` (referral received 08:00-20:00 London, the line ``GET /api/kpis`` calls
``urgent_2h``) and ``urgent_2h_out_of_hours`` (received 20:00-08:00, against its own
deadline), so out-of-hours urgent work is visible on its own (issue 13, hazard 8).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

import sqlalchemy as sa
from sqlalchemy import orm as so

from dispatch import states
from dispatch.config import LONDON
from dispatch.models import Referral, Shift, Staff, Visit
from dispatch.planning.problem import FIELD_ROLES
from dispatch.reports.metrics import UCR_CLOSES, UCR_OPENS
from dispatch.services import pairs
from dispatch.services.outbox import find_ig_breaches
from dispatch.simulation.errors import UnaccountedReferral
from dispatch.simulation.types import VisitLog, WorkerLog

OUTCOMES: Final = ("served", "open", "escalated", "emergency_999")
CATEGORY_KEYS: Final = ("urgent_2h", "response_24h", "planned")
OPEN_REFERRAL: Final = states.REFERRAL_ACTIVE_STATUSES
UCR_OPENS_HOUR: Final = UCR_OPENS.hour
UCR_CLOSES_HOUR: Final = UCR_CLOSES.hour


@dataclass(frozen=True, slots=True)
class VisitRecord:
    """One visit as the charts need it."""

    category: str
    received_hour: int
    response_minutes: float | None
    due: bool
    met: bool
    cause: str | None
    network_id: int | None = None
    skills: tuple[str, ...] = ()


def in_hours(record: VisitRecord) -> bool:
    """Whether the visit's referral came in during urgent community response hours
    (08:00-20:00 London, ``dispatch.reports.metrics.in_ucr_hours``)."""
    return UCR_OPENS_HOUR <= record.received_hour < UCR_CLOSES_HOUR


def outcome_of(referral: Referral, visits: Sequence[Visit]) -> str:
    """The one outcome of a referral (module docstring). :raise UnaccountedReferral:"""
    if referral.status in ("completed", "signposted", "out_of_scope"):
        return "served"
    if referral.status == "sent_to_999":
        return "emergency_999"
    if referral.status in OPEN_REFERRAL:
        if referral.status == "escalated" or any(v.jeopardy_cause for v in visits
                                                 if v.status not in states.VISIT_FINAL_STATUSES):
            return "escalated"
        return "open"
    raise UnaccountedReferral(f"referral {referral.id} ended the day as {referral.status!r}, "
                              "which is none of served, open, escalated or emergency_999")


def percentile(values: Sequence[float], q: float) -> float | None:
    """Nearest-rank percentile (``q`` in 0..1), or None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, math.ceil(q * len(ordered)) - 1))
    return round(ordered[rank], 1)


SICK: Final = "worker went off sick"
NOT_ANSWERED: Final = "offer not answered"
DECLINED: Final = "offer declined"
NO_SKILLS: Final = "no one on the roster has the skills"
FIELD_DELAY: Final = "delayed in the field (travel or an earlier visit overran)"
PLANNED_LATE: Final = "planned after the deadline (no capacity in time)"
NEVER_PLACED: Final = "never placed (no capacity)"
NOT_REACHED: Final = "placed but not reached by the end of the day"
HANDED_BACK: Final = "handed back to 111/999 (nobody could reach it in time)"
#: Causes more nurses and hybrid workers on the roster could have prevented (the capacity
#: planner moves a network up its ladder for these only): a declined or unanswered offer,
#: a worker off sick or a skill nobody rostered has are not for want of hands.
STAFFING_CAUSES: Final = frozenset({FIELD_DELAY, PLANNED_LATE, NEVER_PLACED, NOT_REACHED,
                                    HANDED_BACK})


def cause_of(visit: Visit, log: VisitLog, skilled: bool) -> str:
    """Why a due visit missed its deadline, the first that applies."""
    if log.sick_unassigned:
        return SICK
    if log.no_answers:
        return NOT_ANSWERED
    if log.declines:
        return DECLINED
    if not skilled:
        return NO_SKILLS
    if visit.arrived_at is not None:
        return FIELD_DELAY if log.planned_on_time else PLANNED_LATE
    if visit.status == "unassigned":
        return NEVER_PLACED
    if visit.status == "cancelled":  # the on-call coordinator handed it back (H-006)
        return HANDED_BACK
    return NOT_REACHED


def collect(
    session: so.Session, *, end: datetime, referral_ids: Sequence[int],
    visit_logs: Mapping[int, VisitLog], shift_logs: Sequence[WorkerLog], policy: str,
) -> tuple[dict[str, Any], list[VisitRecord]]:
    """The KPIs as a JSON-ready dict (the DESIGN.md shape plus more) and per-visit records."""
    referrals = list(session.scalars(
        sa.select(Referral).where(Referral.id.in_(referral_ids)).order_by(Referral.id)))
    visits_of: dict[int, list[Visit]] = {}
    for visit in session.scalars(sa.select(Visit).where(Visit.referral_id.in_(referral_ids))
                                 .order_by(Visit.id)):
        visits_of.setdefault(visit.referral_id or 0, []).append(visit)
    outcomes = Counter({name: 0 for name in OUTCOMES})
    for referral in referrals:
        outcomes[outcome_of(referral, visits_of.get(referral.id, []))] += 1
    assert sum(outcomes.values()) == len(referrals)
    skills = _network_skills(session)
    # A double-handed visit is one visit to the patient, reached when both workers were
    # there: its second half is not a record of its own (issue 15).
    arrival = pairs.pair_arrivals(
        session, [v for vs in visits_of.values() for v in vs])
    records = [
        _record(visit, referral, visit_logs.get(visit.id, VisitLog()), skills, end,
                arrival[visit.id])
        for referral in referrals for visit in visits_of.get(referral.id, [])
        if visit.id in arrival
    ]
    kpis: dict[str, Any] = {
        "referrals": len(referrals),
        "outcomes": {name: outcomes[name] for name in OUTCOMES},
        **{key: _compliance(records, key) for key in CATEGORY_KEYS},
        "urgent_2h_in_hours": _compliance([r for r in records if in_hours(r)], "urgent_2h"),
        "urgent_2h_out_of_hours": _compliance([r for r in records if not in_hours(r)],
                                              "urgent_2h"),
        # A staff figure: each carer's visit counts, both halves of a pair (issue 15).
        "travel_minutes_per_visit": _travel_per_visit(
            visit_logs, carer_visits(v for vs in visits_of.values() for v in vs)),
        "policy": policy,
        "categories": dict(sorted(Counter(r.category or "none" for r in referrals).items())),
        "late_causes": dict(sorted(Counter(r.cause for r in records if r.cause).items())),
        # Issue 17: one number, visits and travel over rostered time (the detail beside it).
        "utilisation": _utilisation(shift_logs)["mean"],
        "utilisation_detail": _utilisation(shift_logs),
        "utilisation_by_role": {role: _utilisation([log for log in shift_logs
                                                    if log.role == role])["mean"]
                                for role in sorted({log.role for log in shift_logs})},
        "utilisation_by_hour": _utilisation_by_hour(shift_logs),
        "networks": _by_network(session, records, shift_logs),
        "load": _load(referrals, shift_logs),
        "sms": _sms(session),
    }
    return kpis, records


def _record(visit: Visit, referral: Referral, log: VisitLog,
            skills: Mapping[int, list[frozenset[str]]], end: datetime,
            arrived: datetime | None) -> VisitRecord:
    due = visit.deadline <= end or arrived is not None
    met = arrived is not None and arrived <= visit.deadline
    minutes = None if arrived is None else (arrived - referral.received_at).total_seconds() / 60
    skilled = any(set(visit.skills) <= held for held in skills.get(visit.network_id or 0, []))
    cause = cause_of(visit, log, skilled) if due and not met else None
    hour = referral.received_at.astimezone(LONDON).hour
    return VisitRecord(visit.category, hour, minutes, due, met, cause, visit.network_id,
                       tuple(visit.skills or ()))


def _compliance(records: Sequence[VisitRecord], category: str) -> dict[str, Any]:
    mine = [r for r in records if r.category == category]
    due = [r for r in mine if r.due]
    met = sum(r.met for r in due)
    times = [r.response_minutes for r in mine if r.response_minutes is not None]
    return {
        "count": len(due), "met": met,
        "compliance": round(met / len(due), 4) if due else 0.0,
        "visits": len(mine), "not_yet_due": len(mine) - len(due),
        "p50_response_minutes": percentile(times, 0.5),
        "p90_response_minutes": percentile(times, 0.9),
    }


def carer_visits(visits: Iterable[Visit]) -> int:
    """Visits reached counted per carer: a double-handed pair is two (each carer travelled
    to it and spent the time there), where the patient-facing figures count it once."""
    return sum(1 for v in visits if v.arrived_at is not None)


def _travel_per_visit(logs: Mapping[int, VisitLog], reached: int) -> float:
    """Travel minutes per carer visit reached (a staff figure)."""
    total = sum(log.travel_seconds for log in logs.values())
    return round(total / 60 / reached, 2) if reached else 0.0


def _utilisation(logs: Sequence[WorkerLog]) -> dict[str, Any]:
    rostered = sum(log.shift_seconds for log in logs)
    travel = sum(log.travel_seconds for log in logs)
    visiting = sum(log.visit_seconds for log in logs)
    return {
        "shifts": len(logs),
        "mean": round((travel + visiting) / rostered, 4) if rostered else 0.0,
        "on_site_share": round(visiting / rostered, 4) if rostered else 0.0,
        "travel_share": round(travel / rostered, 4) if rostered else 0.0,
    }


def _utilisation_by_hour(logs: Sequence[WorkerLog]) -> dict[str, float]:
    """Busy over rostered seconds in each hour of the day (Europe/London), for the charts."""
    rostered: dict[int, float] = {}
    busy: dict[int, float] = {}
    for log in logs:
        for hour, seconds in log.rostered_by_hour.items():
            rostered[hour] = rostered.get(hour, 0.0) + seconds
        for hour, seconds in log.busy_by_hour.items():
            busy[hour] = busy.get(hour, 0.0) + seconds
    return {f"{hour:02d}": round(busy.get(hour, 0.0) / rostered[hour], 4)
            for hour in sorted(rostered) if rostered[hour]}


def _by_network(session: so.Session, records: Sequence[VisitRecord],
                logs: Sequence[WorkerLog]) -> dict[str, dict[str, Any]]:
    """2-hour compliance and utilisation of each network (the capacity planner reads these)."""
    from dispatch.models import Network

    codes = {row[0]: row[1] for row in session.execute(sa.select(Network.id, Network.code))}
    held = {staff_id: frozenset(skills) for staff_id, skills in session.execute(
        sa.select(Staff.id, Staff.skills).where(Staff.id.in_({log.staff_id for log in logs})))}
    out: dict[str, dict[str, Any]] = {}
    for network_id, code in sorted(codes.items(), key=lambda item: item[1]):
        mine = [r for r in records if r.network_id == network_id]
        shifts = [log for log in logs if log.network_id == network_id]
        if not mine and not shifts:
            continue
        urgent = _compliance(mine, "urgent_2h")
        out[code] = {
            # "visits": every 2-hour visit of the network's demand, due by the day's end or not.
            "urgent_2h": {k: urgent[k] for k in ("count", "met", "compliance", "visits")},
            "response_24h": {k: _compliance(mine, "response_24h")[k]
                             for k in ("count", "met", "compliance")},
            "utilisation": _utilisation(shifts)["mean"],
            # The network's own hourly load, beside each miss's skilled_load (issue 17).
            "utilisation_by_hour": _utilisation_by_hour(shifts),
            "shifts": len(shifts),
            "missed_2h": [{"hour": r.received_hour, "skills": list(r.skills), "cause": r.cause,
                           "skilled_load": skilled_load(r, shifts, held)}
                          for r in mine if r.category == "urgent_2h" and r.due and not r.met],
        }
    return out


def skilled_load(record: VisitRecord, logs: Sequence[WorkerLog],
                 skills_of: Mapping[int, frozenset[str]]) -> float | None:
    """How busy the workers who could have done a visit were in its 2-hour window: busy over
    rostered seconds, in the hour the referral came in and the next, of the network's
    workers holding every skill it needs; None when none of them was on shift then.

    Why (issue 17): beside its cause, it tells a reader of a missed visit whether the hands
    that could have gone were short then or sat partly idle (the planner or the field lost
    it). The capacity planner does not filter on it: buying only above half busy was tried
    and dropped (``dispatch.capacity.search``, session 13).
    """
    hours = (record.received_hour, (record.received_hour + 1) % 24)
    wanted = set(record.skills)
    able = [log for log in logs if wanted <= skills_of.get(log.staff_id, frozenset())]
    rostered = sum(log.rostered_by_hour.get(h, 0.0) for log in able for h in hours)
    if not rostered:
        return None
    return round(sum(log.busy_by_hour.get(h, 0.0) for log in able for h in hours) / rostered, 4)


def _load(referrals: Sequence[Referral], logs: Sequence[WorkerLog]) -> dict[str, Any]:
    hours = sum(log.shift_seconds for log in logs) / 3600
    visits = sum(1 for r in referrals if r.category in CATEGORY_KEYS)
    return {
        "worker_hours": round(hours, 1),
        "referrals_per_worker_hour": round(len(referrals) / hours, 4) if hours else 0.0,
        "visits_per_worker_hour": round(visits / hours, 4) if hours else 0.0,
    }


def _sms(session: so.Session) -> dict[str, int]:
    from dispatch.models import Message

    counts: dict[str, int] = {direction: count for direction, count in session.execute(
        sa.select(Message.direction, sa.func.count()).group_by(Message.direction))}
    return {"outbound": counts.get("outbound", 0), "inbound": counts.get("inbound", 0),
            "ig_breaches": len(find_ig_breaches(session))}


def _network_skills(session: so.Session) -> dict[int, list[frozenset[str]]]:
    """Skill sets of each network's field staff who have a shift on the roster."""
    rows = session.execute(
        sa.select(Staff.network_id, Staff.skills).where(
            Staff.role.in_(FIELD_ROLES),
            Staff.id.in_(sa.select(Shift.staff_id)))
    ).all()
    out: dict[int, list[frozenset[str]]] = {}
    for network_id, skills in rows:
        if network_id is None:
            continue
        out.setdefault(network_id, []).append(frozenset(skills))
    return out
