"""The dispatch service: Flask app, persistence, services, SMS, jobs and CLI.

``create_app`` is the only way to build the app; ``wsgi.py`` calls it with no arguments and the
tests call it with a mapping of settings.
"""

from __future__ import annotations

import os
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

    from dispatch import auth, db, error_pages, security, web
    from dispatch.api import api, init_api

    security.init_app(app)  # first: the bounded id converter must exist before any route
    db.init_app(app, app.config["DATABASE_URL"])
    auth.init_app(app)
    init_api(app)
    web.init_app(app)
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
    return str(Path(__file__).resolve().parent.parent / "instance")


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
    if app.config.get("ENV") != "production":
        return
    missing = [
        key
        for key in default_config.PRODUCTION_REQUIRED
        if not app.config.get(key) or app.config.get(key) == default_config.DEFAULTS.get(key)
    ]
    if missing:
        hints = ", ".join(f"DISPATCH_{key}" for key in missing)
        raise ConfigurationError(f"production needs these settings: {hints}")
    key = app.config["SECRET_KEY"]
    if len(key.encode() if isinstance(key, str) else bytes(key)) < MIN_SECRET_KEY_BYTES:
        raise ConfigurationError(
            f"DISPATCH_SECRET_KEY is too short for production: at least {MIN_SECRET_KEY_BYTES} "
            "bytes (for example: python -c 'import secrets; print(secrets.token_hex(32))')")
