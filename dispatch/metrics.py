"""``/metrics``: Prometheus text for the operators' dashboards.

Counts only, never patient data: referrals by triage category, open visits by status, visits in
jeopardy by cause, outbound SMS by status, and HTTP latency by Flask endpoint name (a route's
name, never its URL, so no ids or query strings). Open like ``/healthz`` unless
``DISPATCH_METRICS_TOKEN`` is set; then it needs ``Authorization: Bearer <that token>``
(checked in :mod:`dispatch.auth`, rule ``METRICS_TOKEN`` in :mod:`dispatch.permissions`).

Not yet: referral-to-offer latency, planner run time and dropped visits per network, SMS
retries, job lag (issue 18 part 3 lists them).
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import sqlalchemy as sa
from flask import Blueprint, Flask, Response, current_app, g, request
from prometheus_client import CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from dispatch.db import get_session
from dispatch.models import Message, Referral, Visit
from dispatch.states import VISIT_OPEN_STATUSES

bp = Blueprint("metrics", __name__)
EXTENSION_KEY = "dispatch.metrics"
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class _HttpMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.latency = Histogram(
            "dispatch_http_request_duration_seconds",
            "HTTP request latency by Flask endpoint and method",
            ["endpoint", "method"], registry=self.registry,
        )


def init_app(app: Flask) -> None:
    app.extensions[EXTENSION_KEY] = _HttpMetrics()
    app.register_blueprint(bp)
    app.before_request(_start_timer)
    app.after_request(_observe)


def _start_timer() -> None:
    g.metrics_started = time.perf_counter()


def _observe(response: Response) -> Response:
    started = g.get("metrics_started")
    if started is not None:
        endpoint = request.endpoint or "unmatched"  # a 404 has no endpoint: never the raw URL
        current_app.extensions[EXTENSION_KEY].latency.labels(endpoint, request.method).observe(
            time.perf_counter() - started
        )
    return response


class _DatabaseCounts(Collector):
    """Counts read from the database at scrape time (one grouped query each)."""

    def collect(self) -> Iterator[Metric]:
        session = get_session()
        referrals = CounterMetricFamily(
            "dispatch_referrals", "Referrals received, by triage category", labels=["category"]
        )
        for category, count in session.execute(
            sa.select(Referral.category, sa.func.count()).group_by(Referral.category)
        ):
            referrals.add_metric([category or "untriaged"], count)
        yield referrals

        open_visits = GaugeMetricFamily(
            "dispatch_open_visits", "Visits not yet finished, by status", labels=["status"]
        )
        counts: dict[str, int] = dict(session.execute(
            sa.select(Visit.status, sa.func.count())
            .where(Visit.status.in_(VISIT_OPEN_STATUSES)).group_by(Visit.status)
        ).all())
        for status in VISIT_OPEN_STATUSES:
            open_visits.add_metric([status], counts.get(status, 0))
        yield open_visits

        jeopardy = GaugeMetricFamily(
            "dispatch_visits_in_jeopardy", "Open visits in jeopardy, by cause", labels=["cause"]
        )
        for cause, count in session.execute(
            sa.select(Visit.jeopardy_cause, sa.func.count())
            .where(Visit.status.in_(VISIT_OPEN_STATUSES), Visit.jeopardy_cause.is_not(None))
            .group_by(Visit.jeopardy_cause)
        ):
            jeopardy.add_metric([str(cause)], count)
        yield jeopardy

        sms = GaugeMetricFamily(
            "dispatch_sms_messages", "Outbound text messages by status (sent, failed...)",
            labels=["status"],
        )
        for status, count in session.execute(
            sa.select(Message.status, sa.func.count())
            .where(Message.direction == "outbound").group_by(Message.status)
        ):
            sms.add_metric([status], count)
        yield sms


@bp.get("/metrics")
def metrics() -> Response:
    """Prometheus text exposition (counts only; no patient data)."""
    scrape = CollectorRegistry(auto_describe=False)
    scrape.register(_DatabaseCounts())
    body = generate_latest(scrape) + generate_latest(
        current_app.extensions[EXTENSION_KEY].registry
    )
    return Response(body, mimetype=None, content_type=CONTENT_TYPE)
