"""Every registered route has a permission rule, and each role gets exactly what the table says."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient

from dispatch.permissions import (
    METRICS_TOKEN,
    PERMISSIONS,
    PUBLIC,
    SIGNATURE,
    USER_ROLES,
    rule_for,
)

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
# Machine interfaces: anonymous callers always get a JSON 401, never a redirect.
API_PREFIXES = ("/api/", "/fhir/")


def _routes(app: Flask) -> list[tuple[str, str, str]]:
    found = []
    for rule in app.url_map.iter_rules():
        for method in sorted(set(rule.methods or ()) & set(METHODS)):
            path = re.sub(r"<(?:int:)?(\w+)>", "1", rule.rule)
            path = re.sub(r"<path:\w+>", "x.css", path)
            found.append((rule.endpoint, method, path))
    return found


def test_every_route_has_a_rule(app: Flask) -> None:
    """A route with no rule fails here before it can ship (the app also refuses it at runtime)."""
    missing = [(e, m) for e, m, _ in _routes(app) if rule_for(e, m) is None]
    assert missing == []


def test_table_has_no_stale_rules(app: Flask) -> None:
    """Every rule in the table names a route that exists."""
    live = {(e, m) for e, m, _ in _routes(app)} | {(e, "*") for e, _, _ in _routes(app)}
    assert [key for key in PERMISSIONS if key not in live] == []


@pytest.mark.parametrize("role", USER_ROLES)
def test_each_role_against_each_route(
    app: Flask, client: FlaskClient, token_for: Callable[..., dict[str, str]], role: str
) -> None:
    """Allowed roles never get 401/403; others get 403; anonymous gets 401 on protected API
    routes and, on protected web pages, 401 or a redirect to the sign-in page."""
    headers = token_for(role)
    checked = pages = 0
    for endpoint, method, path in _routes(app):
        rule = rule_for(endpoint, method)
        if rule in (PUBLIC, SIGNATURE, METRICS_TOKEN):  # not role rules (METRICS_TOKEN:
            continue  # tests/dispatch/app/test_metrics.py)
        checked += 1
        response = client.open(path, method=method, headers=headers, json={})
        if role in rule:  # type: ignore[operator]
            assert response.status_code not in (401, 403), (endpoint, method, role)
        else:
            assert response.status_code == 403, (endpoint, method, role)
        anonymous = client.open(path, method=method, json={})
        if path.startswith(API_PREFIXES):
            assert anonymous.status_code == 401, (endpoint, method)
        elif anonymous.status_code != 401:
            pages += 1
            assert anonymous.status_code in (302, 303), (endpoint, method)
            assert anonymous.headers["Location"].startswith("/sign-in"), (endpoint, method)
    assert checked > 0 and pages > 0
