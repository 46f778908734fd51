"""Schemathesis against /api/openapi.json: no 500s, and every 4xx says what is wrong.

Runs against its own migrated SQLite file with the demo register (so ids and NHS numbers
exist) and real commits, as in production. The number of examples per operation is bounded
(``DISPATCH_FUZZ_EXAMPLES``, default 25) so the suite stays fast.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, settings

from dispatch import create_app
from dispatch.db import get_database
from dispatch.demo.load import load_demo
from dispatch.migrate import upgrade
from dispatch.services.users import add_user

FUZZ_EXAMPLES = int(os.environ.get("DISPATCH_FUZZ_EXAMPLES", "25"))
NOW = "2026-12-01T10:20:00+00:00"
# Bodies that are not JSON schemas (CSV upload, FHIR) are fuzzed by their own tests.
SKIP_PATHS = ("/api/rosters/import", "/fhir/$process-message")
_STATE: dict[str, object] = {}


@pytest.fixture(scope="module")
def fuzz_app(tmp_path_factory: pytest.TempPathFactory) -> Flask:
    url = f"sqlite:///{Path(tmp_path_factory.mktemp('fuzz')) / 'fuzz.sqlite3'}"
    upgrade(url)
    app = create_app({"DATABASE_URL": url, "FIXED_NOW": NOW, "TESTING": True})
    load_demo(get_database(app).engine, seed=2, patients=200,
              now=datetime.fromisoformat(NOW).astimezone(UTC))
    with get_database(app).session_scope() as session:
        _STATE["token"] = add_user(session, username="fuzzer", role="admin",
                                   now=datetime.fromisoformat(NOW)).token
    return app


@pytest.fixture
def api_schema(fuzz_app: Flask) -> schemathesis.BaseSchema:
    return schemathesis.openapi.from_wsgi("/api/openapi.json", fuzz_app)


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(max_examples=FUZZ_EXAMPLES, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.filter_too_much])
def test_api_never_500(case: schemathesis.Case) -> None:
    """Any generated request gets a non-5xx answer; a JSON 4xx carries a message saying why."""
    if case.path in SKIP_PATHS:
        return
    if case.path == "/api/plans" and case.method.upper() == "POST" and isinstance(case.body, dict):
        case.body["seconds"] = 0.2  # keep solves short; the schema allows up to 120 s
        case.body["wait"] = False  # no job runner here: a wait would idle PLAN_WAIT_SECONDS
    response = case.call(headers={"Authorization": f"Bearer {_STATE['token']}"})
    assert response.status_code < 500, (case.method, case.path, response.text[:500])
    if 400 <= response.status_code < 500 and "json" in response.headers.get("Content-Type", ""):
        body = response.json()
        assert body.get("message") or body.get("errors") or body.get("issue"), response.text[:300]
