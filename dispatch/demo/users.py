"""One demo sign-in per role, with a password derived from the seed.

Why derived from the seed: the demo must be repeatable (the same seed, the same sign-ins, so a
README or a screencast can quote them), and these accounts only ever exist in a demo database.
Never load demo data into a database that holds real people or real users.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import UTC
from typing import Final

from dispatch.demo.types import DemoNetwork, DemoStaff, DemoUser, Roster
from dispatch.models.vocab import USER_ROLES

USERNAME_PREFIX: Final = "demo-"
PASSWORD_WORDS: Final = 3
WORDS: Final[tuple[str, ...]] = (
    "amber", "anchor", "autumn", "badger", "beacon", "birch", "bramble", "breeze", "canal",
    "cedar", "comet", "copper", "coral", "delta", "ember", "falcon", "fern", "harbour",
    "hazel", "heron", "island", "juniper", "kestrel", "lantern", "larch", "meadow", "maple",
    "marble", "orchard", "otter", "pebble", "pepper", "plover", "quartz", "raven", "river",
    "robin", "saffron", "salmon", "silver", "spruce", "summit", "thistle", "timber", "tulip",
    "violet", "walnut", "willow",
)  # fmt: skip


def demo_users(
    *, seed: int, networks: Sequence[DemoNetwork], roster: Roster
) -> tuple[DemoUser, ...]:
    """A user for each role in :data:`dispatch.models.vocab.USER_ROLES`.

    The field-staff user is a district nurse on shift at ``roster.now`` (so the demo shows
    them visits straight away) and the coordinator user is that network's coordinator on
    duty; both are linked to their staff rows.

    Raises
    ------
    ValueError
        If the roster has no district nurse or no coordinator.
    """
    rng = random.Random(f"demo-users:{seed}")
    nurse = _on_duty(roster, "district_nurse", network=None)
    coordinator = _on_duty(roster, "coordinator", network=nurse.network_code)
    network_name = {n.code: n.name for n in networks}.get(nurse.network_code, nurse.network_code)
    users = []
    for role in USER_ROLES:
        username = USERNAME_PREFIX + role.replace("_", "-")
        password = _password(rng)
        if role == "field_staff":
            users.append(DemoUser(username, nurse.name, role, password, nurse.network_code,
                                  nurse.code))  # fmt: skip
        elif role == "coordinator":
            display = f"{coordinator.name}, {network_name}"  # the header adds the role
            users.append(DemoUser(username, display, role, password, coordinator.network_code,
                                  coordinator.code))  # fmt: skip
        else:
            display = f"Demo {role.replace('_', ' ')}"
            users.append(DemoUser(username, display, role, password))
    return tuple(users)


def _password(rng: random.Random) -> str:
    words = [rng.choice(WORDS) for _ in range(PASSWORD_WORDS)]
    return "-".join(words) + f"-{rng.randrange(100):02d}"


def _on_duty(roster: Roster, role: str, *, network: str | None) -> DemoStaff:
    """The first ``role`` (in ``network``, if given) on shift at ``roster.now``, else any."""
    candidates = [s for s in roster.staff if s.role == role and network in (None, s.network_code)]
    if not candidates:
        raise ValueError(f"the roster has no {role.replace('_', ' ')}")
    now = roster.now.astimezone(UTC)
    working = {
        shift.staff_code
        for shift in roster.shifts
        if shift.starts_at.astimezone(UTC) <= now < shift.ends_at.astimezone(UTC)
    }
    return next((s for s in candidates if s.code in working), candidates[0])
