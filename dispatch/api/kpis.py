"""``/api/kpis``: one day's performance per network and team, as JSON, SVG charts and CSV.

The figures and their definitions are in ``dispatch.reports.metrics``; what is read from where
is in ``dispatch.services.kpis``.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Response, current_app
from flask.views import MethodView
from flask_smorest import Blueprint

from dispatch.api.schemas import (
    CsvQuerySchema,
    KpiQuerySchema,
    KpiSchema,
)
from dispatch.auth import current_actor, request_id
from dispatch.db import get_session
from dispatch.errors import NotFound
from dispatch.planning.runs import provider_for
from dispatch.reports import charts
from dispatch.reports.types import DayRows
from dispatch.request_clock import now
from dispatch.services import kpis

blp = Blueprint("kpis", __name__, url_prefix="/api",
                description="Performance: response compliance, breaches, utilisation, travel")


def _day(query: dict[str, Any]) -> date:
    today = now().astimezone(kpis.LONDON).date()
    return query.get("date") or today


def _rows(query: dict[str, Any]) -> tuple[DayRows, str]:
    return kpis.labelled_rows(get_session(), day=_day(query), now=now(),
                              network_id=query.get("network"), provider=provider_for(current_app))


@blp.route("/kpis")
class Kpis(MethodView):
    @blp.arguments(KpiQuerySchema, location="query")
    @blp.response(200, KpiSchema)
    @blp.alt_response(404, description="No such network")
    def get(self, query: dict[str, Any]) -> Any:
        """One day's figures for all networks (or one), each network split by team (role).

        2-hour compliance counts urgent referrals received 08:00-20:00 London; those received
        out of hours have their own line, ``urgent_2h_out_of_hours``, against their own
        deadlines, and their breaches are listed with the others (``out_of_hours: true``).
        Referrals whose deadline has not yet passed and nobody has arrived at are "pending",
        not counted.
        """
        return kpis.kpi_report(get_session(), day=_day(query), now=now(),
                               network_id=query.get("network"),
                               provider=provider_for(current_app))


@blp.route("/kpis/charts/<name>.svg")
class KpiChart(MethodView):
    @blp.arguments(KpiQuerySchema, location="query")
    @blp.response(200, content_type="image/svg+xml",
                  description="An SVG chart (response-times, compliance-by-hour, utilisation)")
    @blp.alt_response(404, description="No such chart or network")
    def get(self, query: dict[str, Any], name: str) -> Any:
        """A chart of the day drawn on the server: ``response-times`` (histograms against the
        2- and 24-hour targets), ``compliance-by-hour`` or ``utilisation`` (per worker)."""
        if name not in charts.CHARTS:
            raise NotFound(f"no chart called {name!r}; charts: {', '.join(charts.CHARTS)}")
        rows, label = _rows(query)
        svg = charts.render(name, rows, as_of=now(), label=label)
        filename = f"{name}-{_day(query).isoformat()}.svg"
        return Response(svg, mimetype="image/svg+xml", headers={
            "Content-Disposition": f'inline; filename="{filename}"',
            "Cache-Control": "private, max-age=60"})


@blp.route("/kpis.csv")
class KpiCsv(MethodView):
    @blp.arguments(CsvQuerySchema, location="query")
    @blp.response(200, content_type="text/csv", description="The rows behind the figures")
    @blp.alt_response(404, description="No such network")
    def get(self, query: dict[str, Any]) -> Any:
        """Download the rows behind the day's figures as CSV (``table``: responses, workers,
        declines or bookings). No patient identifiers; each export is audited."""
        session = get_session()
        text = kpis.export_table(session, table=query["table"], day=_day(query), now=now(),
                                 network_id=query.get("network"),
                                 provider=provider_for(current_app), actor=current_actor(),
                                 request_id=request_id())
        session.commit()
        filename = f"kpis-{query['table']}-{_day(query).isoformat()}.csv"
        return Response(text, mimetype="text/csv", headers={
            "Content-Disposition": f'attachment; filename="{filename}"'})
