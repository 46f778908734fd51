"""Write the demo tri-borough into a fresh, migrated database.

Why Core bulk inserts: the full register is 466,921 people. ORM unit-of-work inserts would take
tens of minutes; Core ``insert()`` with executemany in chunks of :data:`CHUNK_ROWS` streams the
generator straight into the driver and loads the whole register in minutes on SQLite.

Why refuse a non-empty database: care plans and audit events are append-only (triggers refuse
UPDATE and DELETE), so demo rows could not be cleanly replaced; and demo data must never be
mixed into a database holding real people. Everything is one transaction: the database ends up
with the whole demo or with nothing.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from itertools import islice
from typing import Any, Final, TypeVar, cast

import sqlalchemy as sa
from sqlalchemy import orm as so
from werkzeug.security import generate_password_hash

from dispatch.config import LONDON
from dispatch.demo.errors import DatabaseNotEmpty, DemoDataError
from dispatch.demo.population import generate_places, iter_patients
from dispatch.demo.roster import generate_roster
from dispatch.demo.staffing import Staffing
from dispatch.demo.types import DemoPatient, DemoShift, DemoSummary, DemoUser, Roster
from dispatch.demo.users import demo_users
from dispatch.models import (
    CarePlan,
    Network,
    Patient,
    Shift,
    Staff,
    StaffBase,
    User,
    UserNetwork,
)
from dispatch.models.vocab import RISK_TIERS

#: Rows per executemany call: big enough to amortise round trips, small enough for memory.
CHUNK_ROWS: Final = 5_000
#: Report progress after every this many patients.
PROGRESS_EVERY: Final = 50_000

Target = sa.Engine | so.sessionmaker[so.Session]
T = TypeVar("T")


def load_demo(
    target: Target,
    *,
    seed: int,
    patients: int,
    now: datetime,
    progress: Callable[[str], None] | None = None,
    staffing: Staffing | None = None,
    history_days: int = 0,
) -> DemoSummary:
    """Generate the demo for ``seed`` and write it in one transaction.

    Parameters
    ----------
    target
        An engine or a ``sessionmaker`` bound to a migrated, empty database.
    seed
        Same seed and ``now``: same data.
    patients
        Register size (the full tri-borough is
        :data:`dispatch.demo.TRI_BOROUGH_POPULATION`).
    now
        The moment the demo starts (aware); the roster covers the hours around it and ages
        are counted from its Europe/London date.
    progress
        Called with a short line of text after each step and every 50,000 patients.
    staffing
        Workers per network and shift pattern (default: the calibrated demo teams).
    history_days
        Roster this many days before ``now`` as well, for the past that
        :func:`dispatch.simulation.history.play_history` plays afterwards.

    Returns
    -------
    DemoSummary
        Row counts and the demo sign-ins (plain-text passwords, to print once).

    Raises
    ------
    DatabaseNotEmpty
        If the database already holds patients, networks, staff or a demo user.
    DemoDataError
        If the schema is missing.
    ValueError
        If ``now`` is naive or ``patients`` is negative.
    """
    if now.utcoffset() is None:
        raise ValueError("now must be a timezone-aware datetime")
    if patients < 0:
        raise ValueError(f"patients must be >= 0, got {patients}")
    report = progress or _silent
    networks, bases = generate_places(seed=seed)
    if history_days < 0:
        raise ValueError(f"history_days must be >= 0, got {history_days}")
    roster = generate_roster(seed=seed, networks=networks, bases=bases, now=now,
                             staffing=staffing,
                             # 06:00 of the first day is at most 18 h before "now - days - 12 h"
                             history=timedelta(days=history_days, hours=12 if history_days else 0))
    users = demo_users(seed=seed, networks=networks, roster=roster)
    with _connection(target) as conn:
        _refuse_non_empty(conn, users)
        network_ids = {n.code: _insert_one(conn, Network, {
            "code": n.code, "name": n.name, "borough": n.borough,
            "on_call_phone": n.on_call_phone,
            "manager_phone": n.manager_phone}) for n in networks}  # fmt: skip
        base_ids = {b.code: _insert_one(conn, StaffBase, {
            "code": b.code, "name": b.name, "network_id": network_ids[b.network_code],
            "postcode": b.postcode, "lat": b.lat, "lon": b.lon}) for b in bases}  # fmt: skip
        report(f"networks: {len(networks)}, bases: {len(bases)}")
        staff_ids = _insert_roster(conn, roster, network_ids, base_ids, now)
        report(f"staff: {len(roster.staff)}, shifts: {len(roster.shifts)}")
        _insert_users(conn, users, network_ids, staff_ids, now)
        report(f"users: {len(users)}")
        people = iter_patients(
            seed=seed, patients=patients, today=now.astimezone(LONDON).date(), networks=networks
        )
        tiers, plans = _insert_patients(conn, people, network_ids, now, patients, report)
        plans += _add_integrated_care(conn, now, report)
    return DemoSummary(
        seed=seed, networks=len(networks), bases=len(bases), patients=patients,
        care_plans=plans, staff=len(roster.staff), shifts=len(roster.shifts), users=users,
        tier_counts={tier: tiers[tier] for tier in RISK_TIERS},
    )  # fmt: skip


def _add_integrated_care(conn: sa.Connection, now: datetime,
                         report: Callable[[str], None]) -> int:
    """Practices, groups, coordinators and Joe and Annie (issue 16), and each network's pooled
    budget from the seeds' per-capita spend (issue 17), in the same transaction; returns the
    care plan versions added."""
    from dispatch.demo.budgets import add_budgets
    from dispatch.demo.integrated import add_integrated_care

    session = so.Session(bind=conn)  # joins the load's transaction; never commits it
    try:
        added = add_integrated_care(session, now=now)
        budgets_added = add_budgets(session, now=now)
        session.flush()
    finally:
        session.close()
    report(f"practices: {added.practices}, groups: {added.groups}, coordinated: "
           f"{added.coordinated}, Joe and Annie: patient {added.joe_patient_id}")
    report(f"budgets: {budgets_added} (the seeds' per-capita spend, this financial year)")
    return added.care_plans


def _silent(_message: str) -> None:
    """The default progress callback: say nothing."""


@contextmanager
def _connection(target: Target) -> Iterator[sa.Connection]:
    """One connection in one transaction, committed at the end or rolled back on error."""
    if isinstance(target, sa.Engine):
        with target.begin() as conn:
            yield conn
    else:
        with target.begin() as session:
            yield session.connection()


def _table(model: type[Any]) -> sa.Table:
    return cast(sa.Table, model.__table__)


def _refuse_non_empty(conn: sa.Connection, users: Sequence[DemoUser]) -> None:
    """Raise :class:`DatabaseNotEmpty` unless the register, networks and staff are empty."""
    try:
        held = [
            name
            for name, model in (("patients", Patient), ("networks", Network), ("staff", Staff))
            if conn.execute(sa.select(sa.literal(1)).select_from(_table(model)).limit(1)).first()
        ]
        usernames = [u.username for u in users]
        clash = conn.execute(
            sa.select(_table(User).c.username).where(_table(User).c.username.in_(usernames))
        ).scalars()
        held += [f"user {name}" for name in clash]
    except sa.exc.DBAPIError as exc:
        raise DemoDataError("the database has no schema; run `dispatch db upgrade` first") from exc
    if held:
        raise DatabaseNotEmpty(
            f"the database already holds {', '.join(held)}; demo data loads only into a fresh "
            "database: point DISPATCH_DATABASE_URL at a new SQLite file (or delete the old "
            "one), run `dispatch db upgrade`, then load the demo again"
        )


def _insert_one(conn: sa.Connection, model: type[Any], row: Mapping[str, Any]) -> int:
    """Insert one row and return its id (database-assigned, so sequences stay right)."""
    key = conn.execute(sa.insert(_table(model)).values(**row)).inserted_primary_key
    if key is None:  # pragma: no cover - every table here has an integer primary key
        raise DemoDataError(f"no id returned for a new {model.__name__} row")
    return int(key[0])


def _insert_roster(
    conn: sa.Connection,
    roster: Roster,
    network_ids: Mapping[str, int],
    base_ids: Mapping[str, int],
    now: datetime,
) -> dict[str, int]:
    """Staff one by one (their ids are needed), then every shift in one executemany."""
    staff_ids = {
        s.code: _insert_one(conn, Staff, {
            "code": s.code, "name": s.name, "role": s.role, "skills": list(s.skills),
            "phone": s.phone, "network_id": network_ids[s.network_code],
            "base_id": base_ids[s.base_code], "travel_mode": s.travel_mode, "active": True,
            "created_at": now})
        for s in roster.staff
    }  # fmt: skip
    rows = [_shift_row(shift, staff_ids, base_ids) for shift in roster.shifts]
    if rows:
        conn.execute(sa.insert(_table(Shift)), rows)
    return staff_ids


def _shift_row(
    shift: DemoShift, staff_ids: Mapping[str, int], base_ids: Mapping[str, int]
) -> dict[str, Any]:
    return {
        "code": shift.code,
        "staff_id": staff_ids[shift.staff_code],
        "base_id": base_ids[shift.base_code],
        "starts_at": shift.starts_at,
        "ends_at": shift.ends_at,
        "breaks": [{"start": b.start.isoformat(), "end": b.end.isoformat()} for b in shift.breaks],
        "sick_from": None,
    }


def _insert_users(
    conn: sa.Connection,
    users: Sequence[DemoUser],
    network_ids: Mapping[str, int],
    staff_ids: Mapping[str, int],
    now: datetime,
) -> None:
    for user in users:
        network_id = network_ids[user.network_code] if user.network_code else None
        # The demo coordinator is a hub coordinator (every network, as before networks were
        # per coordinator) whose board opens on their own network.
        user_id = _insert_one(conn, User, {
            "username": user.username, "display_name": user.display_name, "role": user.role,
            "password_hash": generate_password_hash(user.password),
            "staff_id": staff_ids[user.staff_code] if user.staff_code else None,
            "network_id": network_id, "all_networks": user.role == "coordinator",
            "failed_logins": 0, "active": True, "created_at": now})  # fmt: skip
        if user.role == "coordinator" and network_id is not None:
            conn.execute(sa.insert(_table(UserNetwork)).values(
                user_id=user_id, network_id=network_id))


def _insert_patients(
    conn: sa.Connection,
    people: Iterable[DemoPatient],
    network_ids: Mapping[str, int],
    now: datetime,
    total: int,
    report: Callable[[str], None],
) -> tuple[Counter[str], int]:
    """Stream patients in chunks; care plans follow each chunk, keyed by the new patient ids."""
    patients, plans_table = _table(Patient), _table(CarePlan)
    tiers: Counter[str] = Counter()
    plans = done = 0
    for chunk in _chunks(people, CHUNK_ROWS):
        conn.execute(sa.insert(patients), [_patient_row(p, network_ids, now) for p in chunk])
        tiers.update(p.risk_tier for p in chunk)
        planned = [p for p in chunk if p.care_plans]
        if planned:
            ids = _ids_by_nhs_number(conn, patients, [p.nhs_number for p in planned])
            rows = [_plan_row(ids[p.nhs_number], plan) for p in planned for plan in p.care_plans]
            conn.execute(sa.insert(plans_table), rows)
            plans += len(rows)
        previous, done = done, done + len(chunk)
        if done // PROGRESS_EVERY > previous // PROGRESS_EVERY or done == total:
            report(f"patients: {done:,} / {total:,} (care plans: {plans:,})")
    return tiers, plans


def _ids_by_nhs_number(
    conn: sa.Connection, patients: sa.Table, numbers: Sequence[str]
) -> dict[str, int]:
    query = sa.select(patients.c.nhs_number, patients.c.id).where(
        patients.c.nhs_number.in_(numbers)
    )
    return {number: int(pk) for number, pk in conn.execute(query)}


def _patient_row(p: DemoPatient, network_ids: Mapping[str, int], now: datetime) -> dict[str, Any]:
    return {
        "nhs_number": p.nhs_number, "given_name": p.given_name, "family_name": p.family_name,
        "date_of_birth": p.date_of_birth, "address": p.address, "postcode": p.postcode,
        "lat": p.lat, "lon": p.lon, "phone": p.phone, "gp_practice": p.gp_practice,
        "named_lead": p.named_lead, "network_id": network_ids[p.network_code],
        "risk_tier": p.risk_tier, "frailty": p.frailty, "conditions": list(p.conditions),
        "access_notes": p.access_notes, "consent_to_share": p.consent_to_share,
        "consent_recorded_by": p.consent_recorded_by,
        "consent_recorded_at": p.consent_recorded_at, "created_at": now,
    }  # fmt: skip


def _plan_row(patient_id: int, plan: Any) -> dict[str, Any]:
    return {
        "patient_id": patient_id, "version": plan.version, "summary": plan.summary,
        "content": dict(plan.content), "author": plan.author, "created_at": plan.created_at,
    }  # fmt: skip


def _chunks(items: Iterable[T], size: int) -> Iterator[list[T]]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk
