"""A visit that needs none of a worker's scarcer skills goes to someone whose skills fit it,
when that costs no more than a little extra travel (issue 17: nurses' days filled with home
care calls while hybrid workers stood idle, and urgent clinical assessments found every nurse
busy). A preference, never a constraint: the same cost in the full search, the fast insertion
and the plan documents."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from rosters.roles import default_skills, spares
from routing.costs import SKILL_MIX_COST
from routing.insertion import cheapest_insertion
from routing.plan_io import problem_from_dict, problem_to_dict
from routing.screening import screen
from routing.types import PRIORITY_URGENT_2H, RoutingPlan, RoutingProblem, Shift, Visit
from tests.routing.conftest import (
    HOUR,
    SECONDS_PER_UNIT,
    ProblemFactory,
    make_shift,
    make_visit,
    shift_of,
    solve_checked,
)


def _pair(hybrid_base: int) -> tuple[Shift, Shift]:
    nurse = make_shift("nurse", start_location=2, end_location=2)
    hybrid = make_shift("hybrid", start_location=hybrid_base, end_location=hybrid_base)
    return nurse, hybrid


def _nearby(visit: Visit, nurse: Shift, hybrid: Shift) -> RoutingProblem:
    """The nurse's base is the visit's door; the hybrid worker's is two minutes away."""
    travel = np.array([[0, 120], [120, 0]], dtype=np.int64)
    return RoutingProblem(
        visits=(dataclasses.replace(visit, location=0),),
        shifts=(dataclasses.replace(nurse, start_location=0, end_location=0),
                dataclasses.replace(hybrid, start_location=1, end_location=1)),
        travel=travel)


@pytest.mark.safety("H-236")
def test_the_hybrid_worker_takes_the_call_for_a_little_more_travel(
    make_problem: ProblemFactory,
) -> None:
    """The nurse is on the doorstep; the hybrid worker two minutes away (four there and
    back, well under the skill-mix cost) gets the home care call; without the preference the
    nurse would."""
    nurse, hybrid = _pair(3)
    visit = make_visit("v1", 2, spared_workers=frozenset({nurse.worker_id}))

    plan = solve_checked(_nearby(visit, nurse, hybrid))

    assert shift_of(plan, "v1") == "hybrid"
    plain = solve_checked(_nearby(dataclasses.replace(visit, spared_workers=frozenset()),
                                  nurse, hybrid))
    assert shift_of(plain, "v1") == "nurse"


@pytest.mark.safety("H-236")
def test_the_nurse_takes_it_when_the_hybrid_worker_is_far(make_problem: ProblemFactory) -> None:
    """40 minutes each way (80 in all) is more than the skill-mix cost: the nurse goes."""
    assert 16 * SECONDS_PER_UNIT > SKILL_MIX_COST
    nurse, hybrid = _pair(10)
    visit = make_visit("v1", 2, spared_workers=frozenset({nurse.worker_id}))

    plan = solve_checked(make_problem([visit], [nurse, hybrid]))

    assert shift_of(plan, "v1") == "nurse"


@pytest.mark.safety("H-236")
def test_never_a_reason_to_be_late_or_undone(make_problem: ProblemFactory) -> None:
    """An urgent call the hybrid worker could only reach after its deadline goes to the
    nurse; with the nurse alone on shift it is still served."""
    nurse, _ = _pair(3)
    hybrid = make_shift("hybrid", start_location=3, end_location=3, start=3 * HOUR)
    visit = make_visit("v1", 2, priority=PRIORITY_URGENT_2H, deadline=2 * HOUR,
                       spared_workers=frozenset({nurse.worker_id}))

    assert shift_of(solve_checked(make_problem([visit], [nurse, hybrid])), "v1") == "nurse"
    alone = solve_checked(make_problem([visit], [nurse]))
    assert shift_of(alone, "v1") == "nurse" and alone.unassigned == ()


@pytest.mark.safety("H-236")
def test_the_fast_insertion_weighs_it_the_same_way() -> None:
    nurse, hybrid = _pair(3)
    visit = make_visit("v1", 2, spared_workers=frozenset({nurse.worker_id}))
    problem = _nearby(visit, nurse, hybrid)
    empty = RoutingPlan((), (), 0, 0.0, 0, 0, 0.0)

    placed = cheapest_insertion(problem, screen(problem), empty, problem.visits[0])

    assert placed is not None and shift_of(placed, "v1") == "hybrid"


def test_the_problem_document_keeps_the_spared_workers(make_problem: ProblemFactory) -> None:
    nurse, hybrid = _pair(3)
    visit = make_visit("v1", 2, spared_workers=frozenset({nurse.worker_id}))
    problem = make_problem([visit], [nurse, hybrid])

    again = problem_from_dict(problem_to_dict(problem))

    assert again.visits[0].spared_workers == frozenset({"w-nurse"})


@pytest.mark.safety("H-236")
def test_who_is_spared() -> None:
    """A nurse (who can make a clinical assessment) is spared a visit needing no clinical
    skill; a hybrid worker never is; a clinical visit spares nobody."""
    nurse, hybrid = default_skills("district_nurse"), default_skills("hybrid_worker")
    assert spares(nurse, frozenset({"personal_care"}))
    assert spares(nurse, frozenset({"medication_prompt"}))
    assert not spares(nurse, frozenset({"wound_care"}))
    assert not spares(nurse, frozenset({"clinical_assessment", "falls_assessment"}))
    assert not spares(hybrid, frozenset({"personal_care"}))


@pytest.mark.safety("H-236")
def test_the_skill_mix_cost_is_in_the_arc_cost_not_a_dimension() -> None:
    """A problem whose only worker costs are skill-mix costs gets no Continuity dimension:
    the cost rides on the arcs of a few shared matrices. Charged through a dimension, the same
    cost left out 22 two-hour visits of the tri-borough day (three seeds, quiet machine)
    against 12 without it; through the arc cost, 12 (benchmarks/README.md)."""
    from routing.model import build_model

    nurse, hybrid = _pair(3)
    problem = _nearby(make_visit("v1", 2, spared_workers=frozenset({nurse.worker_id})),
                      nurse, hybrid)
    model = build_model(problem, screen(problem), {})

    assert "Continuity" not in model.routing.GetAllDimensionNames()
    preferring = dataclasses.replace(
        problem, visits=(dataclasses.replace(problem.visits[0],
                                             preferred_workers=frozenset({"w-hybrid"})),))
    names = build_model(preferring, screen(preferring), {}).routing.GetAllDimensionNames()
    assert "Continuity" in names
