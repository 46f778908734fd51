"""The app's database and the per-request session.

The factory builds one :class:`~dispatch.database.Database` (engine and ``sessionmaker``) per
app. A request gets one session, cached on ``g`` and closed at teardown, which discards anything
the view did not commit. Jobs and the CLI use ``database.session_scope()``: one session, one
transaction, per unit of work. ``Database`` and ``make_engine`` live in ``dispatch.database``
(no Flask); they are re-exported here for the edge code and the tests.
"""

from __future__ import annotations

from flask import Flask, Response, current_app, g
from sqlalchemy import orm as so

from dispatch.database import Database, make_engine

__all__ = ["EXTENSION_KEY", "Database", "close_session", "get_database", "get_session", "init_app",
           "make_engine"]

EXTENSION_KEY = "dispatch.database"


def init_app(app: Flask, url: str) -> Database:
    """Bind a :class:`Database` to ``app`` and close the request session at teardown.

    Its sessions carry ``app.config`` (``dispatch.database.settings_of``), so services read
    deployment settings from the session they are given, never from ``current_app``.
    """
    database = Database(url, echo=bool(app.config.get("DATABASE_ECHO")), settings=app.config)
    app.extensions[EXTENSION_KEY] = database
    app.teardown_appcontext(_close_session)
    app.after_request(_close_before_streaming)
    return database


def get_database(app: Flask | None = None) -> Database:
    """The app's :class:`Database`."""
    database: Database = (app or current_app).extensions[EXTENSION_KEY]
    return database


def get_session() -> so.Session:
    """The request's session (created on first use)."""
    if "db_session" not in g:
        g.db_session = get_database().sessions()
    session: so.Session = g.db_session
    return session


def close_session() -> None:
    """End the request's session now (its transaction with it); a later ``get_session()``
    starts a new one."""
    session = g.pop("db_session", None)
    if session is not None:
        session.close()


def _close_before_streaming(response: Response) -> Response:
    # A streamed body is sent after the view returns, for as long as the client takes; a
    # transaction left open on the request session meanwhile holds SQLite's write lock (BEGIN
    # IMMEDIATE) and every other write fails with "database is locked" (H-010). Whatever the
    # view did not commit is discarded here, as at teardown; a streaming generator reads in
    # its own short sessions (see ``dispatch.services.audit_view.iter_events``).
    if response.is_streamed:
        close_session()
    return response


def _close_session(_exc: BaseException | None) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        session.close()
