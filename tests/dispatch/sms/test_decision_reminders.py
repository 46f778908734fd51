"""A decision nobody makes (hazard H-040, control C2): the on-call coordinator is reminded,
then the network's manager is texted; a decision made clears what is still waiting.

And the phones those texts go to, set by a manager through the API or the CLI.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from flask.testing import FlaskClient
from sqlalchemy import orm as so

from dispatch import models as m
from dispatch.cli import main
from dispatch.db import make_engine
from dispatch.services import decision_reminders
from dispatch.services.watch import watch_deadlines
from dispatch.sms.compose import ig_problems
from dispatch.sms.escalation import escalate_visit
from dispatch.sms.queue import forbidden_for_visit
from tests.dispatch import factories as f

NOW = datetime(2026, 12, 1, 10, 20, tzinfo=UTC)
ON_CALL = "+447700900999"
MANAGER = "+447700900949"
URL = "https://dispatch.example"


@pytest.fixture
def waiting(session: so.Session) -> m.Visit:
    """A 2-hour visit nobody can reach, put in jeopardy at NOW and texted to on-call then."""
    net = f.network(session, on_call_phone=ON_CALL, manager_phone=MANAGER)
    patient = f.patient(session, network_id=net.id, lat=51.512, lon=-0.225)
    referral = f.referral(session, patient.id, network_id=net.id, status="scheduled")
    visit = f.visit(session, referral.id, patient.id, network_id=net.id, reference="7001",
                    created_at=NOW, earliest_start=NOW, deadline=NOW + timedelta(minutes=90))
    visit.jeopardy_cause, visit.jeopardy_since = "needs_decision", NOW
    session.flush()
    escalate_visit(session, visit=visit, cause="needs_decision", now=NOW, base_url=URL)
    return visit


def _texts(session: so.Session, number: str) -> list[m.Message]:
    return list(session.scalars(sa.select(m.Message).where(m.Message.to_number == number)
                                .order_by(m.Message.id)))


def _watch(session: so.Session, minutes: int) -> Any:
    return watch_deadlines(session, now=NOW + timedelta(minutes=minutes), public_url=URL)


@pytest.mark.safety("H-040")
def test_undecided_visit_reminds_on_call_then_texts_the_manager(
        session: so.Session, waiting: m.Visit) -> None:
    """No decision: nothing more at 5 minutes; a reminder to the on-call phone at 10; the
    manager texted at 20 (references and words only); each once however often the watch
    runs."""
    assert len(_texts(session, ON_CALL)) == 1
    assert _watch(session, 5).reminded == 0
    assert len(_texts(session, ON_CALL)) == 1

    assert _watch(session, 10).reminded == 1
    first, reminder = _texts(session, ON_CALL)
    assert "visit 7001 reminder: still needs your decision" in reminder.body
    assert _texts(session, MANAGER) == []
    assert _watch(session, 15).managers_texted == 0

    report = _watch(session, 20)
    assert (report.reminded, report.managers_texted) == (0, 1)
    [to_manager] = _texts(session, MANAGER)
    assert "visit 7001 no on-call decision after 20 min" in to_manager.body
    assert ig_problems(to_manager.body, forbidden=forbidden_for_visit(session, waiting)) == []
    for minute in (21, 31, 45):
        again = _watch(session, minute)
        assert (again.reminded, again.managers_texted) == (0, 0)
    assert len(_texts(session, ON_CALL)) == 2 and len(_texts(session, MANAGER)) == 1
    actions = session.scalars(sa.select(m.AuditEvent.details).where(
        m.AuditEvent.action == "decision_reminder")).all()
    assert sorted(a["to"] for a in actions) == ["manager", "on_call"]


@pytest.mark.safety("H-040")
def test_decision_made_clears_a_reminder_still_queued(
        session: so.Session, waiting: m.Visit) -> None:
    """A reminder raised while the on-call phone's grouped text is not yet due waits; the
    coordinator decides before it goes: it is cleared, never texted, and no manager text."""
    # Another escalation was texted to the phone at 10:25: the next grouped text is due 10:35.
    session.execute(sa.update(m.OnCallText).where(m.OnCallText.to_number == ON_CALL)
                    .values(last_sent_at=NOW + timedelta(minutes=5)))
    _watch(session, 12)  # the reminder is due, the phone's next text is not (10:35)
    queued = session.scalar(sa.select(m.Escalation).where(m.Escalation.kind == "reminder"))
    assert queued is not None and queued.message_id is None

    # The decision: moved to another network's cover (still unassigned, out of jeopardy).
    waiting.jeopardy_cause, waiting.jeopardy_since = None, None
    session.flush()
    report = _watch(session, 16)
    session.refresh(queued)
    assert queued.cleared_at is not None and queued.message_id is None
    assert all("7001 reminder" not in t.body for t in _texts(session, ON_CALL))
    assert report.managers_texted == 0 and _texts(session, MANAGER) == []


@pytest.mark.safety("H-040")
def test_close_to_the_deadline_the_manager_is_texted_with_the_first_reminder(
        session: so.Session, waiting: m.Visit) -> None:
    """In jeopardy 20 minutes before the deadline: at 10 minutes (5 before the manager's lead
    time) the manager is texted together with the on-call reminder."""
    waiting.deadline = NOW + timedelta(minutes=20)
    session.flush()
    report = _watch(session, 10)
    assert (report.reminded, report.managers_texted) == (1, 1)
    assert len(_texts(session, MANAGER)) == 1


def test_reminder_rules_are_pure_functions_of_times() -> None:
    since, deadline = NOW, NOW + timedelta(hours=2)
    due = decision_reminders.reminder_due
    manager = decision_reminders.manager_due
    assert not due(since, NOW + timedelta(minutes=9, seconds=59))
    assert due(since, NOW + timedelta(minutes=10))
    assert not manager(since, deadline, NOW + timedelta(minutes=19))
    assert manager(since, deadline, NOW + timedelta(minutes=20))
    assert not manager(since, NOW + timedelta(minutes=12), NOW + timedelta(minutes=5))
    assert manager(since, NOW + timedelta(minutes=12), NOW + timedelta(minutes=10))


@pytest.mark.safety("H-040")
def test_network_contacts_set_by_a_manager_through_the_api(
        client: FlaskClient, token_for: Callable[..., dict[str, str]],
        session: so.Session) -> None:
    """A manager sets both phones (written as people write them, stored E.164); a bad number
    is 422 naming the field; a coordinator reads but may not change; audited without the
    numbers."""
    network = f.network(session)
    session.commit()
    manager, coordinator = token_for("manager"), token_for("coordinator")
    url = f"/api/networks/{network.id}/contacts"

    put = client.put(url, headers=manager, json={"on_call_phone": "07700 900111",
                                                 "manager_phone": "+44 7700 900222"})
    assert put.status_code == 200, put.json
    assert (put.json["on_call_phone"], put.json["manager_phone"]) == ("+447700900111",
                                                                       "+447700900222")
    got = client.get(url, headers=coordinator)
    assert got.status_code == 200 and got.json["manager_phone"] == "+447700900222"
    assert client.put(url, headers=coordinator, json={"manager_phone": None}).status_code == 403

    bad = client.put(url, headers=manager, json={"manager_phone": "020 7946 0000"})
    assert bad.status_code == 422 and "manager_phone" in str(bad.json)
    assert client.put(url, headers=manager, json={}).status_code == 422
    assert client.get("/api/networks/999999/contacts", headers=manager).status_code == 404

    cleared = client.put(url, headers=manager, json={"manager_phone": None})
    assert cleared.status_code == 200 and cleared.json["manager_phone"] is None
    session.expire_all()
    events = session.scalars(sa.select(m.AuditEvent).where(
        m.AuditEvent.action == "set_network_contacts")).all()
    assert [e.details for e in events] == [
        {"on_call_phone": "set", "manager_phone": "set"}, {"manager_phone": "cleared"}]
    assert all("7700" not in str(e.details) for e in events)


def test_network_contacts_cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`dispatch network contacts` sets the phones; a bad number or an unknown network is a
    message and exit 2; `dispatch network list` shows them."""
    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    monkeypatch.setenv("DISPATCH_DATABASE_URL", url)
    monkeypatch.setenv("DISPATCH_INSTANCE_PATH", str(tmp_path))
    runner = CliRunner()
    assert runner.invoke(main, ["db", "upgrade"]).exit_code == 0
    engine = make_engine(url)
    with so.Session(engine) as session:
        network = f.network(session)
        session.commit()
        network_id = network.id
    engine.dispose()

    done = runner.invoke(main, ["network", "contacts", str(network_id), "--on-call",
                                "07700 900333", "--manager", "07700 900444"])
    assert done.exit_code == 0, done.output
    assert "on-call +447700900333, manager +447700900444" in done.output
    listed = runner.invoke(main, ["network", "list"])
    assert "+447700900333" in listed.output and "+447700900444" in listed.output

    bad = runner.invoke(main, ["network", "contacts", str(network_id), "--manager", "12"])
    assert bad.exit_code == 2 and "manager_phone: a UK mobile number" in bad.output
    missing = runner.invoke(main, ["network", "contacts", "999", "--manager", "07700900444"])
    assert missing.exit_code == 2 and "network 999 not found" in missing.output
    assert runner.invoke(main, ["network", "contacts", str(network_id)]).exit_code == 2
