"""Planning during the day: place new visits at once, re-optimise every few minutes.

Both start from the current assignments (read back from the database as a plan), so a new
urgent visit moves as little as possible and a re-optimisation can only improve on what
workers have already been told. Both are :mod:`dispatch.planning.pipeline` runs: the
``..._in``/``..._network`` forms for the jobs (short transactions), the others in one session.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import orm as so

from dispatch.database import Database
from dispatch.planning.pipeline import (
    RETRY_AFTER,
    OneSession,
    Options,
    ShortTransactions,
    place_new,
    run,
)
from dispatch.planning.pipeline import Report as LiveReport
from dispatch.planning.retries import PlacementRetries
from routing.travel import TravelTimeProvider

__all__ = ["RETRY_AFTER", "LiveReport", "place_new_in", "place_new_visits", "replan",
           "replan_network"]


def replan(
    session: so.Session,
    *,
    now: datetime,
    provider: TravelTimeProvider,
    network_id: int | None,
    seconds: float,
    workers: int = 1,
    solution_limit: int | None = None,
) -> LiveReport:
    """Re-optimise one network from its current plan and apply the result, in ``session``
    (``solution_limit`` makes the search a pure function of the rows, for tests)."""
    return run(OneSession(session), now=now, provider=provider, network_id=network_id,
               options=Options(method="improve", seconds=seconds, workers=workers,
                               solution_limit=solution_limit))


def replan_network(
    database: Database,
    *,
    now: datetime,
    provider: TravelTimeProvider,
    network_id: int | None,
    seconds: float,
    workers: int = 1,
    offer_lead: timedelta | None = None,
) -> LiveReport:
    """:func:`replan` for the jobs: read, then solve with no transaction open (no row or
    SQLite write lock held for seconds), then apply in a short transaction. Visits changed
    while solving are left as they are (``apply_plan`` checks their version)."""
    return run(ShortTransactions(database), now=now, provider=provider, network_id=network_id,
               options=Options(method="improve", seconds=seconds, workers=workers,
                               offer_lead=offer_lead))


def place_new_in(
    database: Database,
    *,
    now: datetime,
    provider: TravelTimeProvider,
    seconds: float = 1.0,
    retries: PlacementRetries | None = None,
    offer_lead: timedelta | None = None,
    rescue_seconds: float = 0.0,
) -> list[LiveReport]:
    """:func:`place_new_visits` for the jobs, one short transaction to read and one to apply
    per network, the insertions in between with no transaction open (``retries``: see
    :func:`dispatch.planning.pipeline.place_new`)."""
    return place_new(ShortTransactions(database), now=now, provider=provider,
                     options=Options(method="insert", seconds=seconds,
                                     rescue_seconds=rescue_seconds, offer_lead=offer_lead),
                     retries=retries)


def place_new_visits(
    session: so.Session,
    *,
    now: datetime,
    provider: TravelTimeProvider,
    seconds: float = 1.0,
) -> list[LiveReport]:
    """Insert each network's never-planned visits (unassigned, not in jeopardy) quickly.

    Urgent visits go first; each insertion keeps every other visit where it is unless the
    new one cannot be placed otherwise (``routing.solver.insert_urgent``).
    """
    return place_new(OneSession(session), now=now, provider=provider,
                     options=Options(method="insert", seconds=seconds))
