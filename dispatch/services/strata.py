"""Risk tiers that shape who serves whom (issue 17 item 1), and the seeds' per-capita costs.

The seeds' commissioning model (seeds/002, "A multi disciplinary system operating through
provider networks"): multi-skilled **hybrid** health and social care workers provide community
and home care "for the top two risk strata (very high and high risk patients, i.e. ~5 % of the
total population)"; **one care coordinator for each network covers the top three risk
strata** ("i.e. 20 % of total population"). So, per network, with these defaults:

- ``hybrid_tiers``: the tiers a hybrid worker may be sent to (very high, high). Other field
  roles (nurses, therapists, social workers) serve every tier. The planner passes the tier as
  the routing visit's eligibility group and the tiers as the hybrid shift's ``serves``
  (routing stays pure); manual assignment refuses outright (never "assign anyway").
- ``coordinated_tiers``: the tiers whose patients each need a named care coordinator
  (caseload pages and API flag those without one).
- ``planned_priority``: the priority of a planned (care package) visit by the patient's tier:
  the planner serves the higher tiers first when it cannot serve everyone. Two levels only:
  4 for the top two tiers (the hybrid workers' people), 5 for the others. Why not one level a
  tier: routing's drop penalties are a strict hierarchy, each level costing more than every
  visit of the levels below together, so every extra level multiplies the penalties by the
  visit count and a week's planned visits over five levels would reach the penalty ceiling,
  where the hierarchy (a 2-hour visit before any planned one) stops being strict; and visits'
  priority is 1 to 5 in the database. Both levels are after a 24-hour response (3).

- ``urgent_any_tier`` (default true): a 2-hour urgent response is exempt, so any worker with
  the skills may take it whatever the patient's tier. Why: measured on the default simulated
  day (seed 1), keeping hybrid workers to the top two tiers for urgent visits too left 5 of 49
  two-hour visits unserved (89.8 % against 100 %): some urgent needs (personal care at a
  crisis, a carer breakdown's social care assessment) are skills only hybrid workers and few
  others hold, and a commissioning rule must not make a person in crisis wait (H-232). A
  network may set it false.

A network changes them through ``PUT /api/networks/{id}/tier-rules`` (audited); a key left
out keeps the default.

Per-capita costs (:data:`PER_CAPITA`): the tri-borough risk strata table (seeds/002, "The risk
stratification overview shows the spend per capita ... per risk strata", 2010/11, Hammersmith
& Fulham, Kensington & Chelsea, Westminster; source as printed there: McKinsey team analysis,
HES 2010/11, FIMS, Q research/NHS Information centre, PSSEX, NHS Reference Costs). Pounds a
head a year, by column: non-elective acute, other acute (elective, outpatient, A&E),
community and primary care, social care, total. 2010/11 prices, not uplifted: they are the
seeds' numbers, used for proportions (budgets, a package's cost against its tier), not as a
price list.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

import sqlalchemy as sa
from sqlalchemy import orm as so

from dispatch.actors import Actor
from dispatch.errors import InvalidInput, NotFound
from dispatch.models import Network, Patient, Staff, Visit
from dispatch.models.practices import COORDINATED_TIERS
from dispatch.models.vocab import RISK_TIERS
from dispatch.services import audit
from rosters.roles import HYBRID_WORKER
from routing.types import PRIORITY_24H, PRIORITY_URGENT_2H

#: Tiers in words, for reasons people read.
TIER_WORDS: Final[Mapping[str, str]] = {
    "very_high": "very high risk", "high": "high risk", "moderate": "moderate risk",
    "low": "low risk", "very_low": "very low risk",
}  # fmt: skip

#: Seeds' defaults (module docstring).
DEFAULT_HYBRID_TIERS: Final = ("very_high", "high")
DEFAULT_COORDINATED_TIERS: Final = COORDINATED_TIERS
DEFAULT_PLANNED_PRIORITY: Final[Mapping[str, int]] = {
    "very_high": 4, "high": 4, "moderate": 5, "low": 5, "very_low": 5,
}  # fmt: skip
#: A planned visit's priority may not reach a 24-hour response's (urgent work first).
MIN_PLANNED_PRIORITY: Final = PRIORITY_24H + 1
#: The lowest visit priority the database holds (``ck_visits_priority``; module docstring).
MAX_PLANNED_PRIORITY: Final = 5


@dataclass(frozen=True)
class PerCapita:
    """One stratum's spend per head a year, whole pounds (seeds/002; module docstring)."""

    non_elective: int
    other_acute: int
    community: int
    social_care: int
    total: int


#: The seeds' risk strata table, per head a year (module docstring for the source).
PER_CAPITA: Final[Mapping[str, PerCapita]] = {
    "very_high": PerCapita(5_991, 1_698, 3_356, 13_357, 24_402),
    "high": PerCapita(1_713, 1_333, 1_336, 3_280, 7_662),
    "moderate": PerCapita(580, 738, 766, 386, 2_471),
    "low": PerCapita(0, 47, 353, 90, 490),
    "very_low": PerCapita(0, 6, 211, 35, 251),
}
WEEKS_PER_YEAR: Final = 52


def social_care_weekly_pence(tier: str) -> int:
    """The seeds' social care spend a head for ``tier``, a week, in pence (£13,357 a year
    for very high risk is £256.87 a week): what a package for such a person costs on average."""
    return round(PER_CAPITA[tier].social_care * 100 / WEEKS_PER_YEAR)


@dataclass(frozen=True)
class TierRules:
    """A network's rules (defaults from the seeds)."""

    hybrid_tiers: frozenset[str]
    coordinated_tiers: frozenset[str]
    planned_priority: Mapping[str, int]
    urgent_any_tier: bool = True

    def applies_to(self, priority: int) -> bool:
        """Whether the tier rule binds a visit of ``priority`` (not a 2-hour one when
        ``urgent_any_tier``)."""
        return not (self.urgent_any_tier and priority <= PRIORITY_URGENT_2H)

    def serves(self, role: str) -> frozenset[str] | None:
        """The tiers a member of ``role`` may be sent to; None: every tier."""
        return self.hybrid_tiers if role == HYBRID_WORKER else None

    def serves_groups(self, role: str) -> frozenset[str] | None:
        """:meth:`serves` as routing eligibility groups (:func:`group_of`)."""
        tiers = self.serves(role)
        return None if tiers is None else frozenset(TIER_GROUPS[t] for t in tiers)

    def refusal(self, role: str, tier: str | None) -> str | None:
        """Why a member of ``role`` may not serve a patient of ``tier`` here, or None."""
        allowed = self.serves(role)
        if allowed is None or tier is None or tier in allowed:
            return None
        return (f"hybrid workers in this network serve {tier_list(allowed)} patients only; "
                f"this patient is {TIER_WORDS.get(tier, tier)}")

    def as_dict(self) -> dict[str, Any]:
        return {"hybrid_tiers": ordered(self.hybrid_tiers),
                "coordinated_tiers": ordered(self.coordinated_tiers),
                "planned_priority": {t: self.planned_priority[t] for t in RISK_TIERS},
                "urgent_any_tier": self.urgent_any_tier}


DEFAULT_RULES: Final = TierRules(frozenset(DEFAULT_HYBRID_TIERS),
                                 frozenset(DEFAULT_COORDINATED_TIERS),
                                 dict(DEFAULT_PLANNED_PRIORITY))


#: The routing eligibility group of a patient of each tier: words, so the planner's reason
#: reads "no one on shift with the skills may serve moderate-risk patients".
TIER_GROUPS: Final[Mapping[str, str]] = {
    tier: words.replace(" risk", "-risk") + " patients" for tier, words in TIER_WORDS.items()}


def group_of(tier: str | None) -> str | None:
    """:data:`TIER_GROUPS` of ``tier`` (None for none)."""
    return None if tier is None else TIER_GROUPS.get(tier, tier)


def ordered(tiers: frozenset[str] | set[str]) -> list[str]:
    """Tiers highest risk first."""
    return [t for t in RISK_TIERS if t in tiers]


def tier_list(tiers: frozenset[str] | set[str]) -> str:
    """``very high and high risk`` (the words, highest first)."""
    words = [TIER_WORDS[t].removesuffix(" risk") for t in ordered(tiers)]
    if not words:
        return "no"
    joined = words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]
    return f"{joined} risk"


def rules_from(raw: Mapping[str, Any] | None) -> TierRules:
    """The rules a stored ``Network.tier_rules`` means (a missing key: the default)."""
    raw = raw or {}
    priority = dict(DEFAULT_PLANNED_PRIORITY)
    priority.update({str(k): int(v) for k, v in (raw.get("planned_priority") or {}).items()})
    return TierRules(
        frozenset(raw["hybrid_tiers"]) if raw.get("hybrid_tiers") is not None
        else DEFAULT_RULES.hybrid_tiers,
        frozenset(raw["coordinated_tiers"]) if raw.get("coordinated_tiers") is not None
        else DEFAULT_RULES.coordinated_tiers,
        priority,
        bool(raw["urgent_any_tier"]) if raw.get("urgent_any_tier") is not None
        else DEFAULT_RULES.urgent_any_tier)


def validate(data: Mapping[str, Any]) -> dict[str, Any]:
    """The stored form of a request's rules. :raise InvalidInput: unknown tiers or keys, a
    priority out of range (field and reason)."""
    errors: dict[str, list[str]] = {}
    out: dict[str, Any] = {}
    for key in data:
        if key not in ("hybrid_tiers", "coordinated_tiers", "planned_priority",
                       "urgent_any_tier"):
            errors[key] = ["unknown field"]
    urgent = data.get("urgent_any_tier")
    if urgent is not None:
        if not isinstance(urgent, bool):
            errors["urgent_any_tier"] = ["must be true or false"]
        else:
            out["urgent_any_tier"] = urgent
    for key in ("hybrid_tiers", "coordinated_tiers"):
        value = data.get(key)
        if value is None:
            continue
        if not isinstance(value, list) or any(t not in RISK_TIERS for t in value):
            errors[key] = [f"must be a list of tiers from: {', '.join(RISK_TIERS)}"]
        else:
            out[key] = ordered(set(value))
    priority = data.get("planned_priority")
    if priority is not None:
        if not isinstance(priority, Mapping):
            errors["planned_priority"] = ["must map tiers to priorities"]
        else:
            bad = [f"{t}: unknown tier" for t in priority if t not in RISK_TIERS]
            bad += [f"{t}: must be a whole number from {MIN_PLANNED_PRIORITY} to "
                    f"{MAX_PLANNED_PRIORITY}" for t, p in priority.items() if t in RISK_TIERS and (
                        isinstance(p, bool) or not isinstance(p, int)
                        or not MIN_PLANNED_PRIORITY <= p <= MAX_PLANNED_PRIORITY)]
            if bad:
                errors["planned_priority"] = bad
            else:
                out["planned_priority"] = {t: priority[t] for t in RISK_TIERS if t in priority}
    if errors:
        raise InvalidInput("invalid tier rules", errors=errors)
    return out


def rules_for(session: so.Session, network_id: int | None) -> TierRules:
    """A network's rules; the defaults for no network or an unknown one."""
    if network_id is None:
        return DEFAULT_RULES
    raw = session.scalar(sa.select(Network.tier_rules).where(Network.id == network_id))
    return rules_from(raw)


def rules_by_network(session: so.Session) -> dict[int, TierRules]:
    """Every network's rules by id (one query, for the planner)."""
    return {nid: rules_from(raw) for nid, raw in
            session.execute(sa.select(Network.id, Network.tier_rules)).all()}


def describe(network: Network) -> dict[str, Any]:
    """The API's shape: the rules in force and which keys are the network's own."""
    return {"network_id": network.id, **rules_from(network.tier_rules).as_dict(),
            "customised": sorted((network.tier_rules or {}).keys()),
            "defaults": DEFAULT_RULES.as_dict()}


def in_words(rules: TierRules) -> list[str]:
    """The rules as sentences a manager reads (the tier rules page)."""
    by_priority: dict[int, list[str]] = {}
    for tier in RISK_TIERS:
        by_priority.setdefault(rules.planned_priority[tier], []).append(tier)
    planned = "; ".join(f"{tier_list(set(tiers))} patients get priority {p}"
                        for p, tiers in sorted(by_priority.items()))
    hybrid = (f"Hybrid workers are sent to {tier_list(rules.hybrid_tiers)} patients only"
              if rules.hybrid_tiers else "Hybrid workers are sent to no patients at all")
    return [
        f"{hybrid}; nurses, therapists and social workers serve every tier.",
        (f"Each {tier_list(rules.coordinated_tiers)} patient needs a named care coordinator."
         if rules.coordinated_tiers else "No patient needs a named care coordinator."),
        f"Planned (care package) visits: {planned}. The smaller number is served first when "
        "not everyone can be.",
        ("A 2-hour urgent visit may go to anyone with the skills, whatever the patient's tier."
         if rules.urgent_any_tier else
         "A 2-hour urgent visit follows the hybrid workers' tiers too: a patient outside them "
         "waits for another role."),
    ]


def get_network(session: so.Session, network_id: int) -> Network:
    network = session.get(Network, network_id)
    if network is None:
        raise NotFound(f"network {network_id} not found")
    return network


def set_rules(session: so.Session, *, network_id: int, data: Mapping[str, Any], actor: Actor,
              now: datetime) -> Network:
    """Replace a network's rules (keys left out: the defaults); audited.
    :raise NotFound: no network. :raise InvalidInput: see :func:`validate`."""
    network = get_network(session, network_id)
    stored = validate(data)
    network.tier_rules = stored or None
    session.flush()
    audit.record(session, actor=actor, action="set_tier_rules", now=now,
                 entity=("network", network.id), purpose="commissioning", details=stored)
    return network


def worker_refusal(session: so.Session, *, staff: Staff, visit: Visit) -> str | None:
    """Why ``staff`` may not serve ``visit`` under their network's rules (the planner uses
    the same: a worker's network's rules; a 2-hour visit exempt by its network's
    ``urgent_any_tier``), naming the worker; None if they may."""
    if not rules_for(session, visit.network_id).applies_to(visit.priority):
        return None
    tier = session.scalar(sa.select(Patient.risk_tier).where(Patient.id == visit.patient_id))
    why = rules_for(session, staff.network_id).refusal(staff.role, tier)
    return None if why is None else f"{staff.name} may not take it: {why}"
