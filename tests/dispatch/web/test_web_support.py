"""Helpers shared by the web page tests (no tests here): users who sign in, a patient with a
care plan, and a valid referral form.

Most page tests switch CSRF off (``WTF_CSRF_ENABLED = False``, the test-only flag) so a form
can be posted without first scraping its token; ``test_web_signin`` shows separately that a
POST without a token is refused when the flag is on, as it is everywhere else.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import orm as so
from werkzeug.security import generate_password_hash

from dispatch import models as m
from dispatch.services.users import add_user
from tests.dispatch import factories as f
from tests.dispatch.factories import NOW
from triage import RED_FLAGS

PASSWORD = "correct horse battery staple"


def web_client(app: Flask, *, csrf: bool = False) -> FlaskClient:
    """A test client; CSRF checks off unless ``csrf`` (tests of CSRF itself turn it on)."""
    app.config["WTF_CSRF_ENABLED"] = csrf
    return app.test_client()


# Tests re-hash the same password many times; a cheap pbkdf2 hash keeps them fast (a real
# user's hash comes from add_user with werkzeug's default, checked in test_web_signin).
CHEAP_HASH = "pbkdf2:sha256:1000"


def add_web_user(session: so.Session, role: str, *, username: str | None = None,
                 password: str = PASSWORD, cheap: bool = True) -> m.User:
    """A committed user who can sign in with ``password``."""
    created = add_user(session, username=username or f"{role}-{uuid.uuid4().hex[:6]}", role=role,
                       display_name=f"Test {role.replace('_', ' ')}",
                       password=None if cheap else password, now=datetime.now(UTC))
    if cheap:
        created.user.password_hash = generate_password_hash(password, method=CHEAP_HASH)
    session.commit()
    return created.user


def sign_in(client: FlaskClient, username: str, password: str = PASSWORD,
            next_url: str | None = None) -> Any:
    data = {"username": username, "password": password}
    if next_url is not None:
        data["next"] = next_url
    return client.post("/sign-in", data=data)


def signed_in_client(app: Flask, session: so.Session, role: str) -> FlaskClient:
    """A client signed in as a new user of ``role``, with CSRF checks off."""
    client = web_client(app)
    user = add_web_user(session, role)
    response = sign_in(client, user.username)
    assert response.status_code == 303, response.data[:500]
    return client


def csrf_token(html: str) -> str:
    """The first CSRF token on a page."""
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html)
    assert match, "no CSRF token on the page"
    return match.group(1)


def patient_with_plan(session: so.Session, *, consent: bool, **kw: Any) -> m.Patient:
    """Joe Bloggs (943 476 5919) with a two-version care plan; consent as asked."""
    extra = {"consent_recorded_by": "Dr Patel", "consent_recorded_at": NOW} if consent else {}
    patient = f.patient(session, consent_to_share=consent, **extra, **kw)
    session.add(m.CarePlan(patient_id=patient.id, version=1, summary="old plan", author="GP",
                           content={}))
    session.add(m.CarePlan(patient_id=patient.id, version=2, summary="Lives alone; key safe 1234",
                           author="Dr Patel", content={"lives": "alone", "dnacpr": False}))
    session.commit()
    return patient


def referral_form(patient_id: int | None, **overrides: Any) -> dict[str, Any]:
    """A valid referral form post: a fall without injury, some observations."""
    data: dict[str, Any] = {
        "form_token": uuid.uuid4().hex, "received_at": "2026-12-01T10:15:00+00:00",
        "source": "111", "referrer_name": "Ann Handler", "referrer_role": "111 call handler",
        "needs": ["fall_no_injury"], "respiration_rate": "18", "spo2": "96", "spo2_scale": "1",
        "on_oxygen": "air", "systolic_bp": "130", "pulse": "80", "consciousness": "alert",
        "temperature": "36.8", "frailty": "", "pathways_disposition": "", "notes": "",
    }
    # Every red-flag question answered (issue 13, H-003): "no", or "yes" for those in red_flags.
    flagged = set(overrides.pop("red_flags", []))
    data.update({f"red_flag__{code}": "yes" if code in flagged else "no" for code in RED_FLAGS})
    if patient_id is not None:
        data["patient_id"] = str(patient_id)
    data.update(overrides)
    return data


def audit_actions(session: so.Session, *, patient_id: int | None = None) -> list[str]:
    import sqlalchemy as sa

    stmt = sa.select(m.AuditEvent.action).order_by(m.AuditEvent.id)
    if patient_id is not None:
        stmt = stmt.where(m.AuditEvent.patient_id == patient_id)
    return list(session.scalars(stmt))
