"""Disposition rules: categories, deadlines, Pathways, UCR hours, priority and skills."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from triage.disposition import triage
from triage.needs import NEEDS, UCR_NEEDS
from triage.timing import LONDON
from triage.types import Observations, TriageInput

# A Wednesday in January (GMT) at 11:00, well inside urgent community response hours.
IN_HOURS = datetime(2025, 1, 15, 11, 0, tzinfo=LONDON)


def make(received: datetime = IN_HOURS, **kwargs: Any) -> TriageInput:
    """A TriageInput with only the fields a test cares about."""
    return TriageInput(received_at=received, **kwargs)


@pytest.mark.parametrize("code", UCR_NEEDS)
def test_triage_each_ucr_condition_is_urgent_2h_with_its_skills(code: str) -> None:
    """Each NHS England UCR condition warrants the 2-hour response and its own skills."""
    result = triage(make(needs=(code,)))

    assert result.category == "urgent_2h"
    assert result.deadline == IN_HOURS + timedelta(hours=2)
    assert set(NEEDS[code].skills) <= set(result.skills)
    assert result.priority == 2
    assert result.visit_duration_minutes == NEEDS[code].visit_minutes


@pytest.mark.parametrize(
    ("category", "window"),
    [("response_24h", timedelta(hours=24)), ("planned", timedelta(hours=72))],
)
def test_triage_less_urgent_needs_get_their_window(category: str, window: timedelta) -> None:
    """A 24-hour need is due a day after receipt, a planned one three days after."""
    code = next(c for c, n in NEEDS.items() if n.category == category)

    result = triage(make(needs=(code,)))

    assert (result.category, result.deadline) == (category, IN_HOURS + window)


def test_triage_signpost_has_no_deadline_or_visit() -> None:
    """Signposting is advice, not a visit: no deadline, no skills, no duration."""
    result = triage(make(needs=("social_isolation",)))

    assert (result.category, result.deadline, result.earliest_start) == ("signpost", None, None)
    assert (result.skills, result.visit_duration_minutes, result.priority) == ((), 0, 5)


def test_triage_needs_without_observations_says_news2_not_scored() -> None:
    """A need without observations is triaged on the need, and the reasons say NEWS2 is absent."""
    result = triage(make(needs=("social_isolation",)))

    assert result.category == "signpost"
    assert any("No NEWS2 observations" in r for r in result.reasons)


def test_triage_red_flag_is_emergency_and_not_a_visit() -> None:
    """A red flag means 999 now even alongside a community need."""
    result = triage(make(needs=("fall_no_injury",), red_flags=("chest_pain",)))

    assert (result.category, result.priority, result.skills) == ("emergency_999", 1, ())
    assert (result.earliest_start, result.visit_duration_minutes) == (None, 0)
    assert result.deadline == IN_HOURS
    assert any("Chest pain" in r for r in result.reasons)


# A complete set of observations scoring 0; the threshold cases change some of them, so the
# band edges are tested on full scores (a partial score has its own rules, H-005).
NORMAL_OBS = Observations(respiration_rate=16, spo2=97, on_oxygen=False, systolic_bp=130,
                          pulse=70, consciousness="alert", temperature=37.0)


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"respiration_rate": 21, "pulse": 111}, "signpost"),
        ({"consciousness": "new_confusion"}, "urgent_2h"),
        ({"respiration_rate": 21, "pulse": 111, "temperature": 38.1}, "urgent_2h"),
        ({"respiration_rate": 21, "pulse": 111, "temperature": 38.1, "systolic_bp": 110},
         "urgent_2h"),
        ({"respiration_rate": 21, "pulse": 111, "temperature": 38.1, "systolic_bp": 110,
          "spo2": 95}, "emergency_999"),
    ],
    ids=["total4", "single3", "total5", "total6", "total7"],
)
def test_triage_news2_thresholds(changes: dict[str, Any], expected: str) -> None:
    """Complete scores: 4 asks nothing; a single 3 or 5-6 asks for 2 hours; 7 asks for 999."""
    obs = replace(NORMAL_OBS, **changes)

    assert triage(make(observations=obs)).category == expected


def test_triage_news2_low_does_not_lower_a_need() -> None:
    """When rules disagree the more urgent wins: a low NEWS2 leaves a UCR need urgent."""
    result = triage(make(needs=("urgent_catheter",), observations=Observations(pulse=70)))

    assert result.category == "urgent_2h"


def test_triage_news2_raises_a_24h_need_and_adds_clinical_assessment() -> None:
    """A single 3 turns a wound-care referral into an urgent clinical assessment."""
    result = triage(make(needs=("wound_care",), observations=Observations(systolic_bp=90)))

    assert result.category == "urgent_2h"
    assert {"wound_care", "clinical_assessment"} <= set(result.skills)


def test_triage_child_not_scored_and_says_so() -> None:
    """NEWS2 is for adults: under 16 it is not scored, the reasons explain why, no visit."""
    result = triage(make(age=15, observations=Observations(consciousness="pain")))

    assert result.news2 is None
    assert result.category == "out_of_scope"
    assert any("not scored for a person aged 15" in r for r in result.reasons)


def test_triage_reports_missing_parameters() -> None:
    """Missing observations are named in the reasons, and the score says it is partial."""
    result = triage(make(observations=Observations(pulse=95)))

    assert result.news2 is not None and "temperature" in result.news2.missing
    assert any(r.startswith("Not recorded, so not scored:") for r in result.reasons)


# --- NHS Pathways ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "minutes"), [("Dx06", 360), ("Dx07", 720), ("Dx08", 1440)]
)
def test_triage_pathways_code_tightens_24h_deadline(code: str, minutes: int) -> None:
    """A Pathways timeframe shorter than (or equal to) ours becomes the deadline."""
    result = triage(make(needs=("wound_care",), pathways_disposition=code))

    assert result.category == "response_24h"
    assert result.deadline == IN_HOURS + timedelta(minutes=minutes)


def test_triage_pathways_120_minutes_raises_24h_need_to_urgent() -> None:
    """A 120-minute timeframe on a 24-hour need makes it an urgent 2-hour response."""
    result = triage(make(needs=("wound_care",), pathways_timeframe_minutes=120))

    assert (result.category, result.deadline) == ("urgent_2h", IN_HOURS + timedelta(hours=2))


def test_triage_pathways_dx05_raises_signpost_to_urgent() -> None:
    """Dx05 asks for contact within 2 hours even when the need alone would be advice."""
    result = triage(make(needs=("social_isolation",), pathways_disposition="Dx05"))

    assert result.category == "urgent_2h"
    assert result.skills == ("clinical_assessment",)


def test_triage_pathways_longer_timeframe_does_not_loosen() -> None:
    """Dx08 (24 hours) on a 2-hour need leaves our 2-hour deadline."""
    result = triage(make(needs=("fall_no_injury",), pathways_disposition="Dx08"))

    assert result.deadline == IN_HOURS + timedelta(hours=2)


def test_triage_pathways_explicit_minutes_shorter_than_code_win() -> None:
    """Dx07 says 12 hours but the referral says 300 minutes: the shorter applies."""
    result = triage(make(needs=("wound_care",), pathways_disposition="Dx07",
                         pathways_timeframe_minutes=300))

    assert result.deadline == IN_HOURS + timedelta(minutes=300)


def test_triage_pathways_60_minutes_tightens_urgent() -> None:
    """A timeframe under 2 hours tightens even the urgent deadline."""
    result = triage(make(needs=("fall_no_injury",), pathways_timeframe_minutes=60))

    assert result.deadline == IN_HOURS + timedelta(minutes=60)


def test_triage_pathways_unknown_code_noted_not_used() -> None:
    """A code outside our table changes nothing but is mentioned."""
    result = triage(make(needs=("wound_care",), pathways_disposition="dx99"))

    assert result.deadline == IN_HOURS + timedelta(hours=24)
    assert any("Dx99 carries no timeframe" in r for r in result.reasons)


# --- Urgent community response hours ----------------------------------------------------


def _local(day: tuple[int, int, int], hour: int, minute: int) -> datetime:
    return datetime(*day, hour, minute, tzinfo=LONDON)


WINTER = (2025, 1, 15)
SUMMER = (2025, 7, 16)


@pytest.mark.parametrize("day", [WINTER, SUMMER], ids=["GMT", "BST"])
@pytest.mark.parametrize(("hour", "minute", "inside"),
                         [(7, 59, False), (8, 0, True), (19, 59, True), (20, 0, False)])
def test_triage_clinical_ucr_hours_edges(
    day: tuple[int, int, int], hour: int, minute: int, inside: bool
) -> None:
    """A clinical urgent need keeps its 2 hours; outside 08:00-20:00 the OOH service has it."""
    received = _local(day, hour, minute)

    result = triage(make(received, needs=("fall_no_injury",)))

    assert result.category == "urgent_2h"
    assert result.deadline == received + timedelta(hours=2)
    assert result.out_of_hours is not inside
    assert (result.ucr_hours_note is None) is inside


@pytest.mark.parametrize("day", [WINTER, SUMMER], ids=["GMT", "BST"])
@pytest.mark.parametrize(
    ("hour", "minute", "start_day", "in_hours"),
    [(7, 59, 0, False), (8, 0, 0, True), (19, 59, 0, True), (20, 0, 1, False),
     (23, 30, 1, False), (0, 5, 0, False)],
)
def test_triage_social_ucr_outside_hours_books_next_morning(
    day: tuple[int, int, int], hour: int, minute: int, start_day: int, in_hours: bool
) -> None:
    """Non-clinical urgent needs outside hours get the next 08:00 slot, due by 10:00."""
    received = _local(day, hour, minute)

    result = triage(make(received, needs=("urgent_equipment",)))

    assert result.category == "urgent_2h"
    assert result.out_of_hours is False
    if in_hours:
        assert (result.earliest_start, result.deadline) == (received,
                                                            received + timedelta(hours=2))
    else:
        morning = datetime.combine(received.date() + timedelta(days=start_day),
                                   datetime.min.time(), tzinfo=LONDON).replace(hour=8)
        assert (result.earliest_start, result.deadline) == (morning,
                                                            morning + timedelta(hours=2))
        assert result.ucr_hours_note and "08:00" in result.ucr_hours_note


def test_triage_hours_follow_london_clock_not_utc() -> None:
    """19:30 UTC is 19:30 in January (in hours) but 20:30 in July (out of hours)."""
    winter = triage(make(datetime(2025, 1, 15, 19, 30, tzinfo=UTC), needs=("fall_no_injury",)))
    summer = triage(make(datetime(2025, 7, 16, 19, 30, tzinfo=UTC), needs=("fall_no_injury",)))

    assert (winter.out_of_hours, summer.out_of_hours) == (False, True)


def test_triage_dst_spring_forward_next_morning_slot() -> None:
    """On 30 March 2025 clocks go forward: the 08:00 slot is 07:00 UTC, deadline 09:00 UTC."""
    received = datetime(2025, 3, 30, 0, 30, tzinfo=UTC)

    result = triage(make(received, needs=("urgent_reablement",)))

    assert result.earliest_start == datetime(2025, 3, 30, 7, 0, tzinfo=UTC)
    assert result.deadline == datetime(2025, 3, 30, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "received",
    [datetime(2025, 3, 30, 0, 30, tzinfo=LONDON), datetime(2025, 10, 26, 0, 30, tzinfo=LONDON),
     datetime(2025, 10, 26, 1, 30, fold=0, tzinfo=LONDON)],
    ids=["spring", "autumn", "autumn-ambiguous"],
)
def test_triage_dst_two_hours_is_elapsed_time(received: datetime) -> None:
    """Across a clock change "within 2 hours" is still 120 real minutes."""
    result = triage(make(received, needs=("sudden_confusion",)))

    assert result.deadline is not None
    assert result.deadline.astimezone(UTC) - received.astimezone(UTC) == timedelta(hours=2)


def test_triage_dst_24h_window_is_elapsed_time() -> None:
    """Noon GMT on 29 March plus 24 hours is 13:00 BST on 30 March."""
    received = datetime(2025, 3, 29, 12, 0, tzinfo=LONDON)

    result = triage(make(received, needs=("wound_care",)))

    assert result.deadline is not None
    assert (result.deadline.hour, result.deadline.utcoffset()) == (13, timedelta(hours=1))


def test_triage_pathways_6h_at_night_cannot_wait_for_morning() -> None:
    """A social need with a 6-hour Pathways timeframe at 21:00 goes to the OOH service."""
    received = _local(WINTER, 21, 0)

    result = triage(make(received, needs=("carer_breakdown",), pathways_disposition="Dx06"))

    assert result.out_of_hours is True
    assert result.deadline == received + timedelta(hours=2)
    assert result.ucr_hours_note and "cannot wait until morning" in result.ucr_hours_note


def test_triage_news2_single_three_at_night_goes_out_of_hours() -> None:
    """A clinical trigger overrides the next-morning slot for a social need."""
    received = _local(WINTER, 22, 0)

    result = triage(make(received, needs=("urgent_equipment",),
                         observations=Observations(consciousness="new_confusion")))

    assert (result.out_of_hours, result.deadline) == (True, received + timedelta(hours=2))


def test_triage_now_defaults_to_received_and_late_triage_warns() -> None:
    """`now` is an input: triaging after the deadline says so and starts no earlier than now."""
    late = IN_HOURS + timedelta(hours=3)

    result = triage(make(needs=("fall_no_injury",)), now=late)

    assert result.earliest_start == late
    assert any("already passed" in r for r in result.reasons)


def test_triage_autumn_ambiguous_hour_compares_real_time() -> None:
    """01:10 GMT on 26 Oct comes 20 minutes after 01:50 BST, though its wall clock is earlier."""
    received = datetime(2025, 10, 26, 1, 50, fold=0, tzinfo=LONDON)
    now = datetime(2025, 10, 26, 1, 10, fold=1, tzinfo=LONDON)

    result = triage(make(received, needs=("fall_no_injury",)), now=now)

    assert result.earliest_start is not None
    # PEP 495: a fold=1 time never equals a time in another zone, so compare in UTC.
    assert result.earliest_start.astimezone(UTC) == now.astimezone(UTC)
    assert result.earliest_start.utcoffset() == timedelta(0)


def test_triage_times_carry_the_london_offset() -> None:
    """Times come back on the London clock whatever zone the referral was sent in."""
    result = triage(make(datetime(2025, 7, 16, 9, 0, tzinfo=UTC), needs=("wound_care",)))

    assert result.deadline is not None
    assert result.deadline.isoformat() == "2025-07-17T10:00:00+01:00"


def test_triage_rejects_naive_now() -> None:
    """A naive `now` cannot be compared with the London clock."""
    with pytest.raises(ValueError, match="^now must be timezone-aware$"):
        triage(make(), now=datetime(2025, 1, 15, 11, 0))


# --- Priority and skills ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("need", "frailty", "risk_tier", "expected"),
    [
        ("wound_care", 6, None, 3),
        ("wound_care", 7, None, 2),
        ("wound_care", None, "very_high", 2),
        ("wound_care", None, "high", 3),
        ("care_package_review", 9, "very_high", 3),
        ("fall_no_injury", 9, "very_high", 2),
        ("social_isolation", 9, None, 5),
    ],
)
def test_triage_priority_raise(need: str, frailty: int | None, risk_tier: str | None,
                               expected: int) -> None:
    """CFS 7+ or very high risk raise a visit one step, never above 2; signposts stay 5."""
    result = triage(make(needs=(need,), frailty=frailty, risk_tier=risk_tier))

    assert result.priority == expected


def test_triage_severe_frailty_adds_personal_care_skill() -> None:
    """CFS 7 means dependence for personal care, so the visit needs that skill."""
    result = triage(make(needs=("urgent_catheter",), frailty=7))

    assert result.skills == ("catheter_care", "personal_care")


def test_triage_reasons_lead_with_decision() -> None:
    """The first reason is the decision, with the deadline in words."""
    result = triage(make(needs=("fall_no_injury",)))

    assert result.reasons[0].startswith("Urgent community response within 2 hours")
    assert "13:00 on Wed 15 Jan" in result.reasons[0]
