"""The one transition table for referral and visit statuses.

Every status change goes through :func:`move`, which refuses an illegal move with a clear
error. The database CHECK constraints list the same statuses (derived from these tables), so
neither a bug nor a hand-written UPDATE can store a status that does not exist.
"""

from __future__ import annotations

from typing import Protocol

from dispatch.errors import IllegalTransition

# Referral: received -> triaged -> one of the dispositions' paths.
REFERRAL_TRANSITIONS: dict[str, frozenset[str]] = {
    "received": frozenset({"triaged", "cancelled", "rejected"}),
    "triaged": frozenset({"sent_to_999", "signposted", "out_of_scope", "scheduled", "cancelled"}),
    "scheduled": frozenset({"in_progress", "escalated", "completed", "cancelled"}),
    "in_progress": frozenset({"completed", "escalated", "scheduled"}),
    "escalated": frozenset({"scheduled", "in_progress", "completed", "sent_to_999", "cancelled"}),
    "sent_to_999": frozenset(),
    "signposted": frozenset(),
    "out_of_scope": frozenset(),  # handed to the children's pathway (issue 13, H-004)
    "completed": frozenset(),
    "cancelled": frozenset(),
    "rejected": frozenset(),
}

# Visit: the same machine serves SMS replies, the visit page and the planner.
#   unassigned -> assigned (planner) -> offered (SMS sent) -> accepted -> en_route -> on_site
#   -> completed (with an outcome). Declines, sickness and withdrawals return it to unassigned.
VISIT_TRANSITIONS: dict[str, frozenset[str]] = {
    "unassigned": frozenset({"assigned", "cancelled"}),
    "assigned": frozenset({"offered", "accepted", "unassigned", "cancelled"}),
    "offered": frozenset({"accepted", "assigned", "unassigned", "cancelled"}),
    "accepted": frozenset({"en_route", "on_site", "unassigned", "cancelled"}),
    "en_route": frozenset({"on_site", "unassigned", "cancelled"}),
    "on_site": frozenset({"completed"}),
    "completed": frozenset(),
    "cancelled": frozenset(),
}

REFERRAL_STATUSES = tuple(REFERRAL_TRANSITIONS)
# Referrals still being acted on (their care has not ended one way or another).
REFERRAL_OPEN_STATUSES = ("received", "triaged", "scheduled", "in_progress", "escalated")
VISIT_STATUSES = tuple(VISIT_TRANSITIONS)

# Groups of statuses: named here once, imported wherever a rule needs one (never copied).
# tests/dispatch/models/test_states.py checks each group against the transition tables.

#: Referrals that can no longer change.
REFERRAL_FINAL_STATUSES = tuple(s for s, nexts in REFERRAL_TRANSITIONS.items() if not nexts)
#: Referrals being served by visits (settled to completed when their visits close).
REFERRAL_ACTIVE_STATUSES = ("scheduled", "in_progress", "escalated")
#: Visits that can no longer change: completed or cancelled.
VISIT_FINAL_STATUSES = tuple(s for s, nexts in VISIT_TRANSITIONS.items() if not nexts)
#: Visits still to be done (every status but the final ones).
VISIT_OPEN_STATUSES = tuple(s for s in VISIT_STATUSES if s not in VISIT_FINAL_STATUSES)
#: Visits the planner may place or move: nobody has accepted them yet.
VISIT_MOVABLE_STATUSES = ("unassigned", "assigned", "offered")
#: Visits with a named worker who has not accepted yet (the offer may still move).
VISIT_PROPOSED_STATUSES = ("assigned", "offered")
#: Visits whose worker has committed: the planner must never move them.
VISIT_PINNED_STATUSES = ("accepted", "en_route", "on_site")
#: Visits whose worker is travelling to or at the patient.
VISIT_UNDER_WAY_STATUSES = ("en_route", "on_site")
#: Open visits with a named worker.
VISIT_ACTIVE_STATUSES = VISIT_PROPOSED_STATUSES + VISIT_PINNED_STATUSES
#: Visits that need a named worker (a database CHECK; the order is part of its text).
VISIT_STAFFED_STATUSES = (*VISIT_ACTIVE_STATUSES, "completed")
#: Visits that hold their worker's time: open and staffed. No worker may hold two of these
#: that they cannot both do, travel between them included (dispatch.planning.invariants).
VISIT_OCCUPYING_STATUSES = VISIT_ACTIVE_STATUSES

TABLES: dict[str, dict[str, frozenset[str]]] = {
    "referral": REFERRAL_TRANSITIONS,
    "visit": VISIT_TRANSITIONS,
}


class HasStatus(Protocol):
    status: str


def can_move(kind: str, current: str, new: str) -> bool:
    """Whether ``kind`` ("referral" or "visit") may go from ``current`` to ``new``."""
    return new in TABLES[kind].get(current, frozenset())


def move(kind: str, obj: HasStatus, new: str) -> str:
    """Set ``obj.status`` to ``new`` if the table allows it; return the old status.

    Raises
    ------
    IllegalTransition
        When the move is not in the table (including unknown statuses), naming both.
    """
    table = TABLES[kind]
    if new not in table:
        raise IllegalTransition(f"{new!r} is not a {kind} status")
    current = obj.status
    if not can_move(kind, current, new):
        allowed = ", ".join(sorted(table.get(current, ()))) or "none (final)"
        raise IllegalTransition(
            f"a {kind} cannot move from {current!r} to {new!r}; allowed from {current!r}: {allowed}"
        )
    obj.status = new
    return current
