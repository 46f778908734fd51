"""The public base URL that links in texts point at.

Services take it as an explicit ``base_url`` keyword; when a caller leaves it out (the planner,
a job) it comes from the running app's ``PUBLIC_BASE_URL``, else the configured default, so a
text never goes out with no link at all.
"""

from __future__ import annotations

from datetime import timedelta

from flask import current_app, has_app_context

from dispatch.config import DEFAULTS


def public_base_url(explicit: str | None = None) -> str:
    """``explicit`` if given, else the app's ``PUBLIC_BASE_URL``, else the default."""
    if explicit:
        return explicit
    if has_app_context():
        configured = current_app.config.get("PUBLIC_BASE_URL")
        if configured:
            return str(configured)
    return str(DEFAULTS["PUBLIC_BASE_URL"])


def escalation_text_interval(explicit: timedelta | None = None) -> timedelta:
    """``explicit`` if given, else the app's ``ESCALATION_TEXT_MINUTES``, else the default:
    the least time between two grouped escalation texts to one on-call phone."""
    if explicit is not None:
        return explicit
    minutes = DEFAULTS["ESCALATION_TEXT_MINUTES"]
    if has_app_context():
        minutes = current_app.config.get("ESCALATION_TEXT_MINUTES", minutes)
    return timedelta(minutes=float(minutes))
