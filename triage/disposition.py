"""Turn a referral's answers into a disposition: what happens, by when, and why.

Policy, in the order it is applied:

1. Every rule in ``triage.rules`` gives findings; the most urgent category asked for wins
   and every reason is kept, after a one-line summary, in rule order: red flags, red-flag
   questions not asked, age, NEWS2, needs, Pathways, frailty, risk tier, then timing and
   priority notes. (CLINICAL.md: red
   flags or NEWS2 7+ mean 999; 5-6 or a single 3 mean at least the 2-hour response.)
   With no finding asking for a category the answer is ``signpost``. A referral with nothing
   to triage (no needs, no red-flag answer, no observation) is refused first
   (``screening.check_screening``, H-003).
   Under 18 (H-004) a finding asks for ``out_of_scope``, which outranks every community
   category: a child is never given a visit or a signpost, only 999 (a red flag; NEWS2 7+
   at 16-17; NEWS2 is not scored under 16) or the children's pathway: within 2 hours when
   another finding asks for the 2-hour response or when a child's observations could not be
   scored, else today.
2. Deadline = time received + the category's window (``timing.RESPONSE_WINDOWS``: 2 h, 24 h,
   72 h for planned). ``emergency_999`` is due now; ``signpost`` and ``out_of_scope`` have
   no deadline (no visit). A Pathways
   timeframe shorter than that window brings the deadline forward.
3. Urgent community response runs 08:00-20:00 Europe/London. An ``urgent_2h`` referral
   received outside those hours keeps its category and we say what happens:

   - if any finding asking for ``urgent_2h`` is clinical (NEWS2 5-6 or a single 3, a
     clinical need such as a fall or delirium, a Pathways timeframe of two hours or less),
     the out-of-hours district nursing service takes it: deadline unchanged,
     ``out_of_hours=True``;
   - otherwise (social or equipment needs only) it is booked for the next 08:00 slot with a
     10:00 deadline, unless a Pathways timeframe would be breached by then, in which case
     it also goes to the out-of-hours service.

4. Priority is 1 (emergency) to 5 (signpost) by category. Severe frailty (CFS 7+) or the
   very high risk tier raises a 24-hour or planned visit one step, never above 2, so the
   scheduler drops it last without pretending it is an emergency.
5. Skills: those of every need that warrants a visit, clinical assessment when the
   observations or Pathways call for one, and frailty's own (``frailty.frailty_skills``).
6. Every disposition ends with safety netting (``safety_netting.safety_netting``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from triage.frailty import FRAILTY_PRIORITY_RAISE, frailty_skills
from triage.needs import NEEDS, visit_duration
from triage.news2 import score_news2
from triage.pathways import pathways_timeframe
from triage.rules import (
    age_findings,
    describe_minutes,
    frailty_findings,
    need_findings,
    news2_findings,
    news2_not_validated,
    partial_treated_as_medium,
    pathways_findings,
    raises_priority,
    red_flag_findings,
    risk_findings,
)
from triage.safety_netting import safety_netting
from triage.screening import check_screening, has_observations, screening_findings
from triage.timing import (
    RESPONSE_WINDOWS,
    UCR_CLOSES,
    UCR_OPENS,
    add_elapsed,
    describe_time,
    in_ucr_hours,
    local,
    next_ucr_opening,
)
from triage.types import (
    PRIORITY_BY_CATEGORY,
    SKILLS,
    URGENCY_RANK,
    Disposition,
    Finding,
    News2Score,
    TriageInput,
)

__all__ = ["HIGHEST_RAISED_PRIORITY", "most_urgent", "triage"]

# A raised priority stops at 2: priority 1 means "call 999", which frailty never means.
HIGHEST_RAISED_PRIORITY = 2
_HOURS = f"{UCR_OPENS:%H:%M}-{UCR_CLOSES:%H:%M}"


@dataclass(frozen=True)
class _Timing:
    deadline: datetime
    earliest_start: datetime
    out_of_hours: bool = False
    note: str | None = None


def most_urgent(findings: list[Finding]) -> str:
    """The most urgent category any finding asks for, or ``signpost`` when none asks."""
    asked = [f.category for f in findings if f.category is not None]
    return min(asked, key=URGENCY_RANK.__getitem__, default="signpost")


def triage(inp: TriageInput, *, now: datetime | None = None) -> Disposition:
    """Decide the disposition of one referral.

    Parameters
    ----------
    inp
        The checked referral answers and observations.
    now
        When the triage is made (timezone-aware). Defaults to ``inp.received_at``; the clock
        is never read, so the same input always gives the same answer.

    Returns
    -------
    Disposition
        Category, deadline, earliest start, priority, skills, visit length, NEWS2 and the
        reasons in plain sentences, the decision first.

    Raises
    ------
    IncompleteScreeningError
        If there is nothing to triage: no needs, no red-flag answer, no observation.
    ValueError
        If ``now`` is naive.
    """
    if now is None:
        now = inp.received_at
    elif now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    check_screening(inp)
    news2 = None if news2_not_validated(inp.age) else score_news2(inp.observations)
    findings = [
        *red_flag_findings(inp),
        *screening_findings(inp),
        *age_findings(inp),
        *news2_findings(inp, news2),
        *need_findings(inp),
        *pathways_findings(inp),
        *frailty_findings(inp),
        *risk_findings(inp),
    ]
    category = most_urgent(findings)
    ordered = tuple(f.reason for f in findings)
    if category == "emergency_999":
        summary = (
            "Emergency: call 999 now (or go to the emergency department); "
            "not a community visit."
        )
        return Disposition(
            category=category, deadline=local(now), earliest_start=None,
            priority=PRIORITY_BY_CATEGORY[category], skills=(), visit_duration_minutes=0,
            news2=news2, reasons=(summary, *ordered),
            safety_netting=safety_netting(inp, category=category, deadline=None, news2=news2),
        )
    if category in ("signpost", "out_of_scope"):
        unscored = news2 is None and has_observations(inp.observations)
        summary = _no_visit_summary(category, findings, unscored_observations=unscored)
        return Disposition(
            category=category, deadline=None, earliest_start=None,
            priority=PRIORITY_BY_CATEGORY[category], skills=(), visit_duration_minutes=0,
            news2=news2, reasons=(summary, *ordered),
            safety_netting=safety_netting(inp, category=category, deadline=None, news2=news2),
        )
    return _visit(inp, now, news2, findings, category, ordered)


def _no_visit_summary(
    category: str, findings: list[Finding], *, unscored_observations: bool
) -> str:
    if category == "signpost":
        return "No visit needed: signpost to advice or another service."
    # A child's observations cannot be scored here, so they are treated as urgent.
    urgent = unscored_observations or any(f.category == "urgent_2h" for f in findings)
    when = "within 2 hours" if urgent else "today"
    return (
        "Out of scope: urgent community response is for adults. Pass this child to the "
        f"children's pathway now: an urgent clinical assessment through NHS 111 or their GP "
        f"{when}; 999 for any red-flag sign. No visit is booked."
    )


def _visit(
    inp: TriageInput,
    now: datetime,
    news2: News2Score | None,
    findings: list[Finding],
    category: str,
    ordered: tuple[str, ...],
) -> Disposition:
    timing, timing_reasons = _timing(inp, now, findings, category)
    priority, priority_reasons = _priority(inp, category)
    summary = f"{_SUMMARY[category]}: care must start by {describe_time(timing.deadline)}."
    late = [] if local(now) <= timing.deadline else [
        "The deadline has already passed: act now and escalate."
    ]
    two = [NEEDS[c].label.lower() for c in inp.needs if NEEDS[c].staff == 2]
    if two:
        late.append(f"Two staff needed at once ({', '.join(two)}): two workers are booked "
                    "for the same time.")
    return Disposition(
        category=category,
        deadline=timing.deadline,
        earliest_start=timing.earliest_start,
        priority=priority,
        skills=_skills(inp, news2),
        visit_duration_minutes=visit_duration(inp.needs),
        news2=news2,
        reasons=(summary, *ordered, *timing_reasons, *priority_reasons, *late),
        safety_netting=safety_netting(
            inp, category=category, deadline=timing.deadline, news2=news2
        ),
        out_of_hours=timing.out_of_hours,
        ucr_hours_note=timing.note,
        staff=2 if two else 1,
    )


_SUMMARY = {
    "urgent_2h": "Urgent community response within 2 hours",
    "response_24h": "Community response within 24 hours",
    "planned": "Planned visit",
}


def _timing(
    inp: TriageInput, now: datetime, findings: list[Finding], category: str
) -> tuple[_Timing, list[str]]:
    received = local(inp.received_at)
    ours = add_elapsed(received, RESPONSE_WINDOWS[category])
    minutes = pathways_timeframe(inp.pathways_disposition, inp.pathways_timeframe_minutes)
    pathways_deadline = (
        None if minutes is None else add_elapsed(received, timedelta(minutes=minutes))
    )
    reasons: list[str] = []
    deadline = ours
    if pathways_deadline is not None and pathways_deadline < ours:
        deadline = pathways_deadline
        reasons.append(
            f"The Pathways timeframe of {describe_minutes(minutes or 0)} is shorter than our "
            f"response window, so the deadline is brought forward to {describe_time(deadline)}."
        )
    timing = _Timing(deadline=deadline, earliest_start=max(received, local(now)))
    if category == "urgent_2h" and not in_ucr_hours(received):
        timing = _after_hours(received, timing, findings, pathways_deadline)
        reasons.append(timing.note or "")
    return timing, reasons


def _after_hours(
    received: datetime,
    timing: _Timing,
    findings: list[Finding],
    pathways_deadline: datetime | None,
) -> _Timing:
    """Apply the documented out-of-hours policy to an urgent referral (module notes, 3)."""
    opening = next_ucr_opening(received)
    slot_deadline = add_elapsed(opening, RESPONSE_WINDOWS["urgent_2h"])
    clinical = any(f.clinical and f.category == "urgent_2h" for f in findings)
    too_late = pathways_deadline is not None and pathways_deadline < slot_deadline
    outside = (
        f"Received at {describe_time(received)}, outside urgent community response hours "
        f"({_HOURS})"
    )
    if clinical or too_late:
        why = "" if clinical else " because the Pathways timeframe cannot wait until morning"
        note = (
            f"{outside}: passed to the out-of-hours district nursing service{why}, which must "
            f"respond by {describe_time(timing.deadline)}."
        )
        return _Timing(timing.deadline, timing.earliest_start, out_of_hours=True, note=note)
    note = (
        f"{outside}: booked for the first slot at {describe_time(opening)}, to be seen by "
        f"{describe_time(slot_deadline)}. If the person cannot stay safe until then, call the "
        "out-of-hours service."
    )
    return _Timing(slot_deadline, max(opening, timing.earliest_start), note=note)


def _priority(inp: TriageInput, category: str) -> tuple[int, list[str]]:
    base = PRIORITY_BY_CATEGORY[category]
    if not raises_priority(inp) or base <= HIGHEST_RAISED_PRIORITY:
        return base, []
    raised = base - 1
    because = []
    if inp.frailty is not None and inp.frailty >= FRAILTY_PRIORITY_RAISE:
        because.append(f"severe frailty (Clinical Frailty Scale {inp.frailty})")
    if inp.risk_tier == "very_high":
        because.append("the very high risk tier")
    return raised, [f"Priority raised from {base} to {raised} because of {' and '.join(because)}."]


def _skills(inp: TriageInput, news2: News2Score | None) -> tuple[str, ...]:
    wanted = {s for c in inp.needs for s in NEEDS[c].skills}
    # Observations that call for an urgent clinical assessment need someone who can do one.
    if news2 is not None and (news2.band != "low" or partial_treated_as_medium(news2)):
        wanted.add("clinical_assessment")
    wanted.update(frailty_skills(inp.frailty))
    if not wanted:  # e.g. only a Pathways timeframe: someone must assess the person
        wanted.add("clinical_assessment")
    return tuple(s for s in SKILLS if s in wanted)
