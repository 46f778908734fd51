"""A week's horizon (issue 15 item 4): a patient's calls spaced apart, each in its own day's
window, and the same worker preferred across the week (continuity)."""

from __future__ import annotations

import dataclasses

import pytest

from routing.checker import check_plan
from routing.errors import PlanFormatError
from routing.insertion import cheapest_insertion, greedy_plan
from routing.plan_io import plan_to_dict, problem_from_dict, problem_to_dict
from routing.screening import screen
from routing.spacing import key_workers, worker_changes
from routing.types import RoutingPlan, RoutingProblem, Spacing
from tests.routing.conftest import HOUR, ProblemFactory, make_shift, make_visit, solve_checked

DAY = 24 * HOUR


def _starts(plan: RoutingPlan) -> dict[str, int]:
    return {s.visit_id: s.start for r in plan.routes for s in r.stops}


def _calls(make_problem: ProblemFactory, gap: int, **kwargs: object) -> RoutingProblem:
    """Three calls for one patient at location 5, all open all day, on one carer's shift."""
    calls = [make_visit(f"c{k}", 5, duration=900, patient="p") for k in range(3)]
    return make_problem(calls, [make_shift("s1")],
                        spacing=(Spacing(("c0", "c1", "c2"), gap),), **kwargs)


@pytest.mark.safety("H-141")
def test_spacing_kept_by_the_search(make_problem: ProblemFactory) -> None:
    plan = solve_checked(_calls(make_problem, 2 * HOUR))
    starts = _starts(plan)
    assert plan.unassigned == ()
    assert starts["c1"] - starts["c0"] >= 2 * HOUR and starts["c2"] - starts["c1"] >= 2 * HOUR


def test_without_spacing_the_calls_would_be_back_to_back(make_problem: ProblemFactory) -> None:
    """The rule matters: with no spacing the same calls go one after the other."""
    problem = dataclasses.replace(_calls(make_problem, 2 * HOUR), spacing=())
    starts = sorted(_starts(solve_checked(problem)).values())
    assert starts[-1] - starts[0] < 2 * HOUR


@pytest.mark.safety("H-141")
def test_insertion_and_greedy_plan_keep_the_spacing(make_problem: ProblemFactory) -> None:
    problem = _calls(make_problem, 3 * HOUR)
    plan = greedy_plan(problem, screen(problem))
    assert check_plan(problem, plan) == [] and plan.unassigned == ()
    without = dataclasses.replace(plan, routes=tuple(
        dataclasses.replace(r, stops=tuple(s for s in r.stops if s.visit_id != "c2"))
        for r in plan.routes))
    placed = cheapest_insertion(problem, screen(problem), without, problem.visit("c2"))
    assert placed is not None and check_plan(problem, placed) == []
    assert _starts(placed)["c2"] - _starts(placed)["c1"] >= 3 * HOUR


@pytest.mark.safety("H-141")
def test_a_call_that_cannot_be_spaced_is_left_out_alone(make_problem: ProblemFactory) -> None:
    """Not all-or-nothing: two calls due in the same hour, 2 hours apart: one is served."""
    calls = [make_visit(f"c{k}", 5, duration=900, deadline=HOUR) for k in range(2)]
    problem = make_problem(calls, [make_shift("s1"), make_shift("s2")],
                           spacing=(Spacing(("c0", "c1"), 2 * HOUR),))
    plan = solve_checked(problem)
    assert len(_starts(plan)) == 1 and len(plan.unassigned) == 1


@pytest.mark.safety("H-141")
def test_checker_reports_calls_too_close(make_problem: ProblemFactory) -> None:
    problem = _calls(make_problem, 2 * HOUR)
    loose = dataclasses.replace(problem, spacing=())
    plan = solve_checked(loose)
    assert any("spacing" in p for p in check_plan(problem, plan))


def _week(make_problem: ProblemFactory, *, continuity: bool) -> RoutingProblem:
    """Three days. Day 1 only Wendy works (from location 1, 5 minutes from the patient at 2,
    to 2); days 2 and 3 Xavier, who lives next door (2 to 2), works too. Each day the patient
    has one visit 08:00-12:00."""
    shifts = []
    for day in range(3):
        shifts.append(make_shift(f"w-d{day}", worker_id="wendy", start_location=1,
                                 end_location=2, start=day * DAY + 8 * HOUR,
                                 end=day * DAY + 16 * HOUR))
        if day:
            shifts.append(make_shift(f"x-d{day}", worker_id="xavier", start_location=2,
                                     end_location=2, start=day * DAY + 8 * HOUR,
                                     end=day * DAY + 16 * HOUR))
    visits = [make_visit(f"v{day}", 2, earliest=day * DAY + 8 * HOUR,
                         deadline=day * DAY + 12 * HOUR, patient="pat") for day in range(3)]
    return make_problem(visits, shifts, continuity=continuity)


def test_continuity_keeps_one_worker_across_the_week(make_problem: ProblemFactory) -> None:
    """Without continuity the nearer worker takes days 2 and 3 (a change of carer); with it
    the patient keeps the worker of day 1 (5 minutes more travel a day, and the balance
    cost of it, less than a change of carer)."""
    loose = solve_checked(_week(make_problem, continuity=False))
    assert worker_changes(_week(make_problem, continuity=False), loose) == 1
    problem = _week(make_problem, continuity=True)
    plan = solve_checked(problem)
    assert plan.unassigned == ()
    assert worker_changes(problem, plan) == 0
    assert key_workers(problem, plan) == {"pat": "wendy"}
    assert plan_to_dict(plan, problem)["worker_changes"] == 0


def test_week_fields_in_the_problem_document(make_problem: ProblemFactory) -> None:
    problem = dataclasses.replace(_calls(make_problem, HOUR), continuity=True)
    document = problem_to_dict(problem)
    assert document["spacing"] == [{"visits": ["c0", "c1", "c2"], "min_gap": HOUR}]
    assert document["continuity"] is True and document["visits"][0]["patient"] == "p"
    again = problem_from_dict(document)
    assert again.spacing == problem.spacing and again.continuity
    assert again.visit("c0").patient == "p"
    for bad in ({"spacing": [{"visits": ["c0"], "min_gap": 60}]},
                {"spacing": [{"visits": ["c0", "zz"], "min_gap": 60}]},
                {"spacing": [{"visits": "c0c1", "min_gap": 60}]},
                {"spacing": [{"visits": ["c0", "c1"], "min_gap": -1}]},
                {"continuity": "yes"}):
        with pytest.raises(PlanFormatError):
            problem_from_dict({**document, **bad})


@pytest.mark.safety("H-141")
def test_greedy_plan_with_links_keeps_the_spacing(make_problem: ProblemFactory) -> None:
    """The pair-aware first plan (links present) refuses a pair that would crowd a call."""
    from routing.types import Link

    calls = [make_visit("c0", 5, duration=900), make_visit("c1", 5, duration=900),
             make_visit("c1b", 5, duration=900)]
    problem = make_problem(calls, [make_shift("s1"), make_shift("s2")],
                           links=(Link("c1", "c1b", 0, 0, "different"),),
                           spacing=(Spacing(("c0", "c1"), 3 * HOUR),))
    plan = greedy_plan(problem, screen(problem))
    assert check_plan(problem, plan) == []
    starts = _starts(plan)
    if "c0" in starts and "c1" in starts:
        assert starts["c1"] - starts["c0"] >= 3 * HOUR


def test_continuity_never_serves_fewer_than_its_first_phase(
    make_problem: ProblemFactory, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A second phase that lost visits (its warm start not restored on a loaded machine) does
    not replace the first: serving beats any continuity cost."""
    from routing import solver

    problem = _week(make_problem, continuity=True)
    empty = RoutingPlan((), (), 0, 0.0, 0, 0, 0.0)
    monkeypatch.setattr(solver, "improve", lambda *args, **kwargs: empty)
    plan = solve_checked(problem)
    assert len(_starts(plan)) == 3


def _sequences(plan: RoutingPlan) -> dict[str, list[str]]:
    return {r.shift_id: [s.visit_id for s in r.stops] for r in plan.routes if r.stops}


@pytest.mark.safety("H-148")
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_week_with_breaks_is_restored_as_the_warm_start(seed: int) -> None:
    """The benchmark's week (693 calls, 84 shifts each with a break): the plan handed in is
    the search's first solution, route for route. Before the fix OR-Tools completed the
    restored routes (every start and break) under its 100 ms ``lns_time_limit``, which a week
    needs several times over: the restore failed (ROUTING_FAIL) and a cold search's plan came
    back instead. ``solution_limit=1`` stops at the restored plan; the time budget only bounds
    the test."""
    from benchmarks.week_bench import week
    from routing.search import SearchJob

    problem = week(40, 12, 7, seed)
    screening = screen(problem)
    start = greedy_plan(problem, screening)
    found = SearchJob(problem=problem, screening=screening, seconds=600, warm=start,
                      greedy=True, solution_limit=1).run()
    assert found is not None
    assert _sequences(found) == _sequences(start)
    assert check_plan(problem, found) == []


@pytest.mark.safety("H-149")
def test_each_call_prefers_the_patients_worker_who_can_serve_it(
    make_problem: ProblemFactory,
) -> None:
    """Morning calls are Anna's (early shift), evening calls Bea's or Cal's (late shifts):
    with Bea serving most of the evenings in the plan, every evening call prefers Bea, every
    morning call Anna. Before, every call preferred the patient's one key worker (Anna),
    whom no evening call can have, so Bea and Cal cost the same and the evenings kept
    changing hands."""
    from routing.spacing import visit_key_workers, with_key_workers
    from routing.types import Route, Stop

    shifts, visits, routes = [], [], []
    for day in range(3):
        early, late = day * DAY + 7 * HOUR, day * DAY + 15 * HOUR
        shifts.append(make_shift(f"a{day}", worker_id="anna", start=early, end=early + 7 * HOUR))
        for who in ("bea", "cal"):
            shifts.append(make_shift(f"{who}{day}", worker_id=who, start=late,
                                     end=late + 7 * HOUR))
        visits += [make_visit(f"m{day}", 3, earliest=early + HOUR, deadline=early + 2 * HOUR,
                              patient="p"),
                   make_visit(f"e{day}", 3, earliest=late + HOUR, deadline=late + 2 * HOUR,
                              patient="p")]
        evening = "cal" if day == 2 else "bea"
        routes += [Route(f"a{day}", "anna", (Stop(f"m{day}", early + HOUR, early + HOUR,
                                                  early + HOUR + 1800),), early, early, ()),
                   Route(f"{evening}{day}", evening,
                         (Stop(f"e{day}", late + HOUR, late + HOUR, late + HOUR + 1800),),
                         late, late, ())]
    problem = make_problem(visits, shifts, continuity=True)
    plan = RoutingPlan(tuple(routes), (), 0, 0.0, len(routes), 0, 0.0)
    assert key_workers(problem, plan) == {"p": "anna"}
    preferred = visit_key_workers(problem, plan)
    assert preferred == {**{f"m{d}": "anna" for d in range(3)},
                         **{f"e{d}": "bea" for d in range(3)}}
    assert with_key_workers(problem, plan).visit("e2").preferred_workers == {"bea"}
