"""Today's demo roster: staff of every role and shifts around the moment the demo starts.

DESIGN.md: "the demo roster covers the hours around the moment it is started, so it is alive at
3am too". So the roster is built around ``now`` (an input, never the clock): every shift that
overlaps ``now - 12 h .. now + 24 h`` is rostered, on the usual community-service pattern of an
early, a late and a smaller night team, in Europe/London wall-clock time. Each network has the team
its :class:`~dispatch.demo.staffing.Staffing` gives (the calibrated default unless a staffing
file says otherwise) and its one care coordinator.

Why rotating pools: a worker keeps one shift pattern (earlies, lates or nights) and a team with
two or more slots has one spare, so each day a different person is off. Nobody works two
overlapping shifts or a late followed by an early, and the names on the board change from day
to day as they would in a real service.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Final

from dispatch.config import LONDON
from dispatch.demo.careplans import person_name
from dispatch.demo.staffing import Staffing
from dispatch.demo.types import DemoBase, DemoBreak, DemoNetwork, DemoShift, DemoStaff, Roster
from rosters.roles import default_skills

#: The roster covers every shift that overlaps ``now - WINDOW_BEFORE .. now + WINDOW_AFTER``.
WINDOW_BEFORE: Final = timedelta(hours=12)
WINDOW_AFTER: Final = timedelta(hours=24)


@dataclass(frozen=True, slots=True)
class ShiftPattern:
    """A named shift in local wall-clock time; ``end`` at or before ``start`` is the next day.

    ``break_at`` is the nominal start of the one break; breaks are staggered around it so a
    team is never all on break at once.
    """

    name: str
    start: time
    end: time
    break_at: time
    break_minutes: int


#: The night break is at 03:00, clear of the 01:00-02:00 hour that the clocks skip or repeat.
PATTERNS: Final[tuple[ShiftPattern, ...]] = (
    ShiftPattern("early", time(7, 0), time(15, 0), time(12, 0), 30),
    ShiftPattern("late", time(14, 0), time(22, 0), time(18, 0), 30),
    ShiftPattern("night", time(21, 30), time(7, 30), time(3, 0), 30),
)

#: The one care coordinator of each network works the early pattern (seeds/002: one care
#: coordinator per network); out of hours the network's on-call phone answers.
COORDINATOR_PATTERN: Final = "early"

#: A team with at least this many slots has one spare worker, so someone is off each day.
SPARE_FROM: Final = 2
#: Minutes each slot's break is moved from the nominal time, by slot number.
BREAK_STAGGER: Final = (0, 30, -30, 15, -15)

ROLE_CODES: Final[Mapping[str, str]] = {
    "district_nurse": "DN", "hybrid_worker": "HW", "therapist": "TH", "social_worker": "SW",
    "coordinator": "CO",
}  # fmt: skip

#: Skills some (not all) members of a role hold on top of the defaults, with how many do.
EXTRA_SKILLS: Final[Mapping[str, tuple[tuple[str, float], ...]]] = {
    "district_nurse": (("iv_therapy", 0.35),),
    "hybrid_worker": (("catheter_care", 0.4), ("equipment", 0.2)),
    "therapist": (("clinical_assessment", 0.3),),
    "social_worker": (("reablement", 0.3),),
    "coordinator": (),
}

TRAVEL_MODES: Final[Mapping[str, tuple[tuple[str, float], ...]]] = {
    "district_nurse": (("car", 0.6), ("public_transport", 0.25), ("bicycle", 0.15)),
    "hybrid_worker": (("walk", 0.3), ("bicycle", 0.3), ("public_transport", 0.4)),
    "therapist": (("car", 0.5), ("public_transport", 0.5)),
    "social_worker": (("public_transport", 0.7), ("walk", 0.3)),
    "coordinator": (("car", 1.0),),
}

#: Ofcom drama mobile range 07700 900000-900999. Staff count up from 900000; networks' on-call
#: phones count down from 900999. Past STAFF_PHONES_IN_RANGE staff we continue at 901000,
#: which is outside the drama range (only reached with far more networks than the demo has).
STAFF_PHONES_IN_RANGE: Final = 900


def generate_roster(
    *,
    seed: int,
    networks: Sequence[DemoNetwork],
    bases: Sequence[DemoBase],
    now: datetime,
    staffing: Staffing | None = None,
    history: timedelta = timedelta(0),
) -> Roster:
    """Staff for every network and the shifts that overlap ``now - 12 h .. now + 24 h``
    (from ``history`` earlier still, for the demo's played past).

    Parameters
    ----------
    seed
        Same seed, networks and ``now``: same roster.
    networks, bases
        From :func:`dispatch.demo.population.generate_places`; every network needs a base.
    now
        The moment the demo starts (aware datetime).
    staffing
        Workers per network, pattern and role (default: the calibrated demo teams).

    Raises
    ------
    ValueError
        If ``now`` is naive or a network has no base.
    """
    if now.utcoffset() is None:
        raise ValueError("now must be a timezone-aware datetime")
    rng = random.Random(f"demo-roster:{seed}")
    counts = _slots(networks, staffing or Staffing())
    pools = _staff_pools(rng, networks, bases, counts)
    staff = tuple(member for pool in pools.values() for member in pool)
    if history < timedelta(0):
        raise ValueError("history must not be negative")
    shifts = tuple(_shifts(pools, counts, now, WINDOW_BEFORE + history))
    return Roster(now=now, staff=staff, shifts=shifts)


Slots = Mapping[tuple[str, str, str], int]


def _slots(networks: Sequence[DemoNetwork], staffing: Staffing) -> dict[tuple[str, str, str], int]:
    """Workers on duty by (network, pattern, role): the staffing plus the care coordinator."""
    out: dict[tuple[str, str, str], int] = {}
    for network in networks:
        for pattern in PATTERNS:
            for role in ROLE_CODES:
                if role == "coordinator":
                    count = int(pattern.name == COORDINATOR_PATTERN)
                else:
                    count = staffing.count(network.code, pattern.name, role)
                if count:
                    out[(network.code, pattern.name, role)] = count
    return out


def _staff_pools(
    rng: random.Random,
    networks: Sequence[DemoNetwork],
    bases: Sequence[DemoBase],
    counts: Slots,
) -> dict[tuple[str, str, str], list[DemoStaff]]:
    """Workers keyed by (network, pattern, role): the slots of that team plus any spare."""
    pools: dict[tuple[str, str, str], list[DemoStaff]] = {}
    phones = _staff_phones()
    for network in networks:
        own_bases = [b.code for b in bases if b.network_code == network.code]
        if not own_bases:
            raise ValueError(f"network {network.code} has no base")
        numbers = dict.fromkeys(ROLE_CODES, 0)
        names = list(network.care_coordinators)
        for pattern in PATTERNS:
            for role in ROLE_CODES:
                slots = counts.get((network.code, pattern.name, role), 0)
                if not slots:
                    continue
                pool = pools.setdefault((network.code, pattern.name, role), [])
                for _ in range(slots + (1 if slots >= SPARE_FROM else 0)):
                    numbers[role] += 1
                    code = f"{network.code}-{ROLE_CODES[role]}-{numbers[role]:02d}"
                    name = names.pop(0) if role == "coordinator" and names else person_name(rng)
                    base = own_bases[len(pool) % len(own_bases)]
                    pool.append(_staff(rng, code, name, role, next(phones), network.code, base))
    return pools


def _staff(
    rng: random.Random, code: str, name: str, role: str, phone: str, network: str, base: str
) -> DemoStaff:
    skills = set(default_skills(role))
    skills.update(skill for skill, share in EXTRA_SKILLS[role] if rng.random() < share)
    modes = TRAVEL_MODES[role]
    mode = rng.choices([m for m, _ in modes], weights=[w for _, w in modes])[0]
    return DemoStaff(code, name, role, tuple(sorted(skills)), phone, network, base, mode)


def _staff_phones() -> Iterator[str]:
    """Unique UK mobile numbers in E.164, from the drama range first."""
    index = 0
    while True:
        local = 900_000 + index if index < STAFF_PHONES_IN_RANGE else 901_000 + index
        yield f"+447700{local:06d}"
        index += 1


def _shifts(
    pools: Mapping[tuple[str, str, str], list[DemoStaff]], counts: Slots, now: datetime,
    before: timedelta = WINDOW_BEFORE,
) -> Iterator[DemoShift]:
    """Every rostered shift overlapping the window, by date, pattern, network and role."""
    window_start = (now - before).astimezone(UTC)
    window_end = (now + WINDOW_AFTER).astimezone(UTC)
    first = window_start.astimezone(LONDON).date() - timedelta(days=1)
    last = window_end.astimezone(LONDON).date()
    for day in _dates(first, last):
        for pattern in PATTERNS:
            start, end = _local_span(day, pattern)
            if start.astimezone(UTC) >= window_end or end.astimezone(UTC) <= window_start:
                continue
            for key, pool in pools.items():
                if key[1] != pattern.name:
                    continue
                for slot in range(counts[key]):
                    member = pool[(day.toordinal() + slot) % len(pool)]
                    yield _shift(member, pattern, day, slot)


def _shift(member: DemoStaff, pattern: ShiftPattern, day: date, slot: int) -> DemoShift:
    start, end = _local_span(day, pattern)
    break_day = day if pattern.break_at > pattern.start else day + timedelta(days=1)
    nominal = datetime.combine(break_day, pattern.break_at, tzinfo=LONDON)
    # Wall-clock arithmetic is safe here: break times never fall in the 01:00-02:00 DST hour.
    break_start = nominal + timedelta(minutes=BREAK_STAGGER[slot % len(BREAK_STAGGER)])
    rest = DemoBreak(break_start, break_start + timedelta(minutes=pattern.break_minutes))
    code = f"{member.code}-{day:%Y%m%d}-{pattern.name}"
    return DemoShift(code, member.code, member.base_code, pattern.name, start, end, (rest,))


def _local_span(day: date, pattern: ShiftPattern) -> tuple[datetime, datetime]:
    """Start and end of ``pattern`` on ``day`` as aware Europe/London datetimes."""
    end_day = day if pattern.end > pattern.start else day + timedelta(days=1)
    return (
        datetime.combine(day, pattern.start, tzinfo=LONDON),
        datetime.combine(end_day, pattern.end, tzinfo=LONDON),
    )


def _dates(first: date, last: date) -> Iterator[date]:
    day = first
    while day <= last:
        yield day
        day += timedelta(days=1)
