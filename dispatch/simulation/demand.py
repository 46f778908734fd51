"""The demand of a simulated day: who is referred, when, and with what needs.

Pure (no database, no clock): patients come in as plain tuples and the draws come from a
``random.Random`` seeded with the run's seed, so a seed always gives the same referrals.

Where the default volume comes from (seeds/002, tri-borough risk strata, 2010/11)
---------------------------------------------------------------------------------
The strata table gives non-elective (emergency) hospital admissions per head a year of 2.9
(very high risk, 3,004 people), 0.9 (high, 25,535) and 0.3 (moderate, 74,815); the two lower
strata round to 0.0. That is 8,712 + 22,982 + 22,445 = 54,139 emergency admissions a year from
the top three strata, about **148 a day**. The business case's "what if" scenario removes
25-40 % of them by responding at home in a crisis; the midpoint (32.5 %) is **48 crises a
day** that an urgent 2-hour response has to catch. Urgent 2-hour work is about 40 % of a
rapid-response service's referrals in the mix below (the rest are 24-hour and planned
visits, some signposting and some calls that turn out to need 999), which gives the default
of **120 referrals a day**. The lower strata, whose rounded rate is 0.0, are given 0.02 and
0.005 admissions a head (our assumption) so that some referrals come from them too.

Which patient is referred is weighted by those admission rates (:data:`TIER_RATES`), so most
referrals come from the top three strata as the business case expects. The volume is for the
whole tri-borough whatever the size of the loaded register (``--patients`` only sets how many
people referrals are drawn from). The hourly profile (:data:`HOURLY_WEIGHTS`) is our
judgement of a community crisis service: a morning peak (carers and GPs finding people in
trouble), a dip after lunch and a second, smaller peak in the early evening.

Needs follow tier and frailty: the category mix is more urgent higher up the pyramid
(:data:`CATEGORY_MIX`), and falls, confusion and loss of mobility are far more common in
frail people (:func:`_need_weights`). Skills and visit length then come from triage itself.
"""

from __future__ import annotations

import dataclasses
import math
import random
from collections.abc import Mapping, Sequence
from datetime import date, datetime, time, timedelta
from typing import Final, NamedTuple

from dispatch.config import LONDON
from dispatch.simulation import mix as mixes
from dispatch.simulation.types import ReferralSpec

#: Emergency admissions per head a year by stratum (seeds/002; the last two are assumptions).
TIER_RATES: Final[Mapping[str, float]] = {
    "very_high": 2.9, "high": 0.9, "moderate": 0.3, "low": 0.02, "very_low": 0.005,
}  # fmt: skip
#: Stratum sizes of the tri-borough register (seeds/002).
TIER_POPULATION: Final[Mapping[str, int]] = {
    "very_high": 3_004, "high": 25_535, "moderate": 74_815, "low": 185_783, "very_low": 177_783,
}  # fmt: skip
DAYS_PER_YEAR: Final = 365.0
#: The strata whose admissions the volume is derived from (the lower two round to 0.0).
TOP_STRATA: Final = ("very_high", "high", "moderate")
#: Share of emergency admissions a crisis response could avoid (midpoint of 25-40 %).
AVOIDABLE_SHARE: Final = 0.325
#: Share of the mix below that is urgent 2-hour work (weighted by :data:`TIER_RATES`).
URGENT_SHARE: Final = 0.40

#: Relative referral rate by hour of the day (Europe/London); hours not listed get 1.
HOURLY_WEIGHTS: Final[Mapping[int, float]] = {
    7: 4, 8: 7, 9: 10, 10: 10, 11: 9, 12: 7, 13: 6, 14: 6, 15: 6, 16: 7, 17: 8, 18: 8,
    19: 6, 20: 4, 21: 3,
}  # fmt: skip

#: (urgent_2h, response_24h, planned, signpost, emergency_999) probabilities by stratum.
CATEGORY_MIX: Final[Mapping[str, tuple[float, float, float, float, float]]] = {
    "very_high": (0.48, 0.32, 0.08, 0.04, 0.08),
    "high": (0.42, 0.36, 0.11, 0.05, 0.06),
    "moderate": (0.36, 0.40, 0.13, 0.06, 0.05),
    "low": (0.30, 0.40, 0.14, 0.11, 0.05),
    "very_low": (0.25, 0.40, 0.15, 0.15, 0.05),
}
CATEGORY_ORDER: Final = ("urgent_2h", "response_24h", "planned", "signpost", "emergency_999")

URGENT_NEEDS: Final[Mapping[str, float]] = {
    "fall_no_injury": 26, "sudden_confusion": 18, "loss_of_mobility": 10, "urgent_catheter": 9,
    "urgent_continence": 7, "urgent_diabetes": 5, "carer_breakdown": 5,
    "end_of_life_crisis": 4, "urgent_equipment": 6, "urgent_reablement": 10,
}  # fmt: skip
DAY_NEEDS: Final[Mapping[str, float]] = {
    "wound_care": 30, "medication_support": 20, "personal_care": 18, "insulin_administration": 12,
    "catheter_care": 12, "iv_therapy": 8,
}  # fmt: skip
PLANNED_NEEDS: Final[Mapping[str, float]] = {
    "care_package_review": 3, "falls_prevention": 3, "equipment_review": 2,
    "medication_review": 3,
}  # fmt: skip
SIGNPOST_NEEDS: Final = ("social_isolation", "benefits_or_housing_advice", "carer_information")
#: District nursing work already booked for the day (received yesterday, due today).
BOOKED_NEEDS: Final[Mapping[str, float]] = {
    "wound_care": 35, "insulin_administration": 25, "catheter_care": 20,
    "medication_support": 20,
}  # fmt: skip
#: Home care already booked for the day: the calls of the hybrid health and social care
#: workers, who "provide integrated community and home care services for the top two risk
#: strata" (seeds/002). Without them the booked day was district nursing only, so nurses'
#: days filled while the hybrid workers stood idle and every urgent clinical assessment
#: found its nurses busy (issue 17's measurements).
#: A call's needs and their weights: triage sets its length (45, 45 + 15 and 20 minutes).
HOME_CARE_CALLS: Final[Mapping[tuple[str, ...], float]] = {
    ("personal_care",): 40, ("personal_care", "medication_support"): 40,
    ("medication_support",): 20,
}  # fmt: skip
HOME_CARE_TIERS: Final = ("very_high", "high")
#: Share of the booked visits that are home care (our assumption: the top two strata are
#: 6 % of the register but most of a community service's daily calls: several calls a day
#: for many of them, where a district nursing visit comes every few days). At the normal
#: day's 440 booked visits, about 374 calls for some 1,200 top-tier people of the demo's
#: 20,000 (issue 17; it was 0.5 of 60).
HOME_CARE_SHARE: Final = 0.85
#: When a home care call is booked for (London times, start and end of its window) and how
#: the calls spread over the four rounds of a home care day (our assumption, the usual
#: morning, lunch, tea and evening calls). A district nursing visit is due at the hour it was
#: booked and may be made any time before; a care call is made in its round's window
#: (``dispatch.services.bookings.book_later_start``), so the evening round falls to the late
#: shift instead of every call landing on the morning's workers.
CALL_ROUNDS: Final[Mapping[tuple[time, time], float]] = {
    (time(7, 0), time(11, 0)): 25, (time(11, 0), time(14, 30)): 25,
    (time(14, 30), time(18, 0)): 25, (time(18, 0), time(22, 0)): 25,
}  # fmt: skip
SOURCES: Final[Mapping[str, float]] = {
    "111": 35, "gp": 25, "out_of_hours": 8, "999": 7, "hospital_discharge": 10,
    "social_care": 8, "self_or_carer": 7,
}  # fmt: skip
EMERGENCY_FLAGS: Final = ("chest_pain", "stroke_symptoms", "severe_breathlessness",
                          "fall_with_serious_injury", "sepsis_suspected")
#: Frailty from which falls, confusion and immobility become much more likely.
FRAIL_FROM: Final = 6
FRAIL_NEED_FACTOR: Final = 2.5
#: Share of urgent referrals whose observations score a single 3 or NEWS2 5-6.
ABNORMAL_OBS_SHARE: Final = 0.15


class PatientInfo(NamedTuple):
    """What demand needs to know about a registered patient."""

    id: int
    risk_tier: str
    frailty: int | None
    conditions: tuple[str, ...]


def default_daily_referrals() -> float:
    """The derivation in the module docstring, as arithmetic (about 120)."""
    admissions = sum(TIER_RATES[t] * TIER_POPULATION[t] for t in TOP_STRATA) / DAYS_PER_YEAR
    return admissions * AVOIDABLE_SHARE / URGENT_SHARE


def generate_day(
    *, seed: int, day: date, patients: Sequence[PatientInfo], referrals: float, booked: int,
    arrivals_from: time, arrivals_until: time, day_start: time, double_handed: float = 0.0,
    mix: mixes.Mix | None = None,
) -> list[ReferralSpec]:
    """The booked referrals (at ``day_start``, received yesterday) then the day's arrivals.

    Arrivals are a Poisson process per hour with rates in proportion to
    :data:`HOURLY_WEIGHTS`, scaled so that ``referrals`` arrive on average in the window.
    ``mix`` sets the overall shares of the arrivals' categories (:mod:`.mix`); None keeps
    :data:`CATEGORY_MIX`.

    Raises
    ------
    ValueError
        If there are no patients to refer.
    """
    if not patients:
        raise ValueError("no patients to refer")
    # Two streams: the booked load must not reshuffle the day's arrivals (one stream made a
    # day with 440 booked visits and the same seed with 480 different days).
    rng = random.Random(f"sim-demand:{seed}")
    booked_rng = random.Random(f"sim-booked:{seed}")
    by_tier = _patients_by_tier(patients)
    categories = category_mix(mix)
    start = datetime.combine(day, day_start, tzinfo=LONDON)
    specs = [_booked(booked_rng, i, start, day, by_tier) for i in range(booked)]
    hours = _hours(day, arrivals_from, arrivals_until)
    total_weight = sum(HOURLY_WEIGHTS.get(h.hour, 1.0) * share for h, share in hours)
    for hour_start, share in hours:
        mean = referrals * HOURLY_WEIGHTS.get(hour_start.hour, 1.0) * share / total_weight
        times = sorted(hour_start + timedelta(seconds=rng.uniform(0, 3600 * share))
                       for _ in range(_poisson(rng, mean)))
        for at in times:
            specs.append(_arrival(rng, len(specs), at.replace(microsecond=0), by_tier,
                                  categories))
    return [_two_person(spec, seed, double_handed) for spec in specs] if double_handed \
        else specs


def tier_weights() -> dict[str, float]:
    """How likely a referral comes from each stratum (admission rate times its size)."""
    return {t: TIER_RATES[t] * TIER_POPULATION[t] for t in TIER_RATES}


def default_mix() -> dict[str, float]:
    """The overall category shares of :data:`CATEGORY_MIX` (urgent about 40 %)."""
    return mixes.overall(CATEGORY_MIX, tier_weights())


def resolve_mix(given: Mapping[str, float]) -> mixes.Mix:
    """A partial mix completed with the default's proportions. :raise MixError:"""
    return mixes.complete(given, default_mix())


def category_mix(mix: mixes.Mix | None) -> Mapping[str, tuple[float, ...]]:
    """Per-stratum category probabilities for ``mix`` (:data:`CATEGORY_MIX` for None)."""
    if mix is None:
        return CATEGORY_MIX
    return mixes.fit(mix, CATEGORY_MIX, tier_weights())


def _two_person(spec: ReferralSpec, seed: int, share: float) -> ReferralSpec:
    """``spec`` as a two-person hoist transfer with probability ``share`` when it is a
    day-response referral (issue 15). Drawn from its own stream keyed by the referral, so
    every other draw of the day is the same with or without double-handed visits."""
    if spec.booked or len(spec.needs) != 1 or spec.needs[0] not in DAY_NEEDS:
        return spec
    if random.Random(f"sim-double:{seed}:{spec.index}").random() >= share:
        return spec
    return dataclasses.replace(spec, needs=("hoist_transfer",))


def _hours(day: date, first: time, last: time) -> list[tuple[datetime, float]]:
    """Hour slots covering ``first..last`` with the share of each hour inside the window."""
    begin = datetime.combine(day, first, tzinfo=LONDON)
    end = datetime.combine(day, last, tzinfo=LONDON)
    slots = []
    cursor = begin
    while cursor < end:
        nxt = min(end, cursor.replace(minute=0, second=0) + timedelta(hours=1))
        slots.append((cursor, (nxt - cursor).total_seconds() / 3600))
        cursor = nxt
    return slots


def _poisson(rng: random.Random, mean: float) -> int:
    """Knuth's method (means here are small, well under 30)."""
    limit, count, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count


def _patients_by_tier(patients: Sequence[PatientInfo]) -> dict[str, list[PatientInfo]]:
    out: dict[str, list[PatientInfo]] = {}
    for p in patients:
        out.setdefault(p.risk_tier, []).append(p)
    return out


def _pick_patient(rng: random.Random, by_tier: Mapping[str, list[PatientInfo]]) -> PatientInfo:
    tiers = [t for t in TIER_RATES if by_tier.get(t)]
    weights = [TIER_RATES[t] * TIER_POPULATION[t] for t in tiers]
    tier = rng.choices(tiers, weights=weights)[0]
    return rng.choice(by_tier[tier])


def _weighted(rng: random.Random, weights: Mapping[str, float]) -> str:
    names = list(weights)
    return rng.choices(names, weights=[weights[n] for n in names])[0]


def _booked(rng: random.Random, index: int, start: datetime, day: date,
            by_tier: Mapping[str, list[PatientInfo]]) -> ReferralSpec:
    """A visit booked yesterday: a home care call in one of today's rounds for a patient of
    the top two strata (:data:`HOME_CARE_SHARE`, :data:`CALL_ROUNDS`), else district nursing
    booked 08:00-18:00, so due today at that time."""
    home_care = {t: by_tier[t] for t in HOME_CARE_TIERS if by_tier.get(t)}
    if home_care and rng.random() < HOME_CARE_SHARE:
        calls, rounds = list(HOME_CARE_CALLS), list(CALL_ROUNDS)
        patient = _pick_patient(rng, home_care)
        needs = rng.choices(calls, weights=[HOME_CARE_CALLS[c] for c in calls])[0]
        opens, closes = rng.choices(rounds, weights=[CALL_ROUNDS[r] for r in rounds])[0]
        # Received yesterday at the round's close: due (24 hours) as the round ends today.
        received = datetime.combine(day - timedelta(days=1), closes, tzinfo=LONDON)
        return ReferralSpec(index, received, patient.id, "social_care", needs, booked=True,
                            start_from=datetime.combine(day, opens, tzinfo=LONDON))
    patient = _pick_patient(rng, by_tier)
    received = datetime.combine(day - timedelta(days=1), time(8, 0), tzinfo=LONDON)
    received += timedelta(minutes=rng.randrange(0, 10 * 60, 5))
    return ReferralSpec(index, received, patient.id, "gp", (_weighted(rng, BOOKED_NEEDS),),
                        booked=True)


def _arrival(rng: random.Random, index: int, at: datetime,
             by_tier: Mapping[str, list[PatientInfo]],
             categories: Mapping[str, tuple[float, ...]] = CATEGORY_MIX) -> ReferralSpec:
    patient = _pick_patient(rng, by_tier)
    category = rng.choices(CATEGORY_ORDER, weights=categories[patient.risk_tier])[0]
    source = _weighted(rng, SOURCES)
    if category == "emergency_999":
        if rng.random() < 0.5:
            return ReferralSpec(index, at, patient.id, source, (_weighted(rng, URGENT_NEEDS),),
                                (rng.choice(EMERGENCY_FLAGS),))
        return ReferralSpec(index, at, patient.id, source, (), (), _high_news2(rng))
    if category == "signpost":
        return ReferralSpec(index, at, patient.id, source, (rng.choice(SIGNPOST_NEEDS),))
    if category == "planned":
        return ReferralSpec(index, at, patient.id, source, (_weighted(rng, PLANNED_NEEDS),))
    if category == "response_24h":
        return ReferralSpec(index, at, patient.id, source, (_weighted(rng, DAY_NEEDS),))
    need = _weighted(rng, _need_weights(patient))
    obs = _abnormal_obs(rng) if rng.random() < ABNORMAL_OBS_SHARE else _normal_obs(rng)
    return ReferralSpec(index, at, patient.id, source, (need,), (), obs)


def _need_weights(patient: PatientInfo) -> dict[str, float]:
    """Urgent needs reweighted by frailty and conditions."""
    weights = dict(URGENT_NEEDS)
    if patient.frailty is not None and patient.frailty >= FRAIL_FROM:
        for code in ("fall_no_injury", "sudden_confusion", "loss_of_mobility"):
            weights[code] *= FRAIL_NEED_FACTOR
    if "dementia" in patient.conditions:
        weights["sudden_confusion"] *= FRAIL_NEED_FACTOR
    if "diabetes" not in patient.conditions:
        weights["urgent_diabetes"] = 0.0
    if not (patient.frailty == 9 or "cancer" in patient.conditions):
        weights["end_of_life_crisis"] *= 0.1
    return weights


def _normal_obs(rng: random.Random) -> dict[str, object]:
    """Observations that score low (0-4): the crisis is social or functional, not physiological."""
    return {"respiration_rate": rng.randint(14, 20), "spo2": rng.randint(95, 99),
            "on_oxygen": False, "systolic_bp": rng.randint(112, 150),
            "pulse": rng.randint(60, 95), "consciousness": "alert",
            "temperature": round(rng.uniform(36.2, 37.8), 1)}


def _abnormal_obs(rng: random.Random) -> dict[str, object]:
    """NEWS2 of 5-6 (medium): an urgent clinical assessment, still a community response."""
    return {"respiration_rate": rng.choice([21, 22, 23]), "spo2": rng.choice([94, 95]),
            "on_oxygen": False, "systolic_bp": rng.choice([102, 108]),
            "pulse": rng.choice([92, 100]), "consciousness": "alert",
            "temperature": round(rng.uniform(38.1, 38.8), 1)}


def _high_news2(rng: random.Random) -> dict[str, object]:
    """NEWS2 of 7 or more: 999, not a community visit."""
    return {"respiration_rate": rng.choice([25, 27]), "spo2": rng.choice([90, 91]),
            "on_oxygen": False, "systolic_bp": rng.choice([88, 95]),
            "pulse": rng.choice([115, 125]), "consciousness": "alert", "temperature": 39.2}
