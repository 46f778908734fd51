"""Linked visits through the planning pipeline (issue 15, hazard H-100).

The scheduler keeps a link's rule inside a plan it builds; two things around it are the
pipeline's to guard:

- the **current plan** read back from the rows can hold one half of a pair without the other
  (one worker declined; a coordinator made a visit double-handed after it was offered). Such
  a lone half is taken out of the warm start (:func:`without_lone_halves`) so the insertion
  and the search place the pair together;
- the **plan to apply** must never serve one half alone (an insertion that could not place
  a new half leaves its partner where it was): :func:`whole_pairs` takes any lone half out and
  reports both halves unassigned with the reason, and apply then withdraws the lone half's
  offer, even an accepted one.
"""

from __future__ import annotations

import dataclasses

from routing.types import RoutingPlan, RoutingProblem, Unassigned


def _routed(plan: RoutingPlan) -> set[str]:
    return {s.visit_id for r in plan.routes for s in r.stops}


def lone_halves(problem: RoutingProblem, plan: RoutingPlan) -> dict[str, str]:
    """Routed visits whose linked partner is not routed: visit id -> partner id."""
    routed = _routed(plan)
    lone: dict[str, str] = {}
    for link in problem.links:
        a, b = link.first in routed, link.second in routed
        if a and not b:
            lone[link.first] = link.second
        elif b and not a:
            lone[link.second] = link.first
    return lone


def _drop(plan: RoutingPlan, visit_ids: set[str]) -> RoutingPlan:
    routes = []
    for route in plan.routes:
        stops = tuple(s for s in route.stops if s.visit_id not in visit_ids)
        if stops:
            routes.append(dataclasses.replace(route, stops=stops) if stops != route.stops
                          else route)
    return dataclasses.replace(plan, routes=tuple(routes), vehicles_used=len(routes))


def without_lone_halves(problem: RoutingProblem, plan: RoutingPlan) -> RoutingPlan:
    """``plan`` without any visit whose partner it does not route (a warm start)."""
    lone = lone_halves(problem, plan)
    return _drop(plan, set(lone)) if lone else plan


def whole_pairs(problem: RoutingProblem, plan: RoutingPlan) -> RoutingPlan:
    """``plan`` with every half served alone taken out; both halves reported unassigned with
    the partner's reason (never one half served alone, H-100)."""
    lone = lone_halves(problem, plan)
    if not lone:
        return plan
    reasons = {u.visit_id: u for u in plan.unassigned}
    extra: list[Unassigned] = []
    for half, other in sorted(lone.items()):
        found = reasons.get(other)
        why = found.reason if found is not None else "it could not be placed"
        code = found.code if found is not None else "no_capacity"
        extra.append(Unassigned(
            half, f"linked to visit {other}, which cannot be served ({why}); a linked "
            "visit is never served alone", code))
        if found is None:
            extra.append(Unassigned(other, "its linked partner could not be placed with it; "
                                    "both are left for a person to decide", "no_capacity"))
    kept = tuple(u for u in plan.unassigned if u.visit_id not in lone)
    return dataclasses.replace(_drop(plan, set(lone)), unassigned=(*kept, *extra))


def partners(problem: RoutingProblem) -> dict[str, str]:
    """Each linked visit's partner, both ways."""
    out: dict[str, str] = {}
    for link in problem.links:
        out[link.first], out[link.second] = link.second, link.first
    return out


__all__ = ["lone_halves", "partners", "whole_pairs", "without_lone_halves"]
