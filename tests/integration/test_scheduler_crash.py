"""The real ``dispatch scheduler`` process under SIGKILL, and two schedulers on one database.

Clocks: each scheduler pins its "now" (``FIXED_NOW``). The restarted or standby scheduler is
pinned past the outbox's sending lease, which is how long a crashed send stays claimed; that
stands for the two minutes a real restart would wait, without the test waiting them.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from dispatch.jobs.lock import LOCK_NAME, lock_key
from dispatch.models import Message
from dispatch.services import outbox
from tests.fakes.twilio_server import FakeTwilio
from tests.integration.support import (
    POSTGRES,
    Procs,
    now_utc,
    phone,
    postgres_only,
    service_env,
    session_for,
    wait_until,
)

AFTER_LEASE = outbox.SENDING_LEASE + timedelta(seconds=1)
SEND_WAIT = 45.0


def enqueue_texts(url: str, count: int, *, now: datetime, first: int = 0) -> list[int]:
    """``count`` committed pending texts, each to its own number."""
    with session_for(url) as session:
        rows = [outbox.enqueue(session, to=phone(50_000 + first + i),
                               body=f"Visit {7000 + first + i} is cancelled.", now=now)
                for i in range(count)]
        session.commit()
        return [r.id for r in rows]


def statuses(url: str) -> list[str]:
    with session_for(url) as session:
        return list(session.scalars(sa.select(Message.status).where(
            Message.direction == "outbound").order_by(Message.id)))


def assert_each_sent_once(url: str, fake: FakeTwilio) -> None:
    """Every outbound row is ``sent`` with the sid of the one provider message carrying its key."""
    with session_for(url) as session:
        rows = list(session.scalars(sa.select(Message).where(Message.direction == "outbound")))
    per_key = Counter(key for msg in fake.messages for key in [_key(msg.body)])
    assert [r.status for r in rows] == ["sent"] * len(rows)
    keys = [r.send_key or "" for r in rows]
    assert {k: per_key[k] for k in keys} == dict.fromkeys(keys, 1)
    by_key = {_key(msg.body): msg.sid for msg in fake.messages}
    assert {r.provider_sid for r in rows} == {by_key[k] for k in keys}
    assert len(fake.messages) == len(rows)


def _key(body: str) -> str:
    return body.rsplit("[msg ", 1)[-1].rstrip("]")


@pytest.mark.parametrize("kind", ["sqlite", pytest.param("postgres", marks=POSTGRES)])
def test_scheduler_sigkill_mid_send_delivers_each_text_once(
    kind: str, databases: Callable[[str], str], procs: Procs, fake_twilio: FakeTwilio
) -> None:
    """Kill -9 the scheduler while Twilio holds its answer to text 3 of 5; restart; 5 sends."""
    # Arrange
    url, now = databases(kind), now_utc()
    enqueue_texts(url, 5, now=now)
    fake_twilio.hang_on(3)
    first = procs.scheduler(service_env(url, twilio=fake_twilio, fixed_now=now))

    # Act: kill it while the provider has taken text 3 but not answered; restart it.
    hung = fake_twilio.hung.wait(SEND_WAIT)
    first.kill()
    fake_twilio.release.set()
    at_kill = statuses(url)
    procs.scheduler(service_env(url, twilio=fake_twilio, fixed_now=now + AFTER_LEASE))
    wait_until(lambda: statuses(url) == ["sent"] * 5, timeout=SEND_WAIT,
               what="the restarted scheduler to settle every text")

    # Assert
    assert hung, first.output()[-2000:]
    assert first.popen.returncode == -9
    assert at_kill == ["sent", "sent", "sending", "pending", "pending"]
    assert_each_sent_once(url, fake_twilio)


@dataclass
class SlowTwilio(FakeTwilio):
    """The fake Twilio taking ``delay`` seconds over each create, and holding every create
    after the first ``hold_after`` until :attr:`go` is set, so a kill lands mid-batch however
    slowly the machine starts the standby (a busy machine once let the leader send all 30
    before the standby was up)."""

    delay: float = 0.1
    hold_after: int = 5
    go: threading.Event = field(default_factory=threading.Event)

    def create(self, form: dict[str, str]) -> tuple[int, dict[str, Any], bool]:
        if len(self.messages) >= self.hold_after:
            self.go.wait(SEND_WAIT)
        time.sleep(self.delay)
        return super().create(form)


def advisory_holders(url: str) -> int:
    """How many sessions hold the scheduler's leader lock (a PostgreSQL advisory lock)."""
    key = lock_key(LOCK_NAME)
    with session_for(url) as session:
        return int(session.scalar(sa.text(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted "
            "AND database = (SELECT oid FROM pg_database WHERE datname = current_database()) "
            "AND ((classid::bigint << 32) | objid::bigint) = :k"),
            {"k": key & 0xFFFFFFFFFFFFFFFF}) or 0)


@postgres_only
def test_two_schedulers_one_leader_takeover_without_duplicates(
    databases: Callable[[str], str], procs: Procs
) -> None:
    """One of two schedulers runs jobs, the other stands by; SIGKILL the leader mid-batch and
    the standby takes over (measured and printed); no text is sent twice."""
    # Arrange: 30 texts, a provider slow enough (0.1 s each) that a kill lands mid-batch.
    url, now = databases("postgres"), now_utc()
    enqueue_texts(url, 30, now=now)
    standby = 1.0
    with SlowTwilio() as fake:
        leader = procs.scheduler(service_env(url, twilio=fake, fixed_now=now))
        leader.wait_for("scheduler running")
        second = procs.scheduler(service_env(url, twilio=fake, fixed_now=now + AFTER_LEASE),
                                 standby_seconds=standby)
        second.wait_for("standing by")
        holders_before = advisory_holders(url)
        wait_until(lambda: len(fake.messages) >= 5, timeout=SEND_WAIT, what="5 texts sent")
        standby_ran_jobs = "scheduler running" in second.out.read_text()

        # Act: kill the leader mid-batch (it has sent a few).
        killed_at = time.monotonic()
        leader.kill()
        sent_by_leader = len(fake.messages)
        fake.go.set()  # the held create (the leader's, now dead) and the new leader's go on
        # A hang guard, not a speed test (a busy machine must not fail it): the standby
        # retries every `standby` seconds, the measured takeover is printed below.
        second.wait_for("scheduler running", timeout=standby + 60)
        takeover = time.monotonic() - killed_at
        wait_until(lambda: statuses(url) == ["sent"] * 30, timeout=SEND_WAIT,
                   what="the new leader to send the rest")

        print(f"\ntakeover {takeover:.2f}s after SIGKILL; leader sent {sent_by_leader}/30")

        # Assert
        assert holders_before == 1
        assert not standby_ran_jobs
        assert 5 <= sent_by_leader < 30
        assert_each_sent_once(url, fake)
        assert advisory_holders(url) == 1
