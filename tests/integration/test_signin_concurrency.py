"""Lock-out under parallel guesses on PostgreSQL (issue 20 item 6).

Each guess is one sign-in as the web view makes it: its own database session, ``authenticate``
then one commit, on its own thread, all released together by a barrier. Before the failures
were counted in the database, 40 simultaneous wrong passwords each read "0 failures" and
wrote "1": nobody was locked out, and a right password hidden among them signed in.

The audit trail (ids in commit order, since the user's row is locked for each attempt) must
read like the same attempts made one after another.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import orm as so

from dispatch import models as m
from dispatch.db import make_engine
from dispatch.services.users import add_user
from dispatch.webauth import LOCKOUT_DURATION, LOCKOUT_THRESHOLD, authenticate
from tests.integration.support import POSTGRES, now_utc

pytestmark = list(POSTGRES)

GUESSES = 40
RIGHT = "the right password"
SIGN_IN_ACTIONS = ("sign_in", "sign_in_failed", "account_locked", "sign_in_refused_locked")


@pytest.fixture
def database(databases: Callable[[str], str]) -> Any:
    engine = make_engine(databases("postgres"))
    yield engine
    engine.dispose()


def _new_user(engine: sa.Engine, name: str) -> int:
    with so.Session(engine) as session:
        user = add_user(session, username=name, role="coordinator", password=RIGHT,
                        now=now_utc()).user
        session.commit()
        return user.id


def _burst(engine: sa.Engine, username: str, passwords: list[str]) -> list[bool]:
    """Every password tried at once; True where the attempt signed in."""
    barrier = threading.Barrier(len(passwords))
    now = now_utc()

    def attempt(password: str) -> bool:
        with so.Session(engine) as session:
            barrier.wait(timeout=30)
            result = authenticate(session, username=username, password=password, now=now)
            session.commit()
            return result.user is not None

    with ThreadPoolExecutor(max_workers=len(passwords)) as pool:
        return list(pool.map(attempt, passwords))


def _history(engine: sa.Engine, user_id: int) -> list[str]:
    with so.Session(engine) as session:
        return list(session.scalars(
            sa.select(m.AuditEvent.action).where(
                m.AuditEvent.entity_type == "user", m.AuditEvent.entity_id == str(user_id),
                m.AuditEvent.action.in_(SIGN_IN_ACTIONS)).order_by(m.AuditEvent.id)))


def _assert_serial(history: list[str]) -> None:
    """The events follow the one-at-a-time rule: at most four failures in a row, the fifth
    locks, and after the lock every attempt is refused without a password check."""
    failures, locked = 0, False
    for action in history:
        if locked:
            assert action == "sign_in_refused_locked", history
        elif action == "sign_in_failed":
            failures += 1
            assert failures < LOCKOUT_THRESHOLD, history
        elif action == "account_locked":
            assert failures == LOCKOUT_THRESHOLD - 1, history
            locked = True
        elif action == "sign_in":
            failures = 0
        else:
            raise AssertionError(f"refused as locked before any lock: {history}")


@pytest.mark.safety("H-083")
def test_parallel_wrong_passwords_lock_the_account(database: sa.Engine) -> None:
    """40 simultaneous wrong passwords: four failures, the fifth locks, 35 are refused."""
    user_id = _new_user(database, "burst-wrong")

    signed_in = _burst(database, "burst-wrong", [f"guess {i}" for i in range(GUESSES)])

    assert not any(signed_in)
    history = _history(database, user_id)
    _assert_serial(history)
    assert Counter(history) == {"sign_in_failed": LOCKOUT_THRESHOLD - 1, "account_locked": 1,
                                "sign_in_refused_locked": GUESSES - LOCKOUT_THRESHOLD}
    with so.Session(database) as session:
        user = session.get(m.User, user_id)
        assert user is not None and user.locked_until is not None
        assert user.locked_until > now_utc() + LOCKOUT_DURATION - timedelta(minutes=1)


@pytest.mark.safety("H-083")
def test_parallel_right_password_in_a_burst_needs_fewer_than_five_failures(
    database: sa.Engine,
) -> None:
    """The right password hidden among 39 wrong ones signs in only if fewer than five wrong
    ones were checked before it (as if tried one at a time); no more than five wrong
    passwords are ever checked before the lock, whatever the order."""
    user_id = _new_user(database, "burst-hidden")
    passwords = [f"guess {i}" for i in range(GUESSES - 1)]
    passwords.insert(GUESSES // 2, RIGHT)

    signed_in = _burst(database, "burst-hidden", passwords)

    history = _history(database, user_id)
    _assert_serial(history)
    checked_wrong = sum(a in ("sign_in_failed", "account_locked") for a in history)
    assert checked_wrong <= 2 * LOCKOUT_THRESHOLD  # five before the right one, five after
    assert sum(signed_in) == history.count("sign_in") <= 1
    print(f"\nhidden right password: signed in={any(signed_in)}, {Counter(history)}")
