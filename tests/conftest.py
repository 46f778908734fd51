"""Shared fixtures: a migrated database per test run, an app per test, a rolled-back session.

The database is SQLite in a temporary folder unless ``DISPATCH_TEST_DATABASE_URL`` names
another (``.ci/run`` points it at a fresh PostgreSQL database and re-runs the ``db`` tests).
Each test's session is joined to an outer transaction and rolled back afterwards
(SQLAlchemy's "joining a session into an external transaction" recipe), so tests never see
each other's rows.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import orm as so

from dispatch import create_app
from dispatch.db import get_database, make_engine
from dispatch.migrate import upgrade

DB_TEST_DIRS = ("dispatch",)
BROWSER_DIR = "browser"
# The API's clock in tests: a Tuesday morning in December (London time = UTC).
FIXED_NOW = "2026-12-01T10:20:00+00:00"


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist's, which reads the groups
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests under tests/dispatch/ touch the database: mark them ``db`` (PostgreSQL re-run).

    For a parallel run (``-n N --dist loadgroup``, as ``./dev.sh test`` does), each file is one
    group, so its module fixtures are built once, and every browser test is in one group, so
    at most one chromium and one live server run at a time: two at once on a two-core machine
    pushed page loads past the browser tests' timeouts."""
    for item in items:
        parts = Path(str(item.fspath)).parts
        if any(d in parts for d in DB_TEST_DIRS):
            item.add_marker(pytest.mark.db)
        group = "browser" if BROWSER_DIR in parts else item.nodeid.split("::")[0]
        item.add_marker(pytest.mark.xdist_group(group))


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A freshly migrated database for this test run (for each worker of a parallel run)."""
    url = os.environ.get("DISPATCH_TEST_DATABASE_URL")
    if not url:
        # tmp_path_factory's folder is the worker's own under pytest-xdist.
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if worker and sa.make_url(url).get_backend_name() == "postgresql":
        with _worker_database(url, worker) as own:
            upgrade(own)
            yield own
    else:
        upgrade(url)
        yield url


@contextmanager
def _worker_database(url: str, worker: str) -> Iterator[str]:
    """A database of its own for one pytest-xdist worker, next to ``url``'s, dropped after.

    Workers share the one database ``.ci/run`` made; their tests would see each other's
    committed rows (the outer-transaction recipe keeps only one process's tests apart)."""
    base = sa.make_url(url)
    name = f"{base.database}_{worker}"
    admin = sa.create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[sa.Engine]:
    eng = make_engine(database_url)
    yield eng
    eng.dispose()


@pytest.fixture
def connection(engine: sa.Engine) -> Iterator[sa.Connection]:
    """A connection inside a transaction that is rolled back after the test."""
    with engine.connect() as conn:
        outer = conn.begin()
        yield conn
        if outer.is_active:
            outer.rollback()


@pytest.fixture
def session(connection: sa.Connection) -> Iterator[so.Session]:
    """A session whose commits become savepoints of the outer, rolled-back transaction."""
    sess = so.Session(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )
    yield sess
    sess.close()


@pytest.fixture
def app(database_url: str, connection: sa.Connection, tmp_path: Path) -> Iterator[Flask]:
    """An app whose request sessions share the test's rolled-back connection."""
    application = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": database_url,
            "SECRET_KEY": "test",
            "FIXED_NOW": FIXED_NOW,
        }
    )
    get_database(application).sessions.configure(
        bind=connection, join_transaction_mode="create_savepoint"
    )
    yield application
    get_database(application).dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def token_for(app: Flask) -> Callable[..., dict[str, str]]:
    """Make a user of a role and return the Authorization header for their API token."""
    from dispatch.services.users import add_user

    def make(
        role: str, *, username: str | None = None, staff_id: int | None = None
    ) -> dict[str, str]:
        with get_database(app).sessions() as sess:
            created = add_user(
                sess,
                username=username or f"{role}-{uuid.uuid4().hex[:6]}",
                role=role,
                staff_id=staff_id,
                now=datetime.now(UTC),
            )
            sess.commit()
        return {"Authorization": f"Bearer {created.token}"}

    return make
