"""The triage rules, one small function each.

Every rule looks at one kind of evidence and returns ``Finding`` objects: the category the
evidence asks for (or None when it only informs) and the sentence a call handler reads back.
``triage.disposition`` lets the most urgent finding win and keeps every reason. Sources:
CLINICAL.md (NEWS2 and community thresholds, RCP 2017; the NHS England urgent community
response conditions; NHS Pathways timeframes; Clinical Frailty Scale v2.0).
"""

from __future__ import annotations

from triage.frailty import FRAILTY_PRIORITY_RAISE, frailty_name
from triage.needs import NEEDS
from triage.news2 import ADULT_AGE, HIGH_THRESHOLD, MEDIUM_THRESHOLD
from triage.pathways import PATHWAYS_TIMEFRAMES, category_for_timeframe, pathways_timeframe
from triage.red_flags import RED_FLAGS
from triage.types import (
    ADULT_SERVICE_AGE,
    NEWS2_MAX_PART,
    NEWS2_PARAMETERS,
    Finding,
    News2Score,
    Observations,
    TriageInput,
)

__all__ = [
    "CFS_VALIDATED_AGE",
    "PARTIAL_MEDIUM_MISSING",
    "PARTIAL_MEDIUM_TOTAL",
    "age_findings",
    "describe_minutes",
    "frailty_findings",
    "is_minor",
    "need_findings",
    "news2_not_validated",
    "news2_findings",
    "partial_treated_as_medium",
    "pathways_findings",
    "red_flag_findings",
    "risk_findings",
]

# The Clinical Frailty Scale is validated for people 65 and over.
CFS_VALIDATED_AGE = 65

_BAND_WORDS = {
    "low": "low risk",
    "low_medium": "low-medium risk",
    "medium": "medium risk",
    "high": "high risk",
}
_PARAMETER_WORDS = {
    "respiration_rate": "respiration rate",
    "spo2": "SpO2",
    "on_oxygen": "air or oxygen",
    "systolic_bp": "systolic blood pressure",
    "pulse": "pulse",
    "consciousness": "consciousness",
    "temperature": "temperature",
}
_CATEGORY_WORDS = {
    "urgent_2h": "urgent community response within 2 hours",
    "response_24h": "community response within 24 hours",
    "planned": "a planned visit",
    "signpost": "signpost to advice or another service",
}


# A partial NEWS2 (issue 13, H-005) of 3 or 4 with at least two parameters missing is
# treated as medium: see ``partial_treated_as_medium``.
PARTIAL_MEDIUM_TOTAL = 3
PARTIAL_MEDIUM_MISSING = 2


def news2_not_validated(age: int | None) -> bool:
    """True when an age was given and it is under 16, the lower limit for NEWS2."""
    return age is not None and age < ADULT_AGE


def is_minor(age: int | None) -> bool:
    """True when an age was given and it is under 18: urgent community response is for adults."""
    return age is not None and age < ADULT_SERVICE_AGE


def partial_treated_as_medium(score: News2Score) -> bool:
    """Whether a partial NEWS2 below 5 is treated as medium (at least the 2-hour response).

    Policy for partial scores (issue 13, H-005), from CLINICAL.md "score what is given, and
    say which parameters were missing; never guess a missing parameter":

    - The recorded parameters are scored exactly and the total is a minimum: a partial 7+
      still means 999, a partial 5-6 or a single 3 still means at least the 2-hour response.
      Missing parameters never lower what the recorded ones imply.
    - A partial total of 3 or 4 with two or more parameters missing is treated as medium (at
      least the 2-hour response, with a clinical assessment). Each missing parameter can add
      up to 3 points, so such a person may well be at 5-6 (CLINICAL.md: urgent clinical
      assessment), and the visit is where the score gets completed. With one parameter missing,
      or a partial total of 0-2, we do not escalate: that would send most telephone referrals
      with a few observations as urgent on a guess.
    - We do not raise a partial 5-6 to 999 on what the missing parameters might score: 999 is
      for an observed 7+ or a red flag (CLINICAL.md). The reasons tell the visiting clinician
      to complete the score on arrival and call 999 if it reaches 7.

    This means recording a missing parameter that scores 0 can lower the category (a partial
    3 with two missing becomes a complete, low 3): completing the observations removes the
    uncertainty the rule was guarding against.
    """
    return (
        not score.complete
        and len(score.missing) >= PARTIAL_MEDIUM_MISSING
        and PARTIAL_MEDIUM_TOTAL <= score.total < MEDIUM_THRESHOLD
    )


def describe_minutes(minutes: int) -> str:
    """A timeframe in words: 120 -> "2 hours", 90 -> "90 minutes"."""
    if minutes % 60:
        return f"{minutes} minutes"
    hours = minutes // 60
    return "1 hour" if hours == 1 else f"{hours} hours"


def red_flag_findings(inp: TriageInput) -> list[Finding]:
    """Each red flag asks for 999: emergencies are never sent as community visits."""
    return [Finding("emergency_999", RED_FLAGS[c].sentence, clinical=True) for c in inp.red_flags]


def _value_words(name: str, obs: Observations) -> str:
    value = getattr(obs, name)
    if name == "on_oxygen":
        return "on oxygen" if value else "on air"
    if name == "consciousness":
        return str(value).replace("_", " ")
    unit = {"spo2": "%", "temperature": " C", "systolic_bp": " mmHg"}.get(name, "/min")
    return f"{value}{unit}"


def _parts_sentence(score: News2Score, obs: Observations) -> str:
    scoring = [
        f"{_PARAMETER_WORDS[name]} {_value_words(name, obs)} scores {points}"
        for name, points in score.parts.items()
        if points
    ]
    detail = "; ".join(scoring) if scoring else "every recorded parameter scores 0"
    if score.complete:
        return (
            f"NEWS2 is {score.total} ({_BAND_WORDS[score.band]}, SpO2 scale {score.scale}): "
            f"{detail}."
        )
    return (
        f"NEWS2 is at least {score.total} from {len(score.parts)} of {len(NEWS2_PARAMETERS)} "
        f"parameters ({_BAND_WORDS[score.band]} on what was recorded, SpO2 scale "
        f"{score.scale}): {detail}."
    )


def _news2_decision(score: News2Score) -> Finding | None:
    if score.total >= HIGH_THRESHOLD:
        return Finding(
            "emergency_999",
            f"A NEWS2 of {HIGH_THRESHOLD} or more needs an emergency response: call 999.",
            clinical=True,
        )
    if score.total >= MEDIUM_THRESHOLD:
        return Finding(
            "urgent_2h",
            f"A NEWS2 of {MEDIUM_THRESHOLD} or 6 needs an urgent clinical assessment: at least "
            "the 2-hour response.",
            clinical=True,
        )
    if score.any_single_three:
        threes = [_PARAMETER_WORDS[n] for n, p in score.parts.items() if p == NEWS2_MAX_PART]
        return Finding(
            "urgent_2h",
            f"A score of 3 in a single parameter ({', '.join(threes)}) needs an urgent clinical "
            "assessment: at least the 2-hour response.",
            clinical=True,
        )
    if partial_treated_as_medium(score):
        return Finding(
            "urgent_2h",
            f"A partial NEWS2 of {score.total} with {len(score.missing)} parameters missing is "
            "treated as medium (the missing ones could take it to 5 or more): an urgent "
            "clinical assessment within 2 hours, to complete the score.",
            clinical=True,
        )
    return None


def news2_findings(inp: TriageInput, score: News2Score | None) -> list[Finding]:
    """Score thresholds from RCP 2017 as applied in the community (CLINICAL.md).

    7+ asks for 999; 5-6 or any single 3 asks for at least the 2-hour response; a partial
    score is treated conservatively (``partial_treated_as_medium``). Missing parameters are
    named, never guessed; an ambiguous one is scored at its highest and said so; a child's
    observations (under 16) are not scored.
    """
    obs = inp.observations
    if score is None:
        return [
            Finding(
                None,
                f"NEWS2 is for adults aged {ADULT_AGE} and over and is not validated for "
                f"children, so it was not scored for a person aged {inp.age}: the children's "
                "service must assess the observations (a paediatric early warning score).",
            )
        ]
    if not score.parts:
        return [Finding(None, "No NEWS2 observations were recorded, so NEWS2 was not scored.")]
    findings = [Finding(None, _parts_sentence(score, obs))]
    decision = _news2_decision(score)
    if decision is not None:
        findings.append(decision)
    if "spo2" in score.conservative:
        points = score.parts["spo2"]
        findings.append(
            Finding(
                None,
                f"SpO2 {obs.spo2}% on scale 2 with oxygen not stated was scored {points}, the "
                f"higher of its scores on air (0) and on oxygen ({points}): record whether the "
                "person is on oxygen.",
            )
        )
    if score.missing:
        names = ", ".join(_PARAMETER_WORDS[m] for m in score.missing)
        findings.append(
            Finding(None, f"Not recorded, so not scored: {names}. The full NEWS2 may be higher.")
        )
        if score.total >= MEDIUM_THRESHOLD and score.total < HIGH_THRESHOLD:
            findings.append(
                Finding(
                    None,
                    "The clinician must complete NEWS2 on arrival and call 999 if it is "
                    f"{HIGH_THRESHOLD} or more.",
                )
            )
    return findings


def age_findings(inp: TriageInput) -> list[Finding]:
    """Under 18 asks for ``out_of_scope``: urgent community response is an adult service.

    The finding outranks every community category (``URGENCY_RANK``), so a child is never
    given a community visit or a signpost; a red flag (or, aged 16-17, a NEWS2 of 7+) still
    wins with 999. Without an age (no date of birth either) adult rules apply and the reasons
    say so (hazard H-020).
    """
    if inp.age is None:
        return [
            Finding(
                None,
                "Age not given, so adult rules were applied: under 18 is out of scope for "
                "this service (children's pathway: 111 or the GP, 999 for red flags).",
            )
        ]
    if not is_minor(inp.age):
        return []
    return [
        Finding(
            "out_of_scope",
            f"Aged {inp.age}: urgent community response is an adult service, so this referral "
            "is out of scope. Children's pathway: an urgent clinical assessment through NHS "
            "111 (or the child's GP), and 999 for any red-flag sign.",
            clinical=True,
        )
    ]


def need_findings(inp: TriageInput) -> list[Finding]:
    """Each presenting need asks for the response its catalogue entry warrants.

    For a child (under 18) the needs are only named: they ask for no adult community response.
    """
    if is_minor(inp.age):
        return [Finding(None, f"{NEEDS[c].label}: recorded.") for c in inp.needs]
    return [
        Finding(
            NEEDS[c].category,
            f"{NEEDS[c].label}: {_CATEGORY_WORDS[NEEDS[c].category]}.",
            clinical=NEEDS[c].clinical,
        )
        for c in inp.needs
    ]


def pathways_findings(inp: TriageInput) -> list[Finding]:
    """A Pathways timeframe asks for the community category whose window fits inside it.

    A timeframe of two hours or less came from a clinical assessment that wants contact
    within two hours, so it counts as clinical for the out-of-hours policy.
    """
    code = inp.pathways_disposition
    minutes = pathways_timeframe(code, inp.pathways_timeframe_minutes)
    findings: list[Finding] = []
    if code is not None and code not in PATHWAYS_TIMEFRAMES:
        findings.append(
            Finding(None, f"NHS Pathways disposition {code} carries no timeframe in our table.")
        )
    if minutes is None:
        return findings
    source = f"NHS Pathways disposition {code}" if code else "The NHS Pathways disposition"
    category = category_for_timeframe(minutes)
    findings.append(
        Finding(
            category,
            f"{source} asks for contact within {describe_minutes(minutes)}.",
            clinical=category == "urgent_2h",
        )
    )
    return findings


def frailty_findings(inp: TriageInput) -> list[Finding]:
    """Name the frailty score in words; it informs priority and skills, never the category."""
    if inp.frailty is None:
        return []
    findings = [
        Finding(None, f"Clinical Frailty Scale {inp.frailty}: {frailty_name(inp.frailty)}.")
    ]
    if inp.age is not None and inp.age < CFS_VALIDATED_AGE:
        findings.append(
            Finding(
                None,
                f"The Clinical Frailty Scale is validated for people aged {CFS_VALIDATED_AGE} "
                f"and over; use it with care at age {inp.age}.",
            )
        )
    return findings


def risk_findings(inp: TriageInput) -> list[Finding]:
    """Only the very high risk tier (top 0.5%) is worth saying: it raises priority."""
    if inp.risk_tier != "very_high":
        return []
    return [
        Finding(None, "Risk tier very high: among the top 0.5% of people by health and care need.")
    ]


def raises_priority(inp: TriageInput) -> bool:
    """Severe frailty (CFS 7+) or the very high risk tier moves a visit up one priority."""
    severe = inp.frailty is not None and inp.frailty >= FRAILTY_PRIORITY_RAISE
    return severe or inp.risk_tier == "very_high"
