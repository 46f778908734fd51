"""Instant wake-ups across processes on PostgreSQL: ``NOTIFY`` from the web, ``LISTEN`` in the
scheduler.

In the production layout the web (gunicorn) and the jobs (``dispatch scheduler``) are separate
processes, so a web request cannot reach the scheduler's in-process wake
(:mod:`dispatch.jobs.wakeup`) and an urgent referral waited for the placer's next poll (up to
``PLACE_INTERVAL``, 2 s). PostgreSQL's ``NOTIFY`` carries the wake instead: the request sends
``pg_notify('dispatch_wake', '<job id>')`` after its transaction committed (so the scheduler
sees the new rows), and the scheduler's listener thread, on its own connection, runs the job at
once. The polls stay as the safety net: a lost notification (listener reconnecting, database
restart) costs one interval, never a referral. SQLite has no cross-process notifications and
keeps the in-process wake.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Collection

import sqlalchemy as sa

log = logging.getLogger(__name__)

CHANNEL = "dispatch_wake"
#: Reconnect backoff of the listener (seconds): first retry, then doubling up to the cap.
RETRY_FIRST, RETRY_CAP = 0.5, 30.0


def supported(engine: sa.Engine) -> bool:
    return engine.dialect.name == "postgresql"


def notify(engine: sa.Engine, job_id: str) -> None:
    """Tell every listening scheduler to run ``job_id`` now (delivered when this commits; it
    runs in its own short transaction, so call it after the request's commit)."""
    try:
        with engine.begin() as conn:
            conn.execute(sa.select(sa.func.pg_notify(CHANNEL, job_id)))
    except Exception:  # a wake is an optimisation: the poll still finds the work
        log.warning("wake %s not sent (the scheduler's poll will find the work)", job_id,
                    exc_info=True)


def conninfo(url: sa.URL) -> str:
    """A libpq connection string for ``url`` (SQLAlchemy's ``postgresql+psycopg://`` form)."""
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


class Listener(threading.Thread):
    """``LISTEN dispatch_wake`` on a dedicated connection; each known job id that arrives is
    passed to ``on_wake``. Reconnects with backoff; :meth:`stop` ends it within a second."""

    def __init__(self, url: sa.URL, on_wake: Callable[[str], object],
                 jobs: Collection[str]) -> None:
        super().__init__(name="wake-listener", daemon=True)
        self._conninfo = conninfo(url)
        self._on_wake = on_wake
        self._jobs = frozenset(jobs)
        self._stopped = threading.Event()
        #: Set once LISTEN is in place (tests and the benchmark wait on it).
        self.listening = threading.Event()

    def stop(self) -> None:
        self._stopped.set()

    def run(self) -> None:
        delay = RETRY_FIRST
        while not self._stopped.is_set():
            try:
                self._listen()
                delay = RETRY_FIRST
            except Exception as exc:  # connection lost or refused: try again, later each time
                self.listening.clear()
                log.warning("wake listener: %s; reconnecting in %.1f s", exc, delay)
                self._stopped.wait(delay)
                delay = min(delay * 2, RETRY_CAP)

    def _listen(self) -> None:
        import psycopg

        with psycopg.connect(self._conninfo, autocommit=True) as conn:
            conn.execute(f"LISTEN {CHANNEL}")
            self.listening.set()
            log.info("listening for wake-ups on %s", CHANNEL)
            while not self._stopped.is_set():
                for note in conn.notifies(timeout=1.0):
                    if note.payload in self._jobs:
                        self._on_wake(note.payload)
                    else:
                        log.warning("wake for unknown job %r ignored", note.payload[:40])
