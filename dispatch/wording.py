"""How people read times: one wording for the pages, the sign-in messages and the exports.

Plain functions with no Flask, so the web pages (:mod:`dispatch.web.common` registers them as
template filters) and :mod:`dispatch.webauth` (the lock-out message) share them without
importing each other.
"""

from __future__ import annotations

from datetime import datetime

from triage.timing import local

__all__ = ["london_time"]


def london_time(moment: datetime | str | None) -> str:
    """"12:20 on Tuesday 1 December 2026": the wall-clock time a London call handler reads."""
    if moment is None:
        return ""
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    wall = local(moment)
    return f"{wall:%H:%M} on {wall:%A} {wall.day} {wall:%B %Y}"
