"""Who on the roster may serve which risk tier, skill by skill (hazard H-232, control C2).

A network's tier rules keep its hybrid workers to the top risk tiers (dispatch/services/
strata.py). Where a skill is held on shift only by hybrid workers (personal care, by the
roles' defaults), a patient in a lower tier who needs it has nobody eligible, and the planner
can only leave the visit unplaced ("no one on shift with the skills may serve moderate-risk
patients"). This module finds those holes before a visit falls into one, from the roster and
the rules alone, so a manager is told when the rules or the roster change:

- :func:`gaps`: for each stretch of time with the same people on shift, each skill someone on
  shift holds, and the tiers nobody on shift with that skill may serve;
- :func:`at_risk`: booked visits that no shift could serve under the rules, although a shift
  with the skills could serve them if the rule did not bind (a visit nobody on shift has the
  skills for at all is a staffing gap, not the rule's doing, and is left to the planner's own
  reasons and the deadline watch).

Pure: plain dataclasses in and out, no clock (the caller chooses the window), no database.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class OnShift:
    """One rostered shift: when, the worker's skills, and the tiers they may serve (None:
    every tier, as for nurses, therapists and social workers)."""

    start: datetime
    end: datetime
    skills: frozenset[str]
    serves: frozenset[str] | None = None

    def may_serve(self, tier: str) -> bool:
        return self.serves is None or tier in self.serves


@dataclass(frozen=True)
class Gap:
    """From ``start`` to ``end`` someone on shift holds ``skill`` but nobody who holds it may
    serve patients of ``tiers``."""

    skill: str
    tiers: tuple[str, ...]
    start: datetime
    end: datetime

    @property
    def minutes(self) -> int:
        return int((self.end - self.start) / timedelta(minutes=1))


@dataclass(frozen=True)
class Need:
    """A booked visit the tier rule binds: its patient's tier, skills and window."""

    key: str
    tier: str
    skills: frozenset[str]
    earliest: datetime
    deadline: datetime
    duration: timedelta


def gaps(shifts: Iterable[OnShift], tiers: Sequence[str]) -> list[Gap]:
    """The tier gaps of a roster, merged over time, ordered by start then skill.

    ``tiers`` is every tier there is (highest risk first); the gap's tiers keep that order.
    Time is cut at every shift's start and end; in each piece, a skill held on shift is a gap
    for the tiers no holder of it may serve. Adjacent pieces with the same skill and tiers
    join."""
    roster = [s for s in shifts if s.end > s.start]
    cuts = sorted({t for s in roster for t in (s.start, s.end)})
    pieces: list[Gap] = []
    for start, end in zip(cuts, cuts[1:], strict=False):
        on = [s for s in roster if s.start < end and s.end > start]
        for skill in {k for s in on for k in s.skills}:
            holders = [s for s in on if skill in s.skills]
            missing = tuple(t for t in tiers if not any(s.may_serve(t) for s in holders))
            if missing:
                pieces.append(Gap(skill, missing, start, end))
    merged: list[Gap] = []
    for piece in sorted(pieces, key=lambda g: (g.skill, g.tiers, g.start)):
        last = merged[-1] if merged else None
        if last is not None and (last.skill, last.tiers, last.end) == (
                piece.skill, piece.tiers, piece.start):
            merged[-1] = Gap(last.skill, last.tiers, last.start, piece.end)
        else:
            merged.append(piece)
    return sorted(merged, key=lambda g: (g.start, g.skill, g.end))


def _fits(shift: OnShift, need: Need) -> bool:
    """Whether the visit could be done inside the shift and its own window."""
    start = max(shift.start, need.earliest)
    return start + need.duration <= min(shift.end, need.deadline)


def at_risk(shifts: Iterable[OnShift], needs: Iterable[Need]) -> list[Need]:
    """The visits only the tier rule keeps from every shift: some shift has the skills and the
    time, none of those may serve the patient's tier."""
    roster = list(shifts)
    risky = []
    for need in needs:
        able = [s for s in roster if need.skills <= s.skills and _fits(s, need)]
        if able and not any(s.may_serve(need.tier) for s in able):
            risky.append(need)
    return risky
