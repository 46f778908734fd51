"""axe-core on every page of every role, on a desktop (1280 px) and a 390 px phone.

(axe 4.x no longer reports duplicate ids, so the test looks for them itself: every field has
its own id and label.)

The quality bar of issue 14: no violation of impact moderate, serious or critical anywhere.
Each role signs in with its demo sign-in and opens every page the permission table lets it
GET (``every_page.pages_for``), plus the states a page only reaches by acting: the call
handler's search results and the public pages (sign-in, API docs, a page not found). Every
page is also checked not to scroll sideways and not to ask any host but this one for anything.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser import every_page
from tests.browser.axe import Violation, serve_axe, violations
from tests.browser.conftest import Blocked

ROLES = ("call_handler", "coordinator", "manager", "field_staff", "admin")
SIZES = {"desktop": (1280, 900), "phone": (390, 844)}
#: Ids given to more than one element (a label or an error link would find the wrong one).
#: Hidden inputs (each form's CSRF token) have no label and are never focused: not counted.
DUPLICATE_IDS = """() => {
    const seen = {};
    document.querySelectorAll('[id]:not(input[type=hidden])').forEach(
        e => { seen[e.id] = (seen[e.id] || 0) + 1; });
    return Object.keys(seen).filter(id => seen[id] > 1);
}"""
#: The innermost elements sticking out past the right edge (to say what to fix).
WIDEST = """() => {
    const edge = document.documentElement.clientWidth;
    const out = [...document.querySelectorAll('body *')].filter(e => {
        const r = e.getBoundingClientRect();
        return r.right > edge + 1 && r.width > 0 && getComputedStyle(e).position !== 'fixed';
    });
    const leaves = out.filter(e => !out.some(o => o !== e && e.contains(o)));
    return leaves.slice(0, 4).map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') +
        (e.className && e.className.baseVal === undefined ? '.' + [...e.classList].join('.') : '')
        + ' ' + Math.round(e.getBoundingClientRect().right)).join(', ');
}"""


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[every_page.EveryPage]:
    yield from every_page.start(tmp_path_factory)


def _sign_in(page: Any, site: every_page.EveryPage, role: str) -> None:
    username, password = site.sign_ins[role]
    page.goto(f"{site.base}/sign-in")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()
    assert "/sign-in" not in page.url, f"{role} could not sign in"


def _check(page: Any, label: str, width: int) -> list[str]:
    """axe's refused violations on the page as it is, and a sideways scroll if any."""
    found: list[Violation | str] = [*violations(page, label)]
    duplicates = page.evaluate(DUPLICATE_IDS)
    if duplicates:
        found.append(f"{label}: ids used more than once: {', '.join(duplicates)}")
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth")
    if overflow > 0:
        culprits = page.evaluate(WIDEST)
        found.append(f"{label}: scrolls sideways by {overflow} px at {width} px ({culprits})")
    return [str(v) for v in found]


def _visit(page: Any, site: every_page.EveryPage, path: str, width: int) -> list[str]:
    response = page.goto(site.base + path)
    assert response is not None and response.status < 500, f"{path}: {response and response.status}"
    page.wait_for_load_state("load")
    return _check(page, path, width)


def _search_results(page: Any, site: every_page.EveryPage, width: int) -> list[str]:
    """The find form after a search by NHS number (the results table)."""
    page.goto(f"{site.base}/referrals/new")
    page.locator("form[action$='/referrals/new/find']").get_by_label("NHS number").fill(
        site.ids["nhs_number"])
    with page.expect_navigation():
        page.locator("#search-button").click()
    return _check(page, "/referrals/new/find (results)", width)


@pytest.mark.parametrize("size", SIZES, ids=list(SIZES))
@pytest.mark.parametrize("role", ROLES)
def test_every_page_passes_axe(
    page: Any, blocked: Blocked, site: every_page.EveryPage, role: str, size: str
) -> None:
    """Every page the role may open: 0 axe violations of impact moderate or worse, no
    sideways scroll, no request off this server."""
    width, height = SIZES[size]
    page.set_viewport_size({"width": width, "height": height})
    serve_axe(page)
    _sign_in(page, site, role)
    paths = every_page.pages_for(site.app, role, site.ids)
    assert len(paths) >= 2, paths
    problems: list[str] = []
    for path in paths:
        problems += _visit(page, site, path, width)
    if role in ("call_handler", "coordinator"):
        problems += _search_results(page, site, width)
    assert not problems, f"{len(problems)} problems:\n" + "\n".join(problems)
    assert blocked.urls == []


@pytest.mark.parametrize("size", SIZES, ids=list(SIZES))
def test_public_pages_pass_axe(
    page: Any, blocked: Blocked, site: every_page.EveryPage, size: str
) -> None:
    """Sign-in and a page that does not exist, signed out."""
    width, height = SIZES[size]
    page.set_viewport_size({"width": width, "height": height})
    serve_axe(page)
    problems: list[str] = []
    # /api/docs is checked in test_api_docs.py (test_api_docs_pass_axe): it must wait for
    # Swagger UI to render and open an operation.
    for path in ("/sign-in", "/no-such-page"):
        page.goto(site.base + path)
        problems += _check(page, path, width)
    assert not problems, f"{len(problems)} problems:\n" + "\n".join(problems)
    assert blocked.urls == []
