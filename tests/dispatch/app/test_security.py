"""Headers, bounded ids, body limits and log redaction."""

from __future__ import annotations

import logging
from collections.abc import Callable

import pytest
from flask.testing import FlaskClient

from dispatch.security import redact


def test_security_headers_on_every_response(client: FlaskClient) -> None:
    """CSP, nosniff, frame denial and referrer policy are set; no HSTS over plain HTTP."""
    response = client.get("/healthz")
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "Strict-Transport-Security" not in response.headers


def test_hsts_behind_tls(client: FlaskClient) -> None:
    """Behind a TLS-terminating proxy, HSTS is sent."""
    response = client.get("/healthz", headers={"X-Forwarded-Proto": "https"})
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")


def test_huge_path_id_is_404_not_500(
    client: FlaskClient, token_for: Callable[..., dict[str, str]]
) -> None:
    """An id beyond INTEGER range never reaches the database."""
    headers = token_for("coordinator")
    assert client.get("/api/referrals/99999999999999", headers=headers).status_code == 404
    assert client.get("/api/referrals/0", headers=headers).status_code == 404


def test_body_too_large_is_413(
    client: FlaskClient, token_for: Callable[..., dict[str, str]]
) -> None:
    """Bodies over MAX_CONTENT_LENGTH are refused before parsing."""
    big = b'{"notes": "' + b"x" * (2 * 1024 * 1024) + b'"}'
    response = client.post("/api/referrals", data=big, content_type="application/json",
                           headers=token_for("call_handler"))
    assert response.status_code == 413


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("patient 943 476 5919 seen", "patient <nhs-number> seen"),
        ("nhs=9434765919;", "nhs=<nhs-number>;"),
        ("dob 1941-03-02 recorded", "dob <date> recorded"),
        ("at 2026-12-01T10:15:00+00:00 ok", "at 2026-12-01T10:15:00+00:00 ok"),
        ("visit 4821 offered", "visit 4821 offered"),
    ],
)
def test_redact(text: str, expected: str) -> None:
    """NHS numbers and bare dates are masked; timestamps and visit references are kept."""
    assert redact(text) == expected


def test_logs_are_redacted(client: FlaskClient) -> None:
    """Any logger, and a handler added after start-up, sees the NHS number masked."""
    records: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(self.format(record))

    handler = Keep()
    for name in ("dispatch.deep.child", "some.library"):
        logger = logging.getLogger(name)
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.info("matched %s born %s", "9434765919", "1941-03-02")
        logger.removeHandler(handler)
    assert records and all("9434765919" not in r and "1941-03-02" not in r for r in records)
    assert all("<nhs-number>" in r for r in records)
