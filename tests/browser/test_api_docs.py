"""/api/docs in headless Chromium under the site's Content-Security-Policy: Swagger UI starts
from a static script (no inline script is allowed), lists the API's operations, and asks no
host but this one for anything; the favicon is there."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.conftest import Blocked


def test_api_docs_render_the_operations(page: Any, live_server: str, blocked: Blocked) -> None:
    """The operations (POST /api/referrals among them) are listed, with no CSP violation."""
    refused: list[str] = []
    page.on("console", lambda m: refused.append(m.text)
            if "Content Security Policy" in m.text else None)
    response = page.goto(f"{live_server}/api/docs")
    assert response is not None and response.status == 200
    assert "'unsafe-inline'" not in response.headers["content-security-policy"].split(
        "script-src")[1].split(";")[0]
    page.wait_for_selector(".opblock", timeout=20_000)
    operations = page.locator(".opblock .opblock-summary-path").all_inner_texts()
    assert len(operations) > 20, operations
    assert any(o.replace("\u200b", "") == "/api/referrals" for o in operations)
    assert refused == []
    assert blocked.urls == []
    favicon = page.request.get(f"{live_server}/favicon.ico")
    assert favicon.status == 200


@pytest.mark.parametrize("size", [pytest.param((1280, 900), id="desktop"),
                                  pytest.param((390, 844), id="phone")])
def test_api_docs_pass_axe(page: Any, live_server: str, blocked: Blocked,
                           size: tuple[int, int]) -> None:
    """Swagger UI as rendered, then with GET /healthz opened, tried out and executed: 0 axe
    violations of impact moderate or worse (issue 14), thanks to static/swagger-init.js and
    swagger-a11y.css (before them: colour contrast on 93 elements, 90 controls nested in
    controls, heading order, an unnamed copy button)."""
    from tests.browser.axe import serve_axe, violations

    page.set_viewport_size({"width": size[0], "height": size[1]})
    serve_axe(page)
    page.goto(f"{live_server}/api/docs")
    page.wait_for_selector("#swagger-ui-container[data-a11y-ready] .opblock", timeout=20_000)
    found = violations(page, f"/api/docs at {size[0]} px")
    page.locator("#operations-health-get_healthz .opblock-summary-control").click()
    page.locator("#operations-health-get_healthz .try-out__btn").click()
    found += violations(page, f"/api/docs at {size[0]} px, GET /healthz tried out")
    page.locator("#operations-health-get_healthz .execute").click()
    page.wait_for_selector("#operations-health-get_healthz .live-responses-table",
                           timeout=20_000)
    found += violations(page, f"/api/docs at {size[0]} px, GET /healthz executed")
    assert found == [], "\n".join(map(str, found))
    assert blocked.urls == []
