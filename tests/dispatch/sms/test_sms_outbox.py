"""The outbox job against the real twilio client and a fake Twilio on 127.0.0.1: each text is
sent exactly once across crashes and timeouts, transient errors back off, permanent ones fail
at once and escalate to the on-call coordinator."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from sqlalchemy import orm as so

from dispatch.db import Database, get_database
from dispatch.models import AuditEvent, Message
from dispatch.services import outbox
from dispatch.services import visit_actions as va
from dispatch.sms.compose import ig_problems
from dispatch.sms.sender import LocalOutboxBackend, TwilioBackend
from tests.fakes.dispatch_world import BASE_URL, NOW, ON_CALL, World, make_world
from tests.fakes.twilio_server import FakeTwilio

SENDER = "+447700900999"
AFTER_LEASE = NOW + outbox.SENDING_LEASE + timedelta(seconds=1)


@pytest.fixture
def fake() -> Iterator[FakeTwilio]:
    with FakeTwilio() as server:
        yield server


@pytest.fixture
def backend(fake: FakeTwilio) -> TwilioBackend:
    return TwilioBackend(account_sid=fake.account_sid, auth_token=fake.auth_token,
                         from_number=SENDER, base_url=fake.base_url)


@pytest.fixture
def database(app: Flask) -> Database:
    return get_database(app)


@pytest.fixture
def world(session: so.Session) -> World:
    """One offered visit: exactly one pending text, to the nurse."""
    w = make_world(session)
    va.assign(session, visit=w.visit, staff=w.nurse, shift=None,
              planned_start=NOW + timedelta(minutes=20), now=NOW, base_url=BASE_URL)
    session.commit()
    return w


def _offer(session: so.Session, w: World) -> Message:
    session.expire_all()
    message = session.scalar(sa.select(Message).where(Message.staff_id == w.nurse.id))
    assert message is not None
    return message


def _send(database: Database, backend: Any, now: Any = NOW) -> outbox.SendReport:
    return outbox.send_pending(database, backend=backend, now=now, base_url=BASE_URL)


def test_send_pending_sends_a_text_once(
    session: so.Session, database: Database, backend: TwilioBackend, fake: FakeTwilio,
    world: World,
) -> None:
    """A pending text goes to the provider once, with its send-key tag, and records the sid."""
    report = _send(database, backend)
    again = _send(database, backend, NOW + timedelta(minutes=5))

    message = _offer(session, world)
    assert (report.sent, again.sent) == (1, 0)
    assert [m.sid for m in fake.messages] == [message.provider_sid]
    assert fake.messages[0].body == message.body and f"[msg {message.send_key}]" in message.body
    assert message.status == "sent" and message.sent_at == NOW and message.attempts == 1
    assert message.from_number == SENDER


def test_crash_between_send_and_record_sends_once(
    session: so.Session, database: Database, backend: TwilioBackend, fake: FakeTwilio,
    world: World, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The provider took the text but the sid was never recorded: after the lease the next
    run finds it at the provider by its tag and marks it sent instead of sending again."""
    def crash(*_: object, **__: object) -> str:
        raise RuntimeError("killed between send and record")

    monkeypatch.setattr(outbox, "_record", crash)
    with pytest.raises(RuntimeError):
        _send(database, backend)
    monkeypatch.undo()
    assert _offer(session, world).status == "sending"

    early = _send(database, backend, NOW + timedelta(seconds=30))
    late = _send(database, backend, AFTER_LEASE)

    message = _offer(session, world)
    assert (early.found_at_provider, early.sent) == (0, 0)
    assert (late.found_at_provider, late.sent) == (1, 0)
    assert len(fake.messages) == 1 and message.provider_sid == fake.messages[0].sid
    assert message.status == "sent"


def test_crash_before_send_sends_after_the_lease(
    session: so.Session, database: Database, backend: TwilioBackend, fake: FakeTwilio,
    world: World,
) -> None:
    """Claimed, then the sender died before calling the provider: the text is re-queued and
    sent exactly once."""
    claim = outbox._claim_next(database, now=NOW)
    assert claim is not None and fake.messages == []

    report = _send(database, backend, AFTER_LEASE)

    assert (report.requeued, report.sent) == (1, 1)
    assert len(fake.messages) == 1 and _offer(session, world).status == "sent"


@pytest.mark.parametrize("code", [20500, 20429])
def test_transient_error_retries_after_backoff(
    session: so.Session, database: Database, backend: TwilioBackend, fake: FakeTwilio,
    world: World, code: int,
) -> None:
    """A 5xx or 429 is retried, not before 30 s, and then sent once."""
    fake.fail_next(code)

    first = _send(database, backend)
    pending = _offer(session, world)
    too_soon = _send(database, backend, NOW + timedelta(seconds=29))
    due = _send(database, backend, NOW + timedelta(seconds=30))

    assert first.retrying == 1 and pending.status == "pending"
    assert pending.next_attempt_at == NOW + timedelta(seconds=30)
    assert pending.error_code == str(code)
    assert too_soon.sent == 0 and due.sent == 1
    assert len(fake.messages) == 1 and _offer(session, world).attempts == 2


def test_backoff_schedule() -> None:
    """30 s, 2 min, then 10 min between attempts (ADR 0001)."""
    waits = [outbox.backoff(n) for n in range(1, outbox.MAX_ATTEMPTS)]

    assert waits == [timedelta(seconds=30), timedelta(minutes=2), timedelta(minutes=10),
                     timedelta(minutes=10)]


def test_transient_errors_exhaust_then_fail_and_escalate(
    session: so.Session, database: Database, backend: TwilioBackend, fake: FakeTwilio,
    world: World,
) -> None:
    """After the fifth transient failure the text fails and the on-call coordinator is told."""
    fake.fail_next(*[20500] * outbox.MAX_ATTEMPTS)
    now = NOW
    for attempt in range(1, outbox.MAX_ATTEMPTS + 1):
        _send(database, backend, now)
        if attempt < outbox.MAX_ATTEMPTS:
            now += outbox.backoff(attempt)

    message = _offer(session, world)
    assert message.status == "failed" and message.attempts == outbox.MAX_ATTEMPTS
    assert [m.to for m in fake.messages] == [ON_CALL]
    assert "visit 4821 SMS to the worker failed" in fake.messages[0].body


def test_permanent_error_fails_at_once_and_escalates(
    session: so.Session, database: Database, backend: TwilioBackend, fake: FakeTwilio,
    world: World,
) -> None:
    """An invalid number (21211) fails on the first attempt; the alert goes out in the same run,
    carries reference, cause, deadline and network, and no patient data."""
    fake.fail_next(21211)

    report = _send(database, backend)

    message = _offer(session, world)
    assert (report.failed, report.sent) == (1, 1)
    assert message.status == "failed" and message.error_code == "21211"
    [alert] = fake.messages
    assert alert.to == ON_CALL
    assert alert.body.startswith("DISPATCH ALERT H&F North: 1 escalation: visit 4821 SMS to the "
                                 "worker failed: invalid 'To' number, deadline 12:20 today.")
    assert ig_problems(alert.body, forbidden=outbox.forbidden_for_visit(session, world.visit)) == []
    assert session.scalar(sa.select(AuditEvent).where(
        AuditEvent.action == "sms_failed", AuditEvent.entity_id == str(message.id))) is not None


def test_timeout_after_provider_took_it_is_not_resent(
    session: so.Session, database: Database, fake: FakeTwilio, world: World,
) -> None:
    """A timed-out request may still have reached the provider: the retry looks first."""
    slow = TwilioBackend(account_sid=fake.account_sid, auth_token=fake.auth_token,
                         from_number=SENDER, base_url=fake.base_url, timeout=0.5)
    fake.hang_on(1)

    first = _send(database, slow)
    fake.release.set()
    retry = _send(database, slow, NOW + timedelta(seconds=30))

    assert first.retrying == 1 and retry.sent == 1
    assert len(fake.messages) == 1
    assert _offer(session, world).provider_sid == fake.messages[0].sid


def test_local_backend_records_texts_as_sent(
    session: so.Session, database: Database, world: World
) -> None:
    """With no Twilio credentials the demo's texts are recorded as sent with a local sid."""
    local = LocalOutboxBackend()

    report = _send(database, local)

    message = _offer(session, world)
    assert report.sent == 1 and message.status == "sent"
    assert message.provider_sid is not None and message.provider_sid.startswith("LOCAL")
    assert [s.key for s in local.sent] == [message.send_key]


def test_find_ig_breaches_checks_every_stored_text(
    session: so.Session, world: World
) -> None:
    """The demo-day check: our own texts are clean; a text naming the patient is reported."""
    clean = outbox.find_ig_breaches(session)
    bad = Message(direction="outbound", to_number=world.nurse.phone, status="sent",
                  body="Visit 4821 for Joe Bloggs", visit_id=world.visit.id, attempts=0)
    session.add(bad)
    session.flush()

    breaches = outbox.find_ig_breaches(session)

    assert clean == []
    assert [message_id for message_id, _ in breaches] == [bad.id]
