"""Who did something: the person (or the system) recorded in audit events.

A plain module so that services can name their caller without importing Flask, the API or
the sign-in machinery (``dispatch.auth`` finds the actor of a request; this module only says
what an actor is).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Actor:
    """The person behind a request, as recorded in audit events."""

    user_id: int | None
    username: str
    role: str
    staff_id: int | None = None


SYSTEM = Actor(user_id=None, username="system", role="admin")
