"""Plain data in and out of the scheduler.

Every time is an integer number of seconds from the problem's horizon start (for Solomon
instances, scaled distance units; see :mod:`routing.solomon`). Locations are indices into the
problem's travel matrix. All classes are frozen and validated on construction so the solver
never sees an inconsistent problem.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import numpy.typing as npt

LatePolicy = Literal["drop", "serve_late"]
#: How a plan was made when the search gave none in time (see ``RoutingPlan.fallback``).
Fallback = Literal["greedy_insertion"]
Objective = Literal["time", "distance"]
UnassignedCode = Literal["no_skill", "not_eligible", "unreachable", "no_capacity", "excluded"]
LinkWorkers = Literal["different", "same", "any"]
LINK_WORKERS: tuple[str, ...] = ("different", "same", "any")
#: Name of the default travel profile: the problem's own ``travel`` matrix.
DEFAULT_PROFILE = "travel"

#: Priority of a 2-hour urgent community response visit (smaller is more urgent).
PRIORITY_URGENT_2H = 2
#: Priority of a 24-hour response visit.
PRIORITY_24H = 3
#: Lowest priority accepted; planned visits.
PRIORITY_LOWEST = 9

UNASSIGNED_CODES: tuple[str, ...] = (
    "no_skill", "not_eligible", "unreachable", "no_capacity", "excluded")

Matrix = npt.NDArray[np.int64]


def as_matrix(values: object, name: str) -> Matrix:
    """Return ``values`` as a read-only square non-negative int64 matrix.

    Raises
    ------
    ValueError
        If the matrix is not square, not integral or has negative entries.
    """
    array = np.array(values)
    if array.ndim != 2 or array.shape[0] != array.shape[1] or array.shape[0] == 0:
        raise ValueError(f"{name} must be a non-empty square matrix")
    if array.dtype.kind not in "iu":
        raise ValueError(f"{name} must hold integers")
    if (array < 0).any():
        raise ValueError(f"{name} must not be negative")
    array = array.astype(np.int64)
    array.setflags(write=False)
    return array


@dataclass(frozen=True)
class Break:
    """A break that must start in ``[start_min, start_max]`` and last ``duration`` seconds."""

    start_min: int
    start_max: int
    duration: int

    def __post_init__(self) -> None:
        if self.start_min > self.start_max:
            raise ValueError("break start_min must not exceed start_max")
        if self.duration <= 0:
            raise ValueError("break duration must be positive")


@dataclass(frozen=True)
class Visit:
    """A visit to be served once, starting within ``[earliest, deadline]``.

    ``pinned_to``/``pinned_start`` fix an accepted or under-way visit to a shift (and a start
    time); the scheduler never moves it. ``excluded_workers`` holds workers who declined it
    (never given it); ``avoided_workers`` those who let an offer of it lapse unanswered (given it
    again only at a cost, :data:`routing.costs.AVOID_COST`, so when no one else does as well);
    ``spared_workers`` those whose scarcer skills it does not need (a nurse for a home care
    call): they serve it at :data:`routing.costs.SKILL_MIX_COST` (an hour of travel), so it
    goes to someone whose skills fit it unless that costs more.

    ``late_limit`` bounds lateness under ``serve_late``: the visit may start no later than it
    (None: no bound). A limit at or before the deadline means the visit is never served late
    (the dispatch planner sets it so for a 2-hour visit unless a coordinator allowed lateness).
    ``late_workers``, when not empty, are the only workers who may serve it late (the one
    the coordinator chose); anyone eligible may still serve it on time.
    """

    id: str
    location: int
    duration: int
    earliest: int
    deadline: int
    priority: int = PRIORITY_24H
    skills: frozenset[str] = frozenset()
    demand: int = 0
    pinned_to: str | None = None
    pinned_start: int | None = None
    excluded_workers: frozenset[str] = frozenset()
    preferred_workers: frozenset[str] = frozenset()
    avoided_workers: frozenset[str] = frozenset()
    spared_workers: frozenset[str] = frozenset()
    late_limit: int | None = None
    late_workers: frozenset[str] = frozenset()
    #: Whose visit it is (any stable id), for continuity across a week's horizon: with
    #: ``RoutingProblem.continuity`` a patient's visits prefer one worker (None: no patient).
    patient: str | None = None
    #: Eligibility beyond skills: only shifts whose ``serves`` holds this group (or is None)
    #: may serve it. The caller names groups (the dispatch service passes a patient's risk
    #: tier, so hybrid workers serve only the top tiers); None: any shift with the skills.
    group: str | None = None

    def __post_init__(self) -> None:
        if not self.id:
            raise ValueError("visit id must not be empty")
        if self.location < 0:
            raise ValueError(f"visit {self.id}: location must not be negative")
        if self.duration < 0:
            raise ValueError(f"visit {self.id}: duration must not be negative")
        if self.earliest > self.deadline:
            raise ValueError(f"visit {self.id}: earliest must not exceed deadline")
        if not 1 <= self.priority <= PRIORITY_LOWEST:
            raise ValueError(f"visit {self.id}: priority must be between 1 and {PRIORITY_LOWEST}")
        if self.demand < 0:
            raise ValueError(f"visit {self.id}: demand must not be negative")
        if self.pinned_start is not None and self.pinned_to is None:
            raise ValueError(f"visit {self.id}: pinned_start needs pinned_to")
        if self.late_limit is not None and self.late_limit < self.earliest:
            raise ValueError(f"visit {self.id}: late_limit must not precede earliest")

    def may_start_late(self, start: int, worker_id: str) -> bool:
        """Whether a start after the deadline at ``start`` by ``worker_id`` respects the
        visit's own bounds (``late_limit``, ``late_workers``); the late policy is separate."""
        if self.late_limit is not None and start > self.late_limit:
            return False
        return not self.late_workers or worker_id in self.late_workers


@dataclass(frozen=True)
class Link:
    """Two visits tied together: ``start(second) - start(first)`` lies in ``[min_gap,
    max_gap]`` seconds, served by ``different`` workers, the ``same`` worker or ``any``.

    A double-handed visit (two carers at once) is two visits linked with gap 0..0 and
    ``different`` workers. Links are hard: both visits are served or neither is.
    """

    first: str
    second: str
    min_gap: int = 0
    max_gap: int = 0
    workers: LinkWorkers = "any"

    def __post_init__(self) -> None:
        if self.first == self.second:
            raise ValueError(f"link {self.first}: a visit cannot be linked to itself")
        if self.min_gap > self.max_gap:
            raise ValueError(f"link {self.first}-{self.second}: min_gap must not exceed max_gap")
        if self.workers not in LINK_WORKERS:
            raise ValueError(
                f"link {self.first}-{self.second}: workers must be 'different', 'same' or 'any'"
            )


@dataclass(frozen=True)
class Spacing:
    """One patient's calls kept apart: for ``visits`` in the order given, each served visit
    starts at least ``min_gap`` seconds after every served visit before it ("at least 3 hours
    between calls"). Unlike a link it is not all-or-nothing: a call left out leaves the others
    to be served, still spaced."""

    visits: tuple[str, ...]
    min_gap: int

    def __post_init__(self) -> None:
        object.__setattr__(self, "visits", tuple(self.visits))
        if len(self.visits) < 2 or len(set(self.visits)) != len(self.visits):
            raise ValueError("spacing needs two or more different visits")
        if self.min_gap < 0:
            raise ValueError("spacing min_gap must not be negative")

    def pairs(self) -> list[tuple[str, str]]:
        """Every (earlier, later) pair in the order given."""
        return [(a, b) for k, a in enumerate(self.visits) for b in self.visits[k + 1:]]


@dataclass(frozen=True)
class Lateness:
    """Lateness as a cost (used with ``late_policy='serve_late'``): each second a visit
    starts after its deadline costs ``cost_per_second`` times its priority scale
    (:func:`routing.costs.priority_scale`), and the largest lateness in the plan costs
    ``max_cost_per_second`` per second on top."""

    cost_per_second: float = 1
    max_cost_per_second: float = 0

    def __post_init__(self) -> None:
        if self.cost_per_second < 0 or self.max_cost_per_second < 0:
            raise ValueError("lateness costs must not be negative")


@dataclass(frozen=True)
class Shift:
    """One worker's rostered shift: a route from ``start_location`` to ``end_location``."""

    id: str
    worker_id: str
    start_location: int
    end_location: int
    start: int
    end: int
    skills: frozenset[str] = frozenset()
    breaks: tuple[Break, ...] = ()
    capacity: int | None = None
    #: Travel profile: a key of ``RoutingProblem.travel_profiles`` or ``"travel"`` (the
    #: problem's own matrix), e.g. ``"walk"`` for a worker on foot.
    profile: str = DEFAULT_PROFILE
    #: The visit groups (``Visit.group``) this shift may serve; None: every group.
    serves: frozenset[str] | None = None

    def __post_init__(self) -> None:
        if not self.id:
            raise ValueError("shift id must not be empty")
        if self.start > self.end:
            raise ValueError(f"shift {self.id}: start must not exceed end")
        if min(self.start_location, self.end_location) < 0:
            raise ValueError(f"shift {self.id}: locations must not be negative")
        if self.capacity is not None and self.capacity < 0:
            raise ValueError(f"shift {self.id}: capacity must not be negative")
        for item in self.breaks:
            if item.start_min < self.start or item.start_max + item.duration > self.end:
                raise ValueError(f"shift {self.id}: breaks must lie within the shift")


def eligible(shift: Shift, visit: Visit) -> bool:
    """Whether ``shift`` may serve ``visit`` at all: it holds every skill the visit needs and
    serves the visit's group (declines, capacity and time are checked elsewhere)."""
    return visit.skills <= shift.skills and (
        visit.group is None or shift.serves is None or visit.group in shift.serves)


@dataclass(frozen=True, eq=False)
class RoutingProblem:
    """Everything the solver needs; ``travel[a][b]`` is seconds from location a to b.

    ``distance`` (same shape, integer units divided by ``distance_scale`` for reporting) is
    the arc cost when ``objective == "distance"``; otherwise travel time is minimised.
    """

    visits: tuple[Visit, ...]
    shifts: tuple[Shift, ...]
    travel: Matrix
    late_policy: LatePolicy = "drop"
    seed: int = 0
    objective: Objective = "time"
    distance: Matrix | None = None
    distance_scale: float = 1.0
    links: tuple[Link, ...] = ()
    lateness: Lateness | None = None
    travel_profiles: Mapping[str, Matrix] = field(default_factory=dict)
    #: Minimum spacing between one patient's calls (a week's horizon, issue 15 item 4).
    spacing: tuple[Spacing, ...] = ()
    #: Continuity across the horizon: each patient's visits (``Visit.patient``) prefer the
    #: worker who serves most of them (:func:`routing.solver.solve`'s second phase).
    continuity: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "visits", tuple(self.visits))
        object.__setattr__(self, "spacing", tuple(self.spacing))
        object.__setattr__(self, "shifts", tuple(self.shifts))
        object.__setattr__(self, "links", tuple(self.links))
        object.__setattr__(self, "travel", as_matrix(self.travel, "travel"))
        profiles = {}
        for name, matrix in dict(self.travel_profiles).items():
            if name == DEFAULT_PROFILE:
                raise ValueError(f"travel profile {DEFAULT_PROFILE!r} is the travel matrix")
            profiles[str(name)] = as_matrix(matrix, f"travel profile {name}")
            if profiles[str(name)].shape != self.travel.shape:
                raise ValueError(f"travel profile {name} must have the same shape as travel")
        object.__setattr__(self, "travel_profiles", profiles)
        if self.distance is not None:
            distance = as_matrix(self.distance, "distance")
            if distance.shape != self.travel.shape:
                raise ValueError("distance must have the same shape as travel")
            object.__setattr__(self, "distance", distance)
        elif self.objective == "distance":
            raise ValueError("objective 'distance' needs a distance matrix")
        if self.late_policy not in ("drop", "serve_late"):
            raise ValueError("late_policy must be 'drop' or 'serve_late'")
        if self.objective not in ("time", "distance"):
            raise ValueError("objective must be 'time' or 'distance'")
        if self.distance_scale <= 0:
            raise ValueError("distance_scale must be positive")
        self._check_references()

    def _check_references(self) -> None:
        size = self.travel.shape[0]
        visit_ids = [v.id for v in self.visits]
        if len(set(visit_ids)) != len(visit_ids):
            raise ValueError("visit ids must be unique")
        shift_ids = {s.id for s in self.shifts}
        if len(shift_ids) != len(self.shifts):
            raise ValueError("shift ids must be unique")
        for visit in self.visits:
            if visit.location >= size:
                raise ValueError(f"visit {visit.id}: location outside the travel matrix")
            if visit.pinned_to is not None and visit.pinned_to not in shift_ids:
                raise ValueError(f"visit {visit.id}: pinned to unknown shift {visit.pinned_to}")
        for shift in self.shifts:
            if max(shift.start_location, shift.end_location) >= size:
                raise ValueError(f"shift {shift.id}: location outside the travel matrix")
            if shift.profile != DEFAULT_PROFILE and shift.profile not in self.travel_profiles:
                raise ValueError(f"shift {shift.id}: unknown travel profile {shift.profile!r}")
        ids = set(visit_ids)
        linked: set[str] = set()
        for link in self.links:
            for visit_id in (link.first, link.second):
                if visit_id not in ids:
                    raise ValueError(f"link: unknown visit {visit_id}")
            pair = frozenset((link.first, link.second))
            if pair & linked:
                # One link per visit keeps "both or neither" a pair rule (no chains).
                raise ValueError(f"link {link.first}-{link.second}: a visit is in two links")
            linked |= pair
        for rule in self.spacing:
            for visit_id in rule.visits:
                if visit_id not in ids:
                    raise ValueError(f"spacing: unknown visit {visit_id}")

    def travel_of(self, shift: Shift) -> Matrix:
        """The travel matrix (seconds) of ``shift``'s worker: their profile's, or ``travel``."""
        if shift.profile == DEFAULT_PROFILE:
            return self.travel
        return self.travel_profiles[shift.profile]

    def link_of(self, visit_id: str) -> Link | None:
        """The link ``visit_id`` is in, or None."""
        for link in self.links:
            if visit_id in (link.first, link.second):
                return link
        return None

    def partner(self, visit_id: str) -> str | None:
        """The other visit of ``visit_id``'s link, or None."""
        link = self.link_of(visit_id)
        if link is None:
            return None
        return link.second if link.first == visit_id else link.first

    def visit(self, visit_id: str) -> Visit:
        """Return the visit with ``visit_id`` (KeyError if absent)."""
        for visit in self.visits:
            if visit.id == visit_id:
                return visit
        raise KeyError(visit_id)


@dataclass(frozen=True)
class Stop:
    """A served visit: arrival on site, service start and end (seconds)."""

    visit_id: str
    arrival: int
    start: int
    end: int


@dataclass(frozen=True)
class PlacedBreak:
    """Where the solver put one of the shift's breaks."""

    start: int
    end: int


@dataclass(frozen=True)
class Route:
    """The ordered stops of one shift, leaving base at ``departure``, back at ``return_time``."""

    shift_id: str
    worker_id: str
    stops: tuple[Stop, ...]
    departure: int = 0
    return_time: int = 0
    breaks: tuple[PlacedBreak, ...] = ()
    travel: int = 0


@dataclass(frozen=True)
class Unassigned:
    """A visit not in any route, with a plain-language reason and a stable code."""

    visit_id: str
    reason: str
    code: UnassignedCode

    def __post_init__(self) -> None:
        if self.code not in UNASSIGNED_CODES:
            raise ValueError(f"unknown unassigned code {self.code}")


@dataclass(frozen=True)
class LateVisit:
    """A visit served after its deadline (only under ``late_policy='serve_late'``)."""

    visit_id: str
    deadline: int
    start: int

    @property
    def seconds(self) -> int:
        """How late it starts, in seconds."""
        return self.start - self.deadline


@dataclass(frozen=True)
class RoutingPlan:
    """The solver's answer: one route per used shift plus every visit it could not serve."""

    routes: tuple[Route, ...]
    unassigned: tuple[Unassigned, ...]
    travel_total: int
    distance_total: float
    vehicles_used: int
    objective: int
    seconds: float
    late: tuple[LateVisit, ...] = field(default=())
    #: Set when the search found no plan within its limits (a busy machine): the plan is
    #: then :func:`routing.insertion.greedy_plan`'s, and ``note`` says so (hazard H-011).
    fallback: Fallback | None = None
    note: str | None = None

    def route_of(self, visit_id: str) -> Route | None:
        """Return the route serving ``visit_id``, or None."""
        for route in self.routes:
            if any(stop.visit_id == visit_id for stop in route.stops):
                return route
        return None
