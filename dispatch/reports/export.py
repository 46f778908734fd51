"""CSV export of the rows behind the KPIs, so a figure can be checked or re-cut in a spreadsheet.

Minimum necessary (Caldicott): rows carry referral ids and visit references, never a
patient's name, NHS number or address. Times are ISO 8601 in Europe/London. Free text is
defused against spreadsheet formula injection.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any

from dispatch.reports import metrics
from dispatch.reports.types import DayRows
from rosters.csv_cells import safe_cell

TABLES = ("responses", "workers", "declines", "bookings")

# Decline reasons come from SMS replies: every cell goes through the shared spreadsheet-safe
# rule (rosters.csv_cells.safe_cell) against CSV injection.


def _cell(value: Any) -> Any:
    """A spreadsheet-safe cell (``rosters.csv_cells``: formulas neutralised, None empty)."""
    return safe_cell(value)


def _time(value: datetime | None) -> str:
    return value.astimezone(metrics.LONDON).isoformat(timespec="seconds") if value else ""


def _responses(rows: DayRows, as_of: datetime) -> Iterable[dict[str, Any]]:
    for r in sorted(rows.responses, key=lambda r: (r.received_at, r.referral_id)):
        minutes = metrics.response_minutes(r)
        result = metrics.outcome(r, as_of)
        yield {
            "network_id": r.network_id, "team": r.team, "referral_id": r.referral_id,
            "visit_reference": r.visit_reference, "category": r.category,
            "counts_for_2h": metrics.counts_for_2h(r), "line": metrics.line(r) or "",
            "received_at": _time(r.received_at),
            "deadline": _time(r.deadline), "first_arrival": _time(r.first_arrival),
            "response_minutes": "" if minutes is None else round(minutes, 1),
            "outcome": result,
            "breach_cause": metrics.breach_cause(r) if result == "breached" else "",
        }


def _workers(rows: DayRows, as_of: datetime) -> Iterable[dict[str, Any]]:
    for w in metrics.utilisation(rows.workers)["workers"]:
        yield {**w, "network_id": next(x.network_id for x in rows.workers
                                       if x.staff_id == w["staff_id"])}


def _declines(rows: DayRows, as_of: datetime) -> Iterable[dict[str, Any]]:
    for d in sorted(rows.declines, key=lambda d: d.at):
        yield {"at": _time(d.at), "network_id": d.network_id, "team": d.team,
               "staff_id": d.staff_id, "visit_reference": d.visit_reference, "reason": d.reason}


def _bookings(rows: DayRows, as_of: datetime) -> Iterable[dict[str, Any]]:
    for b in sorted(rows.bookings, key=lambda b: b.at):
        yield {"at": _time(b.at), "network_id": b.network_id,
               "visit_reference": b.visit_reference, "category": b.category,
               "timeframe_minutes": b.timeframe_minutes,
               "approval_required": b.approval_required, "approved_by": b.approved_by or "",
               "reason": b.reason}


COLUMNS: dict[str, tuple[str, ...]] = {
    "responses": ("network_id", "network", "team", "referral_id", "visit_reference",
                  "category", "counts_for_2h", "line", "received_at", "deadline",
                  "first_arrival", "response_minutes", "outcome", "breach_cause"),
    "workers": ("network_id", "network", "staff_id", "name", "team", "shift_minutes",
                "visit_minutes", "travel_minutes", "visits", "utilisation",
                "travel_minutes_per_visit"),
    "declines": ("at", "network_id", "network", "team", "staff_id", "visit_reference",
                 "reason"),
    "bookings": ("at", "network_id", "network", "visit_reference", "category",
                 "timeframe_minutes", "approval_required", "approved_by", "reason"),
}
_ROWS: dict[str, Callable[[DayRows, datetime], Iterable[dict[str, Any]]]] = {
    "responses": _responses, "workers": _workers, "declines": _declines, "bookings": _bookings,
}


def to_csv(rows: DayRows, *, table: str, as_of: datetime,
           network_names: Mapping[int, str] | None = None) -> str:
    """One of :data:`TABLES` as CSV text with a header row; each row's network by id and by
    name (``network_names``), times on the London clock. :raise KeyError: unknown table."""
    columns = COLUMNS[table]
    names = network_names or {}
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, extrasaction="ignore",
                            lineterminator="\r\n")
    writer.writeheader()
    for row in _ROWS[table](rows, as_of):
        row["network"] = names.get(row.get("network_id") or 0, "")
        writer.writerow({k: _cell(row.get(k)) for k in columns})
    return buffer.getvalue()
