"""JSON in and out of the scheduler.

The **problem** document (``dispatch solve --format problem``) mirrors
:class:`routing.types.RoutingProblem`; times are integer seconds from the horizon start and
locations index the ``travel`` matrix (seconds)::

    {
      "travel": [[0, 600], [600, 0]],          # required, square, integer seconds
      "distance": [[0, 900], [900, 0]],        # optional, integer units
      "distance_scale": 1.0,                   # units per reported distance unit
      "objective": "time" | "distance",        # default "time"
      "late_policy": "drop" | "serve_late",    # default "drop"
      "seed": 0,
      "visits": [{"id": "v1", "location": 1, "duration": 1800, "earliest": 0,
                  "deadline": 7200, "priority": 2, "skills": ["nurse"], "demand": 0,
                  "pinned_to": null, "pinned_start": null,
                  "excluded_workers": [], "preferred_workers": [],
                  "avoided_workers": [], "spared_workers": [],
                  "late_limit": null, "late_workers": []}],
      "shifts": [{"id": "s1", "worker_id": "w1", "start_location": 0, "end_location": 0,
                  "start": 0, "end": 28800, "skills": ["nurse"], "capacity": null,
                  "profile": "travel",                 # a travel_profiles key, or "travel"
                  "breaks": [{"start_min": 14400, "start_max": 16200, "duration": 1800}]}],
      "links": [{"first": "v1", "second": "v2", "min_gap": 0, "max_gap": 0,
                 "workers": "different"}],            # optional
      "lateness": {"cost_per_second": 1, "max_cost_per_second": 1},   # optional
      "travel_profiles": {"walk": [[0, 1800], [1800, 0]]},            # optional
      "spacing": [{"visits": ["m1", "l1", "t1"], "min_gap": 10800}],  # optional
      "continuity": false,                     # optional; visits may name a "patient"
      "slots": {"visit": {"id": "new", "location": 1, "duration": 1800,
                          "earliest": 0, "deadline": 28800},
                "k": 3, "step": 1800, "width": 3600}                    # optional
    }

Care work (issue 15):

- ``links``: ``start(second) - start(first)`` must lie in ``[min_gap, max_gap]`` seconds (both
  may be negative; default 0..0) and the two visits are served by ``different`` workers, the
  ``same`` worker or ``any`` (default). A double-handed visit is two visits with gap 0..0 and
  ``different`` workers. Links are hard: both visits are served or both are reported in
  ``unassigned`` with the reason, never one alone. A visit may be in one link.
- ``lateness``: with ``late_policy: "serve_late"`` every visit may start after its deadline;
  each second late costs ``cost_per_second`` x the priority scale (3 for priority 1, 2 for
  priority 2, 1 otherwise: with the default priority 3 exactly ``cost_per_second``) and the
  largest lateness in the plan costs ``max_cost_per_second`` per second. A document with
  ``lateness`` and no ``late_policy`` is ``serve_late``; ``late_policy: "drop"`` keeps
  deadlines hard. Without ``lateness``, ``serve_late`` only lets a visit no one can reach in
  time start late (the dispatch service's use). Costs are in the objective's units: seconds of
  travel, or distance units with ``objective: "distance"``; they may have a fraction (0.5), the
  search then scales its integer costs by 100.
- ``travel_profiles``: named square matrices (seconds) of the ``travel`` matrix's shape, e.g.
  ``walk``, ``cycle``, ``public_transport``, ``car``; a shift's ``profile`` picks its worker's
  (default ``"travel"``, the main matrix). Its route is timed and its travel counted with it.
  ``distance`` (when given) stays one matrix for everyone.

A week's horizon (issue 15 item 4): times are seconds from the horizon start, which may
span days; a care package's visits each carry their own day's window, and a worker has one
shift per day (same ``worker_id``).

- ``spacing``: one patient's calls in the order given, each served call starting at least
  ``min_gap`` seconds after every served call before it in the list. Not all-or-nothing: a
  call left out leaves the others served, still spaced. A visit may be in several rules.
- ``continuity: true`` with ``"patient": "p1"`` on visits: the same worker is preferred
  across a patient's visits. The solve runs in two phases (half the time each): a plan, then
  each patient's visits prefer the worker who serves most of them (the continuity cost, 900
  seconds of travel, for anyone else; skills and exclusions respected) and the plan is
  improved. A visit's own ``preferred_workers`` win. The plan document reports
  ``worker_changes``: how often a patient's consecutive visits change worker.

Slots to offer (issue 15 item 5):

- ``slots`` asks, after the plan is made, for the ``k`` (default 3) best windows of ``width``
  seconds (default 3600) for a new visit (a visit object as above; its ``earliest`` and
  ``deadline`` are the range the windows may take, tried every ``step`` seconds, default
  1800), cheapest first, never overlapping (:func:`routing.slots.recommend_slots`). The visit
  is not added to the plan. It may name a visit of the document (then that visit's place in
  the plan is ignored, and a linked partner moves with it). The plan document then has
  ``slots: [{"earliest", "deadline", "start", "vehicle", "worker", "cost"}]``: the window and
  the start the plan would give (minutes from the horizon start), the shift and worker, and
  the cost it adds (objective units); an empty list when no window fits.

The **plan** document is the DESIGN.md shape (``routes``/``distance``/``travel_minutes``/
``vehicles``/``unassigned``/``seconds``) plus ``starts`` (service start per visit, minutes;
for linked visits both starts are there), ``worker``, ``code``, ``late``:
``[{"id", "minutes", "deadline", "start"}]``, every visit that starts after its deadline with
its lateness in minutes (and its deadline and start, minutes from the horizon start), and
``fallback`` (null, or ``"greedy_insertion"`` when the search found no plan in time) with its
``note``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from routing.errors import PlanFormatError
from routing.slots import Slot, SlotRequest
from routing.spacing import worker_changes
from routing.types import (
    DEFAULT_PROFILE,
    Break,
    Lateness,
    LateVisit,
    Link,
    PlacedBreak,
    Route,
    RoutingPlan,
    RoutingProblem,
    Shift,
    Spacing,
    Stop,
    Unassigned,
    Visit,
)

#: Seconds per reported minute for domain problems.
SECONDS_PER_MINUTE = 60.0


def problem_from_dict(data: Mapping[str, Any]) -> RoutingProblem:
    """Build a problem from its JSON document.

    Raises
    ------
    PlanFormatError
        If a required key is missing or a value is invalid (the message says which).
    """
    try:
        return RoutingProblem(
            visits=tuple(_visit(v) for v in data["visits"]),
            shifts=tuple(_shift(s) for s in data["shifts"]),
            travel=data["travel"],
            distance=data.get("distance"),
            distance_scale=float(data.get("distance_scale", 1.0)),
            objective=data.get("objective", "time"),
            late_policy=data.get(
                "late_policy", "serve_late" if data.get("lateness") is not None else "drop"
            ),
            seed=int(data.get("seed", 0)),
            links=tuple(_link(x) for x in data.get("links") or ()),
            lateness=_lateness(data.get("lateness")),
            travel_profiles=dict(data.get("travel_profiles") or {}),
            spacing=tuple(_spacing(x) for x in data.get("spacing") or ()),
            continuity=_flag(data.get("continuity", False), "continuity"),
        )
    except KeyError as exc:
        raise PlanFormatError(f"missing key {exc.args[0]!r} in problem") from exc
    except (TypeError, ValueError) as exc:
        raise PlanFormatError(f"invalid problem: {exc}") from exc


def _visit(data: Mapping[str, Any]) -> Visit:
    return Visit(
        id=str(data["id"]),
        location=int(data["location"]),
        duration=int(data["duration"]),
        earliest=int(data["earliest"]),
        deadline=int(data["deadline"]),
        priority=int(data.get("priority", 3)),
        skills=frozenset(data.get("skills", ())),
        demand=int(data.get("demand", 0)),
        pinned_to=data.get("pinned_to"),
        pinned_start=data.get("pinned_start"),
        excluded_workers=frozenset(data.get("excluded_workers", ())),
        preferred_workers=frozenset(data.get("preferred_workers", ())),
        avoided_workers=frozenset(data.get("avoided_workers", ())),
        spared_workers=frozenset(data.get("spared_workers", ())),
        late_limit=None if data.get("late_limit") is None else int(data["late_limit"]),
        late_workers=frozenset(data.get("late_workers", ())),
        patient=None if data.get("patient") is None else str(data["patient"]),
        group=None if data.get("group") is None else str(data["group"]),
    )


def _spacing(data: Mapping[str, Any]) -> Spacing:
    visits = data["visits"]
    if isinstance(visits, str) or not isinstance(visits, (list, tuple)):
        raise ValueError("spacing visits must be a list of visit ids")
    return Spacing(tuple(str(v) for v in visits), _integer(data["min_gap"], "spacing min_gap"))


def _flag(value: Any, name: str) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"{name} must be true or false")
    return value


def slot_request_from_dict(data: Mapping[str, Any]) -> SlotRequest | None:
    """The problem document's ``slots`` question, or None when it asks none.

    Raises
    ------
    PlanFormatError
        If the question is malformed (the message says which part).
    """
    question = data.get("slots")
    if question is None:
        return None
    try:
        return SlotRequest(
            visit=_visit(question["visit"]),
            k=_integer(question.get("k", 3), "slots k"),
            step=_integer(question.get("step", 1800), "slots step"),
            width=_integer(question.get("width", 3600), "slots width"),
        )
    except KeyError as exc:
        raise PlanFormatError(f"missing key {exc.args[0]!r} in slots") from exc
    except (TypeError, ValueError, AttributeError) as exc:
        raise PlanFormatError(f"invalid slots: {exc}") from exc


def slots_to_dict(
    slots: tuple[Slot, ...], *, time_unit: float = SECONDS_PER_MINUTE
) -> list[dict[str, Any]]:
    """The plan document's ``slots`` list (times in minutes from the horizon start)."""
    return [
        {
            "earliest": round(s.earliest / time_unit, 3),
            "deadline": round(s.deadline / time_unit, 3),
            "start": round(s.start / time_unit, 3),
            "vehicle": s.shift_id,
            "worker": s.worker_id,
            "cost": s.cost,
        }
        for s in slots
    ]


def _link(data: Mapping[str, Any]) -> Link:
    return Link(
        first=str(data["first"]),
        second=str(data["second"]),
        min_gap=_integer(data.get("min_gap", 0), "link min_gap"),
        max_gap=_integer(data.get("max_gap", 0), "link max_gap"),
        workers=data.get("workers", "any"),
    )


def _lateness(data: Mapping[str, Any] | None) -> Lateness | None:
    if data is None:
        return None
    return Lateness(
        cost_per_second=_number(data.get("cost_per_second", 1), "lateness cost_per_second"),
        max_cost_per_second=_number(
            data.get("max_cost_per_second", 0), "lateness max_cost_per_second"
        ),
    )


def _number(value: Any, name: str) -> float:
    """A cost: an integer as is, a float kept (the search scales fractional costs)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{name} must be a number")
    return value


def _integer(value: Any, name: str) -> int:
    """An integer, also from a float with no fraction (e.g. 1.0); else ValueError."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{name} must be an integer")
    if isinstance(value, float):
        if not value.is_integer():
            raise ValueError(f"{name} must be a whole number of seconds")
        return int(value)
    return value


def _shift(data: Mapping[str, Any]) -> Shift:
    return Shift(
        id=str(data["id"]),
        worker_id=str(data.get("worker_id", data["id"])),
        start_location=int(data["start_location"]),
        end_location=int(data.get("end_location", data["start_location"])),
        start=int(data["start"]),
        end=int(data["end"]),
        skills=frozenset(data.get("skills", ())),
        breaks=tuple(
            Break(int(b["start_min"]), int(b["start_max"]), int(b["duration"]))
            for b in data.get("breaks", ())
        ),
        capacity=data.get("capacity"),
        profile=str(data.get("profile") or DEFAULT_PROFILE),
        serves=None if data.get("serves") is None else frozenset(data["serves"]),
    )


def problem_to_dict(problem: RoutingProblem) -> dict[str, Any]:
    """The JSON document of ``problem`` (inverse of :func:`problem_from_dict`)."""
    return {
        "travel": problem.travel.tolist(),
        "distance": None if problem.distance is None else problem.distance.tolist(),
        "distance_scale": problem.distance_scale,
        "objective": problem.objective,
        "late_policy": problem.late_policy,
        "seed": problem.seed,
        "links": [
            {
                "first": x.first,
                "second": x.second,
                "min_gap": x.min_gap,
                "max_gap": x.max_gap,
                "workers": x.workers,
            }
            for x in problem.links
        ],
        "lateness": None
        if problem.lateness is None
        else {
            "cost_per_second": problem.lateness.cost_per_second,
            "max_cost_per_second": problem.lateness.max_cost_per_second,
        },
        "travel_profiles": {k: m.tolist() for k, m in problem.travel_profiles.items()},
        "spacing": [{"visits": list(x.visits), "min_gap": x.min_gap} for x in problem.spacing],
        "continuity": problem.continuity,
        "visits": [
            {
                "id": v.id,
                "location": v.location,
                "duration": v.duration,
                "earliest": v.earliest,
                "deadline": v.deadline,
                "priority": v.priority,
                "skills": sorted(v.skills),
                "demand": v.demand,
                "pinned_to": v.pinned_to,
                "pinned_start": v.pinned_start,
                "excluded_workers": sorted(v.excluded_workers),
                "preferred_workers": sorted(v.preferred_workers),
                "avoided_workers": sorted(v.avoided_workers),
                "spared_workers": sorted(v.spared_workers),
                "late_limit": v.late_limit,
                "late_workers": sorted(v.late_workers),
                "patient": v.patient,
                # Only when set, so documents without eligibility groups stay as they were.
                **({"group": v.group} if v.group is not None else {}),
            }
            for v in problem.visits
        ],
        "shifts": [
            {
                "id": s.id,
                "worker_id": s.worker_id,
                "start_location": s.start_location,
                "end_location": s.end_location,
                "start": s.start,
                "end": s.end,
                "skills": sorted(s.skills),
                "capacity": s.capacity,
                "profile": s.profile,
                **({"serves": sorted(s.serves)} if s.serves is not None else {}),
                "breaks": [
                    {"start_min": b.start_min, "start_max": b.start_max, "duration": b.duration}
                    for b in s.breaks
                ],
            }
            for s in problem.shifts
        ],
    }


def plan_to_dict(
    plan: RoutingPlan,
    problem: RoutingProblem,
    *,
    distance: float | None = None,
    time_unit: float = SECONDS_PER_MINUTE,
) -> dict[str, Any]:
    """The plan in the DESIGN.md shape.

    Parameters
    ----------
    distance
        Overrides ``plan.distance_total`` (for Solomon, pass the exact
        :func:`routing.solomon.plan_distance`).
    time_unit
        Problem time units per reported unit: 60 turns seconds into minutes; for Solomon
        pass the scale (1000) to report arrivals in the instance's own time units.
    """
    routes = [
        {
            "vehicle": r.shift_id,
            "worker": r.worker_id,
            "visits": [s.visit_id for s in r.stops],
            "arrivals": [round(s.arrival / time_unit, 3) for s in r.stops],
            "starts": [round(s.start / time_unit, 3) for s in r.stops],
            "departure": round(r.departure / time_unit, 3),
            "return": round(r.return_time / time_unit, 3),
            "breaks": [
                [round(b.start / time_unit, 3), round(b.end / time_unit, 3)] for b in r.breaks
            ],
        }
        for r in plan.routes
    ]
    return {
        "routes": routes,
        "distance": round(plan.distance_total if distance is None else distance, 3),
        "travel_minutes": round(plan.travel_total / time_unit, 3),
        "vehicles": plan.vehicles_used,
        "unassigned": [
            {"id": u.visit_id, "reason": u.reason, "code": u.code} for u in plan.unassigned
        ],
        "late": [
            {
                "id": item.visit_id,
                "minutes": round(item.seconds / time_unit, 3),
                "deadline": round(item.deadline / time_unit, 3),
                "start": round(item.start / time_unit, 3),
            }
            for item in plan.late
        ],
        "objective": plan.objective,
        "seconds": plan.seconds,
        "visits_total": len(problem.visits),
        "worker_changes": worker_changes(problem, plan),
        "fallback": plan.fallback,
        "note": plan.note,
    }


def plan_from_dict(
    data: Mapping[str, Any], *, time_unit: float = SECONDS_PER_MINUTE
) -> RoutingPlan:
    """Rebuild a plan from :func:`plan_to_dict` output, e.g. to warm-start :func:`improve`.

    Times are rounded back to integers, so a plan written and read back with a
    ``time_unit`` other than 1 may be a few units off; the solver re-times warm starts.
    """
    try:
        routes = tuple(_route(r, time_unit) for r in data["routes"])
        unassigned = tuple(
            Unassigned(u["id"], u["reason"], u.get("code", "no_capacity"))
            for u in data["unassigned"]
        )
        late = tuple(
            LateVisit(x["id"], round(x["deadline"] * time_unit), round(x["start"] * time_unit))
            for x in data.get("late", ())
        )
        travel = round(float(data["travel_minutes"]) * time_unit)
        return RoutingPlan(
            routes,
            unassigned,
            travel,
            float(data["distance"]),
            int(data["vehicles"]),
            int(data.get("objective", 0)),
            float(data["seconds"]),
            late,
            data.get("fallback"),
            data.get("note"),
        )
    except KeyError as exc:
        raise PlanFormatError(f"missing key {exc.args[0]!r} in plan") from exc


def _route(data: Mapping[str, Any], unit: float) -> Route:
    starts = data.get("starts", data["arrivals"])
    stops = tuple(
        Stop(visit_id, round(arrival * unit), round(start * unit), round(start * unit))
        for visit_id, arrival, start in zip(data["visits"], data["arrivals"], starts, strict=True)
    )
    breaks = tuple(PlacedBreak(round(a * unit), round(b * unit)) for a, b in data.get("breaks", ()))
    return Route(
        str(data["vehicle"]),
        str(data.get("worker", data["vehicle"])),
        stops,
        round(data.get("departure", 0) * unit),
        round(data.get("return", 0) * unit),
        breaks,
    )
