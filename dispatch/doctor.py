"""``dispatch doctor``: check a deployment and say in words what is wrong.

Each check returns :class:`Finding` rows: ``ok``, ``warn`` (works, but look at it) or ``fail``
(the service will not do its job). The command exits 1 when any check fails. Nothing here
changes data; the only network calls are to the travel provider's URLs (short timeout), and
only when ``network`` is true. Secrets are never printed.
"""

from __future__ import annotations

import os
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

OK, WARN, FAIL = "ok", "warn", "fail"
NETWORK_TIMEOUT_SECONDS = 3.0


@dataclass(frozen=True)
class Finding:
    area: str
    status: str
    message: str


def load_settings(overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The settings ``create_app`` would use (defaults, ``DISPATCH_*``, ``overrides``), without
    building the app, so that a configuration production refuses can still be examined."""
    from flask import Config

    from dispatch import _instance_path, default_database_url
    from dispatch import config as default_config

    cfg = Config(os.getcwd())
    cfg.from_mapping(default_config.DEFAULTS)
    cfg.from_prefixed_env("DISPATCH")
    if overrides:
        cfg.from_mapping(overrides)
    if not cfg.get("DATABASE_URL"):
        cfg["DATABASE_URL"] = default_database_url(_instance_path())
    return dict(cfg)


def check_configuration(config: Mapping[str, Any]) -> list[Finding]:
    from dispatch import config as default_config
    from dispatch import production_problems, sms_backend_problem

    env = config.get("ENV") or "development"
    found = [Finding("configuration", OK, f"ENV is {env}")]
    key = str(config.get("SECRET_KEY") or "")
    if env == "production":
        sms = sms_backend_problem(config)  # reported under "sms"
        found += [Finding("configuration", FAIL, problem)
                  for problem in production_problems(config) if problem != sms]
        if str(config.get("DATABASE_URL") or "").startswith("sqlite"):
            found.append(Finding("configuration", WARN,
                                 "production on SQLite: one machine only; PostgreSQL is the "
                                 "production database (DISPATCH_DATABASE_URL)"))
    elif key == default_config.DEFAULTS["SECRET_KEY"]:
        found.append(Finding("configuration", OK,
                             "development secret key (fine for the demo; production refuses it)"))
    return found


def check_database(url: str) -> list[Finding]:
    import sqlalchemy as sa

    from dispatch import migrate
    from dispatch.database import make_engine

    where = _describe_url(url)
    engine = None
    try:
        engine = make_engine(url)
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001 - any failure to connect is the finding
        reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
        return [Finding("database", FAIL, f"cannot reach the database at {where}: {reason}")]
    finally:
        if engine is not None:
            engine.dispose()
    heads = migrate.heads()
    current = migrate.current(url)
    head_text = ", ".join(heads)
    if current is None:
        return [Finding("database", FAIL,
                        f"the database at {where} is reachable but has no schema: "
                        "run `dispatch db upgrade`")]
    if current in heads:
        return [Finding("database", OK,
                        f"reachable at {where}; migrations up to date (revision {current})")]
    known = _known_revisions()
    if current in known:
        return [Finding("database", FAIL,
                        f"the database at {where} is at revision {current}, behind this "
                        f"release's {head_text}: run `dispatch db upgrade`")]
    return [Finding("database", FAIL,
                    f"the database at {where} is at revision {current}, which this release "
                    f"does not know (newer software migrated it?); this release expects "
                    f"{head_text}")]


def check_sms(config: Mapping[str, Any]) -> list[Finding]:
    """Which backend texts go to; no call to Twilio is made."""
    from dispatch import sms_backend_problem

    choice = str(config.get("SMS_BACKEND") or "").strip().lower()
    sid, token = config.get("TWILIO_ACCOUNT_SID"), config.get("TWILIO_AUTH_TOKEN")
    sender = config.get("TWILIO_FROM") or config.get("TWILIO_MESSAGING_SERVICE_SID")
    problem = sms_backend_problem(config)
    if config.get("ENV") == "production" and problem:
        return [Finding("sms", FAIL, problem)]
    if choice == "local":
        return [Finding("sms", OK, "local outbox chosen (DISPATCH_SMS_BACKEND=local): "
                                   "texts are recorded, none is sent")]
    if sid and token and sender:
        return [Finding("sms", OK, f"Twilio credentials present (account ending "
                                   f"{str(sid)[-4:]}); not contacted (no network check)")]
    if sid or token or sender or choice == "twilio":
        return [Finding("sms", WARN,
                        "Twilio settings incomplete (need DISPATCH_TWILIO_ACCOUNT_SID, "
                        "DISPATCH_TWILIO_AUTH_TOKEN and DISPATCH_TWILIO_FROM or "
                        "DISPATCH_TWILIO_MESSAGING_SERVICE_SID): texts go to the local outbox")]
    return [Finding("sms", OK, "local outbox (no Twilio settings): texts are recorded, "
                               "none is sent -- the demo default")]


def check_travel(config: Mapping[str, Any], *, network: bool = True) -> list[Finding]:
    found = []
    osrm = config.get("OSRM_URL")
    if not osrm:
        found.append(Finding("travel", OK, "no OSRM server configured: travel times are "
                                           "straight-line estimates (the offline default)"))
    elif network:
        # A two-point table around Charing Cross: the call the planner makes, in miniature.
        probe = f"{str(osrm).rstrip('/')}/table/v1/driving/-0.1276,51.5072;-0.1420,51.5010"
        found.append(_probe("travel", "OSRM", str(osrm), probe))
    else:
        found.append(Finding("travel", WARN, f"OSRM at {osrm} not checked (--offline)"))
    nominatim = config.get("NOMINATIM_URL")
    if nominatim and network:
        found.append(_probe("travel", "Nominatim", str(nominatim),
                            f"{str(nominatim).rstrip('/')}/status"))
    elif nominatim:
        found.append(Finding("travel", WARN, f"Nominatim at {nominatim} not checked (--offline)"))
    return found


def check_identity(config: Mapping[str, Any], *, network: bool = True) -> list[Finding]:
    """NHS-style sign-in: off (local accounts only), or the provider's discovery document."""
    issuer = config.get("OIDC_ISSUER")
    if not issuer:
        return [Finding("sign-in", OK, "local accounts only (DISPATCH_OIDC_ISSUER not set)")]
    if not config.get("OIDC_CLIENT_ID"):
        return [Finding("sign-in", FAIL, "DISPATCH_OIDC_ISSUER is set but DISPATCH_OIDC_CLIENT_ID "
                                         "is not: the identity provider cannot be used")]
    if not network:
        return [Finding("sign-in", WARN, f"identity provider {issuer} not checked (--offline)")]
    return [_probe("sign-in", "identity provider", str(issuer),
                   f"{str(issuer).rstrip('/')}/.well-known/openid-configuration")]


def check_scheduler(url: str) -> list[Finding]:
    """Whether a scheduler (the process running SMS sending, placement and the deadline watch)
    holds the leader lock. Taking the lock for an instant is the only way to know; it is
    released at once."""
    from dispatch.database import make_engine
    from dispatch.jobs.lock import LeaderLock

    engine = make_engine(url)
    try:
        lock = LeaderLock(engine)
        try:
            free = lock.acquire()
        except Exception as exc:  # noqa: BLE001 - reported in words
            return [Finding("planner", WARN, f"could not read the scheduler lock: {exc}")]
        if free:
            lock.release()
            return [Finding("planner", WARN,
                            "no scheduler is running: texts are not sent and visits are not "
                            "planned until `dispatch scheduler` (or `dispatch serve`) runs")]
        return [Finding("planner", OK, "a scheduler holds the lock (jobs are running)")]
    finally:
        engine.dispose()


def check_workers(config: Mapping[str, Any], *, network: bool = True,
                  database_ok: bool = True) -> list[Finding]:
    """Planning on workers: off (in-process, the default), or the broker answering and the
    workers that beat in the last minute (``dispatch worker`` records one row each)."""
    url = config.get("TASK_BROKER_URL")
    if not url:
        return [Finding("workers", OK, "planning runs inside the scheduler "
                                       "(DISPATCH_TASK_BROKER_URL not set)")]
    where = _describe_url(str(url))
    if not network:
        return [Finding("workers", WARN, f"task broker {where} not checked (--offline)")]
    from dispatch.tasks.engine import ping

    problem = ping(config, timeout=NETWORK_TIMEOUT_SECONDS)
    if problem is not None:
        return [Finding("workers", FAIL, f"the task broker at {where} does not answer: "
                                         f"{problem}; planning stops until it does")]
    found = [Finding("workers", OK, f"task broker at {where} answers")]
    if not database_ok:
        return found
    found.append(_live_workers(str(config["DATABASE_URL"])))
    return found


def _live_workers(url: str) -> Finding:
    from datetime import timedelta

    from sqlalchemy import orm as so

    from dispatch.clock import wall_clock
    from dispatch.database import make_engine
    from dispatch.services import operations

    engine = make_engine(url)
    try:
        with so.Session(engine) as session:
            names = operations.live_workers(session, now=wall_clock(),
                                            within=timedelta(seconds=60))
    except Exception as exc:  # noqa: BLE001 - reported in words
        return Finding("workers", WARN, f"could not read the workers' heartbeats: {exc}")
    finally:
        engine.dispose()
    if not names:
        return Finding("workers", FAIL, "no planning worker has reported in the last minute: "
                                        "new visits are not placed until `dispatch worker` runs")
    return Finding("workers", OK, f"{len(names)} planning worker(s) alive: "
                                  + ", ".join(n.removeprefix("worker:") for n in names[:10]))


def check_escalation_phones(url: str) -> list[Finding]:
    """Networks nobody coordinates although visits are due (H-111); networks whose escalations
    reach nobody by text: no on-call phone (the board only), or no manager's phone (a
    decision the on-call coordinator does not make is not followed up by text, H-040)."""
    from sqlalchemy import orm as so

    from dispatch.clock import wall_clock
    from dispatch.database import make_engine
    from dispatch.services import coordination_check, network_contacts

    engine = make_engine(url)
    try:
        with so.Session(engine) as session:
            missing = network_contacts.missing_phones(session)
            uncoordinated = [n.code for n in coordination_check.uncoordinated_networks(
                session, now=wall_clock())]
    except Exception as exc:  # noqa: BLE001 - reported in words
        return [Finding("escalations", WARN, f"could not read the networks' phones: {exc}")]
    finally:
        engine.dispose()
    found = []
    if uncoordinated:
        found.append(Finding("escalations", FAIL,
                             "no coordinator runs these networks, which have visits due: "
                             + ", ".join(uncoordinated) + "; give a coordinator the network "
                             "(`dispatch user networks NAME --network ID`)"))
    if missing.on_call:
        found.append(Finding("escalations", FAIL,
                             "no on-call phone (escalations reach the board only): "
                             + ", ".join(missing.on_call) + "; set one with "
                             "`dispatch network contacts ID --on-call NUMBER`"))
    if missing.manager:
        found.append(Finding("escalations", WARN,
                             "no manager's phone (an urgent decision left unmade is not "
                             "followed up by text): " + ", ".join(missing.manager)))
    return found or [Finding("escalations", OK, "every network has an on-call and a "
                                                "manager's phone")]


def run_checks(config: Mapping[str, Any], *, network: bool = True) -> list[Finding]:
    found = check_configuration(config)
    database = check_database(str(config["DATABASE_URL"]))
    found += database
    found += check_sms(config)
    found += check_travel(config, network=network)
    found += check_identity(config, network=network)
    if all(f.status != FAIL for f in database):
        found += check_scheduler(str(config["DATABASE_URL"]))
        found += check_escalation_phones(str(config["DATABASE_URL"]))
    else:
        found.append(Finding("planner", WARN, "scheduler not checked (database unavailable)"))
    found += check_workers(config, network=network,
                           database_ok=all(f.status != FAIL for f in database))
    return found


def _probe(area: str, what: str, base: str, url: str) -> Finding:
    try:
        with urllib.request.urlopen(url, timeout=NETWORK_TIMEOUT_SECONDS) as response:  # noqa: S310
            status = response.status
    except urllib.error.HTTPError as exc:
        return Finding(area, FAIL, f"{what} at {base} answered HTTP {exc.code}")
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        return Finding(area, FAIL, f"{what} at {base} is not reachable: {reason}")
    return Finding(area, OK, f"{what} at {base} reachable (HTTP {status})")


def _describe_url(url: str) -> str:
    """The database URL without its password."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001
        return "(unparseable DISPATCH_DATABASE_URL)"


def _known_revisions() -> set[str]:
    from alembic.script import ScriptDirectory

    from dispatch import migrate

    script = ScriptDirectory.from_config(migrate.alembic_config("sqlite://"))
    return {rev.revision for rev in script.walk_revisions()}
