"""Every legal and every illegal status move, for referrals and visits."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import product

import pytest

from dispatch.errors import IllegalTransition
from dispatch.states import (
    REFERRAL_STATUSES,
    REFERRAL_TRANSITIONS,
    TABLES,
    VISIT_STATUSES,
    VISIT_TRANSITIONS,
    move,
)


@dataclass
class Thing:
    status: str


def _all_pairs() -> list[tuple[str, str, str, bool]]:
    cases = []
    for kind, statuses in (("referral", REFERRAL_STATUSES), ("visit", VISIT_STATUSES)):
        for current, new in product(statuses, statuses):
            cases.append((kind, current, new, new in TABLES[kind][current]))
    return cases


@pytest.mark.parametrize(("kind", "current", "new", "legal"), _all_pairs())
def test_move_every_pair(kind: str, current: str, new: str, legal: bool) -> None:
    """Each (from, to) pair is allowed exactly when the table lists it."""
    thing = Thing(current)
    if legal:
        assert move(kind, thing, new) == current
        assert thing.status == new
    else:
        with pytest.raises(IllegalTransition, match=f"from {current!r} to {new!r}"):
            move(kind, thing, new)
        assert thing.status == current


def test_move_unknown_status_refused() -> None:
    """A status that does not exist is named in the error."""
    with pytest.raises(IllegalTransition, match="'lost' is not a visit status"):
        move("visit", Thing("unassigned"), "lost")


def test_tables_closed() -> None:
    """Every target of a move is itself a known status (no dangling names)."""
    for table in (REFERRAL_TRANSITIONS, VISIT_TRANSITIONS):
        for targets in table.values():
            assert targets <= set(table)


def test_final_statuses_have_no_exit() -> None:
    """Completed and cancelled are final: nothing moves out of them."""
    assert VISIT_TRANSITIONS["completed"] == frozenset()
    assert REFERRAL_TRANSITIONS["sent_to_999"] == frozenset()


def test_happy_path_visit() -> None:
    """The SMS path: assigned, offered, accepted, en route, on site, completed."""
    visit = Thing("unassigned")
    for status in ("assigned", "offered", "accepted", "en_route", "on_site", "completed"):
        move("visit", visit, status)
    assert visit.status == "completed"


def test_status_groups_follow_the_tables() -> None:
    """The named status groups (the only copies of status lists in the code) agree with the
    transition tables: final statuses have no way out, pinned ones cannot go back to an
    offer, movable ones can be (re)offered, and each group holds only real statuses."""
    from dispatch import states

    groups = {name: value for name, value in vars(states).items()
              if name.endswith("_STATUSES") and name not in ("VISIT_STATUSES",
                                                             "REFERRAL_STATUSES")}
    assert len(groups) >= 10
    for name, group in groups.items():
        every = REFERRAL_STATUSES if name.startswith("REFERRAL") else VISIT_STATUSES
        assert set(group) <= set(every), name
        assert len(set(group)) == len(group), name
    assert set(states.VISIT_FINAL_STATUSES) == {"completed", "cancelled"}
    assert set(states.VISIT_OPEN_STATUSES) == set(VISIT_STATUSES) - {"completed", "cancelled"}
    for status in states.VISIT_PINNED_STATUSES:
        assert not VISIT_TRANSITIONS[status] & {"assigned", "offered"}, status
    for status in states.VISIT_MOVABLE_STATUSES:
        assert "assigned" in VISIT_TRANSITIONS[status] or status == "assigned", status
    for status in states.REFERRAL_ACTIVE_STATUSES:
        assert "completed" in REFERRAL_TRANSITIONS[status], status
    assert set(states.VISIT_ACTIVE_STATUSES) == (set(states.VISIT_OPEN_STATUSES)
                                                 - {"unassigned"})
