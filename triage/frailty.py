"""Clinical Frailty Scale (CFS) version 2.0 (Rockwood et al., Dalhousie University, 2020).

The score describes the person's baseline (about two weeks before the crisis) and is
validated for people aged 65 and over. CLINICAL.md asks us to use it for priority and for the
skills a visit needs; the thresholds below say exactly how.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

__all__ = [
    "CFS_NAMES",
    "CFS_RANGE",
    "FRAILTY_END_OF_LIFE",
    "FRAILTY_PERSONAL_CARE",
    "FRAILTY_PRIORITY_RAISE",
    "check_frailty",
    "frailty_name",
    "frailty_skills",
]

# CFS v2.0 wording.
CFS_NAMES: Mapping[int, str] = MappingProxyType(
    {
        1: "very fit",
        2: "fit",
        3: "managing well",
        4: "living with very mild frailty",
        5: "living with mild frailty",
        6: "living with moderate frailty",
        7: "living with severe frailty",
        8: "living with very severe frailty",
        9: "terminally ill",
    }
)
CFS_RANGE = (1, 9)
# CFS 7 and above: completely dependent for personal care (CFS v2.0 definition), so the
# visit needs someone who can give personal care, and the referral is raised in priority.
FRAILTY_PERSONAL_CARE = 7
FRAILTY_PRIORITY_RAISE = 7
# CFS 9: approaching the end of life (life expectancy under about six months).
FRAILTY_END_OF_LIFE = 9


def check_frailty(value: Any) -> str | None:
    """Say what is wrong with a CFS score, or None when it is a whole number 1-9.

    Parameters
    ----------
    value
        The score as given.

    Returns
    -------
    str or None
        A plain-English reason, without the field name, or None.
    """
    lo, hi = CFS_RANGE
    if isinstance(value, bool) or not isinstance(value, int):
        return f"must be a whole number, got {value!r}"
    if not lo <= value <= hi:
        return f"must be between {lo} and {hi}, got {value}"
    return None


def frailty_name(score: int) -> str:
    """Return the CFS v2.0 name of a score, e.g. 6 -> "living with moderate frailty".

    Raises
    ------
    ValueError
        If the score is not a whole number 1-9.
    """
    problem = check_frailty(score)
    if problem is not None:
        raise ValueError(f"Clinical Frailty Scale score {problem}")
    return CFS_NAMES[score]


def frailty_skills(score: int | None) -> tuple[str, ...]:
    """Skills a visit needs because of the person's frailty alone.

    Severe frailty (CFS 7+) means dependence for personal care; terminal illness (CFS 9)
    means the visit should be by someone with end-of-life care skills.
    """
    if score is None:
        return ()
    skills: list[str] = []
    if score >= FRAILTY_PERSONAL_CARE:
        skills.append("personal_care")
    if score >= FRAILTY_END_OF_LIFE:
        skills.append("end_of_life_care")
    return tuple(skills)
