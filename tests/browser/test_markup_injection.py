"""Stored markup injection (issue 20 item 1, hazard H-012) in headless Chromium.

Every page that shows text a person or another system typed is opened with hostile text in
each such field: an ``<meta http-equiv=refresh>`` that would send a coordinator to another
site, a fake ``<form>`` posting to another site, and an attribute break-out with an ``<img>``.
The page must stay where it is, no such element may exist in the DOM, and the text must be
shown literally. The NHS.UK component templates end in ``.jinja``; before every template was
auto-escaped, text passed into a component (summary lists, the header, selects) was rendered
as markup.

The server is its own (not the shared ``live_server``): its users, patient, staff and
package carry the hostile text.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from playwright.sync_api import Error as PlaywrightError

from tests.browser.conftest import Blocked, _context
from tests.browser.support import FIXED_NOW

META = '<meta http-equiv=refresh content="0;url=https://evil.example">'
FORM = "<form action=https://evil.example><input name=x></form>"
IMG = '"><img src=x onerror=alert(1)>'
ALL = META + FORM + IMG
PASSWORD = "hostile test password"
FHIR_FIXTURE = Path(__file__).resolve().parents[1] / "dispatch" / "fhir_fixtures" / (
    "referral_111_fall.json")

# The hostile text of each field (each within the column's length).
GIVEN_NAME = "Eve" + IMG
ADDRESS = "1 Wood Lane " + META + FORM
ACCESS_NOTES = "Key safe " + FORM + IMG + META
REFERRAL_NOTES = "Notes " + ALL
STAFF_NAME = META + FORM
ADMIN_DISPLAY = META + FORM
REJECTION = "Too dear " + ALL
FHIR_NOTE = "FHIR " + ALL


@dataclass(frozen=True)
class World:
    base: str
    app: Any
    patient_id: int
    visit_reference: str
    visit_id: int
    package_id: int
    token: str


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """The app served on 127.0.0.1 with hostile text in every user-typed field."""
    from werkzeug.serving import make_server

    from dispatch import create_app
    from dispatch.db import get_database
    from dispatch.migrate import upgrade

    url = f"sqlite:///{tmp_path_factory.mktemp('hostile-db') / 'dispatch.sqlite3'}"
    upgrade(url)
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "browser-tests-hostile-markup",
                      "FIXED_NOW": FIXED_NOW})
    with get_database(app).session_scope() as session:
        ids = _seed(session)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="hostile-server", daemon=True)
    thread.start()
    try:
        yield World(base=f"http://127.0.0.1:{server.server_port}", app=app, **ids)
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        get_database(app).dispose()


def _seed(session: Any) -> dict[str, Any]:
    from dispatch import models as m
    from dispatch.services.users import add_user

    now = datetime.fromisoformat(FIXED_NOW)
    network = m.Network(code="HF-N1", name="H&F North", borough="Hammersmith & Fulham")
    session.add(network)
    session.flush()
    base = m.StaffBase(code="B1", name="White City hub", postcode="W12 7RQ", lat=51.51,
                       lon=-0.23, network_id=network.id)
    session.add(base)
    patient = m.Patient(
        nhs_number="9434765919", given_name=GIVEN_NAME, family_name="Mallory",
        date_of_birth=date(1941, 3, 2), address=ADDRESS, postcode="W12 7RQ",
        risk_tier="very_high", frailty=6, conditions=["dementia"], access_notes=ACCESS_NOTES,
        consent_to_share=True, consent_recorded_by="Dr Patel",
        consent_recorded_at=datetime(2026, 1, 5, tzinfo=UTC), network_id=network.id,
        created_at=now)
    session.add(patient)
    staff = m.Staff(code="S1", name=STAFF_NAME, role="district_nurse", skills=["wound_care"],
                    phone="+447700900001", travel_mode="car", network_id=network.id)
    session.add(staff)
    session.flush()
    session.add(m.Shift(code="S1-1", staff_id=staff.id, base_id=base.id,
                        starts_at=now - timedelta(hours=2), ends_at=now + timedelta(hours=6)))
    referral = m.Referral(
        patient_id=patient.id, network_id=network.id, source="111",
        referrer_name="Call handler", received_at=now, status="triaged",
        category="urgent_2h", priority=2, deadline=now + timedelta(hours=2),
        notes=REFERRAL_NOTES)
    session.add(referral)
    session.flush()
    visit = m.Visit(
        reference="4821", referral_id=referral.id, patient_id=patient.id,
        network_id=network.id, category="urgent_2h", skills=["falls_assessment"],
        duration_minutes=45, earliest_start=now, deadline=now + timedelta(hours=2),
        priority=2, assigned_staff_id=staff.id, status="assigned",
        planned_start=now + timedelta(minutes=30))
    session.add(visit)
    package = m.CarePackage(
        patient_id=patient.id, network_id=network.id, status="rejected",
        start_date=date(2026, 12, 2), created_by="Coordinator " + IMG,
        decided_by="Manager " + FORM, decided_at=now, decision_reason=REJECTION)
    session.add(package)
    admin = add_user(session, username="admin", role="admin", password=PASSWORD, now=now,
                     display_name=ADMIN_DISPLAY)
    add_user(session, username="plain", role="admin", password=PASSWORD, now=now,
             display_name="Plain Admin")
    session.flush()
    return {"patient_id": patient.id, "visit_reference": visit.reference,
            "visit_id": visit.id, "package_id": package.id, "token": admin.token}


def _signed_in(browser: Any, blocked: Blocked, world: World, username: str) -> Iterator[Any]:
    context = _context(browser, blocked)
    tab = context.new_page()
    tab.set_default_timeout(10_000)
    tab.goto(f"{world.base}/sign-in")
    tab.get_by_label("Username").fill(username)
    tab.get_by_label("Password").fill(PASSWORD)
    with tab.expect_navigation():
        tab.get_by_role("button", name="Sign in").click()
    yield tab
    context.close()


@pytest.fixture
def admin_page(browser: Any, blocked: Blocked, world: World) -> Iterator[Any]:
    """A tab signed in as an admin with a plain display name (each page's own fields)."""
    yield from _signed_in(browser, blocked, world, "plain")


@pytest.fixture
def hostile_admin_page(browser: Any, blocked: Blocked, world: World) -> Iterator[Any]:
    """A tab signed in as the admin whose display name is itself hostile."""
    yield from _signed_in(browser, blocked, world, "admin")


INSPECT = """() => ({
    refresh: document.querySelectorAll('meta[http-equiv]').length,
    evilForms: [...document.forms].filter(f => (f.getAttribute('action') || '')
        .includes('evil.example')).length,
    images: [...document.images].filter(i => i.getAttribute('src') === 'x').length,
    text: document.body.innerText,
})"""


def _assert_inert(page: Any, url: str, blocked: Blocked, *texts: str) -> None:
    """The page stayed, no injected element exists, and each text is shown literally."""
    page.wait_for_load_state("load")
    try:
        found = page.evaluate(INSPECT)
    except PlaywrightError as exc:  # the page was replaced while we looked: a refresh fired
        pytest.fail(f"{url} navigated away (an injected <meta refresh>?): {exc}")
    assert page.url == url
    assert found["refresh"] == 0, "an injected <meta http-equiv> is in the page"
    assert found["evilForms"] == 0, "an injected <form action=evil> is in the page"
    assert found["images"] == 0, "an injected <img> is in the page"
    for text in texts:
        assert text in found["text"], f"{text!r} is not shown literally"
    assert blocked.urls == []


@pytest.mark.safety("H-012")
def test_visit_page_hostile_notes_and_address_shown_as_text(
    admin_page: Any, blocked: Blocked, world: World
) -> None:
    """/visits/<ref>: referral notes, address, access notes and the worker's name are text."""
    url = f"{world.base}/visits/{world.visit_reference}"
    admin_page.goto(url)
    _assert_inert(admin_page, url, blocked, REFERRAL_NOTES, ADDRESS, ACCESS_NOTES)


@pytest.mark.safety("H-012")
def test_referral_page_hostile_patient_name_and_address_shown_as_text(
    admin_page: Any, blocked: Blocked, world: World
) -> None:
    """/referrals/new?patient=: the patient's name, address and access notes are text."""
    url = f"{world.base}/referrals/new?patient={world.patient_id}"
    admin_page.goto(url)
    _assert_inert(admin_page, url, blocked, GIVEN_NAME, ADDRESS, ACCESS_NOTES)


@pytest.mark.safety("H-012")
def test_board_visit_page_hostile_staff_name_shown_as_text(
    admin_page: Any, blocked: Blocked, world: World
) -> None:
    """/board/visits/<id>: the worker list and the assigned worker show names as text."""
    url = f"{world.base}/board/visits/{world.visit_id}"
    admin_page.goto(url)
    _assert_inert(admin_page, url, blocked, STAFF_NAME)
    options = admin_page.locator("#staff_id option").all_inner_texts()
    assert any(o.startswith(STAFF_NAME) for o in options), options


@pytest.mark.safety("H-012")
def test_package_page_hostile_rejection_reason_shown_as_text(
    admin_page: Any, blocked: Blocked, world: World
) -> None:
    """/packages/<id>: the rejection reason and who decided are text."""
    url = f"{world.base}/packages/{world.package_id}"
    admin_page.goto(url)
    _assert_inert(admin_page, url, blocked, REJECTION, "Manager " + FORM)


@pytest.mark.safety("H-012")
def test_header_hostile_display_name_shown_as_text_on_every_page(
    hostile_admin_page: Any, blocked: Blocked, world: World
) -> None:
    """The display name in the header of every kind of page an admin opens."""
    for path in ("/home", "/board", "/messages", "/reports/kpis", "/admin/audit",
                 f"/visits/{world.visit_reference}", f"/board/visits/{world.visit_id}",
                 f"/packages/{world.package_id}", f"/referrals/new?patient={world.patient_id}"):
        url = f"{world.base}{path}"
        hostile_admin_page.goto(url)
        _assert_inert(hostile_admin_page, url, blocked, ADMIN_DISPLAY)


@pytest.mark.safety("H-012")
def test_fhir_service_request_hostile_note_shown_as_text(
    admin_page: Any, blocked: Blocked, world: World
) -> None:
    """A ServiceRequest note from another system reaches /visits/<ref> as text."""
    from dispatch import models as m
    from dispatch.db import get_database

    bundle = json.loads(FHIR_FIXTURE.read_text())
    for entry in bundle["entry"]:
        if entry["resource"]["resourceType"] == "ServiceRequest":
            entry["resource"]["note"] = [{"text": FHIR_NOTE}]
    response = admin_page.request.post(
        f"{world.base}/fhir/$process-message", data=json.dumps(bundle),
        headers={"Authorization": f"Bearer {world.token}",
                 "Content-Type": "application/fhir+json"})
    assert response.status == 200, response.text()
    with get_database(world.app).session_scope() as session:
        reference = session.scalar(
            sa.select(m.Visit.reference).join(m.Referral, m.Referral.id == m.Visit.referral_id)
            .where(m.Referral.notes.contains("FHIR ")))
    assert reference
    url = f"{world.base}/visits/{reference}"
    admin_page.goto(url)
    _assert_inert(admin_page, url, blocked, "Referrer's note: " + FHIR_NOTE)
