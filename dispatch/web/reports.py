"""The managers' performance page: one day's KPIs per network and team, charts and CSV.

The figures are exactly ``GET /api/kpis`` (``dispatch.services.kpis.kpi_report``); the charts
are the API's SVGs and the downloads its CSVs, fetched by the browser with the same session
cookie, so the page, the API and the files can never disagree.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode

from flask import current_app, render_template, request
from flask.typing import ResponseReturnValue

from dispatch.auth import current_actor, request_id
from dispatch.config import LONDON
from dispatch.db import get_session
from dispatch.errors import InvalidInput
from dispatch.forms import BAD_DATE, read_date
from dispatch.planning.runs import provider_for
from dispatch.reports import charts, export, metrics
from dispatch.request_clock import now
from dispatch.services import discharges, kpis
from dispatch.web.common import bp

CHART_TITLES = {
    "response-times": "Response times against the 2- and 24-hour targets",
    "compliance-by-hour": "Urgent and 24-hour compliance by hour of referral",
    "utilisation": "Utilisation per worker",
}
TABLE_TITLES = {"responses": "Responses", "workers": "Workers", "declines": "Declines",
                "bookings": "Bookings outside the timeframe"}


def _query() -> tuple[date, int | None]:
    """``?date=YYYY-MM-DD`` (default today, London) and ``?network=`` (blank: all)."""
    raw_day = request.args.get("date", "").strip()
    raw_network = request.args.get("network", "").strip()
    errors: dict[str, list[str]] = {}
    day = now().astimezone(kpis.LONDON).date()
    if raw_day:
        try:
            day = read_date(raw_day)
        except ValueError:
            errors["date"] = [BAD_DATE]
    network_id = None
    if raw_network and raw_network != "0":
        if raw_network.isdigit() and int(raw_network) < 2**31:
            network_id = int(raw_network)
        else:
            errors["network"] = ["Choose a network from the list"]
    if errors:
        raise InvalidInput("invalid report filter", errors=errors)
    return day, network_id


@bp.get("/reports/kpis")
def kpi_page() -> ResponseReturnValue:
    """Headline tiles, charts, tables and definitions for one day (and network)."""
    day, network_id = _query()
    session = get_session()
    report = kpis.view_report(session, day=day, now=now(), network_id=network_id,
                              provider=provider_for(current_app), actor=current_actor(),
                              request_id=request_id())
    networks = kpis.network_choices(session)
    start = datetime.combine(day, time.min, tzinfo=LONDON)  # issue 16: discharge follow-ups
    follow_ups = discharges.discharge_kpi(session, since=start, until=start + timedelta(days=1),
                                          now=now(), network_id=network_id)
    session.commit()
    args = {"date": day.isoformat(), **({"network": network_id} if network_id else {})}
    return render_template(
        "reports/kpis.html", report=report, s=report["summary"], day=day,
        network_id=network_id, networks=networks, tiles=tiles(report["summary"]),
        charts=[(name, CHART_TITLES.get(name, name),
                 f"/api/kpis/charts/{name}.svg?{urlencode(args)}") for name in charts.CHARTS],
        csvs=[(t, TABLE_TITLES.get(t, t), f"/api/kpis.csv?{urlencode({**args, 'table': t})}")
              for t in export.TABLES],
        target=metrics.UCR_AMBITION, team_rows=team_rows(report), follow_ups=follow_ups,
        one_day=timedelta(days=1), today=now().astimezone(LONDON).date(),
        network_args={"network": network_id} if network_id else {})


def team_rows(report: dict[str, Any]) -> list[tuple[str, dict[str, Any], bool]]:
    """(label, figures, is_network): each network, then each of its teams."""
    rows: list[tuple[str, dict[str, Any], bool]] = []
    for network in report["networks"]:
        rows.append((network["name"], network["summary"], True))
        rows.extend((team["team"], team, False) for team in network["teams"])
    return rows


def _percent(value: float | None) -> str:
    return "No data" if value is None else f"{value * 100:.0f}%"


def _minutes(value: float | None) -> str:
    return "No data" if value is None else f"{value:.0f} min"


def tiles(summary: dict[str, Any]) -> list[dict[str, Any]]:
    """The headline figures, each with a line saying what it counts."""
    urgent, day = summary["urgent_2h"], summary["response_24h"]
    ooh = summary["urgent_2h_out_of_hours"]
    times = summary["response_minutes"]["all"]
    use = summary["utilisation"]
    below = urgent["compliance"] is not None and urgent["compliance"] < metrics.UCR_AMBITION
    return [
        {"id": "tile-2h", "label": "2-hour compliance", "value": _percent(urgent["compliance"]),
         "detail": f"{urgent['met']} met of {urgent['count']} decided "
                   f"({urgent['pending']} pending); national target "
                   f"{metrics.UCR_AMBITION * 100:.0f}%", "alert": below},
        {"id": "tile-24h", "label": "24-hour compliance", "value": _percent(day["compliance"]),
         "detail": f"{day['met']} met of {day['count']} decided ({day['pending']} pending)",
         "alert": False},
        {"id": "tile-median", "label": "Median response", "value": _minutes(times["median"]),
         "detail": f"over {times['n']} responses", "alert": False},
        {"id": "tile-p90", "label": "90th percentile response", "value": _minutes(times["p90"]),
         "detail": "9 in 10 responses were at least this quick", "alert": False},
        {"id": "tile-ooh", "label": "Out-of-hours urgent compliance",
         "value": _percent(ooh["compliance"]),
         "detail": f"{ooh['met']} met of {ooh['count']} decided ({ooh['pending']} pending); "
                   "urgent referrals received 20:00-08:00, each against its own deadline",
         "alert": bool(ooh["breached"])},
        {"id": "tile-utilisation", "label": "Utilisation", "value": _percent(use["overall"]),
         "detail": "time on site and travelling / rostered time", "alert": False},
        {"id": "tile-travel", "label": "Travel per visit",
         "value": _minutes(use["travel_minutes_per_visit"]),
         "detail": "estimated minutes of travel per visit attended", "alert": False},
    ]
