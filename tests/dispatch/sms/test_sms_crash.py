"""Exactly-once across a real crash: a sender process is SIGKILLed after the provider took a
text but before it was recorded; after a restart every pending text has been sent once.

The sender is a real ``python`` process running ``send_pending`` against the test database
(SQLite file, or PostgreSQL under ``DISPATCH_TEST_DATABASE_URL``) and the real twilio client
against the fake Twilio, which holds its answer to the second text until the process is dead.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy import orm as so

from dispatch.db import make_engine
from dispatch.models import Message
from dispatch.services import outbox
from tests.fakes.twilio_server import FakeTwilio

ROOT = Path(__file__).resolve().parents[3]
T0 = datetime(2026, 12, 1, 10, 20, tzinfo=UTC)
NUMBERS = [f"+4477009871{i:02d}" for i in range(3)]
WAIT_SECONDS = 60

SENDER = """
import json, sys
from datetime import datetime
from dispatch.db import Database
from dispatch.services.outbox import send_pending
from dispatch.sms.sender import TwilioBackend
url, base, sid, token, now = sys.argv[1:6]
backend = TwilioBackend(account_sid=sid, auth_token=token, from_number="+447700900999",
                        base_url=base)
report = send_pending(Database(url), backend=backend, now=datetime.fromisoformat(now),
                      base_url="https://dispatch.example.nhs.uk")
print(json.dumps(report.__dict__))
"""


@pytest.fixture
def engine(database_url: str) -> Iterator[sa.Engine]:
    eng = make_engine(database_url)
    yield eng
    eng.dispose()


@pytest.fixture
def pending(engine: sa.Engine) -> Iterator[list[int]]:
    """Three committed pending texts (no patient rows: nothing here needs cleaning from the
    append-only audit trail); deleted afterwards because they were really committed."""
    with so.Session(engine) as session:
        rows = [outbox.enqueue(session, to=n, body=f"Visit 48{i}1 is cancelled.", now=T0)
                for i, n in enumerate(NUMBERS)]
        session.commit()
        ids = [r.id for r in rows]
    yield ids
    with so.Session(engine) as session:
        session.execute(sa.delete(Message).where(Message.id.in_(ids)))
        session.commit()


def _start(database_url: str, fake: FakeTwilio, now: datetime) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-c", SENDER, database_url, fake.base_url, fake.account_sid,
         fake.auth_token, now.isoformat()],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _rows(engine: sa.Engine, ids: list[int]) -> list[Message]:
    with so.Session(engine) as session:
        return list(session.scalars(sa.select(Message).where(Message.id.in_(ids))
                                    .order_by(Message.id)))


def test_sigkill_between_send_and_record_sends_each_text_once(
    database_url: str, engine: sa.Engine, pending: list[int]
) -> None:
    """Kill -9 while the provider holds its answer to text 2; restart; 3 texts, 3 sends."""
    with FakeTwilio() as fake:
        fake.hang_on(2)
        first = _start(database_url, fake, T0)
        try:
            hung = fake.hung.wait(WAIT_SECONDS)
        finally:
            first.send_signal(signal.SIGKILL)
            _, first_err = first.communicate(timeout=WAIT_SECONDS)  # reaps it, closes pipes
        assert hung, first_err
        fake.release.set()
        at_kill = [r.status for r in _rows(engine, pending)]

        second = _start(database_url, fake, T0 + outbox.SENDING_LEASE + timedelta(seconds=1))
        out, err = second.communicate(timeout=WAIT_SECONDS)
        ours = [m for m in fake.messages if m.to in NUMBERS]

    assert first.returncode == -signal.SIGKILL
    assert at_kill == ["sent", "sending", "pending"]
    assert second.returncode == 0, err
    report = json.loads(out.strip().splitlines()[-1])
    assert (report["found_at_provider"], report["sent"]) == (1, 1)
    rows = _rows(engine, pending)
    assert [r.status for r in rows] == ["sent", "sent", "sent"]
    assert sorted(m.to for m in ours) == NUMBERS  # each number texted exactly once
    assert {m.sid for m in ours} == {r.provider_sid for r in rows}
