"""Tier gaps of a roster and the visits only the tier rule keeps from everyone (H-232-C2)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from rosters.tier_cover import Gap, Need, OnShift, at_risk, gaps

TIERS = ("very_high", "high", "moderate", "low", "very_low")
TOP_TWO = frozenset({"very_high", "high"})
DAY = datetime(2026, 12, 7)


def _at(hour: int, minute: int = 0) -> datetime:
    return DAY + timedelta(hours=hour, minutes=minute)


def _nurse(start: int, end: int) -> OnShift:
    return OnShift(_at(start), _at(end), frozenset({"wound_care", "medication_prompt"}))


def _hybrid(start: int, end: int) -> OnShift:
    return OnShift(_at(start), _at(end), frozenset({"personal_care", "medication_prompt"}),
                   TOP_TWO)


def test_a_skill_only_hybrid_workers_hold_is_a_gap_for_the_lower_tiers() -> None:
    found = gaps([_nurse(8, 16), _hybrid(7, 15)], TIERS)

    lower = ("moderate", "low", "very_low")
    assert found == [Gap("medication_prompt", lower, _at(7), _at(8)),
                     Gap("personal_care", lower, _at(7), _at(15))]
    assert found[1].minutes == 8 * 60


def test_a_worker_serving_every_tier_with_the_skill_closes_the_gap() -> None:
    carer = OnShift(_at(10), _at(12), frozenset({"personal_care"}))

    found = gaps([_hybrid(8, 16), carer], TIERS)

    personal = [(g.start, g.end) for g in found if g.skill == "personal_care"]
    assert personal == [(_at(8), _at(10)), (_at(12), _at(16))]


def test_back_to_back_shifts_make_one_gap_and_no_rule_makes_none() -> None:
    found = gaps([_hybrid(7, 15), _hybrid(15, 22)], TIERS)
    assert [(g.skill, g.start, g.end) for g in found] == [
        ("medication_prompt", _at(7), _at(22)), ("personal_care", _at(7), _at(22))]

    everyone = OnShift(_at(7), _at(15), frozenset({"personal_care"}), frozenset(TIERS))
    assert gaps([everyone, _nurse(8, 9)], TIERS) == []
    assert gaps([], TIERS) == []


def _need(tier: str, skill: str, earliest: int, deadline: int) -> Need:
    return Need("V1", tier, frozenset({skill}), _at(earliest), _at(deadline),
                timedelta(minutes=30))


@pytest.mark.safety("H-232")
def test_a_visit_only_the_rule_keeps_from_every_shift_is_at_risk() -> None:
    roster = [_nurse(8, 16), _hybrid(7, 22)]

    assert at_risk(roster, [_need("moderate", "personal_care", 9, 11)]) != []
    # a tier the hybrid worker serves, a skill a nurse on shift holds: fine
    assert at_risk(roster, [_need("high", "personal_care", 9, 11)]) == []
    assert at_risk(roster, [_need("moderate", "medication_prompt", 9, 11)]) == []


def test_the_nurse_must_be_on_shift_in_the_visits_window_and_long_enough() -> None:
    roster = [_nurse(8, 16), _hybrid(7, 22)]

    # after the nurse's shift only the hybrid worker holds a medication prompt
    assert at_risk(roster, [_need("low", "medication_prompt", 17, 19)]) != []
    # 15:45-16:15 leaves the nurse 15 minutes of a 30-minute visit
    late = Need("V2", "low", frozenset({"medication_prompt"}), _at(15, 45), _at(19),
                timedelta(minutes=30))
    assert at_risk(roster, [late]) == [late]


def test_a_visit_nobody_has_the_skills_for_is_not_the_rules_doing() -> None:
    assert at_risk([_nurse(8, 16), _hybrid(7, 22)],
                   [_need("moderate", "iv_therapy", 9, 11)]) == []
