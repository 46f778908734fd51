"""How staff behave in the field: answering offers, travelling, visiting, going off sick.

Every draw comes from its own ``random.Random`` keyed by the seed and what it is about (the
visit, the worker, the offer number), never from one shared stream. So the two policies meet
the same luck where they meet the same situation: visit 17 takes as long under either policy,
and the worker who is off sick falls ill at the same minute. String seeds are hashed with
SHA-512 by ``random``, so they do not depend on ``PYTHONHASHSEED``.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from dispatch.simulation.types import FieldSettings

ACCEPT: Final = "accept"
DECLINE: Final = "decline"
NO_ANSWER: Final = "no_answer"
DECLINE_REASONS: Final = ("stuck at a visit", "running late", "not my area", "too far",
                          "no car today")
#: Outcomes of a finished visit and their shares; ``visit_completed`` is the DONE reply.
OUTCOMES: Final = (("visit_completed", 0.92), ("admitted_to_hospital", 0.03),
                   ("escalated_to_gp", 0.03), ("no_access", 0.02))
#: A worker falls ill no sooner than this after the start and no later than this before the end.
SICK_MARGIN: Final = timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class Reply:
    """A worker's answer to one offer: what and after how long."""

    kind: str
    delay: timedelta
    reason: str | None = None


def _rng(seed: int, *key: object) -> random.Random:
    return random.Random(":".join(["sim-field", str(seed), *map(str, key)]))


def _lognormal(rng: random.Random, median: float, sigma: float) -> float:
    return median * math.exp(rng.gauss(0.0, sigma)) if sigma > 0 else median


def offer_reply(settings: FieldSettings, seed: int, visit_id: int, staff_id: int,
                attempt: int) -> Reply:
    """Accept, decline (with a reason) or never answer, after a log-normal delay."""
    rng = _rng(seed, "reply", visit_id, staff_id, attempt)
    draw = rng.random()
    delay = timedelta(minutes=_lognormal(rng, settings.reply_median_minutes,
                                         settings.reply_sigma))
    if draw < settings.accept:
        return Reply(ACCEPT, delay)
    if draw < settings.accept + settings.decline:
        return Reply(DECLINE, delay, rng.choice(DECLINE_REASONS))
    return Reply(NO_ANSWER, delay)


def travel_seconds(settings: FieldSettings, seed: int, model_seconds: float, visit_id: int,
                   staff_id: int) -> float:
    """The actual journey: the travel model's time with log-normal noise (median = model)."""
    rng = _rng(seed, "travel", visit_id, staff_id)
    return _lognormal(rng, model_seconds, settings.travel_sigma)


def visit_seconds(settings: FieldSettings, seed: int, planned_minutes: int,
                  visit_id: int) -> float:
    """Time on site: the planned length with log-normal noise, at least 10 minutes."""
    rng = _rng(seed, "duration", visit_id)
    return max(600.0, _lognormal(rng, planned_minutes * 60.0, settings.duration_sigma))


def outcome(seed: int, visit_id: int) -> str:
    """How the visit ended (mostly completed; a few admissions, GP escalations, no access)."""
    rng = _rng(seed, "outcome", visit_id)
    return rng.choices([o for o, _ in OUTCOMES], weights=[w for _, w in OUTCOMES])[0]


def sickness(settings: FieldSettings, seed: int,
             shifts: Sequence[tuple[int, datetime, datetime]]) -> dict[int, datetime]:
    """Shift id -> the moment its worker goes off sick, for the unlucky few."""
    out: dict[int, datetime] = {}
    for shift_id, start, end in shifts:
        rng = _rng(seed, "sick", shift_id)
        if rng.random() >= settings.sick_per_shift:
            continue
        first, last = start + SICK_MARGIN, end - SICK_MARGIN
        if last <= first:
            continue
        span = (last - first).total_seconds()
        out[shift_id] = first + timedelta(seconds=int(rng.uniform(0, span)))
    return out
