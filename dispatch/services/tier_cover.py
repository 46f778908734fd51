"""Does a network's roster cover every risk tier under its tier rules? (hazard H-232, C2)

The planner keeps hybrid workers to the tiers their network's rules name; a skill only they
hold on shift leaves lower-tier patients with nobody eligible, and the planner can only leave
such a visit unplaced with its reason. This check finds it before: over the next days (default
:data:`HORIZON_DAYS`) it reads the roster exactly as the planner does (active field staff's
shifts, shortened by sickness and absences) and reports

- the **gaps**: when someone on shift holds a skill but nobody holding it may serve some tiers
  (information: by the seeds' defaults personal care is hybrid workers' work, so the lower
  tiers have a standing gap a network may accept);
- the **visits at risk**: booked visits the tier rule binds that only the rule keeps from every
  shift: the warning a manager must act on (change the rules, roster someone, or move the
  visit), shown on the tier rules page, after saving the rules and after a roster import.

A 2-hour visit is not bound when the network's rules exempt it (``urgent_any_tier``, the
default), so the gaps then concern 24-hour and planned visits only; the check says which.
Only the network's own staff count: cover from another network is the coordinator's call.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

import sqlalchemy as sa
from sqlalchemy import orm as so

from dispatch import states
from dispatch.models import Patient, Staff, Visit
from dispatch.models.vocab import RISK_TIERS
from dispatch.planning.problem import absences_of, around_absences, rostered_shifts
from dispatch.services import strata
from rosters import tier_cover
from rosters.roles import HYBRID_WORKER
from rosters.tier_cover import Gap, Need, OnShift

#: How far ahead the check looks: a week of roster, the planner's booking horizon.
HORIZON_DAYS: Final = 7
#: Visits still to be done (not under way, not finished).
_OPEN: Final = (*states.VISIT_MOVABLE_STATUSES, *states.VISIT_PINNED_STATUSES)


@dataclass(frozen=True)
class VisitAtRisk:
    """A booked visit no eligible worker could serve, and why, in words."""

    visit_id: int
    reference: str
    category: str
    tier: str
    skills: tuple[str, ...]
    earliest_start: datetime
    deadline: datetime
    why: str


@dataclass(frozen=True)
class TierCover:
    """The check's answer for one network and window."""

    network_id: int
    start: datetime
    end: datetime
    urgent_exempt: bool
    gaps: list[Gap]
    at_risk: list[VisitAtRisk]

    def as_dict(self) -> dict[str, Any]:
        return {
            "network_id": self.network_id, "start": self.start, "end": self.end,
            "urgent_exempt": self.urgent_exempt,
            "gaps": [{"skill": g.skill, "tiers": list(g.tiers), "start": g.start,
                      "end": g.end, "minutes": g.minutes} for g in self.gaps],
            "at_risk": [vars(v) | {"skills": list(v.skills)} for v in self.at_risk],
        }


def check(session: so.Session, *, network_id: int, now: datetime, days: int = HORIZON_DAYS,
          rules: strata.TierRules | None = None) -> TierCover:
    """The network's tier cover from ``now`` for ``days`` under its rules (or ``rules``, to
    try a change before saving it). :raise NotFound: no such network."""
    network = strata.get_network(session, network_id)
    rules = rules or strata.rules_from(network.tier_rules)
    end = now + timedelta(days=days)
    on_shift = _on_shift(session, network.id, rules, now, end)
    visits = _bound_visits(session, network.id, rules, now, end)
    needs = [Need(str(v.id), tier, frozenset(v.skills), max(v.earliest_start, now),
                  v.deadline, timedelta(minutes=v.duration_minutes))
             for v, tier in visits]
    risky = {n.key for n in tier_cover.at_risk(on_shift, needs)}
    at_risk = [VisitAtRisk(
        v.id, v.reference, v.category, tier, tuple(v.skills), v.earliest_start, v.deadline,
        f"in its window only hybrid workers on shift hold {_skill_words(v.skills)}, and "
        f"{rules.refusal(HYBRID_WORKER, tier)}")
        for v, tier in visits if str(v.id) in risky]
    return TierCover(network.id, now, end, rules.urgent_any_tier,
                     tier_cover.gaps(on_shift, RISK_TIERS), at_risk)


def _on_shift(session: so.Session, network_id: int, rules: strata.TierRules, now: datetime,
              end: datetime) -> list[OnShift]:
    """The network's roster as the planner sees it (sickness and absences cut out)."""
    shifts = rostered_shifts(session, network_id, now, end)
    staff = {s.id: s for s in session.scalars(
        sa.select(Staff).where(Staff.id.in_({h.staff_id for h in shifts})))}
    away = absences_of(session, set(staff), now, end)
    out: list[OnShift] = []
    for shift in shifts:
        member = staff[shift.staff_id]
        finish = min(shift.ends_at, shift.sick_from or shift.ends_at)
        start, finish, inside = around_absences(away.get(member.id, []), max(shift.starts_at, now),
                                                finish)
        cuts = [start, *(t for a, b in inside for t in (a, b)), finish]
        serves = rules.serves(member.role)
        out.extend(OnShift(a, b, frozenset(member.skills), serves)
                   for a, b in zip(cuts[::2], cuts[1::2], strict=True) if b > a)
    return out


def _bound_visits(session: so.Session, network_id: int, rules: strata.TierRules,
                  now: datetime, end: datetime) -> list[tuple[Visit, str]]:
    """Open visits in the window the tier rule binds, with their patient's tier."""
    rows = session.execute(
        sa.select(Visit, Patient.risk_tier).join(Patient, Patient.id == Visit.patient_id)
        .where(Visit.network_id == network_id, Visit.status.in_(_OPEN),
               Visit.earliest_start < end, Visit.deadline > now)
        .order_by(Visit.earliest_start, Visit.id))
    return [(v, tier) for v, tier in rows if rules.applies_to(v.priority)]


def _skill_words(skills: list[str]) -> str:
    words = [s.replace("_", " ") for s in skills] or ["the skills"]
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def summary(cover: TierCover) -> str | None:
    """One sentence for a manager when visits are at risk (None when none are)."""
    if not cover.at_risk:
        return None
    count = len(cover.at_risk)
    refs = ", ".join(v.reference for v in cover.at_risk[:5])
    more = f" and {count - 5} more" if count > 5 else ""
    return (f"{count} booked visit{'s' if count != 1 else ''} ({refs}{more}) "
            f"{'have' if count != 1 else 'has'} nobody on the roster allowed to serve "
            f"{'them' if count != 1 else 'it'} under these tier rules")
