"""A synthetic whole-London day from every London postcode district (issue 18 part 6).

Deterministic for a seed: the same seed, scale and ``now`` give the same networks, staff,
shifts, register and visits. Nothing here is tuned to one seed.

- **Networks** (about 150 at scale 1): the 352 postcode districts of
  ``routing/data/london_outcodes.csv`` (OGL; see its ATTRIBUTION.md) split by recursive
  weighted bisection (along the longer side at the weighted median, the weight being the
  district's postcode count, a rough proxy for where people live), so each network is a
  compact group of neighbouring districts with about the same population. The base is the
  weighted centre of its districts.
- **Shifts** (about 2,500) and **visits** (about 30,000; 12 % urgent 2-hour, 30 % 24-hour,
  58 % planned, the tri-borough benchmark's mix and durations) are shared out in proportion to
  each network's weight. Shifts: early 07:30-15:30, late 12:00-20:00, a few 09:00-17:00, each
  with a 30-minute break; 70 % district nurses, 30 % hybrid workers, by car.
- **Register**: any number of patients spread over the districts by weight, placed around the
  district's centre (a normal spread of about 700 m), with valid NHS numbers (mod 11).
- ``scale`` keeps the city's partition (so a network is the same size at any scale) and takes
  ``round(150 * scale)`` networks evenly spread over it, with their shifts and visits.

The loader (:func:`load_city`, :func:`load_register`, :func:`load_day`) writes Core rows: COPY
on PostgreSQL, executemany in big batches elsewhere. The database must be migrated and empty.
"""

from __future__ import annotations

import csv
import math
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, cast

import numpy as np
import sqlalchemy as sa

from dispatch.demo.names import FAMILY_NAMES, GIVEN_NAMES, STREET_NAMES
from dispatch.models import Network, Patient, Referral, Shift, Staff, StaffBase, Visit
from dispatch.models.vocab import BOROUGHS

#: The districts (a copy of shared/data/london_outcodes.csv; attribution in routing/data).
DATA = Path(__file__).resolve().parents[1] / "routing" / "data" / "london_outcodes.csv"
FULL_NETWORKS = 150
FULL_SHIFTS = 2_500
FULL_VISITS = 30_000
#: category, share, priority, duration range (minutes), window width (minutes), skills
MIX: tuple[tuple[str, float, int, tuple[int, int], int, tuple[str, ...]], ...] = (
    ("urgent_2h", 0.12, 2, (45, 60), 120, ("falls_assessment", "clinical_assessment")),
    ("response_24h", 0.30, 3, (30, 45), 300, ("wound_care", "catheter_care", "personal_care")),
    ("planned", 0.58, 4, (15, 30), 120,
     ("insulin_administration", "wound_care", "medication_prompt", "personal_care")),
)
#: (name, start hour, start minute, hours, share)
PATTERNS = (("early", 7, 30, 8, 0.45), ("late", 12, 0, 8, 0.45), ("day", 9, 0, 8, 0.10))
ROLES = (("district_nurse", 0.7), ("hybrid_worker", 0.3))
SKILLS = {
    "district_nurse": ("catheter_care", "clinical_assessment", "end_of_life_care",
                       "falls_assessment", "insulin_administration", "medication_prompt",
                       "personal_care", "wound_care"),
    "hybrid_worker": ("falls_assessment", "medication_prompt", "personal_care", "reablement",
                      "social_care_assessment"),
}
SPREAD_KM = 0.7


@dataclass(frozen=True, slots=True)
class District:
    outcode: str
    area: str
    lat: float
    lon: float
    weight: int


@dataclass(frozen=True, slots=True)
class CityNetwork:
    code: str
    name: str
    area: str
    districts: tuple[District, ...]
    lat: float
    lon: float
    shifts: int
    visits: int

    @property
    def weight(self) -> int:
        return sum(d.weight for d in self.districts)


@dataclass(frozen=True, slots=True)
class CityShift:
    code: str
    network_code: str
    role: str
    starts_at: datetime
    ends_at: datetime
    break_start: datetime


@dataclass(frozen=True, slots=True)
class CityVisit:
    network_code: str
    category: str
    priority: int
    skill: str
    duration: int
    opens: datetime
    deadline: datetime


@dataclass(frozen=True, slots=True)
class City:
    seed: int
    now: datetime
    networks: tuple[CityNetwork, ...]
    shifts: tuple[CityShift, ...]
    visits: tuple[CityVisit, ...]


def _table(model: type) -> sa.Table:
    """A mapped class's table, typed as one (``__table__`` is typed as any FromClause)."""
    return cast(sa.Table, model.__table__)  # type: ignore[attr-defined]


def read_districts(path: Path = DATA) -> list[District]:
    with path.open(newline="") as handle:
        return [District(r["outcode"], r["area"], float(r["lat"]), float(r["lon"]),
                         max(1, int(r["n_postcodes"]))) for r in csv.DictReader(handle)]


def partition(districts: Sequence[District], parts: int) -> list[list[District]]:
    """Split into ``parts`` compact groups of about equal weight (recursive bisection)."""
    if parts <= 1 or len(districts) <= 1:
        return [list(districts)]
    parts = min(parts, len(districts))
    mid_lat = sum(d.lat for d in districts) / len(districts)
    km_lat = (max(d.lat for d in districts) - min(d.lat for d in districts)) * 111.0
    km_lon = (max(d.lon for d in districts) - min(d.lon for d in districts)) * 111.0 * math.cos(
        math.radians(mid_lat))
    ordered = sorted(districts, key=(lambda d: (d.lat, d.lon)) if km_lat >= km_lon
                     else (lambda d: (d.lon, d.lat)))
    left_parts = parts // 2
    target = sum(d.weight for d in ordered) * left_parts / parts
    acc, cut = 0, 0
    for i, d in enumerate(ordered):
        if acc + d.weight / 2 > target:
            break
        acc += d.weight
        cut = i + 1
    # Each side needs at least one district per part.
    cut = max(left_parts, min(cut, len(ordered) - (parts - left_parts)))
    return (partition(ordered[:cut], left_parts)
            + partition(ordered[cut:], parts - left_parts))


def _share(total: int, weights: Sequence[int], minimum: int = 0) -> list[int]:
    """``total`` shared out in proportion to ``weights`` (largest remainders), each >= min."""
    whole = sum(weights)
    raw = [total * w / whole for w in weights]
    counts = [max(minimum, int(x)) for x in raw]
    order = sorted(range(len(weights)), key=lambda i: raw[i] - int(raw[i]), reverse=True)
    for i in order[: max(0, total - sum(counts))]:
        counts[i] += 1
    return counts


def build_city(*, seed: int, now: datetime, scale: float = 1.0,
               districts: Sequence[District] | None = None) -> City:
    """The city's networks, shifts and visits for ``seed`` around ``now`` (aware, the
    morning of the day; visits open from ``now`` to 19:00)."""
    if now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    if not 0 < scale <= 1:
        raise ValueError("scale must be in (0, 1]")
    everything = list(districts) if districts is not None else read_districts()
    groups = partition(everything, FULL_NETWORKS)
    weights = [sum(d.weight for d in g) for g in groups]
    shift_counts = _share(FULL_SHIFTS, weights, minimum=3)
    visit_counts = _share(FULL_VISITS, weights, minimum=10)
    wanted = max(1, round(len(groups) * scale))
    chosen = sorted({round(i * len(groups) / wanted) for i in range(wanted)})
    networks = []
    for k in chosen:
        group = groups[k]
        w = sum(d.weight for d in group)
        networks.append(CityNetwork(
            code=f"LDN-{k + 1:03d}-{group[0].outcode}",
            name="London " + ", ".join(d.outcode for d in group)[:100],
            area="/".join(sorted({d.area for d in group}))[:40],
            districts=tuple(group),
            lat=sum(d.lat * d.weight for d in group) / w,
            lon=sum(d.lon * d.weight for d in group) / w,
            shifts=shift_counts[k], visits=visit_counts[k]))
    rng = random.Random(seed)
    day = now.replace(hour=0, minute=0, second=0, microsecond=0)
    shifts: list[CityShift] = []
    visits: list[CityVisit] = []
    close = day.replace(hour=19)
    span = max(1, int((close - now).total_seconds() // 60))
    for network in networks:
        for j in range(network.shifts):
            name, hour, minute, hours, _ = _pick(rng, PATTERNS, 4)
            role = _pick(rng, ROLES, 1)[0]
            starts = day.replace(hour=hour, minute=minute)
            shifts.append(CityShift(
                code=f"{network.code}-{name}-{j:03d}", network_code=network.code, role=role,
                starts_at=starts, ends_at=starts + timedelta(hours=hours),
                break_start=starts + timedelta(hours=hours / 2, minutes=rng.choice((-30, 0)))))
        for _ in range(network.visits):
            category, _, priority, (lo, hi), width, skills = _pick(rng, MIX, 1)
            opens = now + timedelta(minutes=rng.randint(0, span))
            visits.append(CityVisit(network.code, category, priority, rng.choice(skills),
                                    rng.randint(lo, hi), opens,
                                    opens + timedelta(minutes=width)))
    return City(seed, now, tuple(networks), tuple(shifts), tuple(visits))


def _pick(rng: random.Random, items: Sequence[Any], share_at: int) -> Any:
    roll, acc = rng.random(), 0.0
    for item in items:
        acc += item[share_at]
        if roll < acc:
            return item
    return items[-1]


# -- the register -------------------------------------------------------------------------


def nhs_numbers(ks: np.ndarray) -> np.ndarray:
    """Patient k's NHS number (valid mod 11): stem 400,000,000 + 2k, or the next stem when
    that one has no check digit (two neighbouring stems never both lack one)."""
    out = np.empty(len(ks), dtype=np.int64)
    todo = np.ones(len(ks), dtype=bool)
    for extra in (0, 1):
        stems = 400_000_000 + 2 * ks.astype(np.int64) + extra
        total = np.zeros(len(ks), dtype=np.int64)
        rest = stems.copy()
        for weight in range(2, 11):  # the last digit has weight 2, the first 10
            total += (rest % 10) * weight
            rest //= 10
        check = 11 - total % 11
        check[check == 11] = 0
        ok = todo & (check != 10)
        out[ok] = stems[ok] * 10 + check[ok]
        todo &= ~ok
    return out


PATIENT_COLUMNS = ("nhs_number", "nhs_number_status", "given_name", "family_name",
                   "date_of_birth", "address", "postcode", "lat", "lon", "network_id",
                   "risk_tier", "conditions", "consent_to_share", "created_at")
#: Patients are generated in blocks of this many, block b from its own stream (seed, b).
BLOCK = 100_000
LETTERS = "ABDEFGHJLNPQRSTUWXYZ"


def _block(seed: int, block: int, city: City, network_ids: dict[str, int]) -> list[list[str]]:
    """Block ``block`` of the register as columns of text (PATIENT_COLUMNS order, constants
    left out: nhs_number, given, family, born, address, postcode, lat, lon, network)."""
    districts = [(n.code, d) for n in city.networks for d in n.districts]
    cumulative = np.cumsum([d.weight for _, d in districts], dtype=np.float64)
    lats = np.array([d.lat for _, d in districts])
    lons = np.array([d.lon for _, d in districts])
    rng = np.random.default_rng([seed, block])
    ks = np.arange(block * BLOCK, (block + 1) * BLOCK)
    where = np.searchsorted(cumulative, rng.random(BLOCK) * cumulative[-1], side="right")
    lat = np.round(lats[where] + rng.normal(0, SPREAD_KM, BLOCK) / 111.0, 6)
    lon = np.round(lons[where] + rng.normal(0, SPREAD_KM, BLOCK)
                   / (111.0 * np.cos(np.radians(lats[where]))), 6)
    born = rng.integers(0, 365 * 80, BLOCK)
    given = rng.integers(0, len(GIVEN_NAMES), BLOCK)
    family = rng.integers(0, len(FAMILY_NAMES), BLOCK)
    street = rng.integers(0, len(STREET_NAMES), BLOCK)
    house = rng.integers(1, 300, BLOCK)
    sector = rng.integers(1, 10, BLOCK)
    unit = rng.integers(0, len(LETTERS), (BLOCK, 2))
    epoch = date(1925, 1, 1)
    days = [(epoch + timedelta(days=d)).isoformat() for d in range(365 * 80)]
    outcodes = [d.outcode for _, d in districts]
    nets = [str(network_ids[code]) for code, _ in districts]
    letters = list(LETTERS)
    streets = [f" {name} Road" for name in STREET_NAMES]
    return [
        nhs_numbers(ks).astype(str).tolist(),
        [GIVEN_NAMES[i] for i in given.tolist()],
        [FAMILY_NAMES[i] for i in family.tolist()],
        [days[i] for i in born.tolist()],
        [f"{h}{streets[s]}" for h, s in zip(house.tolist(), street.tolist(), strict=True)],
        [f"{outcodes[w]} {c}{letters[u]}{letters[v]}" for w, c, (u, v) in
         zip(where.tolist(), sector.tolist(), unit.tolist(), strict=True)],
        lat.astype(str).tolist(), lon.astype(str).tolist(),
        [nets[w] for w in where.tolist()],
    ]


def _blocks(seed: int, city: City, network_ids: dict[str, int], first: int,
            count: int) -> Iterator[list[list[str]]]:
    """The columns of patients ``first`` .. ``first + count - 1``, a block (or part) at a
    time. Patient k is the same whatever ``first`` and ``count``: block ``k // BLOCK`` has
    its own random stream (seed, block), so a register loads in parts."""
    end = first + count
    for block in range(first // BLOCK, (end - 1) // BLOCK + 1 if count > 0 else 0):
        columns = _block(seed, block, city, network_ids)
        lo = max(first, block * BLOCK) - block * BLOCK
        hi = min(end, (block + 1) * BLOCK) - block * BLOCK
        yield [c[lo:hi] for c in columns]


def iter_register(*, seed: int, city: City, network_ids: dict[str, int], first: int,
                  count: int) -> Iterator[dict[str, Any]]:
    """Patients ``first`` .. ``first + count - 1`` as rows for an executemany insert."""
    for nhs, given, family, born, address, postcode, lat, lon, net in _blocks(
            seed, city, network_ids, first, count):
        for row in zip(nhs, given, family, born, address, postcode, lat, lon, net,
                       strict=True):
            yield {"nhs_number": row[0], "nhs_number_status": "present", "given_name": row[1],
                   "family_name": row[2], "date_of_birth": date.fromisoformat(row[3]),
                   "address": row[4], "postcode": row[5], "lat": float(row[6]),
                   "lon": float(row[7]), "network_id": int(row[8]), "risk_tier": "very_low",
                   "conditions": [], "consent_to_share": False, "created_at": city.now}


def register_text(*, seed: int, city: City, network_ids: dict[str, int], first: int,
                  count: int) -> Iterator[str]:
    """The same patients as COPY text (columns :data:`PATIENT_COLUMNS`), a block at a time."""
    tail = ["very_low\t[]\tf\t" + city.now.isoformat()]
    for nhs, given, family, born, address, postcode, lat, lon, net in _blocks(
            seed, city, network_ids, first, count):
        n = len(nhs)
        yield "\n".join(map("\t".join, zip(
            nhs, ["present"] * n, given, family, born, address, postcode, lat, lon, net,
            tail * n, strict=True))) + "\n"


# -- loading ------------------------------------------------------------------------------


def load_city(engine: sa.Engine, city: City) -> dict[str, int]:
    """Networks, bases, staff and shifts; returns network ids by code."""
    now = city.now
    with engine.begin() as conn:
        ids: dict[str, int] = {}
        for n in city.networks:
            # The district table has no borough column: each network takes one of London's
            # 33 (dispatch.models.vocab.BOROUGHS, the schema's check) in turn, a label only.
            ids[n.code] = conn.execute(sa.insert(_table(Network)).values(
                code=n.code, name=n.name, borough=BOROUGHS[len(ids) % len(BOROUGHS)],
                on_call_phone=None,
            ).returning(_table(Network).c.id)).scalar_one()
        base_ids = {n.code: conn.execute(sa.insert(_table(StaffBase)).values(
            code=f"B-{n.code}"[:32], name=f"{n.name[:100]} base", network_id=ids[n.code],
            postcode=f"{n.districts[0].outcode} 1AA", lat=round(n.lat, 6), lon=round(n.lon, 6),
        ).returning(_table(StaffBase).c.id)).scalar_one() for n in city.networks}
        staff_rows = [{
            "code": f"S{i:05d}", "name": f"Worker {i}", "role": s.role,
            "skills": list(SKILLS[s.role]), "phone": f"+447700{i:06d}",
            "network_id": ids[s.network_code], "base_id": base_ids[s.network_code],
            "travel_mode": "car", "active": True, "created_at": now,
        } for i, s in enumerate(city.shifts)]
        conn.execute(sa.insert(_table(Staff)), staff_rows)
        staff_ids = {code: pk for code, pk in conn.execute(
            sa.select(_table(Staff).c.code, _table(Staff).c.id))}
        conn.execute(sa.insert(_table(Shift)), [{
            "code": s.code, "staff_id": staff_ids[f"S{i:05d}"],
            "base_id": base_ids[s.network_code], "starts_at": s.starts_at, "ends_at": s.ends_at,
            "breaks": [{"start": s.break_start.isoformat(),
                        "end": (s.break_start + timedelta(minutes=30)).isoformat()}],
            "sick_from": None,
        } for i, s in enumerate(city.shifts)])
    return ids


def load_register(engine: sa.Engine, *, city: City, network_ids: dict[str, int], first: int,
                  count: int, batch: int = 50_000) -> None:
    """Patients ``first`` .. ``first + count - 1``: COPY on PostgreSQL, else executemany."""
    if engine.dialect.name == "postgresql":
        raw = engine.raw_connection()
        try:
            sql = f"COPY patients ({', '.join(PATIENT_COLUMNS)}) FROM STDIN"
            with raw.cursor() as cursor, cursor.copy(sql) as copy:  # type: ignore[attr-defined]
                for text in register_text(seed=city.seed, city=city, network_ids=network_ids,
                                          first=first, count=count):
                    copy.write(text)
            raw.commit()
        finally:
            raw.close()
        return
    table = _table(Patient)
    with engine.begin() as conn:
        chunk: list[dict[str, Any]] = []
        for row in iter_register(seed=city.seed, city=city, network_ids=network_ids,
                                 first=first, count=count):
            chunk.append(row)
            if len(chunk) >= batch:
                conn.execute(sa.insert(table), chunk)
                chunk = []
        if chunk:
            conn.execute(sa.insert(table), chunk)


def load_day(engine: sa.Engine, *, city: City, network_ids: dict[str, int]) -> int:
    """The day's referrals and unassigned visits for patients already on the register (the
    lowest ids of each network, drawn at random); returns the visits written."""
    rng = random.Random(city.seed + 7)
    now = city.now
    with engine.begin() as conn:
        by_network: dict[int, list[int]] = {}
        wanted = {nid: 0 for nid in network_ids.values()}
        for v in city.visits:
            wanted[network_ids[v.network_code]] += 1
        for nid, n in wanted.items():
            by_network[nid] = list(conn.execute(
                sa.select(_table(Patient).c.id).where(_table(Patient).c.network_id == nid)
                .order_by(_table(Patient).c.id).limit(max(1, 2 * n))).scalars())
        referrals, visits = [], []
        for i, v in enumerate(city.visits):
            nid = network_ids[v.network_code]
            if not by_network[nid]:
                continue
            pid = rng.choice(by_network[nid])
            referrals.append({
                "patient_id": pid, "network_id": nid, "source": "111",
                "referrer_name": "london bench", "received_at": v.opens - timedelta(minutes=30),
                "status": "scheduled", "category": v.category, "priority": v.priority,
                "deadline": v.deadline, "created_at": now, "updated_at": now,
                "external_id": f"london-{i}"})
            visits.append({
                "reference": f"L{i:07d}", "patient_id": pid, "network_id": nid,
                "category": v.category, "skills": [v.skill], "duration_minutes": v.duration,
                "earliest_start": v.opens, "deadline": v.deadline, "priority": v.priority,
                "status": "unassigned", "created_at": now, "updated_at": now})
        conn.execute(sa.insert(_table(Referral)), referrals)
        ref_ids = {key: pk for key, pk in conn.execute(
            sa.select(_table(Referral).c.external_id, _table(Referral).c.id)
            .where(_table(Referral).c.external_id.like("london-%")))}
        for i, row in enumerate(visits):
            row["referral_id"] = ref_ids[referrals[i]["external_id"]]
        conn.execute(sa.insert(_table(Visit)), visits)
    return len(visits)
