"""A real server and a headless Chromium for the browser tests.

The server is the real app, served by werkzeug in a thread on 127.0.0.1, on a freshly migrated
SQLite file with a call handler and a demo patient (Joe Bloggs, 943 476 5919, with a shared
care plan). Chromium is Debian's ``/usr/bin/chromium`` driven by Playwright; we never download a
browser. Every request to a host other than this server is blocked, so the pages are seen
exactly as on an offline machine: the NHS.UK hosted fonts never load and the fallback font
must do.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.browser.support import (
    CHROMIUM,
    CHROMIUM_ARGS,
    DEMO_NHS_NUMBER,
    FIXED_NOW,
    LOCAL_HOSTS,
    PASSWORD,
    USERNAME,
    served,
)


@dataclass
class Blocked:
    """Requests the tests refused to let leave the machine."""

    urls: list[str] = field(default_factory=list)


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app on a free port of 127.0.0.1, with a signed-up call handler and a patient."""
    with served(tmp_path_factory, "browser", _seed) as s:
        yield s.url


def _seed(session: Any) -> None:
    from dispatch import models as m
    from dispatch.services.users import add_user

    now = datetime.fromisoformat(FIXED_NOW)
    add_user(session, username=USERNAME, role="call_handler", password=PASSWORD, now=now,
             display_name="Ann Handler")
    patient = m.Patient(
        nhs_number=DEMO_NHS_NUMBER, given_name="Joe", family_name="Bloggs",
        date_of_birth=date(1941, 3, 2), address="1 Wood Lane, London", postcode="W12 7RQ",
        risk_tier="very_high", frailty=6, conditions=["dementia"], consent_to_share=True,
        consent_recorded_by="Dr Patel", consent_recorded_at=datetime(2026, 1, 5, tzinfo=UTC),
        created_at=now)
    session.add(patient)
    session.flush()
    session.add(m.CarePlan(
        patient_id=patient.id, version=1, author="Dr Patel", created_at=now,
        summary="85-year-old with early dementia; lives alone. Key safe 4821.",
        content={"lives": "alone", "escalation": "Ring daughter first", "dnacpr": False}))


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Debian's headless Chromium; the tests skip, saying why, when it is not installed."""
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium); browser tests skipped")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def blocked() -> Blocked:
    return Blocked()


def _context(browser: Any, blocked: Blocked, **options: Any) -> Any:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB",
                                  timezone_id="Europe/London", **options)

    def guard(route: Any) -> None:
        host = urlsplit(route.request.url).hostname or ""
        if host in LOCAL_HOSTS:
            route.continue_()
        else:
            blocked.urls.append(route.request.url)
            route.abort()

    context.route("**/*", guard)
    return context


@pytest.fixture
def page(browser: Any, blocked: Blocked) -> Iterator[Any]:
    """A fresh browser tab (own cookies) that may only talk to 127.0.0.1."""
    context = _context(browser, blocked)
    tab = context.new_page()
    tab.set_default_timeout(10_000)
    yield tab
    context.close()


@pytest.fixture
def page_without_js(browser: Any, blocked: Blocked) -> Iterator[Any]:
    """The same, with JavaScript switched off."""
    context = _context(browser, blocked, java_script_enabled=False)
    tab = context.new_page()
    tab.set_default_timeout(10_000)
    yield tab
    context.close()
