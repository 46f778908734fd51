"""Engine and sessions, with no web framework: what services, jobs, the simulator and the
migrations share. ``dispatch.db`` binds a :class:`Database` to the Flask app (the request's
session); services take a session and never import it.

A :class:`Database` built for an app carries the app's settings; every session it opens has
them as ``session.info[SETTINGS_KEY]`` (read with :func:`settings_of`), so a service that
needs a deployment setting (the public base URL of the links in texts) takes it from the
session its caller passed, not from a web framework's global.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy import orm as so

SETTINGS_KEY = "dispatch.settings"
#: Where a session finds the callables that re-plan a network after a commit (see
#: :func:`dispatch.services.visit_actions.replan_after_commit`).
REPLAN_HOOKS_KEY = "dispatch.replan_hooks"
ReplanHook = Callable[[int | None], None]


class Database:
    """One engine and its session factory (with the deployment's ``settings``, if given)."""

    def __init__(self, url: str, *, echo: bool = False,
                 settings: Mapping[str, Any] | None = None) -> None:
        self.url = url
        self.engine = make_engine(url, echo=echo)
        #: What re-plans a network after a commit that needs it (a decline): passed in by
        #: whoever runs the planner here (``build_scheduler``), read by sessions of this
        #: database only, never a module-level registry.
        self.replan_hooks: list[ReplanHook] = []
        # Session.info is a fresh dict per session, updated from this one: the mapping itself is
        # shared, so a setting changed on the app later is seen by the next session too.
        info: dict[str, Any] = {REPLAN_HOOKS_KEY: self.replan_hooks}
        if settings is not None:
            info[SETTINGS_KEY] = settings
        self.sessions = so.sessionmaker(self.engine, expire_on_commit=False, info=info)

    @contextmanager
    def session_scope(self) -> Iterator[so.Session]:
        """A session whose transaction commits on success and rolls back on error."""
        with self.sessions.begin() as session:
            yield session

    def dispose(self) -> None:
        self.engine.dispose()


def settings_of(session: so.Session) -> Mapping[str, Any]:
    """The settings of the :class:`Database` that opened ``session`` (empty if none)."""
    settings: Mapping[str, Any] = session.info.get(SETTINGS_KEY) or {}
    return settings


def health(session: so.Session) -> tuple[bool, str]:
    """Whether a trivial query succeeds on ``session``'s database, and its dialect's name
    (``sqlite``, ``postgresql``): the load balancers' check."""
    dialect = str(session.get_bind().dialect.name)
    try:
        session.execute(sa.text("SELECT 1"))
    except sa.exc.SQLAlchemyError:
        return False, dialect
    return True, dialect


def make_engine(url: str, *, echo: bool = False) -> sa.Engine:
    """Create an engine with the settings each database needs to keep its invariants."""
    # hide_parameters: SQL parameters are patient data (NHS numbers, names, addresses); keep
    # them out of exception messages, tracebacks and echo logs (H-014).
    kwargs: dict[str, Any] = {"echo": echo, "future": True, "hide_parameters": True}
    if url.startswith("sqlite"):
        create_private_sqlite_file(url)
        # Foreign keys are off by default in SQLite; WAL lets the scheduler read while the
        # web process writes; the busy timeout turns brief lock contention into a wait.
        kwargs["connect_args"] = {"timeout": 30, "check_same_thread": False}
        engine = sa.create_engine(url, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    kwargs["pool_pre_ping"] = True
    return sa.create_engine(url, **kwargs)


def create_private_sqlite_file(url: str) -> None:
    """Create a SQLite database file readable by its owner only (0600) before SQLite makes it
    with the process's umask (often world-readable): the file holds patient data. SQLite gives
    its -wal and -shm files the database file's permissions. An existing file is left as it
    is; in-memory databases have no file."""
    database = sa.engine.make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    path = Path(database)
    if path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:  # another process made it first
        return


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
