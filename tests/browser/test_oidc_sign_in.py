"""NHS-style sign-in (issue 18 part 2) against a real OpenID Connect provider: the npm
``oidc-provider`` package started here (tests/oidc/provider.mjs), authorisation code with PKCE,
driven end to end in Chromium. The provider's development login page accepts any password."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from tests.browser.support import FIXED_NOW

ROOT = Path(__file__).resolve().parents[2]
PROVIDER = ROOT / "tests" / "oidc" / "provider.mjs"
ACCOUNTS = {
    "ann.coordinator": {"name": "Ann Coordinator", "roles": ["R8013", "R0260"]},
    "no.role": {"name": "Nobody Special", "roles": ["R9999"]},
    "fran.field": {"name": "Fran Field", "roles": ["R8001"], "employee_number": "DN-0042"},
}
ROLE_MAP = {"R8013": "coordinator", "R8000": "call_handler", "R8001": "field_staff"}


@dataclass
class Service:
    url: str
    issuer: str
    app: Any


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    """The app on a free port with OIDC pointed at a real provider on another."""
    node = shutil.which("node")
    if node is None or not (ROOT / "node_modules" / "oidc-provider").is_dir():
        pytest.skip("node or the npm oidc-provider package is missing (npm ci installs it)")
    from werkzeug.serving import make_server

    from dispatch import create_app
    from dispatch.db import get_database
    from dispatch.migrate import upgrade

    holder: list[Any] = []
    server = make_server("127.0.0.1", 0, lambda env, start: holder[0](env, start), threaded=True)
    url = f"http://127.0.0.1:{server.server_port}"
    port = _free_port()
    provider = subprocess.Popen(
        [node, str(PROVIDER), str(port), f"{url}/sign-in/oidc/callback", json.dumps(ACCOUNTS)],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=ROOT)
    assert provider.stdout is not None
    ready = provider.stdout.readline()  # blocks until listening (or the process died)
    if not ready.startswith("ready "):
        provider.kill()
        provider.wait(timeout=10)
        provider.stdout.close()
        pytest.fail(f"the OIDC provider did not start: {ready!r}")
    issuer = ready.split()[1]
    db_url = f"sqlite:///{tmp_path_factory.mktemp('oidc-db') / 'dispatch.sqlite3'}"
    upgrade(db_url)
    app = create_app({
        "DATABASE_URL": db_url, "SECRET_KEY": "oidc-tests", "FIXED_NOW": FIXED_NOW,
        "PUBLIC_BASE_URL": url, "OIDC_ISSUER": issuer, "OIDC_CLIENT_ID": "dispatch-tests",
        "OIDC_CLIENT_SECRET": "dispatch-tests-secret", "OIDC_ROLE_MAP": json.dumps(ROLE_MAP),
        "OIDC_STAFF_CLAIM": "employee_number",
    })
    holder.append(app)
    thread = threading.Thread(target=server.serve_forever, name="oidc-live", daemon=True)
    thread.start()
    try:
        yield Service(url, issuer, app)
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        provider.terminate()
        provider.wait(timeout=10)
        provider.stdout.close()
        get_database(app).dispose()


def _sign_in_at_provider(page: Any, login: str) -> None:
    page.locator("input[name=login]").fill(login)
    page.locator("input[name=password]").fill("any password")
    page.locator("button[type=submit]").click()
    page.locator("button[type=submit]", has_text="Continue").click()  # consent


def test_oidc_sign_in_maps_the_role_and_creates_the_user(page: Any, service: Service) -> None:
    """"Sign in with NHS Care Identity" -> the provider's login -> back signed in as the
    coordinator the role claim maps to, on the page asked for; the user is found again by
    issuer and subject, and the sign-in is audited."""
    from dispatch import models as m
    from dispatch.db import get_database

    page.goto(f"{service.url}/sign-in?next=/messages")
    page.locator("#sign-in-oidc").click()
    assert page.url.startswith(service.issuer)
    _sign_in_at_provider(page, "ann.coordinator")
    page.wait_for_url(f"{service.url}/messages")
    assert "Ann Coordinator" in page.content()
    with get_database(service.app).session_scope() as session:
        user = session.scalar(sa.select(m.User).where(
            m.User.identity_subject == "ann.coordinator"))
        assert user is not None
        assert (user.role, user.identity_issuer, user.password_hash) == (
            "coordinator", service.issuer, None)
        actions = session.scalars(sa.select(m.AuditEvent.action).where(
            m.AuditEvent.entity_id == str(user.id))).all()
        assert "sign_in" in actions and "user_created_from_identity_provider" in actions


@pytest.mark.safety("H-091")
def test_oidc_field_staff_linked_to_their_staff_record_by_claim(page: Any,
                                                               service: Service) -> None:
    """A field worker signs in at the provider, whose token carries their employee number
    (DISPATCH_OIDC_STAFF_CLAIM=employee_number): the account is created as field staff and
    linked to the staff record with that code (audited), so their field page is theirs."""
    from dispatch import models as m
    from dispatch.db import get_database

    with get_database(service.app).session_scope() as session:
        network = m.Network(code="OIDC-N1", name="OIDC North", borough="Camden")
        session.add(network)
        session.flush()
        staff = m.Staff(code="DN-0042", name="Fran Field", role="district_nurse",
                        skills=["wound_care"], phone="+447700900142", network_id=network.id,
                        travel_mode="car")
        session.add(staff)
        session.flush()
        staff_id = staff.id
    page.goto(f"{service.url}/sign-in")
    page.locator("#sign-in-oidc").click()
    _sign_in_at_provider(page, "fran.field")
    page.wait_for_url(f"{service.url}/**")
    assert "/sign-in" not in page.url
    with get_database(service.app).session_scope() as session:
        user = session.scalar(sa.select(m.User).where(m.User.identity_subject == "fran.field"))
        assert user is not None
        assert (user.role, user.staff_id) == ("field_staff", staff_id)
        actions = session.scalars(sa.select(m.AuditEvent.action).where(
            m.AuditEvent.entity_id == str(user.id))).all()
        assert "staff_linked_by_identity_provider" in actions


@pytest.mark.safety("H-063")
def test_oidc_account_without_a_mapped_role_is_refused(page: Any, service: Service) -> None:
    """A provider account whose roles map to none of ours gets a 403 page saying why, and no
    session (never a default role)."""
    page.goto(f"{service.url}/sign-in")
    page.locator("#sign-in-oidc").click()
    _sign_in_at_provider(page, "no.role")
    page.wait_for_url(f"{service.url}/sign-in/oidc/callback*")
    assert "Your account has no role in the dispatch service" in page.content()
    page.goto(f"{service.url}/messages")
    assert "/sign-in" in page.url


@pytest.mark.safety("H-063")
def test_oidc_callback_with_a_forged_state_is_refused(service: Service) -> None:
    """A callback that this browser did not start (state not in its session) is refused."""
    client = service.app.test_client()
    response = client.get("/sign-in/oidc/callback?code=stolen&state=forged")
    assert response.status_code == 400
    assert "did not match this browser" in response.get_data(as_text=True)
    refused = client.get("/sign-in/oidc/callback?error=access_denied&error_description=<b>no</b>")
    assert refused.status_code == 400
    assert "<b>no</b>" not in refused.get_data(as_text=True)
