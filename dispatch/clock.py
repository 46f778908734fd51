"""The one clock: where "now" comes from. Rules never read it; the edges read it once and pass
``now`` in.

- :func:`now` is the deployment's now: the ``FIXED_NOW`` setting if set (ISO 8601 with a zone;
  the tests and the simulator pin time with it), else the wall clock. The request's now
  (``dispatch.request_clock.now``) and the jobs' now (``dispatch.jobs.runner.clock``) are this,
  read from the app's settings.
- :func:`wall_clock` is the real time, for bookkeeping (``created_at`` defaults, a finished
  solve's time stamp) and for commands run by hand.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any


def wall_clock() -> datetime:
    """The real time, in UTC."""
    return datetime.now(UTC)


def now(settings: Mapping[str, Any]) -> datetime:
    """``settings["FIXED_NOW"]`` if set (a datetime or ISO 8601 text), else the wall clock."""
    fixed = settings.get("FIXED_NOW")
    if fixed:
        return datetime.fromisoformat(fixed) if isinstance(fixed, str) else fixed
    return wall_clock()
