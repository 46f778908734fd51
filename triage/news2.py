"""National Early Warning Score 2 (Royal College of Physicians, 2017, Chart 1).

Each parameter is scored from a band table copied from the chart, so the code can be
checked line by line against the published chart. Each table is a tuple of
``(highest value in the band, score)`` in ascending order, with the score for values above
the last band given separately.

Rules we follow, all from the RCP publication or CLINICAL.md:

- SpO2 scale 2 is used only when the observations say so (confirmed hypercapnic respiratory
  failure, chosen by a clinician); otherwise scale 1.
- A parameter that was not recorded is listed in ``missing`` and never guessed. On scale 2
  an SpO2 of 93% or more scores 0 on air but 1-3 on oxygen. If we are not told whether the
  person is on oxygen, the reading is scored conservatively: the higher of its two possible
  scores, i.e. the on-oxygen score (issue 13, H-005). It is named in ``conservative`` and the
  reasons say so; "air or oxygen" itself stays missing (its 2 points are not guessed). Before
  this, such a reading was dropped, and a scale-2 SpO2 alone gave "No NEWS2 observations".
- Temperatures are charted to one decimal place. A reading with more decimals is first
  rounded to one decimal, half up, as a one-decimal thermometer display would show it
  (35.05 -> 35.1 scores 1; 38.05 -> 38.1 scores 1; 35.04 -> 35.0 scores 3). We round the
  decimal text of the number (``Decimal(str(t))``), so binary float error cannot move a
  reading across a band edge.
- NEWS2 is for adults (16 and over); the caller decides not to score children.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from triage.types import NEWS2_MAX_PART, NEWS2_PARAMETERS, News2Score, Observations

__all__ = [
    "ADULT_AGE",
    "CONSCIOUSNESS_SCORES",
    "HIGH_THRESHOLD",
    "MEDIUM_THRESHOLD",
    "OXYGEN_SCORE",
    "PULSE_BANDS",
    "RESPIRATION_RATE_BANDS",
    "SPO2_SCALE1_BANDS",
    "SPO2_SCALE2_BANDS",
    "SPO2_SCALE2_OXYGEN_BANDS",
    "SYSTOLIC_BP_BANDS",
    "TEMPERATURE_BANDS",
    "news2_band",
    "round_temperature",
    "score_consciousness",
    "score_news2",
    "score_on_oxygen",
    "score_pulse",
    "score_respiration_rate",
    "score_spo2",
    "score_spo2_conservative",
    "score_systolic_bp",
    "score_temperature",
]

Bands = tuple[tuple[float, int], ...]

ADULT_AGE = 16
# Aggregate thresholds (RCP 2017): 5-6 medium (urgent response), 7+ high (emergency).
MEDIUM_THRESHOLD = 5
HIGH_THRESHOLD = 7

# <=8: 3, 9-11: 1, 12-20: 0, 21-24: 2, >=25: 3
RESPIRATION_RATE_BANDS: Bands = ((8, 3), (11, 1), (20, 0), (24, 2))
RESPIRATION_RATE_ABOVE = 3
# Scale 1: <=91: 3, 92-93: 2, 94-95: 1, >=96: 0
SPO2_SCALE1_BANDS: Bands = ((91, 3), (93, 2), (95, 1))
SPO2_SCALE1_ABOVE = 0
# Scale 2, up to the 88-92% target range: <=83: 3, 84-85: 2, 86-87: 1, 88-92: 0
SPO2_SCALE2_BANDS: Bands = ((83, 3), (85, 2), (87, 1), (92, 0))
SPO2_SCALE2_TARGET_MAX = 92
# Scale 2 above the target range: 0 on air; on oxygen 93-94: 1, 95-96: 2, >=97: 3
SPO2_SCALE2_OXYGEN_BANDS: Bands = ((94, 1), (96, 2))
SPO2_SCALE2_OXYGEN_ABOVE = 3
SPO2_SCALE2_AIR_ABOVE = 0
# "Air or oxygen": oxygen 2, air 0
OXYGEN_SCORE = 2
# <=90: 3, 91-100: 2, 101-110: 1, 111-219: 0, >=220: 3
SYSTOLIC_BP_BANDS: Bands = ((90, 3), (100, 2), (110, 1), (219, 0))
SYSTOLIC_BP_ABOVE = 3
# <=40: 3, 41-50: 1, 51-90: 0, 91-110: 1, 111-130: 2, >=131: 3
PULSE_BANDS: Bands = ((40, 3), (50, 1), (90, 0), (110, 1), (130, 2))
PULSE_ABOVE = 3
# ACVPU: alert 0; new confusion, voice, pain, unresponsive 3
CONSCIOUSNESS_SCORES = {"alert": 0, "new_confusion": 3, "voice": 3, "pain": 3, "unresponsive": 3}
# <=35.0: 3, 35.1-36.0: 1, 36.1-38.0: 0, 38.1-39.0: 1, >=39.1: 2
TEMPERATURE_BANDS: Bands = ((35.0, 3), (36.0, 1), (38.0, 0), (39.0, 1))
TEMPERATURE_ABOVE = 2
TEMPERATURE_DECIMALS = Decimal("0.1")


def _band_score(value: float, bands: Bands, above: int) -> int:
    for highest, score in bands:
        if value <= highest:
            return score
    return above


def score_respiration_rate(rate: int) -> int:
    """Score a respiration rate (breaths per minute) on the NEWS2 chart."""
    return _band_score(rate, RESPIRATION_RATE_BANDS, RESPIRATION_RATE_ABOVE)


def score_spo2(spo2: int, *, scale: int = 1, on_oxygen: bool | None = None) -> int | None:
    """Score an oxygen saturation (%) on SpO2 scale 1 or 2.

    Parameters
    ----------
    spo2
        Saturation in percent.
    scale
        1 (default) or 2 (hypercapnic respiratory failure, chosen by a clinician).
    on_oxygen
        Whether the person is on supplemental oxygen; only matters on scale 2 above 92%.

    Returns
    -------
    int or None
        The score, or None when scale 2 needs to know about oxygen and we were not told.
    """
    if scale == 1:
        return _band_score(spo2, SPO2_SCALE1_BANDS, SPO2_SCALE1_ABOVE)
    if spo2 <= SPO2_SCALE2_TARGET_MAX:
        return _band_score(spo2, SPO2_SCALE2_BANDS, SPO2_SCALE2_AIR_ABOVE)
    if on_oxygen is None:
        return None
    if not on_oxygen:
        return SPO2_SCALE2_AIR_ABOVE
    return _band_score(spo2, SPO2_SCALE2_OXYGEN_BANDS, SPO2_SCALE2_OXYGEN_ABOVE)


def score_spo2_conservative(spo2: int, *, scale: int = 1) -> int:
    """The highest score an SpO2 could have on air or on oxygen (oxygen not stated).

    On scale 1 oxygen does not change the SpO2 score; on scale 2 above the target range the
    on-oxygen score (1-3) is always at least the on-air score (0).
    """
    on_air = score_spo2(spo2, scale=scale, on_oxygen=False)
    on_oxygen = score_spo2(spo2, scale=scale, on_oxygen=True)
    assert on_air is not None and on_oxygen is not None  # oxygen was stated both times
    return max(on_air, on_oxygen)


def score_on_oxygen(on_oxygen: bool) -> int:
    """Score the "air or oxygen" parameter: supplemental oxygen scores 2, air 0."""
    return OXYGEN_SCORE if on_oxygen else 0


def score_systolic_bp(systolic: int) -> int:
    """Score a systolic blood pressure (mmHg) on the NEWS2 chart."""
    return _band_score(systolic, SYSTOLIC_BP_BANDS, SYSTOLIC_BP_ABOVE)


def score_pulse(pulse: int) -> int:
    """Score a pulse (beats per minute) on the NEWS2 chart."""
    return _band_score(pulse, PULSE_BANDS, PULSE_ABOVE)


def score_consciousness(level: str) -> int:
    """Score ACVPU consciousness: anything but alert (including new confusion) scores 3."""
    return CONSCIOUSNESS_SCORES[level]


def round_temperature(celsius: float) -> Decimal:
    """Round a temperature to the chart's one decimal place, half up (see module notes)."""
    return Decimal(str(celsius)).quantize(TEMPERATURE_DECIMALS, rounding=ROUND_HALF_UP)


def score_temperature(celsius: float) -> int:
    """Score a temperature (degrees Celsius) after rounding it to one decimal place."""
    rounded = round_temperature(celsius)
    for highest, score in TEMPERATURE_BANDS:
        if rounded <= Decimal(str(highest)):
            return score
    return TEMPERATURE_ABOVE


def news2_band(total: int, any_single_three: bool) -> str:
    """Clinical risk band: 7+ high, 5-6 medium, a single 3 low-medium, else low (RCP 2017)."""
    if total >= HIGH_THRESHOLD:
        return "high"
    if total >= MEDIUM_THRESHOLD:
        return "medium"
    if any_single_three:
        return "low_medium"
    return "low"


def _parts(obs: Observations) -> tuple[dict[str, int], tuple[str, ...]]:
    """Score each recorded parameter; also name those scored conservatively."""
    parts: dict[str, int] = {}
    conservative: tuple[str, ...] = ()
    if obs.respiration_rate is not None:
        parts["respiration_rate"] = score_respiration_rate(obs.respiration_rate)
    if obs.spo2 is not None:
        spo2 = score_spo2(obs.spo2, scale=obs.spo2_scale, on_oxygen=obs.on_oxygen)
        if spo2 is None:  # scale 2, above the target range, oxygen not stated
            spo2 = score_spo2_conservative(obs.spo2, scale=obs.spo2_scale)
            conservative = ("spo2",)
        parts["spo2"] = spo2
    if obs.on_oxygen is not None:
        parts["on_oxygen"] = score_on_oxygen(obs.on_oxygen)
    if obs.systolic_bp is not None:
        parts["systolic_bp"] = score_systolic_bp(obs.systolic_bp)
    if obs.pulse is not None:
        parts["pulse"] = score_pulse(obs.pulse)
    if obs.consciousness is not None:
        parts["consciousness"] = score_consciousness(obs.consciousness)
    if obs.temperature is not None:
        parts["temperature"] = score_temperature(obs.temperature)
    return parts, conservative


def score_news2(obs: Observations) -> News2Score:
    """Score whatever observations were recorded and list the ones that were not.

    Parameters
    ----------
    obs
        The observations; any subset may be present.

    Returns
    -------
    News2Score
        Total of the scored parts, the parts by parameter name (input key names), the
        missing parameters in chart order, the risk band, whether any part scored 3 and
        which parts were scored conservatively.
    """
    parts, conservative = _parts(obs)
    missing = tuple(p for p in NEWS2_PARAMETERS if p not in parts)
    total = sum(parts.values())
    single_three = any(score == NEWS2_MAX_PART for score in parts.values())
    return News2Score(
        total=total,
        parts=parts,
        missing=missing,
        band=news2_band(total, single_three),
        any_single_three=single_three,
        scale=obs.spo2_scale,
        conservative=conservative,
    )
