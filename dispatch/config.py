"""Default settings.

Every key can be overridden by an environment variable with the ``DISPATCH_`` prefix
(``DISPATCH_DATABASE_URL``, ``DISPATCH_SECRET_KEY``...) or by the mapping passed to
:func:`dispatch.create_app`. With no settings at all the service runs: SQLite in the instance
folder and SMS to the local outbox, so a newcomer needs nothing but Python.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any, Final
from zoneinfo import ZoneInfo

#: The service's one time zone: the board, texts, reports' days, tariffs and bookings read and
#: show wall-clock times in it. A constant, not a setting: the rules assume London. (The pure
#: packages, which cannot import dispatch, name the same zone in triage.timing and
#: rosters.csv_fields.)
LONDON: Final = ZoneInfo("Europe/London")

DEFAULTS: dict[str, Any] = {
    # None means "sqlite:///<instance folder>/dispatch.sqlite3", resolved in the factory.
    "DATABASE_URL": None,
    "DATABASE_ECHO": False,
    # A development key; production mode refuses to start with it (see create_app).
    "SECRET_KEY": "dev-not-secret",
    "ENV": "development",
    "PUBLIC_BASE_URL": "http://127.0.0.1:5000",
    "OSRM_URL": None,
    # The board's map: tiles from this server when set ("https://tiles.example/{z}/{x}/{y}.png";
    # the pages' Content-Security-Policy then allows images from its host, and only it), and
    # the words crediting them. Unset: no request leaves the service (boundaries only).
    "MAP_TILE_URL": None,
    "MAP_TILE_ATTRIBUTION": None,
    "NOMINATIM_URL": None,
    # "twilio" or "local" (the outbox, nothing leaves the machine). Unset: Twilio when its
    # settings are complete, else the local outbox -- except in production, which refuses to
    # start until the backend is chosen explicitly (Twilio settings or "local").
    "SMS_BACKEND": None,
    # OpenID Connect sign-in (NHS CIS2 style; dispatch/oidc.py). Unset issuer: local accounts
    # only. ROLE_MAP is JSON {"<provider value>": "<service role>"}; unset, the provider's
    # values are the service's role names.
    "OIDC_ISSUER": None,
    "OIDC_CLIENT_ID": None,
    "OIDC_CLIENT_SECRET": None,
    "OIDC_SCOPE": "openid profile",
    "OIDC_ROLE_CLAIM": "roles",
    "OIDC_ROLE_FIELD": None,
    "OIDC_ROLE_MAP": None,
    # The claim whose value is the user's staff code (staff.code), e.g. an employee number:
    # field staff signing in by OIDC are linked to their staff record by it. Unset: linked by
    # an administrator (`dispatch user link-staff`).
    "OIDC_STAFF_CLAIM": None,
    "OIDC_LABEL": "Sign in with NHS Care Identity",
    # Bearer token for /metrics; unset, /metrics is open like /healthz.
    "METRICS_TOKEN": None,
    "TWILIO_ACCOUNT_SID": None,
    "TWILIO_AUTH_TOKEN": None,
    "TWILIO_FROM": None,
    "TWILIO_MESSAGING_SERVICE_SID": None,
    "TWILIO_BASE_URL": None,
    "MAX_CONTENT_LENGTH": 1024 * 1024,
    # Care-package approval limits per role in pence, overriding the defaults in
    # dispatch/services/packages.py; as JSON in DISPATCH_APPROVAL_LIMITS_PENCE, e.g.
    # {"coordinator": 500000, "manager": 2500000}.
    "APPROVAL_LIMITS_PENCE": None,
    # Background jobs (seconds); see dispatch/jobs/runner.py.
    # Polls are one cheap query each; short intervals keep a referral's SMS within seconds
    # when the scheduler runs in its own process (the web process cannot wake it).
    "SEND_INTERVAL": 1,
    "PLACE_INTERVAL": 2,
    "WATCH_INTERVAL": 60,
    "REOPTIMISE_INTERVAL": 300,
    "REOPTIMISE_SECONDS": 3.0,
    "PLACE_SECONDS": 1.0,
    # Minutes ahead the live planner texts offers (issue 17): work planned to start later is
    # booked provisionally (the worker not yet told) so a re-plan can still give its slot to
    # a 2-hour visit; 2-hour visits are always offered at once. None: offer every planned
    # visit at once (each accepted offer then holds its worker). The calibrated simulated
    # day plays 90 (dispatch/simulation/types.py).
    "OFFER_LEAD_MINUTES": None,
    # When the placer's insertion leaves a new 2-hour visit unplaced, it re-optimises the
    # network from that plan for this long before giving the visit to cover or jeopardy
    # (0: never). A full morning can need two visits moved to make room.
    "PLACE_RESCUE_SECONDS": 3.0,
    # Plan requests (POST /api/plans) are solved by the run_plans job; the POST wakes it when
    # the scheduler runs in the same process, else it polls this often.
    "PLANS_INTERVAL": 2,
    # Capacity-planner runs (POST /api/capacity-plans) are played by the run_capacity_plans
    # job (minutes each); the POST wakes it, else it polls this often.
    "CAPACITY_PLANS_INTERVAL": 5,
    # Planning on workers (issue 18 part 5; dispatch/tasks/engine.py, docs/operations.md
    # "Workers"): unset, the scheduler plans in-process as it always has. Set to
    # redis://host:port/db, the scheduler sends planning tasks through Redis and `dispatch
    # worker` processes run them.
    "TASK_BROKER_URL": None,
    # The prefix of every Redis key of this deployment's tasks.
    "TASK_NAMESPACE": "dispatch",
    # A worker silent this long is taken as dead; its unfinished tasks go to another worker.
    "TASK_HEARTBEAT_SECONDS": 30.0,
    # In how many of a million broker calls the dead-worker check is made.
    "TASK_MAINTENANCE_CHANCE": 20_000,
    # A task waiting or running longer than this is taken as lost and its work sent again.
    "TASK_STALE_SECONDS": 600,
    # Finished planning tasks (applied, done, superseded, failed) are kept this many days in
    # the planning_tasks ledger, then pruned by the prune_ledger job every PRUNE_INTERVAL
    # seconds (a city sends about 150 x 12 re-optimisations an hour).
    "TASK_KEEP_DAYS": 7.0,
    "PRUNE_INTERVAL": 3600,
    # POST /api/plans with "wait": true waits at most this many seconds for the job.
    "PLAN_WAIT_SECONDS": 30.0,
    # POST /api/networks/{id}/replan answers 202 with the run id after this many seconds.
    "REPLAN_WAIT_SECONDS": 30.0,
    # The week's plan (POST /api/networks/{id}/week-plan, the packages page's button): the
    # solver's time limit, and a solution limit that makes it a pure function of the rows
    # (tests; None in production).
    "WEEK_PLAN_SECONDS": 10.0,
    # A time offered to a caller (the handler's and package page's best times, GET
    # /api/referrals/{id}/slots) is held this many minutes (hazard H-140-C2).
    "SLOT_HOLD_MINUTES": 5,
    "WEEK_PLAN_SOLUTION_LIMIT": None,
    # The deadline watch looks only at visits due within this many hours (issue 13, hazard 7:
    # a six-week package must not raise alarms for visits due weeks ahead).
    "WATCH_HORIZON_HOURS": 24,
    # At most one grouped escalation text per on-call phone per this many minutes; escalations
    # raised in between wait for the next grouped text (and are on the board at once).
    "ESCALATION_TEXT_MINUTES": 10,
    # Live demo activity (``dispatch serve --demo-activity``; refused when ENV is production):
    # synthetic referrals and staff replies on the wall clock, see
    # dispatch/simulation/live_demo.py.
    "DEMO_ACTIVITY": False,
    "DEMO_ACTIVITY_INTERVAL": 20,
    "DEMO_REFERRALS_PER_HOUR": 40.0,
    "DEMO_ACTIVITY_SEED": 1,
    # flask-smorest / OpenAPI
    "API_TITLE": "Rapid-response dispatch",
    "API_VERSION": "v1",
    "OPENAPI_VERSION": "3.0.3",
    "OPENAPI_URL_PREFIX": "/api",
    "OPENAPI_JSON_PATH": "openapi.json",
    "OPENAPI_SWAGGER_UI_PATH": "/docs",
    # Served from our own /static (npm package swagger-ui-dist): the machine may be offline.
    "OPENAPI_SWAGGER_UI_URL": "/static/vendor/swagger-ui-dist/",
}

# Settings that must not keep their development value when ENV is "production".
PRODUCTION_REQUIRED = ("SECRET_KEY", "DATABASE_URL")


def offer_lead(config: Mapping[str, Any]) -> timedelta | None:
    """``OFFER_LEAD_MINUTES`` as a duration (None: offer every planned visit at once)."""
    minutes = config.get("OFFER_LEAD_MINUTES", DEFAULTS["OFFER_LEAD_MINUTES"])
    return None if minutes is None else timedelta(minutes=float(minutes))
