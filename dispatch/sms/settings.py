"""The public base URL that links in texts point at.

Services take it as an explicit ``base_url`` keyword; when a caller leaves it out (the planner,
a job, a view) it comes from the settings of the database the caller's session belongs to
(``dispatch.database.settings_of``: the app's config for the app's sessions), else the
configured default, so a text never goes out with no link at all. No web framework is read.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import orm as so

from dispatch.config import DEFAULTS
from dispatch.database import settings_of


def public_base_url(session: so.Session, explicit: str | None = None) -> str:
    """``explicit`` if given, else the session's ``PUBLIC_BASE_URL``, else the default."""
    if explicit:
        return explicit
    configured = settings_of(session).get("PUBLIC_BASE_URL")
    if configured:
        return str(configured)
    return str(DEFAULTS["PUBLIC_BASE_URL"])


def escalation_text_interval(session: so.Session, explicit: timedelta | None = None) -> timedelta:
    """``explicit`` if given, else the session's ``ESCALATION_TEXT_MINUTES``, else the default:
    the least time between two grouped escalation texts to one on-call phone."""
    if explicit is not None:
        return explicit
    minutes = settings_of(session).get("ESCALATION_TEXT_MINUTES",
                                       DEFAULTS["ESCALATION_TEXT_MINUTES"])
    return timedelta(minutes=float(minutes))
