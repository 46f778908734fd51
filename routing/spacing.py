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


def visit_key_workers(problem: RoutingProblem, plan: RoutingPlan) -> dict[str, str]:
    """Each patient visit's preferred worker: of the workers who could serve it (on shift,
    skills, not excluded), the one ranked first for the patient: the key worker
    (:func:`key_workers`), then who serves most of the patient's visits in ``plan``, then who
    serves them earliest.

    Why per visit (H-149): with early and late shifts nobody can serve a patient's 08:00 and
    20:00 calls on one day, and preferring the key worker for the evening call too charged
    every evening carer alike, so the search had nothing to prefer among them: the evening
    calls kept changing hands (329 carer changes a week with the per-patient worker, the same
    as without continuity; see benchmarks/README.md)."""
    keys = key_workers(problem, plan)
    patient_of = {v.id: v.patient for v in problem.visits if v.patient is not None}
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    first: dict[tuple[str, str], int] = {}
    for route in plan.routes:
        for stop in route.stops:
            if stop.visit_id in patient_of:
                served_for = patient_of[stop.visit_id]
                counts[served_for][route.worker_id] += 1
                key = (served_for, route.worker_id)
                first[key] = min(first.get(key, stop.start), stop.start)
    screening = screen(problem)
    preferred: dict[str, str] = {}
    for visit in problem.visits:
        whose = visit.patient
        if whose is None or whose not in counts or visit.preferred_workers:
            continue
        able = {problem.shifts[k].worker_id for k in screening.candidates.get(visit.id, ())}
        able -= visit.excluded_workers
        tally = counts[whose]
        ranked = sorted(
            (w for w in tally if w in able),
            key=lambda w: (w != keys[whose], -tally[w], first[(whose, w)], w))
        if ranked:
            preferred[visit.id] = ranked[0]
    return preferred


def with_key_workers(problem: RoutingProblem, plan: RoutingPlan) -> RoutingProblem:
    """``problem`` with each patient visit that names no preferred worker preferring its key
    worker in ``plan`` (:func:`visit_key_workers`: the patient's own worker where they can
    serve it, else the patient's next most frequent worker who can)."""
    preferred = visit_key_workers(problem, plan)
    visits = tuple(
        dataclasses.replace(v, preferred_workers=frozenset({preferred[v.id]}))
        if v.id in preferred else v
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
