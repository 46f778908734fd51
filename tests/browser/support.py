"""Constants and helpers for the browser tests (fixtures are in conftest.py)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
FIXED_NOW = "2026-12-01T10:20:00+00:00"  # a Tuesday morning: inside urgent response hours
USERNAME = "handler"
PASSWORD = "browser test password"
DEMO_NHS_NUMBER = "9434765919"
LOCAL_HOSTS = ("127.0.0.1", "localhost")
NHS_BLUE = "rgb(0, 94, 184)"  # #005eb8, the header
NHS_RED = "rgb(213, 40, 27)"  # #d5281b, emergency care cards


def screenshot(page: Any, name: str) -> Path:
    """Save a full-page screenshot to test-artifacts/screenshots/<name>.png."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def answer_red_flags(
    page: Any, *, yes: tuple[str, ...] = (), skip: tuple[str, ...] = (), keyboard: bool = False
) -> None:
    """Answer every red-flag question on the referral form (issue 13, H-003: the form cannot
    be sent with one unanswered): "yes" for the codes in ``yes``, "no" for the rest. With
    ``keyboard`` each answer is chosen by focusing its radio and pressing Space; the codes in
    ``skip`` are left unanswered."""
    from triage import RED_FLAGS

    for code in RED_FLAGS:
        if code in skip:
            continue
        answer = "yes" if code in yes else "no"
        radio = page.locator(f"#referral-form input[name=red_flag__{code}][value={answer}]")
        if keyboard:
            radio.focus()
            page.keyboard.press("Space")
        else:
            radio.check()


HEADER_READY = ("() => { const h = document.querySelector('[data-module=nhsuk-header]');"
                " return !h || h.hasAttribute('data-nhsuk-header-init'); }")


def settled(page: Any) -> None:
    """Wait until the page has loaded and the NHS.UK header's script has folded the navigation
    that does not fit into its "More" menu: measured before, a phone's header is as wide as
    all its links (a sideways scroll that no user sees)."""
    page.wait_for_load_state("load")
    page.wait_for_function(HEADER_READY)


T = TypeVar("T")


@dataclass(frozen=True)
class Served(Generic[T]):
    """An app served on a free port of 127.0.0.1: its URL, the app, what the seed returned."""

    url: str
    app: Any
    seeded: T


@contextmanager
def served(
    tmp_path_factory: Any, name: str, seed: Callable[[Any], T] | None = None,
    config: Mapping[str, Any] | None = None,
) -> Iterator[Served[T | None]]:
    """A fresh SQLite database migrated to head, ``seed(session)`` committed in it, and the app
    on it served by a threaded werkzeug server until the block ends (then shut down, the
    database disposed). ``config`` adds to the browser tests' settings (``FIXED_NOW``...)."""
    from werkzeug.serving import make_server

    from dispatch import create_app
    from dispatch.db import get_database
    from dispatch.migrate import upgrade

    url = f"sqlite:///{tmp_path_factory.mktemp(f'{name}-db') / 'dispatch.sqlite3'}"
    upgrade(url)
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "browser-tests", "FIXED_NOW": FIXED_NOW,
                      **(config or {})})
    seeded = None
    if seed is not None:
        with get_database(app).session_scope() as session:
            seeded = seed(session)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name=f"{name}-server", daemon=True)
    thread.start()
    try:
        yield Served(f"http://127.0.0.1:{server.server_port}", app, seeded)
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        get_database(app).dispose()
