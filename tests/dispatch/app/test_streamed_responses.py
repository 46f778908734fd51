"""An export never stops the service (H-010): after each CSV export, and while a streamed one
is still downloading, another connection can write at once.

On SQLite every transaction here begins IMMEDIATE (it takes the write lock), so a streamed
response that keeps a transaction open while the client reads holds the lock, and every other
write (referrals, the SMS sender, the planner, the watch) fails with "database is locked".
These tests use their own database file (the shared test connection would hide the lock) and
write through a plain sqlite3 connection that does not wait for the lock, so they fail at once
instead of after the busy timeout.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from dispatch import create_app
from dispatch import models as m
from dispatch.db import get_database
from dispatch.migrate import upgrade
from dispatch.services.users import add_user
from tests.conftest import FIXED_NOW


@pytest.fixture
def file_app(tmp_path: Path) -> Iterator[tuple[Flask, Path]]:
    """The app on its own migrated SQLite file, with 30 audit events to export."""
    path = tmp_path / "export.sqlite3"
    upgrade(f"sqlite:///{path}")
    application = create_app({"TESTING": True, "DATABASE_URL": f"sqlite:///{path}",
                              "SECRET_KEY": "test", "FIXED_NOW": FIXED_NOW})
    with get_database(application).session_scope() as session:
        for n in range(30):
            session.add(m.AuditEvent(at=datetime(2026, 12, 1, 9, n, tzinfo=UTC),
                                     username="ann", role="call_handler",
                                     action="view_patient", purpose=f"read {n}"))
    yield application, path
    get_database(application).dispose()


def _token(app: Flask, role: str) -> dict[str, str]:
    with get_database(app).session_scope() as session:
        created = add_user(session, username=f"{role}-export", role=role,
                           now=datetime.fromisoformat(FIXED_NOW))
        token = created.token
    return {"Authorization": f"Bearer {token}"}


def _write_now(path: Path, code: str) -> None:
    """Write from another connection without waiting: raises if anyone holds the lock."""
    conn = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("INSERT INTO audit_events (at, action, details) VALUES "
                     "('2026-12-01 10:00:00.000000', ?, '{}')", (code,))
        conn.execute("COMMIT")
    finally:
        conn.close()


@pytest.mark.safety("H-010")
def test_audit_csv_write_while_downloading_and_after(file_app: tuple[Flask, Path]) -> None:
    """Half-way through the audit CSV download, and after it, a write succeeds at once."""
    app, path = file_app
    client: FlaskClient = app.test_client()
    response = client.get("/admin/audit.csv", headers=_token(app, "admin"), buffered=False)
    assert response.status_code == 200 and response.is_streamed
    chunks = iter(response.response)
    lines = [next(chunks), next(chunks)]  # the header and the first event: mid-download

    _write_now(path, "DURING")

    lines.extend(chunks)
    response.close()
    _write_now(path, "AFTER")
    text = b"".join(lines).decode()
    assert text.startswith("id,at,") and text.count("view_patient") == 30


@pytest.mark.safety("H-010")
def test_kpi_csv_write_after_export(file_app: tuple[Flask, Path]) -> None:
    """The KPI CSV export (built whole, not streamed) leaves nothing open either."""
    app, path = file_app
    client = app.test_client()
    response = client.get("/api/kpis.csv?date=2026-12-01&table=responses",
                          headers=_token(app, "manager"))
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    assert response.mimetype == "text/csv"
    _write_now(path, "AFTER-KPI")


@pytest.mark.safety("H-010")
def test_streamed_response_closes_the_request_session(file_app: tuple[Flask, Path]) -> None:
    """The general control: any streamed response ends the view's session (and so its
    transaction) before the first byte is sent, even if the view left one open."""
    from flask import Response

    from dispatch.db import get_session

    app, path = file_app
    with app.test_request_context("/"):
        session = get_session()
        session.scalar(m.Network.__table__.select().limit(1))  # BEGIN IMMEDIATE: lock taken
        with pytest.raises(sqlite3.OperationalError):
            _write_now(path, "BLOCKED")
        response = app.process_response(Response(iter([b"a", b"b"])))
        assert response.is_streamed
        _write_now(path, "FREE")
