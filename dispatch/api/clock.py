"""The request's "now": read once at the edge and passed into every rule.

Tests and the simulator can pin it with the ``FIXED_NOW`` setting (ISO 8601 with a zone).
"""

from __future__ import annotations

from datetime import UTC, datetime

from flask import current_app


def now() -> datetime:
    fixed = current_app.config.get("FIXED_NOW")
    if fixed:
        return datetime.fromisoformat(fixed) if isinstance(fixed, str) else fixed
    return datetime.now(UTC)
