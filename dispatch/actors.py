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
    # The networks this person may see and act on; None: every network (every role but a
    # coordinator limited to theirs, and the system).
    networks: frozenset[int] | None = None

    def covers(self, network_id: int | None) -> bool:
        """Whether this actor may see and act on ``network_id``. A row with no network (not
        yet routed) is everyone's: refusing it would leave it to nobody."""
        return self.networks is None or network_id is None or network_id in self.networks


SYSTEM = Actor(user_id=None, username="system", role="admin")
