"""Linked visits (no ortools here): two visits whose starts are tied by a gap and whose
workers must differ, match, or may be anyone (:class:`routing.types.Link`).

A double-handed visit (a hoist transfer: two carers at once) is two visits linked with gap
0..0 and ``different`` workers; "insulin, then personal care 30 to 60 minutes later" is a link
with gap 1800..3600. Links are hard and all-or-nothing: a plan serves both visits of a link
or neither, never one half alone (hazard H-100). This module holds the pure rules shared by
the screening, the fast insertion and repair, and the independent checker; the OR-Tools
constraints are in :func:`routing.model._add_links`.
"""

from __future__ import annotations

from collections.abc import Iterable

from routing.types import Link, RoutingPlan, RoutingProblem, Unassigned


def linked_ids(problem: RoutingProblem) -> frozenset[str]:
    """Every visit that is in a link."""
    return frozenset(v for link in problem.links for v in (link.first, link.second))


def workers_allowed(link: Link, worker_a: str, worker_b: str) -> bool:
    """Whether ``worker_a`` serving ``link.first`` and ``worker_b`` ``link.second`` is allowed."""
    if link.workers == "different":
        return worker_a != worker_b
    if link.workers == "same":
        return worker_a == worker_b
    return True


def gap_ok(link: Link, start_first: int, start_second: int) -> bool:
    """Whether the starts keep the link's gap."""
    return link.min_gap <= start_second - start_first <= link.max_gap


def screen_links(
    problem: RoutingProblem,
    candidates: dict[str, tuple[int, ...]],
    unassigned: list[Unassigned],
    may_be_late: Iterable[str],
) -> None:
    """Leave out both halves of every link that cannot be served (in place).

    A half is unservable when screening already left it out, when no pair of its candidate
    shifts has the workers the link asks for, or when the two time windows cannot keep the
    gap (unless both may start late). The partner is then reported too, with the reason.
    """
    reasons = {u.visit_id for u in unassigned}
    late = set(may_be_late)
    by_id = {u.visit_id: u for u in unassigned}
    for link in problem.links:
        a, b = link.first, link.second
        if a in reasons and b in reasons:
            continue
        if a in reasons or b in reasons:
            half, other = (a, b) if a in reasons else (b, a)
            found = by_id[half]
            candidates.pop(other, None)
            unassigned.append(
                Unassigned(
                    other,
                    f"linked to visit {half}, which cannot be served ({found.reason}); "
                    "a linked visit is never served alone",
                    found.code,
                )
            )
            reasons.add(other)
            continue
        reason = _pair_reason(problem, link, candidates, late)
        if reason is not None:
            for half in (a, b):
                candidates.pop(half, None)
                unassigned.append(Unassigned(half, reason.reason, reason.code))
                reasons.add(half)


def _shifts_of(problem: RoutingProblem, visit_id: str, candidates: dict[str, tuple[int, ...]]
               ) -> list[int]:
    visit = problem.visit(visit_id)
    if visit.pinned_to is not None:
        return [k for k, s in enumerate(problem.shifts) if s.id == visit.pinned_to]
    return list(candidates.get(visit_id, ()))


def _pair_reason(
    problem: RoutingProblem,
    link: Link,
    candidates: dict[str, tuple[int, ...]],
    late: set[str],
) -> Unassigned | None:
    first, second = problem.visit(link.first), problem.visit(link.second)
    shifts_a = _shifts_of(problem, link.first, candidates)
    shifts_b = _shifts_of(problem, link.second, candidates)
    workers_ok = any(
        workers_allowed(link, problem.shifts[i].worker_id, problem.shifts[j].worker_id)
        for i in shifts_a
        for j in shifts_b
    )
    if not workers_ok:
        wanted = {"different": "two different workers", "same": "the same worker"}.get(
            link.workers, "a worker each"
        )
        return Unassigned(
            link.first,
            f"linked visits {link.first} and {link.second} need {wanted}, and no such pair "
            "of eligible workers is on shift",
            "no_skill",
        )
    latest_a = first.deadline if link.first not in late else max(
        (problem.shifts[k].end for k in shifts_a), default=first.deadline
    )
    latest_b = second.deadline if link.second not in late else max(
        (problem.shifts[k].end for k in shifts_b), default=second.deadline
    )
    if first.pinned_start is not None:
        latest_a = first.pinned_start
    if second.pinned_start is not None:
        latest_b = second.pinned_start
    earliest_a = first.pinned_start if first.pinned_start is not None else first.earliest
    earliest_b = second.pinned_start if second.pinned_start is not None else second.earliest
    if earliest_b - latest_a > link.max_gap or latest_b - earliest_a < link.min_gap:
        return Unassigned(
            link.first,
            f"linked visits {link.first} and {link.second}: their time windows cannot keep "
            f"the gap of {link.min_gap}-{link.max_gap} seconds between their starts",
            "unreachable",
        )
    return None


def check_links(problem: RoutingProblem, plan: RoutingPlan) -> list[str]:
    """Every link broken by ``plan``: one half served alone, the gap or the workers wrong."""
    where = {s.visit_id: (r.worker_id, s.start) for r in plan.routes for s in r.stops}
    found: list[str] = []
    for link in problem.links:
        a, b = where.get(link.first), where.get(link.second)
        if a is None and b is None:
            continue
        if a is None or b is None:
            alone = link.first if b is None else link.second
            found.append(f"link {link.first}-{link.second}: {alone} is served alone")
            continue
        if not gap_ok(link, a[1], b[1]):
            found.append(
                f"link {link.first}-{link.second}: starts {b[1] - a[1]} s apart, "
                f"not within {link.min_gap}..{link.max_gap}"
            )
        if not workers_allowed(link, a[0], b[0]):
            found.append(
                f"link {link.first}-{link.second}: workers {a[0]} and {b[0]} "
                f"are not {link.workers}"
            )
    return found
