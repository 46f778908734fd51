"""``/metrics``: Prometheus text for the operators' dashboards.

Counts only, never patient data: referrals by triage category, open visits by status, visits in
jeopardy by cause, outbound SMS by status, and HTTP latency by Flask endpoint name (a route's
name, never its URL, so no ids or query strings). Open like ``/healthz`` unless
``DISPATCH_METRICS_TOKEN`` is set; then it needs ``Authorization: Bearer <that token>``
(checked in :mod:`dispatch.auth`, rule ``METRICS_TOKEN`` in :mod:`dispatch.permissions`).

Also, from what the background work recorded (:mod:`dispatch.models.operations`, written by the
scheduler process so any web process can report it): referral-to-offer latency over the last
24 hours (a gauge histogram by triage category), planner run time and visits left unplanned per
network, how long ago each job last ran (job lag), its duration, runs and failures, and texts
that needed more than one attempt.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import Blueprint, Flask, Response, current_app, g, request
from prometheus_client import CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeHistogramMetricFamily,
    GaugeMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector
from sqlalchemy import orm as so

from dispatch.db import get_session
from dispatch.models import JobHeartbeat, Message, PlannerRun, Referral, Visit
from dispatch.request_clock import now as request_now
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


#: Upper bounds (seconds) of the referral-to-offer and planner-run histograms.
OFFER_BUCKETS = (1, 2, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 7200)
PLANNER_BUCKETS = (0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120)
WINDOW = timedelta(hours=24)
PLANNER_WINDOW = timedelta(hours=1)


def _gauge_histogram(name: str, doc: str, labels: list[str],
                     series: dict[tuple[str, ...], list[float]],
                     bounds: tuple[float, ...]) -> GaugeHistogramMetricFamily:
    """Cumulative buckets (``le``) and the sum of each label set's observations."""
    family = GaugeHistogramMetricFamily(name, doc, labels=labels)
    for key, values in sorted(series.items()):
        buckets = [(str(float(b)), float(sum(1 for v in values if v <= b))) for b in bounds]
        buckets.append(("+Inf", float(len(values))))
        family.add_metric(list(key), buckets, gsum_value=float(sum(values)))
    return family


class _DatabaseCounts(Collector):
    """Counts read from the database at scrape time (one grouped query each)."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def collect(self) -> Iterator[Metric]:
        session = get_session()
        yield from self._recorded(session)
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

        retried = GaugeMetricFamily(
            "dispatch_sms_retried_messages",
            "Outbound text messages that needed more than one attempt, by status",
            labels=["status"],
        )
        for status, count in session.execute(
            sa.select(Message.status, sa.func.count())
            .where(Message.direction == "outbound", Message.attempts > 1)
            .group_by(Message.status)
        ):
            retried.add_metric([status], count)
        yield retried

    def _recorded(self, session: so.Session) -> Iterator[Metric]:
        """What the jobs and the planner recorded, and the offer latency."""
        first_sent = (
            sa.select(Message.visit_id, sa.func.min(Message.sent_at).label("sent_at"))
            .where(Message.direction == "outbound", Message.sent_at.is_not(None),
                   Message.visit_id.is_not(None))
            .group_by(Message.visit_id).subquery()
        )
        latency: dict[tuple[str, ...], list[float]] = {}
        for category, received, sent in session.execute(
            sa.select(Referral.category, Referral.received_at, first_sent.c.sent_at)
            .join(Visit, Visit.referral_id == Referral.id)
            .join(first_sent, first_sent.c.visit_id == Visit.id)
            .where(Referral.received_at >= self.now - WINDOW)
        ):
            seconds = max(0.0, (_aware(sent) - _aware(received)).total_seconds())
            latency.setdefault((category or "untriaged",), []).append(seconds)
        yield _gauge_histogram(
            "dispatch_referral_to_offer_seconds",
            "Seconds from a referral to its first visit text sent, referrals of the last 24 h",
            ["category"], latency, OFFER_BUCKETS)

        runs: dict[tuple[str, ...], list[float]] = {}
        last_seconds = GaugeMetricFamily(
            "dispatch_planner_last_run_seconds", "The network's last planner run, seconds",
            labels=["network"])
        last_dropped = GaugeMetricFamily(
            "dispatch_planner_last_dropped_visits",
            "Visits the network's last planner run left unplanned", labels=["network"])
        seen: set[str] = set()
        for network_id, seconds, dropped, started in session.execute(
            sa.select(PlannerRun.network_id, PlannerRun.seconds, PlannerRun.dropped,
                      PlannerRun.started_at)
            .where(PlannerRun.started_at >= self.now - WINDOW)
            .order_by(PlannerRun.started_at.desc(), PlannerRun.id.desc())
        ):
            network = str(network_id) if network_id is not None else "all"
            if network not in seen:
                seen.add(network)
                last_seconds.add_metric([network], seconds)
                last_dropped.add_metric([network], dropped)
            if _aware(started) >= self.now - PLANNER_WINDOW:
                runs.setdefault((network,), []).append(seconds)
        yield last_seconds
        yield last_dropped
        yield _gauge_histogram(
            "dispatch_planner_run_seconds", "Planner run time per network, runs of the last hour",
            ["network"], runs, PLANNER_BUCKETS)

        lag = GaugeMetricFamily(
            "dispatch_job_seconds_since_last_run",
            "Seconds since the job last finished (job lag; compare with its interval)",
            labels=["job"])
        duration = GaugeMetricFamily(
            "dispatch_job_last_duration_seconds", "The job's last run, seconds", labels=["job"])
        job_runs = CounterMetricFamily("dispatch_job_runs", "Job runs", labels=["job"])
        failures = CounterMetricFamily(
            "dispatch_job_failures", "Job runs that failed (see the logs)", labels=["job"])
        for beat in session.scalars(sa.select(JobHeartbeat).order_by(JobHeartbeat.name)):
            lag.add_metric([beat.name], max(
                0.0, (self.now - _aware(beat.last_finished_at)).total_seconds()))
            duration.add_metric([beat.name], beat.last_seconds)
            job_runs.add_metric([beat.name], beat.runs)
            failures.add_metric([beat.name], beat.failures)
        yield from (lag, duration, job_runs, failures)


@bp.get("/metrics")
def metrics() -> Response:
    """Prometheus text exposition (counts only; no patient data)."""
    scrape = CollectorRegistry(auto_describe=False)
    scrape.register(_DatabaseCounts(request_now()))
    body = generate_latest(scrape) + generate_latest(
        current_app.extensions[EXTENSION_KEY].registry
    )
    return Response(body, mimetype=None, content_type=CONTENT_TYPE)


def _aware(moment: datetime) -> datetime:
    """Rows come back aware (UTCDateTime); a subquery's aggregate may not on SQLite."""
    if moment.tzinfo is None:
        from datetime import UTC

        return moment.replace(tzinfo=UTC)
    return moment
