"""The leader lock: only the process holding it runs jobs.

PostgreSQL: a session-level advisory lock held on a dedicated connection for the life of the
process (it is released by the server if the process dies, even by SIGKILL). SQLite: an
exclusive ``flock`` on a file beside the database (also released by the kernel on death).
"""

from __future__ import annotations

import fcntl
import hashlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

import sqlalchemy as sa

LOCK_NAME = "dispatch-scheduler"


def lock_key(name: str) -> int:
    """A stable signed 64-bit key for ``pg_advisory_lock`` from a name."""
    digest = hashlib.sha256(name.encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


class LeaderLock:
    """Try to become the one scheduler; ``acquire()`` is non-blocking and returns success."""

    def __init__(self, engine: sa.Engine, *, name: str = LOCK_NAME) -> None:
        self.engine = engine
        self.name = name
        self._conn: sa.Connection | None = None
        self._file: IO[str] | None = None

    def acquire(self) -> bool:
        if self.engine.dialect.name == "postgresql":
            return self._acquire_pg()
        return self._acquire_file()

    def _acquire_pg(self) -> bool:
        conn = self.engine.connect()
        got = conn.execute(sa.text("SELECT pg_try_advisory_lock(:k)"), {"k": lock_key(self.name)})
        if got.scalar():
            conn.commit()
            self._conn = conn
            return True
        conn.rollback()
        conn.close()
        return False

    def _acquire_file(self) -> bool:
        path = lock_path(self.engine)
        handle = open(path, "a+")  # noqa: SIM115 - held open for the process lifetime
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            return False
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        self._file = handle
        return True

    def release(self) -> None:
        if self._conn is not None:
            self._conn.execute(sa.text("SELECT pg_advisory_unlock(:k)"), {"k": lock_key(self.name)})
            self._conn.close()
            self._conn = None
        if self._file is not None:
            fcntl.flock(self._file, fcntl.LOCK_UN)
            self._file.close()
            self._file = None

    @property
    def held(self) -> bool:
        return self._conn is not None or self._file is not None


def lock_path(engine: sa.Engine) -> Path:
    """Where the file lock lives: beside the SQLite file (or in /tmp for in-memory)."""
    database = engine.url.database
    if database and database != ":memory:":
        return Path(database).with_suffix(".scheduler.lock")
    return Path("/tmp") / f"{LOCK_NAME}-{os.getuid()}.lock"


@contextmanager
def job_lock(engine: sa.Engine, job: str) -> Iterator[bool]:
    """A per-job lock held across several transactions (PostgreSQL session advisory lock on
    its own connection); yields whether it was taken. SQLite: always True (leader lock)."""
    if engine.dialect.name != "postgresql":
        yield True
        return
    key = {"k": lock_key(f"job:{job}")}
    with engine.connect() as conn:
        got = bool(conn.execute(sa.text("SELECT pg_try_advisory_lock(:k)"), key).scalar())
        conn.commit()
        try:
            yield got
        finally:
            if got:
                conn.execute(sa.text("SELECT pg_advisory_unlock(:k)"), key)
                conn.commit()


def try_job_lock(conn: sa.Connection, job: str) -> bool:
    """A per-job lock for the current transaction (PostgreSQL); always True on SQLite, where
    the leader lock alone serialises jobs and SQLite itself serialises writers."""
    if conn.dialect.name != "postgresql":
        return True
    got = conn.execute(sa.text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": lock_key(job)})
    return bool(got.scalar())
