"""One planner at a time on a network, across every process and machine (issue 18, H-090).

A placement and a re-optimisation of the same network must not solve together: each reads the
network, solves for seconds, and applies; whichever applies second was solved against rows that
are no longer there (the re-optimised plan clashes with the visit just inserted, and the apply
is refused whole, or an UPDATE finds the visit's version moved on: ``StaleDataError``). So a
planning run holds its network's lock from its read to the end of its apply
(:func:`dispatch.planning.pipeline.run`).

- **PostgreSQL**: a session-level advisory lock (``pg_advisory_lock``) on a connection of its
  own, keyed by the network, held for the run. It is shared by every worker, scheduler and
  web process on the database, costs no row lock (the run's own transactions stay short) and
  is released by the server if the process dies, even by SIGKILL. A run waits for it at most
  ``wait`` seconds (``lock_timeout``), then gives up with :class:`NetworkBusy`.
- **SQLite** (one machine; the embedded default): a lock per network in this process, which
  is where all planning runs there (the scheduler's jobs and threads).

Why a database lock and not Redis (Dramatiq's mutex): the database is where the plan is applied
and what every planning process already shares, with or without a task broker, and an advisory
lock dies with its holder's connection, so no expiry has to be guessed to be longer than the
longest solve.

What it costs: a placement that arrives while its network is being re-optimised waits for that
run (the re-optimiser's search, ``REOPTIMISE_SECONDS``, plus its apply) instead of being
applied first and the re-optimisation thrown away. Workers take placements before
re-optimisations, so the wait is one run at most.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa

log = logging.getLogger(__name__)

#: How long a planning run waits for its network by default (seconds): longer than a
#: re-optimisation (3 s search plus its read and apply) with room for a slow database.
WAIT_SECONDS = 60.0


class NetworkBusy(Exception):
    """Another planning run held the network for longer than the wait: nothing was done."""


def lock_key(network_id: int) -> int:
    """The advisory lock's key for ``network_id`` (signed 64 bits, stable, its own space)."""
    digest = hashlib.sha256(f"dispatch-network-plan:{network_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


_local: dict[tuple[str, int], threading.Lock] = {}
_local_guard = threading.Lock()


def _local_lock(url: str, network_id: int) -> threading.Lock:
    with _local_guard:
        return _local.setdefault((url, network_id), threading.Lock())


@contextmanager
def network_lock(engine: sa.Engine, network_id: int, *,
                 wait: float = WAIT_SECONDS) -> Iterator[None]:
    """Hold ``network_id``'s planning lock for the block.

    :raise NetworkBusy: not taken within ``wait`` seconds.
    """
    if engine.dialect.name != "postgresql":
        lock = _local_lock(str(engine.url), network_id)
        if not lock.acquire(timeout=max(0.0, wait)):
            raise NetworkBusy(f"network {network_id}: another planning run held it "
                              f"for over {wait:g} s")
        try:
            yield
        finally:
            lock.release()
        return
    key = {"k": lock_key(network_id)}
    with engine.connect() as conn:
        conn.execute(sa.text("SELECT set_config('lock_timeout', :t, true)"),
                     {"t": f"{max(1, int(wait * 1000))}ms"})
        try:
            conn.execute(sa.text("SELECT pg_advisory_lock(:k)"), key)
        except sa.exc.OperationalError as exc:
            conn.rollback()
            raise NetworkBusy(f"network {network_id}: another planning run held it "
                              f"for over {wait:g} s") from exc
        conn.commit()
        try:
            yield
        finally:
            try:
                conn.execute(sa.text("SELECT pg_advisory_unlock(:k)"), key)
                conn.commit()
            except sa.exc.DBAPIError:  # the connection broke: the server released the lock
                log.warning("network %s: planning lock's connection lost on release",
                            network_id)
                conn.invalidate()
