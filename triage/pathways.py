"""NHS Pathways dispositions and the timeframes they carry.

A 111 or 999 call assessed with NHS Pathways ends in a disposition code; the primary care
ones tell us how soon the person must be contacted (CLINICAL.md, "Response standards").
A referral's deadline follows its disposition: when the Pathways timeframe (or an explicit
``pathways_timeframe_minutes``) is shorter than ours, it tightens our deadline, and a
timeframe of two hours or less makes the referral at least an urgent two-hour response.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from triage.timing import RESPONSE_WINDOWS

__all__ = ["PATHWAYS_TIMEFRAMES", "category_for_timeframe", "pathways_timeframe"]

# Dx05/06/07/08: contact a primary care service within 2/6/12/24 hours.
PATHWAYS_TIMEFRAMES: Mapping[str, int] = MappingProxyType(
    {"Dx05": 120, "Dx06": 360, "Dx07": 720, "Dx08": 1440}
)
_MINUTE = 60


def pathways_timeframe(code: str | None, explicit_minutes: int | None) -> int | None:
    """The tightest timeframe in minutes the Pathways disposition asks for, if any.

    Parameters
    ----------
    code
        A Pathways disposition code such as ``"Dx05"``; codes not in our table carry no
        timeframe of their own.
    explicit_minutes
        A timeframe sent with the referral, which may be shorter than the code's.

    Returns
    -------
    int or None
        The shorter of the two, or None when neither gives one.
    """
    candidates = [m for m in (PATHWAYS_TIMEFRAMES.get(code or ""), explicit_minutes) if m]
    return min(candidates) if candidates else None


def category_for_timeframe(minutes: int) -> str:
    """The least urgent community category whose window fits inside the timeframe.

    Two hours or less is ``urgent_2h``; up to a day ``response_24h``; longer ``planned``.
    """
    if minutes * _MINUTE <= RESPONSE_WINDOWS["urgent_2h"].total_seconds():
        return "urgent_2h"
    if minutes * _MINUTE <= RESPONSE_WINDOWS["response_24h"].total_seconds():
        return "response_24h"
    return "planned"
