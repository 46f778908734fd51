"""The dispatch service: Flask app, persistence, services, SMS, jobs and CLI.

``create_app`` is the only way to build the app; ``wsgi.py`` calls it with no arguments and the
tests call it with a mapping of settings.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dispatch import config as default_config

if TYPE_CHECKING:  # Flask is imported when an app is built, not by every ``dispatch.*`` import
    from flask import Flask

__all__ = ["create_app", "ConfigurationError"]


# Sessions and CSRF tokens are signed with SECRET_KEY: a short one can be guessed offline
# from any cookie (itsdangerous HMAC-SHA1), so production refuses it.
MIN_SECRET_KEY_BYTES = 32


class ConfigurationError(RuntimeError):
    """A setting production cannot run without; the message says which and how to set it."""


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app: defaults, then ``DISPATCH_*`` environment variables, then ``config``.

    With no settings at all it runs on SQLite in the instance folder and sends SMS to the local
    outbox, so the demo and the tests need no services.
    """
    from flask import Flask

    app = Flask(__name__, instance_path=_instance_path())
    app.config.from_mapping(default_config.DEFAULTS)
    app.config.from_prefixed_env("DISPATCH")
    if config:
        app.config.from_mapping(config)
    _check_production(app)
    _check_geocoder(app)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    if not app.config["DATABASE_URL"]:
        app.config["DATABASE_URL"] = default_database_url(app.instance_path)

    from dispatch import auth, db, error_pages, metrics, oidc, security, web
    from dispatch.api import api, init_api

    security.init_app(app)  # first: the bounded id converter must exist before any route
    db.init_app(app, app.config["DATABASE_URL"])
    from dispatch.jobs import wakeup

    wakeup.init_app(app, db.get_database(app).engine)
    auth.init_app(app)
    metrics.init_app(app)
    init_api(app)
    web.init_app(app)
    try:
        oidc.init_app(app)
    except ValueError as exc:
        raise ConfigurationError(f"DISPATCH_{exc}") from exc
    # Last: replaces flask-smorest's HTTPException handler and hands JSON requests back to it.
    error_pages.init_app(app, json_http_error=api.handle_http_exception)
    return app


def default_database_url(instance_path: str) -> str:
    """The zero-setup database: a SQLite file in the instance folder."""
    return f"sqlite:///{Path(instance_path) / 'dispatch.sqlite3'}"


def _instance_path() -> str:
    env = os.environ.get("DISPATCH_INSTANCE_PATH")
    if env:
        return str(Path(env).resolve())
    root = Path(__file__).resolve().parent.parent
    if (root / "pyproject.toml").is_file():  # a checkout: ./instance, as the README says
        return str(root / "instance")
    # An installed wheel: never write into site-packages; Flask's place for installed apps.
    return str(Path(sys.prefix) / "var" / "dispatch-instance")


def _check_geocoder(app: Flask) -> None:
    """A malformed ``DISPATCH_NOMINATIM_URL`` stops start-up rather than every new patient."""
    from routing.geocoding import make_geocoder

    if not app.config.get("NOMINATIM_URL"):
        return
    try:
        make_geocoder(str(app.config["NOMINATIM_URL"]))
    except ValueError as exc:
        raise ConfigurationError(f"DISPATCH_NOMINATIM_URL: {exc}") from exc


def _check_production(app: Flask) -> None:
    problems = production_problems(app.config)
    if problems:
        raise ConfigurationError("production cannot start: " + "; ".join(problems))


def production_problems(config: Mapping[str, Any]) -> list[str]:
    """What production (``ENV=production``) lacks, in words with the setting to fix; empty
    outside production. ``create_app`` refuses to start on any; ``dispatch doctor`` lists them."""
    if config.get("ENV") != "production":
        return []
    problems = []
    missing = [
        key
        for key in default_config.PRODUCTION_REQUIRED
        if not config.get(key) or config.get(key) == default_config.DEFAULTS.get(key)
    ]
    if missing:
        hints = ", ".join(f"DISPATCH_{key}" for key in missing)
        problems.append(f"production needs these settings: {hints}")
    key = config.get("SECRET_KEY") or ""
    if "SECRET_KEY" not in missing and (
        len(key.encode() if isinstance(key, str) else bytes(key)) < MIN_SECRET_KEY_BYTES
    ):
        problems.append(
            f"DISPATCH_SECRET_KEY is too short for production: at least {MIN_SECRET_KEY_BYTES} "
            "bytes (for example: python -c 'import secrets; print(secrets.token_hex(32))')")
    sms = sms_backend_problem(config)
    if sms:
        problems.append(sms)
    return problems


def sms_backend_problem(config: Mapping[str, Any]) -> str | None:
    """Production must choose its SMS backend on purpose: texts silently kept in the local
    outbox would mean workers never hear of urgent visits."""
    choice = (config.get("SMS_BACKEND") or "").strip().lower()
    twilio_ready = bool(
        config.get("TWILIO_ACCOUNT_SID") and config.get("TWILIO_AUTH_TOKEN")
        and (config.get("TWILIO_FROM") or config.get("TWILIO_MESSAGING_SERVICE_SID"))
    )
    if choice == "local":
        return None
    if choice not in ("", "twilio"):
        return f"DISPATCH_SMS_BACKEND={choice!r} is not a backend: use 'twilio' or 'local'"
    if twilio_ready:
        return None
    return (
        "no SMS backend chosen: set DISPATCH_TWILIO_ACCOUNT_SID, DISPATCH_TWILIO_AUTH_TOKEN and "
        "DISPATCH_TWILIO_FROM (or DISPATCH_TWILIO_MESSAGING_SERVICE_SID) to text staff, or "
        "DISPATCH_SMS_BACKEND=local to keep texts in the local outbox on purpose"
    )
