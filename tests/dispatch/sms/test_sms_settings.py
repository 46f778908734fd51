"""Where the links in texts point: an explicit base URL, else the session's settings, never
Flask's ``current_app`` (services load no web framework; issue 19 item 1)."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Flask
from sqlalchemy import orm as so

from dispatch.config import DEFAULTS
from dispatch.database import Database, settings_of
from dispatch.db import get_database
from dispatch.sms.settings import public_base_url

PUBLIC = "https://dispatch.example.nhs.uk"


def test_public_base_url_explicit_wins(app: Flask) -> None:
    """A caller that names the base URL gets exactly it, whatever the app says."""
    app.config["PUBLIC_BASE_URL"] = PUBLIC
    with get_database(app).sessions() as session:
        assert public_base_url(session, "https://other.example") == "https://other.example"


def test_public_base_url_from_app_session_without_app_context(app: Flask) -> None:
    """A session of the app's database carries the app's settings, so a job or the planner
    that leaves the base URL out still links to this deployment, with no app context pushed
    (the service reads the session, not ``current_app``). A setting changed after the app was
    built is seen too: the session holds the app's config itself, not a copy."""
    app.config["PUBLIC_BASE_URL"] = PUBLIC
    with get_database(app).sessions() as session:
        assert settings_of(session)["PUBLIC_BASE_URL"] == PUBLIC
        assert public_base_url(session) == PUBLIC


def test_public_base_url_default_for_a_plain_session(engine: sa.Engine) -> None:
    """A session with no settings (the simulator's own database, a script) gets the default."""
    with so.Session(engine) as session:
        assert settings_of(session) == {}
        assert public_base_url(session) == DEFAULTS["PUBLIC_BASE_URL"]


def test_public_base_url_from_database_settings(database_url: str) -> None:
    """A :class:`Database` built with settings (outside any app) hands them to its sessions."""
    database = Database(database_url, settings={"PUBLIC_BASE_URL": PUBLIC})
    try:
        with database.sessions() as session:
            assert public_base_url(session) == PUBLIC
    finally:
        database.dispose()
