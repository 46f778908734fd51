"""A week's horizon (issue 15 item 4), no ortools here: one patient's calls kept apart
(:class:`routing.types.Spacing`) and continuity of carer across the week.

Spacing is hard between served calls (the OR-Tools constraint is
:func:`routing.model._add_spacing`); the fast insertion holds a new call no earlier than its
served predecessors allow and refuses a position that brings two calls too close
(:func:`routing.insertion.cheapest_insertion`), and the checker reports any pair too close.

Continuity is soft: :func:`key_workers` names, for each patient, the worker of a plan who
could serve most of their visits; :func:`with_key_workers` makes that worker each visit's preferred
worker (the existing continuity cost, :data:`routing.costs.CONTINUITY_COST`, for anyone
else), which the solver's second phase optimises; :func:`worker_changes` counts, for the
report, how often a patient's consecutive visits change worker.
"""

from __future__ import annotations

import dataclasses
from collections import Counter, defaultdict
from collections.abc import Mapping

from routing.screening import screen
from routing.types import RoutingPlan, RoutingProblem


def starts_of(plan: RoutingPlan) -> dict[str, int]:
    """Each routed visit's service start."""
    return {s.visit_id: s.start for r in plan.routes for s in r.stops}


def spacing_bound(problem: RoutingProblem, visit_id: str, starts: Mapping[str, int]) -> int | None:
    """The earliest start ``visit_id`` may have given its served predecessors' starts."""
    bound = None
    for rule in problem.spacing:
        if visit_id not in rule.visits:
            continue
        for earlier in rule.visits[: rule.visits.index(visit_id)]:
            if earlier in starts:
                at = starts[earlier] + rule.min_gap
                bound = at if bound is None else max(bound, at)
    return bound


def check_spacing(problem: RoutingProblem, starts: Mapping[str, int]) -> list[str]:
    """Every pair of served calls closer than their spacing allows."""
    found = []
    for rule in problem.spacing:
        for a, b in rule.pairs():
            if a in starts and b in starts and starts[b] - starts[a] < rule.min_gap:
                found.append(
                    f"spacing {a}-{b}: starts {starts[b] - starts[a]} s apart, "
                    f"at least {rule.min_gap} required"
                )
    return found


def key_workers(problem: RoutingProblem, plan: RoutingPlan) -> dict[str, str]:
    """Each patient's key worker, among those serving them in ``plan``: who could serve the
    most of their visits (on shift with the skills; a worker off on Monday cannot be
    Monday's carer), then who serves most of them in ``plan``, then who serves the earliest."""
    patient_of: dict[str, str] = {v.id: v.patient for v in problem.visits if v.patient}
    screening = screen(problem)
    could: dict[str, Counter[str]] = defaultdict(Counter)
    for visit_id, whose in patient_of.items():
        for worker in {problem.shifts[k].worker_id
                       for k in screening.candidates.get(visit_id, ())}:
            could[whose][worker] += 1
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    first: dict[tuple[str, str], int] = {}
    for route in plan.routes:
        for stop in route.stops:
            if stop.visit_id not in patient_of:
                continue
            patient = patient_of[stop.visit_id]
            counts[patient][route.worker_id] += 1
            key = (patient, route.worker_id)
            first[key] = min(first.get(key, stop.start), stop.start)
    return {
        patient: min(tally, key=lambda w: (-could[patient][w], -tally[w], first[(patient, w)], w))
        for patient, tally in counts.items()
    }


def with_key_workers(problem: RoutingProblem, plan: RoutingPlan) -> RoutingProblem:
    """``problem`` with each patient visit that names no preferred worker preferring the
    patient's key worker in ``plan`` (and who can serve it: their skills allowing)."""
    keys = key_workers(problem, plan)
    skills: dict[str, set[str]] = defaultdict(set)
    for shift in problem.shifts:
        skills[shift.worker_id] |= shift.skills
    visits = tuple(
        dataclasses.replace(v, preferred_workers=frozenset({keys[v.patient]}))
        if v.patient in keys and not v.preferred_workers and v.skills <= skills[keys[v.patient]]
        and keys[v.patient] not in v.excluded_workers
        else v
        for v in problem.visits
    )
    return dataclasses.replace(problem, visits=visits)


def worker_changes(problem: RoutingProblem, plan: RoutingPlan) -> int:
    """How many times a patient's consecutive served visits (by start) change worker."""
    patient_of = {v.id: v.patient for v in problem.visits if v.patient is not None}
    seen: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for route in plan.routes:
        for stop in route.stops:
            if stop.visit_id in patient_of:
                seen[patient_of[stop.visit_id]].append((stop.start, route.worker_id))
    changes = 0
    for visits in seen.values():
        ordered = [w for _, w in sorted(visits)]
        changes += sum(a != b for a, b in zip(ordered, ordered[1:], strict=False))
    return changes
