"""Rosters into and out of the database: the CSV is parsed by ``rosters/``, stored here.

An import is all or nothing: every bad line is reported (line, column, reason) and nothing is
written unless the whole file is good, including names that only the database can check
(networks and bases).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm as so

import rosters
from dispatch.errors import InvalidInput
from dispatch.models import Network, Shift, Staff, StaffBase
from dispatch.services import tier_cover
from rosters import RosterImportError, parse_roster_csv
from routing.geocoding import load_outcodes


@dataclass(frozen=True)
class ImportSummary:
    staff_created: int
    staff_updated: int
    shifts_created: int
    shifts_updated: int
    #: Per network the file touched, booked visits its tier rules now leave with nobody on
    #: the roster (H-232-C2, :func:`dispatch.services.tier_cover.summary`), in words.
    tier_warnings: tuple[str, ...] = ()


def line_errors_to_dict(errors: Any) -> dict[str, list[str]]:
    """``{"line 3": ["phone: not a UK mobile ..."]}``: the 422 shape for roster files."""
    out: dict[str, list[str]] = {}
    for err in errors:
        out.setdefault(f"line {err.line}", []).append(f"{err.column}: {err.reason}")
    return out


def import_roster_csv(session: so.Session, *, text: str, now: datetime) -> ImportSummary:
    """Parse and store a roster file.

    Raises
    ------
    InvalidInput
        With one entry per bad line; nothing is written.
    """
    try:
        roster = parse_roster_csv(text)
    except RosterImportError as exc:
        raise InvalidInput(
            "the roster file has errors; nothing was imported",
            errors=line_errors_to_dict(exc.errors),
        ) from exc
    lines = _first_lines(text)
    networks = _resolve_networks(session, roster, lines)
    bases = _resolve_bases(session, roster, lines)
    summary = _store(session, roster, networks, bases, now)
    return replace(summary, tier_warnings=_tier_warnings(session, networks, now))


def _tier_warnings(session: so.Session, networks: dict[str, int], now: datetime
                   ) -> tuple[str, ...]:
    """The tier cover check of every network in the file, after the import (H-232-C2)."""
    warnings = []
    for network in session.scalars(sa.select(Network).where(
            Network.id.in_(set(networks.values()))).order_by(Network.name)):
        sentence = tier_cover.summary(tier_cover.check(session, network_id=network.id, now=now))
        if sentence:
            warnings.append(f"{network.name}: {sentence}")
    return tuple(warnings)


def _first_lines(text: str) -> dict[str, int]:
    """The first line each staff id appears on, for error messages found after parsing."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    found: dict[str, int] = {}
    for row in reader:
        staff_id = (row.get("staff_id") or "").strip()
        found.setdefault(staff_id, reader.line_num)
    return found


def _resolve_networks(
    session: so.Session, roster: rosters.Roster, lines: dict[str, int]
) -> dict[str, int]:
    known = {n.code: n.id for n in session.scalars(sa.select(Network))}
    known.update({n.name: n.id for n in session.scalars(sa.select(Network))})
    errors: dict[str, list[str]] = {}
    for member in roster.staff:
        if member.network not in known:
            errors.setdefault(f"line {lines.get(member.id, 0)}", []).append(
                f"network: unknown network {member.network!r}; "
                f"known: {', '.join(sorted(known)[:12])}"
            )
    if errors:
        raise InvalidInput("the roster file has errors; nothing was imported", errors=errors)
    return known


def _resolve_bases(
    session: so.Session, roster: rosters.Roster, lines: dict[str, int]
) -> dict[str, StaffBase]:
    """Bases by code, or by postcode district (a new base at the district's centre)."""
    by_code = {b.code: b for b in session.scalars(sa.select(StaffBase))}
    outcodes = load_outcodes()
    wanted = {m.base for m in roster.staff} | {s.base for s in roster.shifts}
    errors: dict[str, list[str]] = {}
    for name in sorted(wanted):
        if name in by_code:
            continue
        if name.upper() in outcodes:
            lat, lon = outcodes[name.upper()]
            base = StaffBase(
                code=name.upper(),
                name=f"{name.upper()} base",
                postcode=name.upper(),
                lat=lat,
                lon=lon,
            )
            session.add(base)
            by_code[name] = base
        else:
            staff_id = next((m.id for m in roster.staff if m.base == name), "")
            errors.setdefault(f"line {lines.get(staff_id, 0)}", []).append(
                f"base: unknown base {name!r} (a base code or a London postcode district)"
            )
    if errors:
        raise InvalidInput("the roster file has errors; nothing was imported", errors=errors)
    session.flush()
    return by_code


def _store(
    session: so.Session,
    roster: rosters.Roster,
    networks: dict[str, int],
    bases: dict[str, StaffBase],
    now: datetime,
) -> ImportSummary:
    counts = {"sc": 0, "su": 0, "hc": 0, "hu": 0}
    staff_ids: dict[str, int] = {}
    for member in roster.staff:
        row = session.scalar(sa.select(Staff).where(Staff.code == member.id))
        if row is None:
            row = Staff(code=member.id, created_at=now)
            session.add(row)
            counts["sc"] += 1
        else:
            counts["su"] += 1
        row.name, row.role, row.phone = member.name, member.role, member.phone
        row.skills = sorted(member.skills)
        row.network_id = networks[member.network]
        row.base_id = bases[member.base].id
        row.travel_mode = member.travel_mode
        session.flush()
        staff_ids[member.id] = row.id
    for shift in roster.shifts:
        srow = session.scalar(sa.select(Shift).where(Shift.code == shift.id))
        if srow is None:
            srow = Shift(code=shift.id)
            session.add(srow)
            counts["hc"] += 1
        else:
            counts["hu"] += 1
        srow.staff_id = staff_ids[shift.staff_id]
        srow.base_id = bases[shift.base].id
        srow.starts_at, srow.ends_at = shift.start, shift.end
        srow.breaks = [
            {"start": b.start.isoformat(), "end": b.end.isoformat()} for b in shift.breaks
        ]
    session.flush()
    return ImportSummary(counts["sc"], counts["su"], counts["hc"], counts["hu"])


def export_roster(
    session: so.Session, *, start: datetime | None = None, end: datetime | None = None
) -> rosters.Roster:
    """Staff and their shifts overlapping ``[start, end)`` (all shifts when not given)."""
    networks = {n.id: n.code for n in session.scalars(sa.select(Network))}
    bases = {b.id: b.code for b in session.scalars(sa.select(StaffBase))}
    stmt = sa.select(Shift).order_by(Shift.starts_at, Shift.id)
    if start is not None:
        stmt = stmt.where(Shift.ends_at > start)
    if end is not None:
        stmt = stmt.where(Shift.starts_at < end)
    staff_rows = list(session.scalars(sa.select(Staff).where(Staff.active).order_by(Staff.code)))
    codes = {s.id: s.code for s in staff_rows}
    members = [
        rosters.StaffMember(
            id=s.code,
            name=s.name,
            role=s.role,
            skills=frozenset(s.skills),
            base=bases.get(s.base_id or -1, ""),
            phone=s.phone,
            network=networks.get(s.network_id or -1, ""),
            travel_mode=s.travel_mode,
        )
        for s in staff_rows
    ]
    shifts = [
        rosters.Shift(
            id=h.code,
            staff_id=codes[h.staff_id],
            start=h.starts_at,
            end=h.ends_at,
            base=bases[h.base_id],
            breaks=tuple(
                rosters.Break(datetime.fromisoformat(b["start"]), datetime.fromisoformat(b["end"]))
                for b in h.breaks
            ),
        )
        for h in session.scalars(stmt)
        if h.staff_id in codes
    ]
    return rosters.Roster(staff=tuple(members), shifts=tuple(shifts))
