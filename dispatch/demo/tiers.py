"""Risk strata of the synthetic register and what a person in each stratum looks like.

Source: the tri-borough matched health and social care data (seeds/002, 2010/11, population
466,921). Strata are the top 0.5 % by predicted risk (very high), 0.5-5 % (high), 5-20 %
(moderate), 20-50 % (low) and 50-100 % (very low). Spend per head falls steeply down the
strata (about £24,400 a year for very high, £7,700 high, £2,500 moderate, £490 low and £250
very low), and so do contacts: the top tiers are old, frail people with several long-term
conditions, the bottom tier is mostly healthy people of every age. The profiles below encode
that gradient; their numbers are judgement, not data, and are named so they can be argued with.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final

from dispatch.models.vocab import RISK_TIERS
from dispatch.services.strata import PER_CAPITA

#: People in each stratum of the tri-borough register (seeds/002, risk strata table, 2010/11).
TIER_POPULATION: Final[Mapping[str, int]] = {
    "very_high": 3_004, "high": 25_535, "moderate": 74_815, "low": 185_783, "very_low": 177_783,
}  # fmt: skip

#: The whole tri-borough register of the seeds' risk-strata table.
TRI_BOROUGH_POPULATION: Final = 466_921

#: Share of the population in each stratum, as the seeds' table counted them (0.64 / 5.47 /
#: 16.0 / 39.8 / 38.1 %). Why not the nominal cut-offs (0.5 / 4.5 / 15 / 30 / 50 %): the
#: table's strata are what the matched data actually held, and the per-capita costs and
#: admission rates we use belong to those counts.
#: The strata add up to 466,920, one fewer than the table's total row: shares are of the sum,
#: so they add up to exactly 1.
TIER_SHARES: Final[Mapping[str, float]] = {
    tier: count / sum(TIER_POPULATION.values()) for tier, count in TIER_POPULATION.items()
}

#: Health and social care spend per head a year by stratum, in pounds (seeds/002, "Total"
#: per-capita column: acute, other hospital, community and primary, social care together).
#: One copy of the seeds' table: :data:`dispatch.services.strata.PER_CAPITA`.
COST_PER_CAPITA: Final[Mapping[str, int]] = {t: c.total for t, c in PER_CAPITA.items()}

#: Social care's part of that spend per head a year (seeds/002, social care column).
SOCIAL_CARE_PER_CAPITA: Final[Mapping[str, int]] = {
    t: c.social_care for t, c in PER_CAPITA.items()}

#: Float error allowed when a share times the total should be a whole number.
FLOAT_SLACK: Final = 1e-9

#: Clinical Frailty Scale is validated from this age only; younger people get no score.
CFS_MIN_AGE: Final = 65

#: Long-term conditions with a relative prevalence weight among people who have any.
CONDITIONS: Final[Mapping[str, int]] = {
    "hypertension": 30, "diabetes": 20, "copd": 12, "heart_failure": 10, "ckd": 10,
    "atrial_fibrillation": 9, "dementia": 9, "osteoarthritis": 15, "depression": 12,
    "asthma": 12, "stroke": 6, "cancer": 6, "parkinsons": 3, "severe_mental_illness": 4,
    "learning_disability": 2,
}  # fmt: skip

#: Conditions we do not give to anyone under this age (early-onset cases are rare enough).
OLD_AGE_CONDITIONS: Final[Mapping[str, int]] = {"dementia": 55, "parkinsons": 45, "ckd": 40}


@dataclass(frozen=True, slots=True)
class TierProfile:
    """What a person in one stratum looks like.

    Parameters
    ----------
    ages
        ``(youngest, oldest, weight)`` bands; an age is drawn uniformly inside a band.
    frailty
        ``(score, weight)`` Clinical Frailty Scale draws for people aged 65 or over.
    condition_counts
        ``(count, weight)``: how many long-term conditions.
    care_plan
        Probability of having a shared care plan.
    consent
        Probability that consent to share the plan is recorded, given there is a plan.
    access_notes
        Probability of access notes (a key safe, who holds a key).
    second_version
        Probability that a care plan has been reviewed once (two versions).
    """

    ages: tuple[tuple[int, int, float], ...]
    frailty: tuple[tuple[int, float], ...]
    condition_counts: tuple[tuple[int, float], ...]
    care_plan: float
    consent: float
    access_notes: float
    second_version: float


PROFILES: Final[Mapping[str, TierProfile]] = {
    "very_high": TierProfile(
        ages=((75, 99, 0.80), (65, 74, 0.12), (40, 64, 0.08)),
        frailty=((6, 0.35), (7, 0.35), (8, 0.22), (9, 0.08)),
        condition_counts=((3, 0.25), (4, 0.35), (5, 0.25), (6, 0.15)),
        care_plan=0.92, consent=0.95, access_notes=0.60, second_version=0.35,
    ),
    "high": TierProfile(
        ages=((65, 98, 0.78), (45, 64, 0.17), (18, 44, 0.05)),
        frailty=((5, 0.35), (6, 0.40), (7, 0.25)),
        condition_counts=((2, 0.35), (3, 0.40), (4, 0.25)),
        care_plan=0.80, consent=0.92, access_notes=0.40, second_version=0.25,
    ),
    "moderate": TierProfile(
        ages=((65, 95, 0.45), (40, 64, 0.40), (18, 39, 0.15)),
        frailty=((4, 0.40), (5, 0.40), (6, 0.20)),
        condition_counts=((1, 0.45), (2, 0.35), (3, 0.20)),
        care_plan=0.55, consent=0.90, access_notes=0.15, second_version=0.15,
    ),
    "low": TierProfile(
        ages=((65, 95, 0.15), (30, 64, 0.50), (18, 29, 0.20), (0, 17, 0.15)),
        frailty=((2, 0.35), (3, 0.45), (4, 0.20)),
        condition_counts=((0, 0.40), (1, 0.45), (2, 0.15)),
        care_plan=0.05, consent=0.80, access_notes=0.03, second_version=0.05,
    ),
    "very_low": TierProfile(
        ages=((65, 90, 0.06), (18, 64, 0.70), (0, 17, 0.24)),
        frailty=((1, 0.40), (2, 0.40), (3, 0.20)),
        condition_counts=((0, 0.80), (1, 0.20)),
        care_plan=0.01, consent=0.80, access_notes=0.01, second_version=0.0,
    ),
}  # fmt: skip


def tier_counts(total: int, shares: Mapping[str, float] = TIER_SHARES) -> dict[str, int]:
    """Split ``total`` people into strata by the largest-remainder method.

    Why: rounding each share on its own can miss the total by a person or two, and random
    draws would miss the proportions by more than a percentage point on a small register.
    Largest remainder hits every share to within one person and sums exactly to ``total``.

    Raises
    ------
    ValueError
        If ``total`` is negative.
    """
    if total < 0:
        raise ValueError(f"total must be >= 0, got {total}")
    exact = {tier: total * shares[tier] for tier in RISK_TIERS}
    # The epsilon absorbs float error: 466,921 x (3,004 / 466,921) is 3,003.9999...
    counts = {tier: int(value + FLOAT_SLACK) for tier, value in exact.items()}
    short = total - sum(counts.values())
    # Ties broken by the fixed tier order, so the split never depends on dict ordering.
    by_remainder = sorted(RISK_TIERS, key=lambda t: (-(exact[t] - counts[t]), RISK_TIERS.index(t)))
    for tier in by_remainder[:short]:
        counts[tier] += 1
    return counts


def cumulative(weights: Sequence[float]) -> list[float]:
    """Running totals, for ``random.choices(cum_weights=...)`` (faster than re-summing)."""
    total = 0.0
    out = []
    for weight in weights:
        total += weight
        out.append(total)
    return out
