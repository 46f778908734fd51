"""The tier rules page (issue 14): the rules in words, a manager's validated form through the
audited service, errors by field in the NHS.UK error summary."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from sqlalchemy import orm as so

from dispatch import models as m
from tests.dispatch import factories as f
from tests.dispatch.planning.test_planning import world  # noqa: F401  (fixture)
from tests.dispatch.web.test_web_day import office_client

DEFAULT_FORM = {"hybrid_tiers": ["very_high", "high"],
                "coordinated_tiers": ["very_high", "high", "moderate"],
                "priority_very_high": "4", "priority_high": "4", "priority_moderate": "5",
                "priority_low": "5", "priority_very_low": "5", "urgent_any_tier": "yes"}


def _form(**changes: Any) -> dict[str, Any]:
    return {**DEFAULT_FORM, **changes}


@pytest.mark.safety("H-107")
def test_manager_changes_the_rules_and_only_the_change_is_stored_and_audited(
        app: Flask, session: so.Session) -> None:
    net = f.network(session)
    session.commit()
    client, _ = office_client(app, session, "manager")

    page = client.get(f"/networks/{net.id}/tier-rules")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Hybrid workers are sent to very high and high risk patients only" in html
    assert "This network follows the defaults" in html and 'id="tier-rules-form"' in html

    saved = client.post(f"/networks/{net.id}/tier-rules", data=_form(
        hybrid_tiers=["very_high", "high", "moderate"], priority_moderate="4"))

    assert saved.status_code == 303
    session.expire_all()
    stored = session.get(m.Network, net.id).tier_rules
    assert stored == {"hybrid_tiers": ["very_high", "high", "moderate"],
                      "planned_priority": {"very_high": 4, "high": 4, "moderate": 4, "low": 5,
                                           "very_low": 5}}
    event = session.scalar(sa.select(m.AuditEvent).where(
        m.AuditEvent.action == "set_tier_rules"))
    assert event is not None and event.entity_id == str(net.id)
    after = client.get(f"/networks/{net.id}/tier-rules").get_data(as_text=True)
    assert "Hybrid workers are sent to very high, high and moderate risk patients only" in after
    assert "This network set its own: hybrid tiers, planned priority" in after


def test_invalid_input_is_shown_next_to_its_field_and_in_the_summary(
        app: Flask, session: so.Session) -> None:
    """A priority out of range (the service's rule) and a missing answer: 422, each error on
    its field and linked from the summary; nothing is saved."""
    net = f.network(session)
    session.commit()
    client, _ = office_client(app, session, "manager")

    bad = client.post(f"/networks/{net.id}/tier-rules", data=_form(priority_moderate="3"))
    html = bad.get_data(as_text=True)
    assert bad.status_code == 422
    assert "There is a problem" in html and 'href="#priority_moderate"' in html
    assert "Priority for moderate risk patients must be a whole number from 4 to 5" in html
    assert 'id="priority_moderate--error-message"' in html or \
        "nhsuk-error-message" in html

    missing = dict(_form())
    del missing["urgent_any_tier"]
    response = client.post(f"/networks/{net.id}/tier-rules", data=missing)
    assert response.status_code == 422
    assert 'href="#urgent_any_tier"' in response.get_data(as_text=True)

    odd = client.post(f"/networks/{net.id}/tier-rules", data=_form(hybrid_tiers=["nobody"]))
    assert odd.status_code == 422
    assert 'href="#hybrid_tiers"' in odd.get_data(as_text=True)
    session.expire_all()
    assert session.get(m.Network, net.id).tier_rules is None


def test_coordinators_read_the_rules_but_only_managers_change_them(
        app: Flask, session: so.Session) -> None:
    net = f.network(session)
    session.commit()
    client, _ = office_client(app, session, "coordinator")

    page = client.get(f"/networks/{net.id}/tier-rules")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Only a manager can change these rules" in html and "tier-rules-form" not in html
    assert client.get("/tier-rules").status_code == 200
    assert client.post(f"/networks/{net.id}/tier-rules", data=_form()).status_code == 403


@pytest.mark.safety("H-232")
def test_page_warns_of_booked_visits_the_rules_keep_from_everyone(
        app: Flask, session: so.Session, world: dict[str, Any]) -> None:  # noqa: F811
    """World visit 1002 (personal care, only the hybrid worker holds it) for a moderate-risk
    patient: the page warns with the visit and the reason, and lists personal care as a gap
    for the lower tiers; saving rules that let hybrid workers serve moderate risk says in its
    message what is still at risk (nothing) and the warning goes."""
    world["patients"][1].risk_tier = "moderate"
    session.commit()
    net = world["network"]
    client, _ = office_client(app, session, "manager")

    index = client.get("/tier-rules").get_data(as_text=True)
    assert "1 booked visit with nobody allowed to serve it" in index
    html = client.get(f"/networks/{net.id}/tier-rules").get_data(as_text=True)

    assert 'id="tier-at-risk"' in html and "Visits nobody may serve under these rules" in html
    assert "Visit 1002</a> (24-hour, moderate risk" in html
    assert "only hybrid workers on shift hold personal care" in html
    assert "Personal care: nobody for moderate, low and very low risk patients, 6 hours on 1 day" \
        in html

    saved = client.post(f"/networks/{net.id}/tier-rules", data=_form(
        hybrid_tiers=["very_high", "high", "moderate"]), follow_redirects=True)
    after = saved.get_data(as_text=True)
    assert "Visits nobody may serve" not in after and "Warning:" not in after
    assert "No booked visit in this time is kept from everyone" in after
    assert "with nobody allowed to serve" not in client.get("/tier-rules").get_data(as_text=True)


def test_saving_rules_that_leave_a_visit_with_nobody_says_so_in_the_message(
        app: Flask, session: so.Session, world: dict[str, Any]) -> None:  # noqa: F811
    """The rules are saved (the manager decides), and the message names what is at risk."""
    world["patients"][1].risk_tier = "high"
    session.commit()
    net = world["network"]
    client, _ = office_client(app, session, "manager")
    assert "Visits nobody may serve" not in client.get(
        f"/networks/{net.id}/tier-rules").get_data(as_text=True)

    saved = client.post(f"/networks/{net.id}/tier-rules",
                        data=_form(hybrid_tiers=["very_high"]), follow_redirects=True)

    html = saved.get_data(as_text=True)
    assert "saved; the planner uses them from its next run. Warning: 1 booked visit (1002) " \
           "has nobody on the roster allowed to serve it under these tier rules" in html
    assert "Visits nobody may serve under these rules" in html
