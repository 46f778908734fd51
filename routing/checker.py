"""An independent feasibility checker for plans (no OR-Tools, no solver code).

It trusts nothing the solver reports except the order of stops, the service start times and
where breaks were placed: every leg is re-timed from the travel matrix. Tests and benchmarks
use it so that a solver bug cannot certify its own output.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from routing.links import check_links
from routing.types import (
    Matrix,
    PlacedBreak,
    Route,
    RoutingPlan,
    RoutingProblem,
    Shift,
    Visit,
    eligible,
)


def check_plan(problem: RoutingProblem, plan: RoutingPlan) -> list[str]:
    """Return every hard-constraint violation in ``plan`` (an empty list means feasible).

    Checked: each visit routed at most once and either routed or unassigned; shifts and
    workers exist; skills and declined workers; time windows (late only where allowed);
    travel between stops by each worker's own travel profile; shift start and end; breaks;
    pins; capacity; links (both halves or neither, the gap, the workers); spacing between
    one patient's served calls; every late start listed in ``plan.late`` with its true
    lateness.
    """
    visits = {v.id: v for v in problem.visits}
    shifts = {s.id: s for s in problem.shifts}
    problems = _check_accounting(problem, plan, visits)
    late_ok = {item.visit_id for item in plan.late}
    if problem.late_policy != "serve_late":
        late_ok = set()
    for route in plan.routes:
        shift = shifts.get(route.shift_id)
        if shift is None:
            problems.append(f"route on unknown shift {route.shift_id}")
            continue
        if route.worker_id != shift.worker_id:
            problems.append(f"route {route.shift_id}: worker {route.worker_id} is not on it")
        known = [s for s in route.stops if s.visit_id in visits]
        problems += _check_assignment(problem, shift, [visits[s.visit_id] for s in known])
        problems += _check_times(problem, shift, route, visits, late_ok)
        problems += _check_breaks(shift, route)
    problems += _check_pins(plan, visits)
    problems += check_links(problem, plan)
    problems += _check_spacing(problem, plan)
    problems += _check_late_list(plan, visits)
    return problems


def _check_spacing(problem: RoutingProblem, plan: RoutingPlan) -> list[str]:
    """Each served pair of a spacing rule, later minus earlier start, at least its gap (written
    here again rather than shared with the insertion, so the checker stays independent)."""
    starts = {s.visit_id: s.start for r in plan.routes for s in r.stops}
    found = []
    for rule in problem.spacing:
        order = list(rule.visits)
        for k, earlier in enumerate(order):
            for later in order[k + 1:]:
                if earlier in starts and later in starts:
                    apart = starts[later] - starts[earlier]
                    if apart < rule.min_gap:
                        found.append(f"spacing {earlier}-{later}: {apart} s apart, "
                                     f"{rule.min_gap} s required")
    return found


def _check_late_list(plan: RoutingPlan, visits: dict[str, Visit]) -> list[str]:
    """Every visit served after its deadline is reported in ``plan.late``, truthfully."""
    found: list[str] = []
    listed = {item.visit_id: item for item in plan.late}
    for route in plan.routes:
        for stop in route.stops:
            visit = visits.get(stop.visit_id)
            if visit is None or stop.start <= visit.deadline:
                continue
            item = listed.get(visit.id)
            if item is None:
                found.append(f"visit {visit.id}: late by {stop.start - visit.deadline} s "
                             "but not listed as late")
            elif item.start != stop.start or item.deadline != visit.deadline:
                found.append(f"visit {visit.id}: listed lateness is not its true lateness")
    return found


def lateness_of(problem: RoutingProblem, plan: RoutingPlan) -> tuple[int, int]:
    """Total and largest lateness (seconds after the deadline) of the served visits,
    recomputed from the plan's starts."""
    deadlines = {v.id: v.deadline for v in problem.visits}
    late = [
        max(0, stop.start - deadlines[stop.visit_id])
        for route in plan.routes
        for stop in route.stops
        if stop.visit_id in deadlines
    ]
    return sum(late), max(late, default=0)


def _check_accounting(
    problem: RoutingProblem, plan: RoutingPlan, visits: dict[str, Visit]
) -> list[str]:
    routed = Counter(stop.visit_id for route in plan.routes for stop in route.stops)
    dropped = Counter(item.visit_id for item in plan.unassigned)
    found: list[str] = []
    for visit_id, count in (routed + dropped).items():
        if visit_id not in visits:
            found.append(f"visit {visit_id} is not in the problem")
        elif count > 1:
            found.append(f"visit {visit_id} appears {count} times")
    for visit_id in visits:
        if visit_id not in routed and visit_id not in dropped:
            found.append(f"visit {visit_id} is neither routed nor unassigned")
    shift_ids = Counter(route.shift_id for route in plan.routes)
    found += [f"shift {s} has {n} routes" for s, n in shift_ids.items() if n > 1]
    return found


def _check_assignment(problem: RoutingProblem, shift: Shift, served: list[Visit]) -> list[str]:
    found: list[str] = []
    for visit in served:
        if not visit.skills <= shift.skills:
            found.append(f"visit {visit.id}: shift {shift.id} lacks skills")
        elif not eligible(shift, visit):
            found.append(f"visit {visit.id}: shift {shift.id} does not serve {visit.group}")
        if shift.worker_id in visit.excluded_workers:
            found.append(f"visit {visit.id}: worker {shift.worker_id} declined it")
    load = sum(v.demand for v in served)
    if shift.capacity is not None and load > shift.capacity:
        found.append(f"shift {shift.id}: load {load} exceeds capacity {shift.capacity}")
    return found


def _breaks_within(breaks: tuple[PlacedBreak, ...], begin: int, end: int) -> int:
    return sum(b.end - b.start for b in breaks if b.start >= begin and b.end <= end)


def _check_times(
    problem: RoutingProblem,
    shift: Shift,
    route: Route,
    visits: dict[str, Visit],
    late_ok: set[str],
) -> list[str]:
    found: list[str] = []
    if route.departure < shift.start:
        found.append(f"shift {shift.id}: leaves base before the shift starts")
    travel = problem.travel_of(shift)
    where, ready = shift.start_location, route.departure
    for stop in route.stops:
        visit = visits.get(stop.visit_id)
        if visit is None:
            continue
        earliest = ready + int(travel[where, visit.location])
        earliest += _breaks_within(route.breaks, ready, stop.start)
        if stop.start < earliest:
            found.append(
                f"visit {visit.id}: starts at {stop.start}, cannot arrive before {earliest}"
            )
        if stop.start < visit.earliest:
            found.append(f"visit {visit.id}: starts before its window opens")
        if stop.start > visit.deadline and not (
            _may_be_late(problem, visit, late_ok)
            and (visit.pinned_start is not None
                 or visit.may_start_late(stop.start, route.worker_id))
        ):
            found.append(f"visit {visit.id}: starts after its deadline")
        if stop.end != stop.start + visit.duration:
            found.append(f"visit {visit.id}: end is not start + duration")
        where, ready = visit.location, stop.start + visit.duration
    home = ready + int(travel[where, shift.end_location])
    home += _breaks_within(route.breaks, ready, route.return_time)
    if route.return_time < home:
        found.append(f"shift {shift.id}: cannot be back at base by {route.return_time}")
    if max(route.return_time, home) > shift.end:
        found.append(f"shift {shift.id}: ends after the shift")
    return found


def _may_be_late(problem: RoutingProblem, visit: Visit, late_ok: set[str]) -> bool:
    """Late is allowed only under serve_late, when reported, and when no one could be on time."""
    if visit.pinned_start is not None:
        return True  # an under-way visit keeps its recorded start
    if visit.id not in late_ok:
        return False
    if problem.lateness is not None:
        return True  # lateness as a cost: any visit may be late (serve_late checked above)
    for shift in problem.shifts:
        if not eligible(shift, visit) or shift.worker_id in visit.excluded_workers:
            continue
        if shift.capacity is not None and visit.demand > shift.capacity:
            continue
        travel = problem.travel_of(shift)
        leg = int(travel[shift.start_location, visit.location])
        arrive = max(shift.start + leg, visit.earliest)
        back = arrive + visit.duration + int(travel[visit.location, shift.end_location])
        if arrive <= visit.deadline and back <= shift.end:
            return False
    return True


def _check_breaks(shift: Shift, route: Route) -> list[str]:
    """Each rostered break placed once, within its window, never during a visit."""
    found: list[str] = []
    if len(route.breaks) != len(shift.breaks):
        return [
            f"shift {shift.id}: {len(route.breaks)} breaks placed, {len(shift.breaks)} rostered"
        ]
    wanted = sorted(shift.breaks, key=lambda b: (b.start_min, b.start_max))
    placed = sorted(route.breaks, key=lambda b: b.start)
    for rule, item in zip(wanted, placed, strict=True):
        if not rule.start_min <= item.start <= rule.start_max:
            found.append(f"shift {shift.id}: break at {item.start} outside its window")
        if item.end - item.start != rule.duration:
            found.append(f"shift {shift.id}: break at {item.start} has the wrong length")
    for first, second in zip(placed, placed[1:], strict=False):
        if second.start < first.end:
            found.append(f"shift {shift.id}: breaks overlap")
    for item in placed:
        busy = [(route.departure, route.departure)] + [(s.start, s.end) for s in route.stops]
        busy.append((route.return_time, route.return_time))
        if any(item.start < end and start < item.end for start, end in busy if end > start) or any(
            item.start < start < item.end for start, end in busy if start == end
        ):
            found.append(f"shift {shift.id}: break at {item.start} overlaps work")
    return found


def _check_pins(plan: RoutingPlan, visits: dict[str, Visit]) -> list[str]:
    found: list[str] = []
    where = {s.visit_id: (r.shift_id, s.start) for r in plan.routes for s in r.stops}
    reported = {u.visit_id for u in plan.unassigned}
    for visit in visits.values():
        if visit.pinned_to is None:
            continue
        if visit.id not in where:
            if visit.id not in reported:  # left out only when reported (its shift is full)
                found.append(f"pinned visit {visit.id} is not routed")
            continue
        shift_id, start = where[visit.id]
        if shift_id != visit.pinned_to:
            found.append(f"pinned visit {visit.id} moved to shift {shift_id}")
        if visit.pinned_start is not None and start != visit.pinned_start:
            found.append(f"pinned visit {visit.id} moved to {start}")
    return found


@dataclass(frozen=True)
class Booking:
    """One visit holding a worker from ``start`` to ``end`` (seconds) at ``location``."""

    visit_id: str
    worker_id: str
    start: int
    end: int
    location: int


def double_bookings(
    bookings: Sequence[Booking], travel: Matrix
) -> list[tuple[Booking, Booking]]:
    """Every pair of one worker's bookings they cannot both keep (empty: none).

    Two bookings can both be kept when one ends early enough to travel to the other before
    it starts (``travel[a][b]`` seconds from location a to b). Pairs come in start order.
    """
    by_worker: dict[str, list[Booking]] = defaultdict(list)
    for booking in bookings:
        by_worker[booking.worker_id].append(booking)
    found: list[tuple[Booking, Booking]] = []
    for worker in sorted(by_worker):
        held = sorted(by_worker[worker], key=lambda b: (b.start, b.end, b.visit_id))
        for k, first in enumerate(held):
            for second in held[k + 1:]:
                if not (_fits_before(first, second, travel)
                        or _fits_before(second, first, travel)):
                    found.append((first, second))
    return found


def _fits_before(first: Booking, second: Booking, travel: Matrix) -> bool:
    return first.end + int(travel[first.location, second.location]) <= second.start
