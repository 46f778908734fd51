"""A network nobody coordinates (hazard H-111, control C2): escalated once a day to its
on-call phone and the board, cleared when a coordinator runs it again; doctor lists it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy import orm as so

from dispatch import models as m
from dispatch.services.coordination_check import uncoordinated_networks
from dispatch.services.network_scope import set_networks
from dispatch.services.users import add_user
from dispatch.services.watch import watch_deadlines
from tests.dispatch import factories as f

NOW = datetime(2026, 12, 1, 10, 20, tzinfo=UTC)
ON_CALL = "+447700900999"


def _world(session: so.Session) -> tuple[m.Network, m.Network, m.User]:
    run = f.network(session, code="RUN", on_call_phone="+447700900998")
    orphan = f.network(session, code="ORPHAN", name="Nobody's", on_call_phone=ON_CALL)
    for network, nhs in ((run, "9434765919"), (orphan, "9434765870")):
        patient = f.patient(session, network_id=network.id, nhs_number=nhs)
        referral = f.referral(session, patient.id, network_id=network.id)
        f.visit(session, referral.id, patient.id, network_id=network.id,
                reference=f"8{network.id:03d}", created_at=NOW, earliest_start=NOW,
                deadline=NOW + timedelta(hours=20))
    user = add_user(session, username="cora", role="coordinator", now=NOW,
                    network_ids=[run.id], all_networks=False).user
    session.flush()
    return run, orphan, user


@pytest.mark.safety("H-111")
def test_network_nobody_runs_is_escalated_once_a_day_and_cleared_when_run(
        session: so.Session) -> None:
    """Visits are due in ORPHAN and no coordinator runs it: one escalation (texted to its
    on-call phone, audited) however often the watch runs that day, another the next day;
    giving the coordinator ORPHAN clears it."""
    run, orphan, user = _world(session)
    assert [n.code for n in uncoordinated_networks(session, now=NOW)] == ["ORPHAN"]

    assert watch_deadlines(session, now=NOW, public_url="https://x").uncoordinated == 1
    assert watch_deadlines(session, now=NOW + timedelta(minutes=30),
                           public_url="https://x").uncoordinated == 0
    [row] = session.scalars(sa.select(m.Escalation).where(
        m.Escalation.kind == "uncoordinated")).all()
    assert row.network_id == orphan.id and row.to_number == ON_CALL
    texts = session.scalars(sa.select(m.Message.body).where(
        m.Message.to_number == ON_CALL)).all()
    assert any("no coordinator runs this network" in body for body in texts)
    assert watch_deadlines(session, now=NOW + timedelta(days=1),
                           public_url="https://x").uncoordinated == 1

    set_networks(session, user=user, network_ids=[run.id, orphan.id], all_networks=False)
    watch_deadlines(session, now=NOW + timedelta(days=1, minutes=1), public_url="https://x")
    assert session.scalar(sa.select(sa.func.count()).select_from(m.Escalation).where(
        m.Escalation.kind == "uncoordinated", m.Escalation.cleared_at.is_(None))) == 0
    assert session.scalar(sa.select(sa.func.count()).select_from(m.AuditEvent).where(
        m.AuditEvent.action == "network_uncoordinated")) == 2


@pytest.mark.safety("H-111")
def test_a_hub_coordinator_or_no_visits_due_is_not_an_alarm(session: so.Session) -> None:
    """An active hub coordinator runs every network; a disabled one does not; a network with
    no visit due within the horizon is not reported."""
    _run, _orphan, _user = _world(session)
    hub = add_user(session, username="hub", role="coordinator", now=NOW,
                   all_networks=True).user
    session.flush()
    assert uncoordinated_networks(session, now=NOW) == []
    hub.active = False
    session.flush()
    assert [n.code for n in uncoordinated_networks(session, now=NOW)] == ["ORPHAN"]
    assert uncoordinated_networks(session, now=NOW - timedelta(days=2)) == []
