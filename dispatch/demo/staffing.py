"""How many staff of each role work each shift pattern in each network, and what that costs.

One shape serves three users: the demo roster (:mod:`dispatch.demo.roster` rosters exactly
these counts), ``dispatch simulate --staffing FILE`` (plays a day with them) and the capacity
planner (``dispatch capacity plan``, which searches them and prints its answer in this shape).

JSON shape (``to_json`` / ``from_json``; more keys are ignored, so a planner result is itself
a staffing file)::

    {"networks": {"HF-NORTH": {"early": {"district_nurse": 2, "hybrid_worker": 1},
                               "late": {...}, "night": {...}}, ...}}

A network missing from a file keeps the default team (:data:`DEFAULT_TEAM`); a pattern missing
from a network has nobody on it. The care coordinator is not part of a staffing file: the
seeds fund exactly one per network (seeds/002, "one Care Coordinator for each network covering
the top three risk strata"), so every network has one on the early pattern whatever the file.

Why the default team is this one (issue 17): the former demo team (19 field shifts a network
a day) ran a normal simulated day at 11 % utilisation, so the planner and a phone list tied.
The issue asked for a roster busy 60-75 % of its rostered time (visits plus travel) that still
meets 95 % of 2-hour responses. A small team on a light day could not do both (one nurse and
one hybrid worker early, one nurse late and one at night ran at 45 % and met 80 %): the
2-hour standard needs someone free within two hours at every hour in each network. A real
team's day is mostly booked work (district nursing and the top tiers' home care calls, which
wait in their windows) with urgent referrals fitted in, so the normal day now has that work on
the books (``dispatch.simulation.types.DEFAULT_BOOKED``, ``demand.HOME_CARE_SHARE``) and the
team below is sized to it: two nurses and two hybrid workers early and late, a night nurse,
and in the three central networks a therapist early and late and a social worker early. On
five seeds it met 229 of 240 2-hour visits (95.4 %; three days of five at 95 % or more, two a
visit short) at 61-64 % utilisation once accepted 2-hour visits kept their urgency (H-245;
benchmarks/README.md, "The normal day at 60-75 %").
The capacity planner finds cheaper or dearer staffing per network and says what it reaches.

Costs (:data:`HOURLY_COST`) are our assumption, stated so they can be argued with: NHS Agenda
for Change 2024/25 mid-band hourly pay (band 6 district nurse and therapist about £21, band 3
hybrid support worker about £13, social worker on the local-authority scale about £20) plus
30 % employer on-costs, rounded; night hours get the Agenda for Change unsocial-hours uplift
of about a third (:data:`NIGHT_UPLIFT`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

#: Field roles a staffing file may list (the coordinator is fixed, one per network).
STAFFED_ROLES: Final = ("district_nurse", "hybrid_worker", "therapist", "social_worker")
#: Roles the capacity planner's ladder varies; therapists and social workers stay as the base
#: has them, except that a held-out miss only one of them could have met (an equipment visit:
#: a therapist) adds one (``dispatch.capacity.search.role_for``; a network planned alone has no
#: neighbour's therapist to cover it).
SEARCHED_ROLES: Final = ("district_nurse", "hybrid_worker")
PATTERN_NAMES: Final = ("early", "late", "night")

#: Employer cost of an hour on shift, pounds (module docstring says where from).
HOURLY_COST: Final[Mapping[str, float]] = {
    "district_nurse": 28.0, "hybrid_worker": 17.0, "therapist": 28.0, "social_worker": 26.0,
    "coordinator": 30.0,
}  # fmt: skip
#: Night shifts cost this much more an hour (unsocial hours).
NIGHT_UPLIFT: Final = 1.33
#: Paid hours of each pattern (shift length minus the unpaid 30-minute break).
PAID_HOURS: Final[Mapping[str, float]] = {"early": 7.5, "late": 7.5, "night": 9.5}
DAYS_PER_WEEK: Final = 7

Team = Mapping[str, Mapping[str, int]]

#: Field workers on duty per network for each pattern in the calibrated demo (module docstring).
DEFAULT_TEAM: Final[Team] = {
    "early": {"district_nurse": 2, "hybrid_worker": 2},
    "late": {"district_nurse": 2, "hybrid_worker": 2},
    "night": {"district_nurse": 1},
}  # fmt: skip
#: Networks whose residents need a bigger team (by simulated demand); see :data:`DEFAULT_TEAM`.
NETWORK_TEAMS: Final[Mapping[str, Team]] = {}
#: Therapist and social worker cover, shared: a therapist early and late and a social worker
#: early in these networks, so every role of the service is on the roster and urgent equipment
#: and reablement referrals find a therapist into the evening (issue 17: without the late
#: therapist, such referrals after 14:00 missed their 2 hours).
SPECIALIST_TEAM: Final[Team] = {
    "early": {"therapist": 1, "social_worker": 1},
    "late": {"therapist": 1},
}  # fmt: skip
SPECIALIST_NETWORKS: Final = ("HF-CENTRAL", "KC-CENTRAL", "WM-CENTRAL")


class StaffingError(ValueError):
    """A staffing file or mapping that cannot be rostered (says which key and why)."""


@dataclass(frozen=True)
class Staffing:
    """Workers per network, shift pattern and role (module docstring)."""

    networks: Mapping[str, Team] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for code, team in self.networks.items():
            for pattern, roles in team.items():
                if pattern not in PATTERN_NAMES:
                    raise StaffingError(f"networks.{code}: unknown shift pattern {pattern!r}; "
                                        f"expected one of {', '.join(PATTERN_NAMES)}")
                for role, count in roles.items():
                    where = f"networks.{code}.{pattern}.{role}"
                    if role not in STAFFED_ROLES:
                        raise StaffingError(f"{where}: unknown role; expected one of "
                                            f"{', '.join(STAFFED_ROLES)}")
                    if isinstance(count, bool) or not isinstance(count, int) or count < 0:
                        raise StaffingError(f"{where}: must be a whole number >= 0")

    def team(self, network: str) -> Team:
        """The team of ``network``: its own if given (even empty), else the calibrated default."""
        if network in self.networks:
            return self.networks[network]
        return default_team(network)

    def count(self, network: str, pattern: str, role: str) -> int:
        """Workers of ``role`` on ``pattern`` in ``network``."""
        return int(self.team(network).get(pattern, {}).get(role, 0))

    def with_count(self, network: str, pattern: str, role: str, count: int) -> Staffing:
        """A copy with one count changed (the planner's move)."""
        team = {p: dict(r) for p, r in self.team(network).items()}
        team.setdefault(pattern, {})[role] = count
        return Staffing({**self.networks, network: team})

    def only(self, codes: Iterable[str]) -> Staffing:
        """The teams of ``codes`` alone, spelled out (defaults made explicit)."""
        return Staffing({code: self.team(code) for code in codes})

    def alone(self, codes: Iterable[str], every: Iterable[str]) -> Staffing:
        """The teams of ``codes`` and nobody in the rest of ``every``: one network played on
        its own, as the capacity planner plays it (no cross-cover from default teams)."""
        mine = set(codes)
        return Staffing({code: self.team(code) if code in mine else {} for code in every})

    def shifts_per_day(self, network: str) -> int:
        """Field shifts a day in ``network``."""
        return sum(sum(roles.values()) for roles in self.team(network).values())

    def cost_per_week(self, codes: Iterable[str]) -> float:
        """Pounds a week for the field teams of ``codes`` (coordinators not included)."""
        return round(sum(_team_cost(self.team(code)) for code in codes), 2)

    def to_json(self, codes: Iterable[str]) -> dict[str, Any]:
        """The staffing-file shape for ``codes``, zeros left out."""
        out: dict[str, Any] = {}
        for code in codes:
            team = {p: {r: n for r, n in roles.items() if n}
                    for p, roles in self.team(code).items()}
            out[code] = {p: roles for p, roles in team.items() if roles}
        return {"networks": out}


def default_team(network: str) -> Team:
    """The calibrated team of ``network`` (its own, else :data:`DEFAULT_TEAM`) and specialists."""
    base = NETWORK_TEAMS.get(network, DEFAULT_TEAM)
    team = {pattern: dict(roles) for pattern, roles in base.items()}
    if network in SPECIALIST_NETWORKS:
        for pattern, roles in SPECIALIST_TEAM.items():
            team.setdefault(pattern, {}).update(roles)
    return team


def _team_cost(team: Team) -> float:
    total = 0.0
    for pattern, roles in team.items():
        uplift = NIGHT_UPLIFT if pattern == "night" else 1.0
        for role, count in roles.items():
            total += count * PAID_HOURS[pattern] * HOURLY_COST[role] * uplift * DAYS_PER_WEEK
    return total


def from_json(data: Any) -> Staffing:
    """A :class:`Staffing` from the file shape. :raise StaffingError: with the key at fault."""
    if not isinstance(data, Mapping) or not isinstance(data.get("networks"), Mapping):
        raise StaffingError('a staffing file is a JSON object with a "networks" object')
    networks: dict[str, dict[str, dict[str, int]]] = {}
    for code, team in data["networks"].items():
        if not isinstance(team, Mapping):
            raise StaffingError(f"networks.{code}: must be an object of shift patterns")
        networks[str(code)] = {}
        for pattern, roles in team.items():
            if not isinstance(roles, Mapping):
                raise StaffingError(f"networks.{code}.{pattern}: must be an object of roles")
            networks[str(code)][str(pattern)] = dict(roles)
    return Staffing(networks)


def load(path: str | Path) -> Staffing:
    """Read a staffing file. :raise StaffingError: unreadable or malformed."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise StaffingError(f"{path}: {exc}") from exc
    return from_json(data)


def check_networks(staffing: Staffing, known: Iterable[str]) -> None:
    """Refuse a file naming a network the demo does not have. :raise StaffingError:"""
    unknown = sorted(set(staffing.networks) - set(known))
    if unknown:
        raise StaffingError(f"unknown network {', '.join(unknown)}")
