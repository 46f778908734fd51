"""A network's tier cover over the coming week (H-232-C2): the gaps its rules leave on the
roster and the booked visits only the rule keeps from everyone, read as the planner reads the
roster (sickness and absences cut out)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import orm as so

from dispatch import models as m
from dispatch.services import strata, tier_cover
from tests.dispatch.planning.test_planning import NOW, world  # noqa: F401  (fixture)

LOWER = ("moderate", "low", "very_low")


def _moderate(session: so.Session, world: dict[str, Any]) -> m.Visit:  # noqa: F811
    """World visit 1002 (24-hour personal care: only the hybrid worker holds it) for a
    moderate-risk patient."""
    world["patients"][1].risk_tier = "moderate"
    session.commit()
    return world["visits"][1]


@pytest.mark.safety("H-232")
def test_a_visit_only_the_tier_rule_keeps_from_everyone_is_at_risk(
        session: so.Session, world: dict[str, Any]) -> None:  # noqa: F811
    """By the seeds' defaults the hybrid worker serves very high and high risk only: the
    moderate-risk patient's personal care has nobody, and the check says so before the
    planner leaves it unplaced; personal care is a gap for the lower tiers all shift."""
    visit = _moderate(session, world)

    cover = tier_cover.check(session, network_id=world["network"].id, now=NOW)

    assert [v.reference for v in cover.at_risk] == [visit.reference]
    assert cover.at_risk[0].why == (
        "in its window only hybrid workers on shift hold personal care, and hybrid workers in "
        "this network serve very high and high risk patients only; this patient is moderate "
        "risk")
    personal = [g for g in cover.gaps if g.skill == "personal_care"]
    assert [(g.tiers, g.start, g.end) for g in personal] == [
        (LOWER, NOW, NOW + timedelta(hours=6))]
    assert cover.urgent_exempt
    assert "1 booked visit (1002) has nobody" in (tier_cover.summary(cover) or "")


def test_rules_that_let_hybrid_workers_serve_every_tier_leave_no_gap(
        session: so.Session, world: dict[str, Any]) -> None:  # noqa: F811
    """Trying a change before saving it: every tier for hybrid workers, nothing at risk."""
    _moderate(session, world)
    every = strata.rules_from({"hybrid_tiers": list(strata.TIER_WORDS)})

    cover = tier_cover.check(session, network_id=world["network"].id, now=NOW, rules=every)

    assert cover.at_risk == [] and cover.gaps == []
    assert tier_cover.summary(cover) is None


@pytest.mark.safety("H-232")
def test_a_sick_colleague_with_the_skill_no_longer_covers_the_tier(
        session: so.Session, world: dict[str, Any]) -> None:  # noqa: F811
    """The nurse also gives personal care: the visit is covered, until she goes off sick."""
    _moderate(session, world)
    world["nurse"].skills = [*world["nurse"].skills, "personal_care"]
    session.commit()
    network_id = world["network"].id
    assert tier_cover.check(session, network_id=network_id, now=NOW).at_risk == []

    world["shifts"]["dn"].sick_from = NOW
    session.commit()

    assert len(tier_cover.check(session, network_id=network_id, now=NOW).at_risk) == 1


def test_a_two_hour_visit_is_bound_only_when_the_network_says_so(
        session: so.Session, world: dict[str, Any]) -> None:  # noqa: F811
    """A 2-hour personal care visit for a low-risk patient: exempt by default
    (``urgent_any_tier``), at risk when the network keeps hybrid workers to their tiers for
    urgent visits too."""
    world["patients"][2].risk_tier = "low"
    urgent = world["visits"][2]
    urgent.skills = ["personal_care"]
    session.commit()
    network_id = world["network"].id

    assert tier_cover.check(session, network_id=network_id, now=NOW).at_risk == []
    strict = strata.rules_from({"urgent_any_tier": False})
    cover = tier_cover.check(session, network_id=network_id, now=NOW, rules=strict)
    assert [v.reference for v in cover.at_risk] == [urgent.reference]
    assert not cover.urgent_exempt


def test_a_visit_nobody_has_the_skills_for_is_not_reported_as_the_rules_doing(
        session: so.Session, world: dict[str, Any]) -> None:  # noqa: F811
    """World visit 1003 needs IV therapy, which nobody on shift holds: a staffing gap the
    planner reports in its own words, not a tier one."""
    world["patients"][2].risk_tier = "moderate"
    session.commit()

    cover = tier_cover.check(session, network_id=world["network"].id, now=NOW,
                             rules=strata.rules_from({"urgent_any_tier": False}))

    assert world["visits"][2].reference not in [v.reference for v in cover.at_risk]


def test_api_tier_cover(app: Any, client: Any, token_for: Any, session: so.Session,
                        world: dict[str, Any]) -> None:  # noqa: F811
    """``GET /api/networks/{id}/tier-cover``: the visit at risk and the gaps; ``days`` out of
    range is a 422 naming the field; an unknown network 404; field staff may not read it."""
    _moderate(session, world)
    url = f"/api/networks/{world['network'].id}/tier-cover"

    body = client.get(url, headers=token_for("coordinator")).get_json()

    assert [v["reference"] for v in body["at_risk"]] == ["1002"]
    assert body["at_risk"][0]["tier"] == "moderate" and body["urgent_exempt"] is True
    personal = next(g for g in body["gaps"] if g["skill"] == "personal_care")
    assert personal["tiers"] == list(LOWER) and personal["minutes"] == 6 * 60
    bad = client.get(url + "?days=30", headers=token_for("manager"))
    assert bad.status_code == 422 and "days" in str(bad.get_json())
    assert client.get("/api/networks/9999/tier-cover",
                      headers=token_for("manager")).status_code == 404
    assert client.get(url, headers=token_for("field_staff")).status_code == 403
