"""Engine, sessions and the per-request session.

The factory builds one engine and one ``sessionmaker`` per app. A request gets one session,
cached on ``g`` and closed at teardown, which discards anything the view did not commit. Jobs
and the CLI use ``database.session_scope()``: one session, one transaction, per unit of work.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from flask import Flask, Response, current_app, g
from sqlalchemy import event
from sqlalchemy import orm as so

EXTENSION_KEY = "dispatch.database"


class Database:
    """One engine and its session factory."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = url
        self.engine = make_engine(url, echo=echo)
        self.sessions = so.sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def session_scope(self) -> Iterator[so.Session]:
        """A session whose transaction commits on success and rolls back on error."""
        with self.sessions.begin() as session:
            yield session

    def dispose(self) -> None:
        self.engine.dispose()


def make_engine(url: str, *, echo: bool = False) -> sa.Engine:
    """Create an engine with the settings each database needs to keep its invariants."""
    # hide_parameters: SQL parameters are patient data (NHS numbers, names, addresses); keep
    # them out of exception messages, tracebacks and echo logs (H-014).
    kwargs: dict[str, Any] = {"echo": echo, "future": True, "hide_parameters": True}
    if url.startswith("sqlite"):
        # Foreign keys are off by default in SQLite; WAL lets the scheduler read while the
        # web process writes; the busy timeout turns brief lock contention into a wait.
        kwargs["connect_args"] = {"timeout": 30, "check_same_thread": False}
        engine = sa.create_engine(url, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    kwargs["pool_pre_ping"] = True
    return sa.create_engine(url, **kwargs)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # pysqlite's own transaction handling defers BEGIN and breaks SAVEPOINT; SQLAlchemy's
    # documented recipe: turn it off here and emit BEGIN ourselves in _sqlite_begin.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA journal_mode=WAL")  # an in-memory database answers "memory"
    cursor.close()


def _sqlite_begin(conn: sa.Connection) -> None:
    # IMMEDIATE takes the write lock up front. A deferred transaction that reads and then
    # writes fails at once with "database is locked" if another connection wrote in between
    # (WAL snapshot upgrade); IMMEDIATE waits on the busy timeout instead. SQLite serialises
    # writers anyway; PostgreSQL is the production database.
    conn.exec_driver_sql("BEGIN IMMEDIATE")


def init_app(app: Flask, url: str) -> Database:
    """Bind a :class:`Database` to ``app`` and close the request session at teardown."""
    database = Database(url, echo=bool(app.config.get("DATABASE_ECHO")))
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
