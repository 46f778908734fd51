"""The request's "now": read once at the edge (the API and the pages alike) and passed into
every rule.

Tests and the simulator can pin it with the ``FIXED_NOW`` setting (ISO 8601 with a zone); the
clock itself is :mod:`dispatch.clock`, shared with the jobs.
"""

from __future__ import annotations

from datetime import datetime

from flask import current_app

from dispatch import clock


def now() -> datetime:
    """This request's now (the app's ``FIXED_NOW``, else the wall clock)."""
    return clock.now(current_app.config)
