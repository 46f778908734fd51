"""Search staffing by playing simulated days through the real planner and field model.

The question (issue 17): what does it cost a network to meet the 2-hour standard? We answer
it the only way that respects everything the scheduler does (skills, shifts, breaks, travel,
declines, sickness, re-planning): play days. Each *trial* is one candidate staffing played on
the same ``days`` simulated days (seeds ``seed, seed+1, ...`` on consecutive dates); it meets
the target when the 2-hour compliance of the networks planned reaches ``target`` on **every**
one of those days.

The search is a greedy climb from the smallest team we would roster (:data:`START_TEAM`, one
nurse and one hybrid worker early, one nurse late): after each trial that misses, every
network that missed a 2-hour visit gets one more worker, on the shift pattern where its misses
were received and in the role whose skills they needed (nurses unless only a hybrid worker's
skills were wanted, or a therapist for equipment). The first trial that meets the target is
the recommendation; the trial before it is the next-cheapest that missed, with how far it fell
short. Why greedy and not an exhaustive search: one trial costs minutes of solver time, six
shift-pattern counts per network give thousands of combinations, and adding where the misses
were is what a rota manager does. Networks do not lend staff to each other (the planner plans
per network), so one simulated day scores every network's candidate at once.

Pure of Flask; it opens its own temporary databases through :mod:`dispatch.simulation.day`.
"""

from __future__ import annotations

import time as wallclock
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Final

from dispatch.demo.geography import NETWORK_LAYOUT
from dispatch.demo.staffing import Staffing, Team
from dispatch.simulation.types import SimulationConfig
from rosters.roles import default_skills

#: Every network of the demo, in layout order.
ALL_NETWORKS: Final = tuple(code for code, *_ in NETWORK_LAYOUT)
#: The smallest team the search starts from (a network needs a nurse on both day patterns).
START_TEAM: Final[Team] = {
    "early": {"district_nurse": 1, "hybrid_worker": 1},
    "late": {"district_nurse": 1},
}  # fmt: skip
#: Never roster more than this many of one role on one pattern in one network.
MAX_PER_SLOT: Final = 6
#: Expected referrals and booked visits of a normal day (the CLI's defaults), before growth.
BASE_REFERRALS: Final = 121.0
BASE_BOOKED: Final = 60
DEFAULT_DAYS: Final = 2
DEFAULT_ROUNDS: Final = 8
DEFAULT_PATIENTS: Final = 20_000

Progress = Callable[[float, str], None]
#: Plays one day and returns its KPIs (``dispatch.simulation.day.simulate`` by default).
DayPlayer = Callable[[SimulationConfig], Mapping[str, Any]]


@dataclass(frozen=True)
class PlanRequest:
    """What to plan for: the first day, the seed, the target and the networks."""

    day: date
    seed: int
    target: float = 0.95
    networks: tuple[str, ...] = ALL_NETWORKS
    growth: float = 1.0
    days: int = DEFAULT_DAYS
    max_rounds: int = DEFAULT_ROUNDS
    patients: int = DEFAULT_PATIENTS

    def __post_init__(self) -> None:
        if not 0 < self.target <= 1:
            raise ValueError(f"target must be above 0 and at most 1, got {self.target}")
        if self.growth <= 0:
            raise ValueError(f"growth must be above 0, got {self.growth}")
        if not 1 <= self.days <= 14:
            raise ValueError(f"days must be 1-14, got {self.days}")
        if not 1 <= self.max_rounds <= 30:
            raise ValueError(f"max_rounds must be 1-30, got {self.max_rounds}")
        unknown = sorted(set(self.networks) - set(ALL_NETWORKS))
        if unknown or not self.networks:
            raise ValueError(f"unknown network {', '.join(unknown) or '(none given)'}; expected "
                             f"one of {', '.join(ALL_NETWORKS)}")

    def day_configs(self, staffing: Staffing) -> list[SimulationConfig]:
        """The simulated days one trial plays (same for every trial)."""
        scope = None if set(self.networks) == set(ALL_NETWORKS) else self.networks
        return [SimulationConfig(
            seed=self.seed + i, day=self.day + timedelta(days=i), patients=self.patients,
            referrals=BASE_REFERRALS * self.growth, booked=round(BASE_BOOKED * self.growth),
            staffing=full_staffing(staffing, self.networks), networks=scope)
            for i in range(self.days)]


@dataclass(frozen=True)
class DayScore:
    """One simulated day of one trial."""

    seed: int
    day: date
    count: int
    met: int
    compliance: float
    utilisation: float
    by_hour: Mapping[str, float]
    missed: Mapping[str, Sequence[Mapping[str, Any]]]


@dataclass(frozen=True)
class Trial:
    """One candidate staffing and how it did on every day played."""

    staffing: Staffing
    cost_per_week: float
    days: tuple[DayScore, ...]
    target: float

    @property
    def compliance(self) -> float:
        """The worst day's 2-hour compliance (the target must hold on every day)."""
        return min(d.compliance for d in self.days)

    @property
    def meets(self) -> bool:
        """Whether the target held on every day."""
        return all(d.compliance >= self.target for d in self.days)

    @property
    def utilisation(self) -> float:
        """Mean over the days of visits and travel over rostered time."""
        return round(sum(d.utilisation for d in self.days) / len(self.days), 4)

    def to_json(self, networks: Sequence[str]) -> dict[str, Any]:
        """The staffing-file shape plus the figures (a result is itself a staffing file)."""
        return {
            **self.staffing.to_json(networks),
            "cost_per_week": self.cost_per_week,
            "shifts_per_day": sum(self.staffing.shifts_per_day(n) for n in networks),
            "compliance": self.compliance,
            "utilisation": self.utilisation,
            "met_target": self.meets,
            "short_by": round(max(0.0, self.target - self.compliance), 4),
            "days": [{"seed": d.seed, "date": d.day.isoformat(), "urgent_2h": d.count,
                      "met": d.met, "compliance": d.compliance, "utilisation": d.utilisation}
                     for d in self.days],
        }


@dataclass
class PlanResult:
    """The search's answer: the recommendation, the nearest miss and every trial."""

    request: PlanRequest
    trials: list[Trial] = field(default_factory=list)
    wall_seconds: float = 0.0

    @property
    def recommended(self) -> Trial | None:
        """The cheapest trial that met the target (the climb only grows, so the first)."""
        meeting = [t for t in self.trials if t.meets]
        return min(meeting, key=lambda t: t.cost_per_week) if meeting else None

    @property
    def next_cheapest_missed(self) -> Trial | None:
        """The dearest trial that missed and cost less than the recommendation."""
        best = self.recommended
        missed = [t for t in self.trials if not t.meets
                  and (best is None or t.cost_per_week <= best.cost_per_week)]
        return max(missed, key=lambda t: t.cost_per_week) if missed else None

    def to_json(self) -> dict[str, Any]:
        """``dispatch capacity plan --json``: the recommended staffing file and the figures."""
        req, best, missed = self.request, self.recommended, self.next_cheapest_missed
        shown = best or (self.trials[-1] if self.trials else None)
        body: dict[str, Any] = shown.to_json(req.networks) if shown else {"networks": {}}
        hours: dict[str, float] = {}
        played = shown.days if shown is not None else ()
        for score in played:
            for hour, value in score.by_hour.items():
                hours[hour] = hours.get(hour, 0.0) + value / len(played)
        body.update({
            "found": best is not None,
            "target": req.target, "seed": req.seed, "date": req.day.isoformat(),
            "growth": req.growth, "scope": list(req.networks),
            "next_cheapest_missed": missed.to_json(req.networks) if missed else None,
            "trials": [{"cost_per_week": t.cost_per_week, "compliance": t.compliance,
                        "utilisation": t.utilisation, "met_target": t.meets,
                        "shifts_per_day": sum(t.staffing.shifts_per_day(n)
                                              for n in req.networks)}
                       for t in self.trials],
            "utilisation_by_hour": {h: round(v, 4) for h, v in sorted(hours.items())},
            "simulated_days": len(self.trials) * req.days,
            "wall_seconds": self.wall_seconds,
        })
        return body


def full_staffing(staffing: Staffing, networks: Sequence[str]) -> Staffing:
    """``staffing`` for ``networks`` and nobody elsewhere (their demand is not played)."""
    teams: dict[str, Team] = {code: {} for code in ALL_NETWORKS}
    teams.update({code: staffing.team(code) for code in networks})
    return Staffing(teams)


def start_staffing(networks: Sequence[str], base: Staffing | None = None) -> Staffing:
    """:data:`START_TEAM` in every network, with the therapists and social workers of
    ``base`` (default: the calibrated demo), which the search does not vary."""
    base = base or Staffing()
    teams: dict[str, dict[str, dict[str, int]]] = {}
    for code in networks:
        team = {p: dict(r) for p, r in START_TEAM.items()}
        for pattern, roles in base.team(code).items():
            for role, count in roles.items():
                if role not in ("district_nurse", "hybrid_worker") and count:
                    team.setdefault(pattern, {})[role] = count
        teams[code] = team
    return Staffing(teams)


def plan(request: PlanRequest, *, player: DayPlayer | None = None,
         progress: Progress | None = None, base: Staffing | None = None) -> PlanResult:
    """Climb from :func:`start_staffing` until a trial meets the target (module docstring).

    ``player`` plays one day and returns its KPIs (tests pass a fake; the default is the
    simulator). ``progress`` is called with the share of the worst case done and a line.
    """
    play = player or _simulate
    say = progress or (lambda _share, _line: None)
    started = wallclock.perf_counter()
    result = PlanResult(request)
    current = start_staffing(request.networks, base)
    budget = request.max_rounds * request.days
    for round_number in range(request.max_rounds):
        scores = []
        for index, config in enumerate(request.day_configs(current)):
            done = round_number * request.days + index
            say(done / budget, f"trial {round_number + 1}, day {index + 1} of {request.days}: "
                f"{_shifts(current, request.networks)} shifts a day, "
                f"£{current.cost_per_week(request.networks):,.0f} a week")
            scores.append(_score(config, play(config), request.networks))
        trial = Trial(current, current.cost_per_week(request.networks), tuple(scores),
                      request.target)
        result.trials.append(trial)
        say((round_number + 1) * request.days / budget,
            f"trial {round_number + 1}: 2-hour compliance {trial.compliance:.1%} "
            f"(worst day), utilisation {trial.utilisation:.1%}")
        if trial.meets:
            break
        grown = grow(current, trial, request.networks)
        if grown == current:
            break  # nothing left to add where the misses were
        current = grown
    result.wall_seconds = round(wallclock.perf_counter() - started, 1)
    say(1.0, "done")
    return result


def grow(staffing: Staffing, trial: Trial, networks: Sequence[str]) -> Staffing:
    """One more worker in each network that missed a 2-hour visit (module docstring)."""
    out = staffing
    for code in networks:
        missed = [m for score in trial.days for m in score.missed.get(code, ())]
        if not missed:
            continue
        pattern = Counter(pattern_for(m["hour"]) for m in missed).most_common(1)[0][0]
        role = Counter(role_for(m["skills"]) for m in missed).most_common(1)[0][0]
        count = out.count(code, pattern, role)
        if count < MAX_PER_SLOT:
            out = out.with_count(code, pattern, role, count + 1)
    return out


def pattern_for(hour: int) -> str:
    """The shift pattern that covers a 2-hour visit received at ``hour`` (London)."""
    if hour < 13:
        return "early"
    if hour < 20:
        return "late"
    return "night"


def role_for(skills: Sequence[str]) -> str:
    """A nurse, unless only a hybrid worker (or, for equipment, a therapist) holds every skill
    the visit needs: adding a nurse for an equipment visit would never meet it."""
    wanted = set(skills)
    for role in ("district_nurse", "hybrid_worker", "therapist", "social_worker"):
        if wanted <= default_skills(role):
            return role
    return "district_nurse"


def _shifts(staffing: Staffing, networks: Sequence[str]) -> int:
    return sum(staffing.shifts_per_day(code) for code in networks)


def _score(config: SimulationConfig, kpis: Mapping[str, Any],
           networks: Sequence[str]) -> DayScore:
    urgent = kpis["urgent_2h"]
    by_network = kpis.get("networks", {})
    missed = {code: list(by_network.get(code, {}).get("missed_2h", [])) for code in networks}
    return DayScore(config.seed, config.day, int(urgent["count"]), int(urgent["met"]),
                    float(urgent["compliance"]) if urgent["count"] else 1.0,
                    float(kpis["utilisation"]), dict(kpis.get("utilisation_by_hour", {})),
                    missed)


def _simulate(config: SimulationConfig) -> Mapping[str, Any]:
    """One day through the simulator (imported here: it loads the solver)."""
    from dispatch.simulation import day as days

    return days.simulate(config).kpis
