"""The synthetic tri-borough register: networks, bases and patients, deterministic per seed.

Pure (no database): :func:`generate_population` returns frozen dataclasses and
:func:`iter_patients` streams the same patients one at a time, so the loader can write the full
466,921-person register without holding it in memory.

Determinism: every draw comes from a ``random.Random`` seeded with the seed and a stream name
(``"demo-tiers:7"``); nothing reads the global ``random`` or the clock (``today`` is an input).
Separate streams keep, for example, the NHS numbers of a seed the same whatever else changes.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Final, NamedTuple

import nhs_number

from dispatch.demo import careplans, geography
from dispatch.demo.names import (
    BUILDING_NAMES,
    FAMILY_NAMES,
    GIVEN_NAMES,
    OLDER_COHORT_BEFORE,
    OLDER_GIVEN_NAMES,
    STREET_NAMES,
    STREET_SUFFIXES,
)
from dispatch.demo.tiers import (
    CFS_MIN_AGE,
    CONDITIONS,
    OLD_AGE_CONDITIONS,
    PROFILES,
    TierProfile,
    cumulative,
    tier_counts,
)
from dispatch.demo.types import (
    DemoBase,
    DemoCarePlan,
    DemoNetwork,
    DemoPatient,
    Outcode,
    Population,
)

#: The NHS numbers set aside for test patients (never issued): 9000000000-9999999999.
SYNTHETIC_RANGE: Final = nhs_number.REGION_SYNTHETIC.ranges[0]
#: ``calculate_checksum`` returns this for a body that has no valid NHS number.
INVALID_CHECK_DIGIT: Final = 10

#: Ofcom drama numbers (never allocated): London landlines 020 7946 0000-0999.
DRAMA_LANDLINE_PREFIX: Final = "+442079460"
#: Share of patients with a phone number on record.
PHONE_ON_RECORD: Final = 0.85
#: Top three strata have a named lead (a care coordinator) when they have a plan.
NAMED_LEAD_TIERS: Final = frozenset({"very_high", "high", "moderate"})
#: Children with a long-term condition draw only from these.
CHILD_CONDITIONS: Final = ("asthma", "diabetes", "learning_disability")
ADULT_AGE: Final = 18
GP_PRACTICES_PER_NETWORK: Final = 3
#: One care coordinator per network covering the top three strata (seeds/002).
COORDINATORS_PER_NETWORK: Final = 1
DAYS_PER_YEAR: Final = 365.2425
#: Names of a network's first and second base.
BASE_KINDS: Final = ("Community Hub", "Health Centre")


def generate_population(*, seed: int, patients: int, today: date) -> Population:
    """Build the whole register for ``seed``: networks, bases and ``patients`` people.

    Parameters
    ----------
    seed
        Same seed, same population (field for field).
    patients
        Size of the register; risk strata follow :data:`dispatch.demo.tiers.TIER_SHARES`
        to within one person per stratum.
    today
        The date ages and consent dates are counted from.

    Raises
    ------
    ValueError
        If ``patients`` is negative.
    """
    networks, bases = generate_places(seed=seed)
    people = tuple(iter_patients(seed=seed, patients=patients, today=today, networks=networks))
    return Population(seed, today, networks, bases, people)


def generate_places(
    *, seed: int, outcodes: Mapping[str, Outcode] | None = None
) -> tuple[tuple[DemoNetwork, ...], tuple[DemoBase, ...]]:
    """The networks of :data:`geography.NETWORK_LAYOUT` and one or two bases for each."""
    rng = random.Random(f"demo-places:{seed}")
    centroids = geography.district_centroids(outcodes or geography.load_outcodes())
    networks: list[DemoNetwork] = []
    bases: list[DemoBase] = []
    for index, (code, name, borough, districts) in enumerate(geography.NETWORK_LAYOUT):
        practices = tuple(_practice_name(rng, districts) for _ in range(GP_PRACTICES_PER_NETWORK))
        leads = tuple(careplans.person_name(rng) for _ in range(COORDINATORS_PER_NETWORK))
        # Staff phones count up from +447700900000; on-call phones count down from ...999,
        # managers' from ...949 (room for 50 networks in the drama range).
        phone = f"+447700900{999 - index:03d}"
        manager = f"+447700900{949 - index:03d}"
        networks.append(DemoNetwork(code, name, borough, phone, manager, districts, practices,
                                    leads))
        two = geography.network_weight(districts) >= geography.TWO_BASES_FROM
        for number in range(2 if two else 1):
            district = districts[number % len(districts)]
            centre = centroids[district]
            lat, lon = geography.jitter(rng, centre.lat, centre.lon, geography.BASE_JITTER_M)
            bases.append(
                DemoBase(
                    code=f"{code}-B{number + 1}",
                    name=f"{district} {BASE_KINDS[number]} ({name})",
                    network_code=code,
                    postcode=geography.synthetic_postcode(rng, district),
                    lat=lat,
                    lon=lon,
                )
            )
    return tuple(networks), tuple(bases)


def iter_patients(
    *,
    seed: int,
    patients: int,
    today: date,
    networks: Sequence[DemoNetwork],
    outcodes: Mapping[str, Outcode] | None = None,
) -> Iterator[DemoPatient]:
    """Yield the register one patient at a time (same patients as :func:`generate_population`).

    Raises
    ------
    ValueError
        If ``patients`` is negative.
    """
    tiers = _shuffled_tiers(seed, patients)
    numbers = _nhs_numbers(random.Random(f"demo-nhs:{seed}"))
    factory = _PatientFactory(
        rng=random.Random(f"demo-patients:{seed}"),
        today=today,
        networks=networks,
        centroids=geography.district_centroids(outcodes or geography.load_outcodes()),
    )
    for tier in tiers:
        yield factory.make(tier, next(numbers))


def _shuffled_tiers(seed: int, patients: int) -> list[str]:
    """Exactly :func:`tier_counts` of each stratum, in a seeded random order."""
    order: list[str] = []
    for tier, count in tier_counts(patients).items():
        order.extend([tier] * count)
    random.Random(f"demo-tiers:{seed}").shuffle(order)
    return order


def _nhs_numbers(rng: random.Random) -> Iterator[str]:
    """Unique, valid NHS numbers from the synthetic range, in a seeded order.

    Why not ``nhs_number.generate``: it draws from the global ``random``, so it would not
    repeat for a seed. We draw the nine-digit body ourselves and skip bodies whose check
    digit would be 10 (no valid number) or that we have already used.
    """
    low, high = SYNTHETIC_RANGE.start // 10, SYNTHETIC_RANGE.end // 10
    seen: set[int] = set()
    while True:
        body = rng.randint(low, high)
        if body in seen:
            continue
        check = nhs_number.calculate_checksum(f"{body:09d}")
        if check is None or check == INVALID_CHECK_DIGIT:
            continue
        seen.add(body)
        number = f"{body:09d}{check}"
        if len(set(number)) == 1:
            continue  # 9999999999: valid mod 11 but a placeholder, refused (H-017)
        yield number


def _practice_name(rng: random.Random, districts: Sequence[str]) -> str:
    street = rng.choice(STREET_NAMES)
    kind = rng.choice(("Surgery", "Medical Centre", "Health Centre", "Practice"))
    return f"{street} {kind}, {rng.choice(districts)}"


class _Care(NamedTuple):
    practice: str
    lead: str | None
    author: str
    consent_at: datetime | None
    plans: tuple[DemoCarePlan, ...]


@dataclass
class _PatientFactory:
    """Draws one patient at a time from one random stream (order matters for determinism)."""

    rng: random.Random
    today: date
    networks: Sequence[DemoNetwork]
    centroids: Mapping[str, Outcode]

    def __post_init__(self) -> None:
        self._network_of = {d: n for n in self.networks for d in n.districts}
        self._districts = list(self._network_of)
        self._district_cum = cumulative([geography.DISTRICT_WEIGHTS[d] for d in self._districts])
        self._condition_names = list(CONDITIONS)

    def make(self, tier: str, nhs: str) -> DemoPatient:
        """One patient of ``tier`` with NHS number ``nhs``."""
        rng, profile = self.rng, PROFILES[tier]
        district = rng.choices(self._districts, cum_weights=self._district_cum)[0]
        network = self._network_of[district]
        dob = self._date_of_birth(profile)
        age = _age_on(dob, self.today)
        given = rng.choice(OLDER_GIVEN_NAMES if dob.year < OLDER_COHORT_BEFORE else GIVEN_NAMES)
        frailty = self._frailty(profile, age)
        conditions = self._conditions(profile, age)
        lat, lon = self._coordinates(district)
        care = self._care(tier, profile, network, age, frailty, conditions)
        notes = careplans.access_notes(rng) if rng.random() < profile.access_notes else None
        phone = (
            f"{DRAMA_LANDLINE_PREFIX}{rng.randrange(1000):03d}"
            if rng.random() < PHONE_ON_RECORD
            else None
        )
        return DemoPatient(
            nhs_number=nhs, given_name=given, family_name=rng.choice(FAMILY_NAMES),
            date_of_birth=dob, address=self._address(),
            postcode=geography.synthetic_postcode(rng, district), lat=lat, lon=lon,
            phone=phone, gp_practice=care.practice, named_lead=care.lead,
            network_code=network.code, risk_tier=tier, frailty=frailty, conditions=conditions,
            access_notes=notes, consent_to_share=care.consent_at is not None,
            consent_recorded_by=care.author if care.consent_at else None,
            consent_recorded_at=care.consent_at, care_plans=care.plans,
        )  # fmt: skip

    def _care(
        self,
        tier: str,
        profile: TierProfile,
        network: DemoNetwork,
        age: int,
        frailty: int | None,
        conditions: tuple[str, ...],
    ) -> _Care:
        """GP practice, named lead, care plan versions and consent to share them."""
        rng = self.rng
        practice = rng.choice(network.gp_practices)
        if rng.random() >= profile.care_plan:
            return _Care(practice, None, practice, None, ())
        lead = rng.choice(network.care_coordinators) if tier in NAMED_LEAD_TIERS else None
        author = lead or f"Dr {rng.choice(FAMILY_NAMES)} (GP, {practice})"
        first_at = careplans.recorded_at(rng, self.today)
        consent_at = first_at if rng.random() < profile.consent else None
        plans = careplans.care_plan_versions(
            rng, age=age, frailty=frailty, conditions=conditions, author=author,
            first_at=first_at, today=self.today, reviewed=rng.random() < profile.second_version,
        )  # fmt: skip
        return _Care(practice, lead, author, consent_at, plans)

    def _date_of_birth(self, profile: TierProfile) -> date:
        bands = profile.ages
        low, high, _ = self.rng.choices(bands, weights=[b[2] for b in bands])[0]
        days = int(self.rng.randint(low, high) * DAYS_PER_YEAR) + self.rng.randrange(365)
        return self.today - timedelta(days=days)

    def _frailty(self, profile: TierProfile, age: int) -> int | None:
        """A Clinical Frailty Scale score, only for people of 65 and over (its validated use)."""
        if age < CFS_MIN_AGE:
            return None
        scores = profile.frailty
        return self.rng.choices([s for s, _ in scores], weights=[w for _, w in scores])[0]

    def _conditions(self, profile: TierProfile, age: int) -> tuple[str, ...]:
        counts = profile.condition_counts
        wanted = self.rng.choices([c for c, _ in counts], weights=[w for _, w in counts])[0]
        if wanted == 0:
            return ()
        pool = [
            c
            for c in (self._condition_names if age >= ADULT_AGE else CHILD_CONDITIONS)
            if age >= OLD_AGE_CONDITIONS.get(c, 0)
        ]
        chosen: list[str] = []
        while pool and len(chosen) < wanted:
            pick = self.rng.choices(pool, weights=[CONDITIONS[c] for c in pool])[0]
            pool.remove(pick)
            chosen.append(pick)
        return tuple(sorted(chosen))

    def _coordinates(self, district: str) -> tuple[float, float]:
        centre = self.centroids[district]
        return geography.jitter(self.rng, centre.lat, centre.lon, geography.ADDRESS_JITTER_M)

    def _address(self) -> str:
        rng = self.rng
        street = f"{rng.choice(STREET_NAMES)} {rng.choice(STREET_SUFFIXES)}"
        number, flat, kind = rng.randint(1, 180), rng.randint(1, 40), rng.random()
        if kind < 0.45:
            return f"{number} {street}, London"
        if kind < 0.80:
            return f"Flat {flat}, {number} {street}, London"
        building = f"{rng.choice(STREET_NAMES)} {rng.choice(BUILDING_NAMES)}"
        return f"Flat {flat}, {building}, {street}, London"


def _age_on(born: date, today: date) -> int:
    """Completed years between ``born`` and ``today``."""
    before_birthday = (today.month, today.day) < (born.month, born.day)
    return today.year - born.year - int(before_birthday)
