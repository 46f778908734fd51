"""Escalations and webhooks under real concurrency on PostgreSQL (issue 20, items 7 and 8;
issue 13, hazard 7).

Webhooks go to a real ``dispatch serve`` (werkzeug's threaded server, one session per request),
signed as Twilio signs them; the watch runs in this process on two threads with their own
sessions. Each race starts from a :class:`threading.Barrier` so the requests really overlap.
"""

from __future__ import annotations

import threading
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from typing import TypeVar

import pytest
import sqlalchemy as sa
from twilio.request_validator import RequestValidator

from dispatch import models as m
from dispatch.db import Database
from dispatch.services.watch import WatchReport, watch_deadlines
from tests.integration.support import (
    FROM_NUMBER,
    POSTGRES,
    Procs,
    Reply,
    call,
    free_port,
    now_utc,
    seed_visits,
    seed_world,
    service_env,
    session_for,
)

pytestmark = list(POSTGRES)

AUTH_TOKEN = "alarms-twilio-token"
REPORTS = 10
NOW = now_utc()
T = TypeVar("T")


@dataclass
class Server:
    url: str
    base: str


@pytest.fixture(scope="module")
def server(databases: Callable[[str], str], tmp_path_factory: pytest.TempPathFactory
           ) -> Iterator[Server]:
    """One PostgreSQL database and one ``dispatch serve`` accepting signed webhooks."""
    url, port = databases("postgres"), free_port()
    base = f"http://127.0.0.1:{port}"
    env = service_env(url, public_url=base, fixed_now=NOW, TWILIO_AUTH_TOKEN=AUTH_TOKEN)
    procs = Procs(tmp_path_factory.mktemp("serve"))
    try:
        procs.serve(env, port)
        yield Server(url, base)
    finally:
        procs.stop_all()


def race(count: int, work: Callable[[int], T]) -> list[T]:
    """Run ``work(i)`` for ``i < count`` on ``count`` threads released together."""
    barrier = threading.Barrier(count)

    def run(i: int) -> T:
        barrier.wait(timeout=30)
        return work(i)

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(run, range(count)))


def signed(server: Server, path: str, form: dict[str, str]) -> Reply:
    signature = RequestValidator(AUTH_TOKEN).compute_signature(server.base + path, form)
    return call("POST", server.base + path, form=form,
                headers={"X-Twilio-Signature": signature})


@pytest.mark.safety("H-016")
def test_concurrent_failed_delivery_reports_alert_on_call_once(server: Server) -> None:
    """Ten "failed" delivery reports for one offer text, all at once: every one answered 204,
    and the on-call coordinator gets one escalation and one alert (8-9 before the fix)."""
    # Arrange
    with session_for(server.url) as session:
        world = seed_world(session, now=NOW, staff=1, patients=1, serial=71)
        [visit_id] = seed_visits(session, world, now=NOW, count=1, reference_from=710_000)
        staff_id, staff_phone = world.staff[0]
        offer = m.Message(direction="outbound", to_number=staff_phone, body="Visit 710000",
                          status="sent", visit_id=visit_id, staff_id=staff_id,
                          provider_sid="SMrace71", send_key="race71", attempts=1,
                          created_at=NOW, updated_at=NOW, sent_at=NOW)
        session.add(offer)
        on_call = session.get(m.Network, world.network_id).on_call_phone  # type: ignore[union-attr]
        session.commit()
    form = {"MessageSid": "SMrace71", "MessageStatus": "failed", "ErrorCode": "30003",
            "AccountSid": "AC" + "0" * 32}

    # Act
    replies = race(REPORTS, lambda _: signed(server, "/sms/status", form))

    # Assert
    assert Counter(r.status for r in replies) == {204: REPORTS}, [r.body for r in replies][:3]
    with session_for(server.url) as session:
        escalations = session.scalars(sa.select(m.Escalation).where(
            m.Escalation.visit_id == visit_id)).all()
        alerts = session.scalars(sa.select(m.Message).where(
            m.Message.to_number == on_call)).all()
        audits = session.scalar(sa.select(sa.func.count()).select_from(m.AuditEvent).where(
            m.AuditEvent.action == "sms_failed", m.AuditEvent.entity_id == str(offer.id)))
    assert len(escalations) == 1 and len(alerts) == 1 and audits == 1
    assert "710000" in alerts[0].body
    print(f"\n{REPORTS} concurrent failed reports -> {len(alerts)} alert")


def test_concurrent_duplicate_inbound_deliveries_all_answered_200(server: Server) -> None:
    """Twilio delivers one reply (one MessageSid) ten times at once: no 500, every answer 200,
    the reply stored once and answered once (before: unique-constraint errors, then "closed
    transaction" 500s)."""
    # Arrange
    with session_for(server.url) as session:
        world = seed_world(session, now=NOW, staff=1, patients=1, serial=72)
    _, staff_phone = world.staff[0]
    sid = "SM" + uuid.uuid4().hex
    form = {"From": staff_phone, "To": FROM_NUMBER, "Body": "HELP", "MessageSid": sid,
            "AccountSid": "AC" + "0" * 32}

    # Act
    replies = race(REPORTS, lambda _: signed(server, "/sms/inbound", form))

    # Assert
    assert Counter(r.status for r in replies) == {200: REPORTS}, [
        r.body for r in replies if r.status != 200][:3]
    assert sum("<Message>" in str(r.body) for r in replies) == 1  # answered once
    with session_for(server.url) as session:
        stored = session.scalar(sa.select(sa.func.count()).select_from(m.Message).where(
            m.Message.provider_sid == sid))
        answers = session.scalar(sa.select(sa.func.count()).select_from(m.Message).where(
            m.Message.direction == "outbound", m.Message.to_number == staff_phone))
    assert (stored, answers) == (1, 1)


@pytest.mark.safety("H-007")
def test_two_watch_runs_at_once_escalate_each_visit_once_in_one_text(server: Server) -> None:
    """Two watch runs (as two scheduler processes would) race over 20 visits in jeopardy:
    20 escalations, 20 audit events and one grouped text to the on-call phone, and neither run
    fails."""
    # Arrange
    with session_for(server.url) as session:
        world = seed_world(session, now=NOW, staff=1, patients=3, serial=73)
        visit_ids = seed_visits(session, world, now=NOW, count=20, window=(0, 1),
                                reference_from=730_000)
        on_call = session.get(m.Network, world.network_id).on_call_phone  # type: ignore[union-attr]
    database = Database(server.url)
    later = NOW + timedelta(minutes=15)

    def watch(i: int) -> WatchReport:
        with database.session_scope() as session:
            return watch_deadlines(session, now=later + timedelta(seconds=i),
                                   public_url=server.base)

    # Act
    try:
        reports = race(2, watch)
    finally:
        database.dispose()

    # Assert
    with session_for(server.url) as session:
        escalations = session.scalar(sa.select(sa.func.count()).select_from(m.Escalation).where(
            m.Escalation.visit_id.in_(visit_ids)))
        audits = session.scalar(sa.select(sa.func.count()).select_from(m.AuditEvent).where(
            m.AuditEvent.action == "visit_jeopardy",
            m.AuditEvent.entity_id.in_([str(i) for i in visit_ids])))
        texts = session.scalars(sa.select(m.Message).where(m.Message.to_number == on_call)).all()
        everywhere = session.scalar(sa.select(sa.func.count()).select_from(m.Escalation).where(
            m.Escalation.kind == "jeopardy"))  # other tests' visits are watched too
    assert sum(sum(r.entered.values()) for r in reports) == everywhere
    assert (escalations, audits, len(texts)) == (20, 20, 1)
    assert "20 escalations" in texts[0].body
