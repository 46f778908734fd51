"""The referral mix of a simulated day: what share of arrivals is urgent, 24-hour, planned...

A what-if for demand (issue 17 item 5): "next winter, 45 % of referrals are urgent". The
default mix differs by risk stratum (:data:`dispatch.simulation.demand.CATEGORY_MIX`: more
urgent higher up the pyramid); a mix given here sets the **overall** shares of the day's
arrivals and keeps that shape: each category's probability in every stratum is scaled by one
factor per category, fitted (iterative proportional fitting over the strata's referral
weights) so that the overall shares come out as asked. Categories the mix leaves out keep
their default proportions among themselves and share what is left.

Written as ``urgent=0.45,24h=0.3`` (names below, shares 0-1 or percentages ending in ``%``) or
a JSON file holding an object of the same names (``{"urgent": 0.45, "24h": 0.3}``, or that
object under a ``"mix"`` key). Pure: no database, no clock.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

#: The categories a mix may set, by the name people write, and their triage category.
NAMES: Final[Mapping[str, str]] = {
    "urgent": "urgent_2h", "2h": "urgent_2h", "urgent_2h": "urgent_2h",
    "24h": "response_24h", "response_24h": "response_24h", "day": "response_24h",
    "planned": "planned",
    "signpost": "signpost",
    "999": "emergency_999", "emergency": "emergency_999", "emergency_999": "emergency_999",
}  # fmt: skip
CATEGORIES: Final = ("urgent_2h", "response_24h", "planned", "signpost", "emergency_999")
#: How far a full mix may be from summing to 1 (rounding in what people type).
SUM_TOLERANCE: Final = 0.005
FIT_ROUNDS: Final = 200

#: A mix in canonical form: (category, share) pairs in :data:`CATEGORIES` order, every category
#: present, shares summing to 1. A tuple so that a frozen config holding it stays hashable.
Mix = tuple[tuple[str, float], ...]


class MixError(ValueError):
    """A referral mix that cannot be used; the message names the part at fault and why."""


def parse(text: str) -> dict[str, float]:
    """``urgent=0.45,24h=0.3`` or a JSON file's path -> {category: share} as given.

    :raise MixError: unreadable file, bad syntax, unknown name, share out of range, repeated
        category, or shares summing above 1.
    """
    text = text.strip()
    if not text:
        raise MixError("mix: empty; write e.g. urgent=0.45,24h=0.30 or give a JSON file")
    if "=" not in text:
        return from_json(_read(text))
    given: dict[str, float] = {}
    for part in text.split(","):
        name, sep, value = part.partition("=")
        name, value = name.strip().lower(), value.strip()
        if not sep or not name or not value:
            raise MixError(f"mix: {part.strip()!r} is not NAME=SHARE (e.g. urgent=0.45)")
        given[name] = _share(name, value)
    return canonical_names(given)


def from_json(data: Any) -> dict[str, float]:
    """A mix from a JSON object (or one under ``"mix"``). :raise MixError:"""
    if isinstance(data, Mapping) and isinstance(data.get("mix"), Mapping):
        data = data["mix"]
    if not isinstance(data, Mapping) or not data:
        raise MixError('mix: must be an object of category shares, e.g. {"urgent": 0.45}')
    given: dict[str, float] = {}
    for name, value in data.items():
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            raise MixError(f"mix.{name}: must be a number from 0 to 1")
        given[str(name).strip().lower()] = _share(str(name), str(value))
    return canonical_names(given)


def canonical_names(given: Mapping[str, float]) -> dict[str, float]:
    """People's names -> triage categories, checked. :raise MixError:"""
    out: dict[str, float] = {}
    for name, share in given.items():
        category = NAMES.get(name.strip().lower())
        if category is None:
            raise MixError(f"mix.{name}: unknown category; expected one of "
                           f"urgent (2h), 24h, planned, signpost, 999")
        if category in out:
            raise MixError(f"mix.{name}: {category} given twice")
        if not 0 <= share <= 1:
            raise MixError(f"mix.{name}: must be from 0 to 1 (or 0-100 %), got {share:g}")
        out[category] = share
    total = sum(out.values())
    if total > 1 + SUM_TOLERANCE:
        raise MixError(f"mix: shares add up to {total:.3g}, more than 1")
    if len(out) == len(CATEGORIES) and abs(total - 1) > SUM_TOLERANCE:
        raise MixError(f"mix: every category given but shares add up to {total:.3g}, not 1")
    return out


def complete(given: Mapping[str, float], default: Mapping[str, float]) -> Mix:
    """Every category's overall share: ``given`` ones as they are, the others sharing what is
    left in their ``default`` proportions. :raise MixError: nothing left to share.
    """
    given = canonical_names(given)
    rest = [c for c in CATEGORIES if c not in given]
    left = max(0.0, 1.0 - sum(given.values()))
    rest_weight = sum(default[c] for c in rest)
    shares = dict(given)
    for category in rest:
        shares[category] = left * default[category] / rest_weight if rest_weight else 0.0
    total = sum(shares.values())
    if total <= 0:
        raise MixError("mix: every share is 0")
    return tuple((c, round(shares[c] / total, 6)) for c in CATEGORIES)


def overall(by_tier: Mapping[str, tuple[float, ...]],
            tier_weights: Mapping[str, float]) -> dict[str, float]:
    """The overall share of each category given per-stratum mixes and stratum weights."""
    total = sum(tier_weights.values())
    return {c: sum(tier_weights[t] * by_tier[t][i] for t in by_tier) / total
            for i, c in enumerate(CATEGORIES)}


def fit(mix: Mix, by_tier: Mapping[str, tuple[float, ...]],
        tier_weights: Mapping[str, float]) -> dict[str, tuple[float, ...]]:
    """Per-stratum category probabilities whose overall shares are ``mix`` (module docstring).

    A category with share 0 gets probability 0 in every stratum; one that the default never
    draws in some stratum stays 0 there.
    """
    target = dict(mix)
    factors = {c: 1.0 for c in CATEGORIES}
    fitted = dict(by_tier)
    for _ in range(FIT_ROUNDS):
        fitted = {}
        for tier, probs in by_tier.items():
            scaled = [p * factors[c] for p, c in zip(probs, CATEGORIES, strict=True)]
            norm = sum(scaled) or 1.0
            fitted[tier] = tuple(s / norm for s in scaled)
        now = overall(fitted, tier_weights)
        if all(abs(now[c] - target[c]) < 1e-6 for c in CATEGORIES):
            break
        for c in CATEGORIES:
            if target[c] == 0:
                factors[c] = 0.0
            elif now[c] > 0:
                factors[c] *= target[c] / now[c]
    return fitted


def describe(mix: Mix | None) -> str:
    """``urgent 45%, 24h 30%, ...`` (for progress lines and pages); "default" for None."""
    if mix is None:
        return "default"
    short = {"urgent_2h": "urgent", "response_24h": "24h", "planned": "planned",
             "signpost": "signpost", "emergency_999": "999"}
    return ", ".join(f"{short[c]} {s:.0%}" for c, s in mix)


def to_json(mix: Mix | None) -> dict[str, float] | None:
    """{category: share} for JSON output, None for the default mix."""
    return None if mix is None else {c: s for c, s in mix}


def _share(name: str, value: str) -> float:
    text = value.strip()
    percent = text.endswith("%")
    try:
        share = float(text.rstrip("%").strip())
    except ValueError as exc:
        raise MixError(f"mix.{name}: {value!r} is not a number") from exc
    if share != share or share in (float("inf"), float("-inf")):
        raise MixError(f"mix.{name}: {value!r} is not a number")
    return share / 100 if percent else share


def _read(path: str) -> Any:
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise MixError(f"mix: cannot read {path!r} ({exc.strerror or exc}); write "
                       f"NAME=SHARE pairs (urgent=0.45,24h=0.30) or give a JSON file") from exc
    except ValueError as exc:
        raise MixError(f"mix: {path} is not valid JSON ({exc})") from exc
