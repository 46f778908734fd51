"""Slots to offer (issue 15 item 5): the k cheapest windows a new visit fits, the plan as it
stands untouched."""

from __future__ import annotations

import copy
import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from dispatch.cli import main
from routing.checker import check_plan
from routing.insertion import cheapest_insertion, greedy_plan
from routing.screening import screen
from routing.slots import Slot, recommend_slots
from routing.types import Link, RoutingPlan, RoutingProblem, Visit
from tests.routing.conftest import HOUR, ProblemFactory, make_shift, make_visit


def _busy_day(make_problem: ProblemFactory, **kwargs: object) -> RoutingProblem:
    """One carer; an accepted two-hour visit at 02:00-04:00 at location 5."""
    busy = make_visit("p", 5, duration=2 * HOUR, pinned_to="s1", pinned_start=2 * HOUR)
    return make_problem([busy], [make_shift("s1")], **kwargs)


def _plan(problem: RoutingProblem) -> RoutingPlan:
    return greedy_plan(problem, screen(problem))


def _legal_with(problem: RoutingProblem, plan: RoutingPlan, visit: Visit, slot: Slot) -> bool:
    """Whether the visit held to the slot's window goes into the plan legally."""
    held = dataclasses.replace(visit, earliest=slot.earliest, deadline=slot.deadline)
    full = dataclasses.replace(problem, visits=(*problem.visits, held))
    placed = cheapest_insertion(full, screen(full), plan, held)
    return placed is not None and check_plan(full, placed) == []


def test_slots_avoid_the_time_the_carer_is_busy(make_problem: ProblemFactory) -> None:
    problem = _busy_day(make_problem)
    plan = _plan(problem)
    new = make_visit("n", 5, earliest=0, deadline=8 * HOUR)
    slots = recommend_slots(problem, new, k=10, plan=plan, step=HOUR, width=HOUR)
    starts = [s.earliest // HOUR for s in slots]
    assert 2 not in starts  # 02:00-03:00: the carer is with the accepted visit
    assert {0, 1, 3} <= set(starts)
    for slot in slots:
        assert slot.earliest <= slot.start <= slot.deadline == slot.earliest + HOUR
        assert slot.shift_id == "s1" and slot.worker_id == "w-s1"
        assert _legal_with(problem, plan, new, slot)


def test_slots_sorted_by_cost_and_do_not_overlap(make_problem: ProblemFactory) -> None:
    near = make_visit("v1", 8, earliest=0, deadline=HOUR)
    problem = make_problem([near], [make_shift("s1"), make_shift("s2", start=4 * HOUR)])
    new = make_visit("n", 8, earliest=0, deadline=8 * HOUR)
    slots = recommend_slots(problem, new, k=4, step=1800, width=HOUR)
    assert len(slots) == 4
    costs = [s.cost for s in slots]
    assert costs == sorted(costs)
    ordered = sorted(slots, key=lambda s: s.earliest)
    assert all(a.deadline <= b.earliest for a, b in zip(ordered, ordered[1:], strict=False))
    # Cheapest: straight after the visit next door (no extra travel), not a second trip out.
    assert slots[0].earliest < 2 * HOUR


def test_recommend_slots_leaves_plan_and_problem_unchanged(make_problem: ProblemFactory) -> None:
    problem = _busy_day(make_problem)
    plan = _plan(problem)
    kept_plan, kept_visits = copy.deepcopy(plan), problem.visits
    recommend_slots(problem, make_visit("n", 3), k=3, plan=plan)
    assert plan == kept_plan
    assert problem.visits == kept_visits


def test_no_slot_when_nobody_has_the_skill(make_problem: ProblemFactory) -> None:
    problem = _busy_day(make_problem)
    new = make_visit("n", 3, skills=frozenset({"hoist"}))
    assert recommend_slots(problem, new, k=3) == ()


def test_a_range_shorter_than_the_width_is_one_window(make_problem: ProblemFactory) -> None:
    problem = _busy_day(make_problem)
    new = make_visit("n", 5, earliest=5 * HOUR, deadline=5 * HOUR + 900)
    (slot,) = recommend_slots(problem, new, k=3, width=HOUR)
    assert (slot.earliest, slot.deadline) == (5 * HOUR, 5 * HOUR + 900)


def test_double_handed_visit_offered_only_when_both_carers_are_free(
    make_problem: ProblemFactory,
) -> None:
    """The partner moves with the visit: a window one carer is busy in is not offered."""
    busy = make_visit("p", 5, duration=2 * HOUR, pinned_to="s2", pinned_start=2 * HOUR)
    first = make_visit("a", 5, earliest=0, deadline=8 * HOUR)
    second = make_visit("b", 5, earliest=0, deadline=8 * HOUR)
    problem = make_problem([busy, first, second], [make_shift("s1"), make_shift("s2")],
                           links=(Link("a", "b", 0, 0, "different"),))
    slots = recommend_slots(problem, first, k=10, step=HOUR, width=HOUR)
    starts = {s.earliest // HOUR for s in slots}
    assert 2 not in starts
    assert {0, 1, 3} <= starts


def test_bad_arguments_are_refused(make_problem: ProblemFactory) -> None:
    problem = _busy_day(make_problem)
    with pytest.raises(ValueError):
        recommend_slots(problem, make_visit("n", 3), k=0)
    with pytest.raises(ValueError):
        recommend_slots(problem, make_visit("n", 3, deadline=10**9), step=1)


def test_slots_question_in_the_problem_document() -> None:
    from routing.errors import PlanFormatError
    from routing.plan_io import problem_from_dict, slot_request_from_dict, slots_to_dict
    from routing.slots import answer

    document = {
        "travel": [[0, 600], [600, 0]],
        "visits": [{"id": "v1", "location": 1, "duration": 1800, "earliest": 0,
                    "deadline": HOUR}],
        "shifts": [{"id": "s1", "worker_id": "w1", "start_location": 0, "start": 0,
                    "end": 8 * HOUR}],
        "slots": {"visit": {"id": "new", "location": 1, "duration": 1800, "earliest": 0,
                            "deadline": 8 * HOUR}, "k": 2, "step": HOUR, "width": HOUR},
    }
    problem = problem_from_dict(document)
    request = slot_request_from_dict(document)
    assert request is not None and request.k == 2 and request.visit.id == "new"
    out = slots_to_dict(answer(problem, _plan(problem), request))
    assert len(out) == 2
    assert set(out[0]) == {"earliest", "deadline", "start", "vehicle", "worker", "cost"}
    assert out[0]["vehicle"] == "s1" and out[0]["deadline"] - out[0]["earliest"] == 60
    assert slot_request_from_dict({}) is None
    with pytest.raises(PlanFormatError, match="slots"):
        slot_request_from_dict({"slots": {"k": 2}})
    with pytest.raises(PlanFormatError, match="slots"):
        slot_request_from_dict({"slots": {"visit": document["slots"]["visit"], "k": 0}})


def test_cli_solve_answers_the_slots_question(tmp_path: Path) -> None:
    """`dispatch solve --format problem --json` with a ``slots`` question: the plan document
    has the windows; a malformed question is refused with a message and a non-zero exit."""
    document: dict[str, Any] = {
        "travel": [[0, 600], [600, 0]],
        "visits": [{"id": "v1", "location": 1, "duration": 1800, "earliest": 0,
                    "deadline": 2 * HOUR}],
        "shifts": [{"id": "s1", "worker_id": "w1", "start_location": 0, "start": 0,
                    "end": 8 * HOUR}],
        "slots": {"visit": {"id": "new", "location": 1, "duration": 1800, "earliest": 0,
                            "deadline": 8 * HOUR}, "k": 3},
    }
    path = tmp_path / "problem.json"
    path.write_text(json.dumps(document))
    result = CliRunner().invoke(main, ["solve", str(path), "--format", "problem", "--json",
                                       "--workers", "1", "--seconds", "1"])
    assert result.exit_code == 0, result.output
    plan = json.loads(result.output[result.output.index("{"):])
    assert [s["vehicle"] for s in plan["slots"]] == ["s1", "s1", "s1"]
    assert all(s["start"] >= s["earliest"] for s in plan["slots"])
    assert "new" not in [v for r in plan["routes"] for v in r["visits"]]
    document["slots"]["visit"]["location"] = 7
    path.write_text(json.dumps(document))
    result = CliRunner().invoke(main, ["solve", str(path), "--format", "problem",
                                       "--workers", "1", "--seconds", "1"])
    assert result.exit_code != 0 and "slots" in result.output


def test_windows_starting_by_a_kept_deadline_end_there(make_problem: ProblemFactory) -> None:
    problem = _busy_day(make_problem)
    new = make_visit("n", 5, earliest=0, deadline=8 * HOUR)
    slots = recommend_slots(problem, new, k=10, step=HOUR, width=HOUR, keep_deadline=HOUR + 900)
    spans = {(s.earliest, s.deadline) for s in slots}
    assert (0, HOUR) in spans and (HOUR, HOUR + 900) in spans
    assert all(d - e == HOUR for e, d in spans if e > HOUR + 900)
