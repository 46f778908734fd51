"""Demo data: deterministic for a seed, strata in proportion, rows the database accepts."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import nhs_number
import pytest
import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import orm as so
from werkzeug.security import check_password_hash

from dispatch.db import make_engine
from dispatch.demo import geography
from dispatch.demo.errors import DatabaseNotEmpty, DemoDataError
from dispatch.demo.load import load_demo
from dispatch.demo.population import generate_places, generate_population
from dispatch.demo.roster import generate_roster
from dispatch.demo.staffing import Staffing
from dispatch.demo.tiers import (
    CFS_MIN_AGE,
    TIER_POPULATION,
    TIER_SHARES,
    TRI_BOROUGH_POPULATION,
    tier_counts,
)
from dispatch.demo.types import DemoSummary, Population, Roster
from dispatch.migrate import upgrade
from dispatch.models import CarePlan, Network, Patient, Shift, Staff, StaffBase, User
from dispatch.models.vocab import RISK_TIERS, STAFF_ROLES, TRI_BOROUGHS, USER_ROLES
from rosters.phones import is_uk_mobile

LONDON = ZoneInfo("Europe/London")
TODAY = date(2026, 11, 23)
NOW = datetime(2026, 11, 23, 15, 0, tzinfo=LONDON)
SMALL = 600
#: Largest distance of an address from its district centroid, plus rounding slack (metres).
MAX_JITTER_M = geography.ADDRESS_JITTER_M + 5


def _age(born: date, today: date) -> int:
    return today.year - born.year - int((today.month, today.day) < (born.month, born.day))


def _metres(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    dlat = (lat2 - lat1) * geography.METRES_PER_DEGREE_LAT
    dlon = (lon2 - lon1) * geography.METRES_PER_DEGREE_LAT * math.cos(math.radians(lat1))
    return math.hypot(dlat, dlon)


def _utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


@pytest.fixture(scope="module")
def population() -> Population:
    return generate_population(seed=11, patients=4_000, today=TODAY)


@pytest.fixture(scope="module")
def roster() -> Roster:
    networks, bases = generate_places(seed=11)
    return generate_roster(seed=11, networks=networks, bases=bases, now=NOW)


def _fresh_engine(folder: Path) -> sa.Engine:
    url = f"sqlite:///{folder / 'demo.sqlite3'}"
    upgrade(url)
    return make_engine(url)


@dataclass(frozen=True)
class Loaded:
    engine: sa.Engine
    summary: DemoSummary


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Loaded]:
    """One small demo loaded into a fresh, migrated SQLite file (read-only for the tests)."""
    engine = _fresh_engine(tmp_path_factory.mktemp("demo"))
    summary = load_demo(engine, seed=5, patients=SMALL, now=NOW)
    yield Loaded(engine, summary)
    engine.dispose()


# --- population ------------------------------------------------------------------------------


def test_population_same_seed_identical() -> None:
    """The demo must repeat exactly for a seed (screencasts, bug reports, benchmarks)."""
    first = generate_population(seed=3, patients=SMALL, today=TODAY)

    second = generate_population(seed=3, patients=SMALL, today=TODAY)

    assert first == second


def test_population_different_seed_differs() -> None:
    """A different seed must give a different register, or the seed would be meaningless."""
    first = generate_population(seed=3, patients=SMALL, today=TODAY)

    other = generate_population(seed=4, patients=SMALL, today=TODAY)

    assert [p.nhs_number for p in first.patients] != [p.nhs_number for p in other.patients]
    assert first.patients != other.patients


@pytest.mark.parametrize("size", [2_000, 10_001])
def test_population_tier_proportions_within_one_point(size: int) -> None:
    """Strata follow the seeds' 0.64/5.47/16.0/39.8/38.1 % to within one percentage point."""
    people = generate_population(seed=21, patients=size, today=TODAY).patients

    counts = Counter(p.risk_tier for p in people)

    assert len(people) == size
    for tier, share in TIER_SHARES.items():
        assert abs(counts[tier] / size - share) <= 0.01, tier


@given(st.integers(min_value=0, max_value=1_000_000))
def test_tier_counts_sum_and_within_one_person(total: int) -> None:
    """Largest remainder must sum exactly and miss each share by less than one person."""
    counts = tier_counts(total)

    assert sum(counts.values()) == total
    for tier, share in TIER_SHARES.items():
        assert abs(counts[tier] - total * share) < 1


def test_tier_counts_full_register_is_the_seeds_table() -> None:
    """A register the size of the seeds' strata splits exactly as their table does (the
    strata add up to 466,920; the table's total row says one more)."""
    assert tier_counts(sum(TIER_POPULATION.values())) == dict(TIER_POPULATION)
    assert sum(tier_counts(TRI_BOROUGH_POPULATION).values()) == TRI_BOROUGH_POPULATION


def test_tier_shares_match_the_seeds_percentages() -> None:
    """0.64 / 5.47 / 16.0 / 39.8 / 38.1 % (issue 17), not the nominal strata cut-offs."""
    shares = {tier: round(share * 100, 2) for tier, share in TIER_SHARES.items()}

    assert shares == {"very_high": 0.64, "high": 5.47, "moderate": 16.02, "low": 39.79,
                      "very_low": 38.08}


def test_tier_counts_negative_rejected() -> None:
    """A negative register size is a caller's bug and must say so."""
    with pytest.raises(ValueError, match="total must be >= 0, got -1"):
        tier_counts(-1)


def test_population_nhs_numbers_valid_unique_synthetic(population: Population) -> None:
    """NHS numbers pass the check digit, never repeat and come from the never-issued range."""
    numbers = [p.nhs_number for p in population.patients]

    assert len(set(numbers)) == len(numbers)
    assert all(nhs_number.is_valid(n) for n in numbers)
    assert all(9_000_000_000 <= int(n) <= 9_999_999_999 for n in numbers)


def test_population_frailty_only_from_65(population: Population) -> None:
    """The Clinical Frailty Scale is for people of 65 and over; nobody younger gets a score."""
    for person in population.patients:
        age = _age(person.date_of_birth, TODAY)

        assert (person.frailty is None) == (age < CFS_MIN_AGE), person


def test_population_top_tier_older_and_frailer(population: Population) -> None:
    """Very high risk must look like the seeds' top stratum: old, frail, several conditions."""
    by_tier: dict[str, list[int]] = {t: [] for t in RISK_TIERS}
    for person in population.patients:
        by_tier[person.risk_tier].append(_age(person.date_of_birth, TODAY))
    top = [p for p in population.patients if p.risk_tier == "very_high"]

    assert (
        sum(by_tier["very_high"]) / len(top)
        > sum(by_tier["very_low"]) / len(by_tier["very_low"]) + 30
    )
    assert all(len(p.conditions) >= 3 for p in top)
    assert all(p.frailty is None or p.frailty >= 6 for p in top)


def test_population_consent_recorded_and_tiered(population: Population) -> None:
    """Shared plans need a record of consent; the top tiers mostly have one, the rest rarely."""
    people = population.patients
    shared = {t: 0 for t in RISK_TIERS}
    totals = Counter(p.risk_tier for p in people)
    for person in people:
        if person.consent_to_share:
            assert person.consent_recorded_by and person.consent_recorded_at, person
            assert person.care_plans, person
            shared[person.risk_tier] += 1

    assert shared["high"] / totals["high"] > 0.6
    assert shared["very_low"] / totals["very_low"] < 0.05


def test_population_addresses_in_network_districts(population: Population) -> None:
    """Each patient lives in a district of their network, near that district's centroid."""
    centroids = geography.district_centroids(geography.load_outcodes())
    networks = {n.code: n for n in population.networks}
    for person in population.patients:
        district = person.postcode.split(" ")[0]
        centre = centroids[district]

        assert district in networks[person.network_code].districts
        assert _metres(centre.lat, centre.lon, person.lat, person.lon) <= MAX_JITTER_M


def test_places_ten_networks_in_three_boroughs(population: Population) -> None:
    """About ten networks over exactly the three boroughs, each with one or two bases."""
    bases = Counter(b.network_code for b in population.bases)

    assert len(population.networks) == 10
    assert {n.borough for n in population.networks} == set(TRI_BOROUGHS)
    assert all(bases[n.code] in (1, 2) for n in population.networks)


def test_outcodes_path_finds_a_file() -> None:
    """The centroid file is found (the routing package's copy or the shared one)."""
    path = geography.outcodes_path()

    assert path.name == geography.OUTCODES_FILE
    assert set(geography.DISTRICT_WEIGHTS) <= set(geography.load_outcodes(path))


# --- roster ----------------------------------------------------------------------------------


@pytest.mark.parametrize("hour", [3, 15])
def test_roster_covers_now(hour: int) -> None:
    """DESIGN.md: the demo roster is alive at 3am too: nurses on shift now, and every network
    has its one care coordinator (seeds/002: one per network)."""
    now = datetime(2026, 11, 23, hour, 0, tzinfo=LONDON)
    networks, bases = generate_places(seed=2)

    roster = generate_roster(seed=2, networks=networks, bases=bases, now=now)

    roles = {s.code: (s.role, s.network_code) for s in roster.staff}
    on = [roles[x.staff_code] for x in roster.shifts if x.starts_at <= now < x.ends_at]
    assert any(role == "district_nurse" for role, _ in on)
    coordinators = sorted(net for role, net in roles.values() if role == "coordinator")
    assert coordinators == sorted(n.code for n in networks)


def test_roster_shifts_overlap_window_and_breaks_inside(roster: Roster) -> None:
    """Every shift touches now-12h..now+24h and its breaks lie inside it."""
    start, end = _utc(NOW - timedelta(hours=12)), _utc(NOW + timedelta(hours=24))
    for shift in roster.shifts:
        assert _utc(shift.starts_at) < end and _utc(shift.ends_at) > start, shift.code
        for rest in shift.breaks:
            assert _utc(shift.starts_at) <= _utc(rest.start) < _utc(rest.end)
            assert _utc(rest.end) <= _utc(shift.ends_at)


def test_roster_nobody_double_booked(roster: Roster) -> None:
    """A worker never holds two overlapping shifts (the scheduler would double-book them)."""
    by_staff: dict[str, list[tuple[datetime, datetime]]] = {}
    for shift in roster.shifts:
        by_staff.setdefault(shift.staff_code, []).append(
            (_utc(shift.starts_at), _utc(shift.ends_at))
        )
    for spans in by_staff.values():
        spans.sort()

        assert all(a[1] <= b[0] for a, b in zip(spans, spans[1:], strict=False))


def test_roster_shifts_a_day_are_the_staffing(roster: Roster) -> None:
    """Each day rosters exactly the calibrated staffing plus one care coordinator a network
    (issue 17: sized so a normal day runs at 60-75 % utilisation, not the former 200)."""
    today = [s for s in roster.shifts if s.starts_at.astimezone(LONDON).date() == NOW.date()]
    networks = {s.network_code for s in roster.staff}

    expected = sum(Staffing().shifts_per_day(code) for code in networks) + len(networks)
    assert len(today) == expected


def test_roster_follows_a_staffing_file() -> None:
    """A staffing file's counts are what the roster holds (simulate --staffing relies on it)."""
    networks, bases = generate_places(seed=2)
    staffing = Staffing({n.code: {"late": {"hybrid_worker": 2}} for n in networks})

    roster = generate_roster(seed=2, networks=networks, bases=bases, now=NOW, staffing=staffing)

    roles = {s.code: s.role for s in roster.staff}
    today = [s for s in roster.shifts if s.starts_at.astimezone(LONDON).date() == NOW.date()]
    field = [s for s in today if roles[s.staff_code] != "coordinator"]
    assert len(field) == 2 * len(networks)
    assert {(roles[s.staff_code], s.pattern) for s in field} == {("hybrid_worker", "late")}


def test_roster_staff_valid(roster: Roster) -> None:
    """Phones are unique UK mobiles (SMS) and every role of the service is on the roster."""
    phones = [s.phone for s in roster.staff]

    assert len(set(phones)) == len(phones)
    assert all(is_uk_mobile(p) for p in phones)
    assert {s.role for s in roster.staff} == set(STAFF_ROLES)


def test_roster_clock_change_night() -> None:
    """On the night the clocks go back a night shift lasts 11 hours, not 10 (UTC arithmetic)."""
    now = datetime(2026, 10, 25, 3, 0, tzinfo=LONDON)
    networks, bases = generate_places(seed=2)

    roster = generate_roster(seed=2, networks=networks, bases=bases, now=now)

    night = next(s for s in roster.shifts if s.code.endswith("20261024-night"))
    assert _utc(night.ends_at) - _utc(night.starts_at) == timedelta(hours=11)


def test_roster_same_seed_identical() -> None:
    """The roster repeats for a seed and a moment, like the register."""
    networks, bases = generate_places(seed=9)

    first = generate_roster(seed=9, networks=networks, bases=bases, now=NOW)
    second = generate_roster(seed=9, networks=networks, bases=bases, now=NOW)

    assert first == second


def test_roster_naive_now_rejected() -> None:
    """Time must carry a zone; a naive ``now`` would put the roster in the wrong hours."""
    networks, bases = generate_places(seed=1)

    with pytest.raises(ValueError, match="now must be a timezone-aware datetime"):
        generate_roster(seed=1, networks=networks, bases=bases, now=datetime(2026, 1, 1))


# --- load ------------------------------------------------------------------------------------


def test_load_counts_rows(loaded: Loaded) -> None:
    """Everything generated is written (and passes the database's CHECK constraints)."""
    summary = loaded.summary
    expected = {
        Network: summary.networks, StaffBase: summary.bases, Patient: SMALL,
        CarePlan: summary.care_plans, Staff: summary.staff, Shift: summary.shifts,
        User: len(USER_ROLES),
    }  # fmt: skip

    with so.Session(loaded.engine) as session:
        for model, count in expected.items():
            assert session.scalar(sa.select(sa.func.count()).select_from(model)) == count


def test_load_tiers_match_summary(loaded: Loaded) -> None:
    """The stored strata are the summary's, which follow the shares to within a person."""
    with so.Session(loaded.engine) as session:
        query = sa.select(Patient.risk_tier, sa.func.count()).group_by(Patient.risk_tier)
        stored = {tier: count for tier, count in session.execute(query)}

    assert stored == {t: n for t, n in loaded.summary.tier_counts.items() if n}
    assert loaded.summary.tier_counts == tier_counts(SMALL)


def test_load_gives_each_network_a_budget_from_the_seeds_per_capita_spend(
        loaded: Loaded) -> None:
    """Issue 17: a budget a network for the financial year holding the demo's day, its
    amounts the seeds' per-capita social care and community spend of the network's top three
    strata, 5 % pooled (recomputed here from the stored register and the seeds' table)."""
    from dispatch.models import NetworkBudget
    from dispatch.services.strata import PER_CAPITA

    with so.Session(loaded.engine) as session:
        budgets = list(session.scalars(sa.select(NetworkBudget)))
        assert len(budgets) == loaded.summary.networks
        for budget in budgets:
            assert (budget.period_start, budget.period_end) == (date(2026, 4, 1),
                                                                date(2027, 4, 1))
            counts = {tier: int(n) for tier, n in session.execute(
                sa.select(Patient.risk_tier, sa.func.count())
                .where(Patient.network_id == budget.network_id)
                .group_by(Patient.risk_tier))}
            social = sum(PER_CAPITA[t].social_care * counts.get(t, 0)
                         for t in ("very_high", "high", "moderate"))
            assert budget.social_care_pence == round(social * 0.05 * 100)
            assert budget.health_pence > 0


def test_load_users_sign_in(loaded: Loaded) -> None:
    """One user per role, each password checks against its hash; field staff has a staff row."""
    users = {u.role: u for u in loaded.summary.users}
    with so.Session(loaded.engine) as session:
        rows = {u.role: u for u in session.scalars(sa.select(User))}

        assert set(rows) == set(USER_ROLES)
        for role, user in users.items():
            assert check_password_hash(rows[role].password_hash or "", user.password)
        assert rows["field_staff"].staff_id is not None


def test_load_refuses_non_empty_database(loaded: Loaded) -> None:
    """Loading twice would mix demo rows; the second load must refuse and write nothing."""
    with pytest.raises(DatabaseNotEmpty, match="fresh database"):
        load_demo(loaded.engine, seed=6, patients=10, now=NOW)

    with so.Session(loaded.engine) as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Patient)) == SMALL


def test_load_via_sessionmaker_and_deterministic(tmp_path: Path, loaded: Loaded) -> None:
    """A session factory works too, and the same seed stores the same register."""
    engine = _fresh_engine(tmp_path)
    columns = (Patient.nhs_number, Patient.family_name, Patient.risk_tier, Patient.lat)
    try:
        load_demo(so.sessionmaker(engine), seed=5, patients=SMALL, now=NOW)

        with engine.connect() as first, loaded.engine.connect() as second:
            query = sa.select(*columns).order_by(Patient.id)
            assert first.execute(query).all() == second.execute(query).all()
    finally:
        engine.dispose()


def test_load_without_schema_says_upgrade(tmp_path: Path) -> None:
    """An unmigrated database gets a hint to run the migrations, not a raw SQL error."""
    engine = make_engine(f"sqlite:///{tmp_path / 'empty.sqlite3'}")
    try:
        with pytest.raises(DemoDataError, match="run `dispatch db upgrade` first"):
            load_demo(engine, seed=1, patients=10, now=NOW)
    finally:
        engine.dispose()


def test_load_negative_patients_rejected(loaded: Loaded) -> None:
    """A negative register size is refused before anything is written."""
    with pytest.raises(ValueError, match="patients must be >= 0, got -5"):
        load_demo(loaded.engine, seed=1, patients=-5, now=NOW)
