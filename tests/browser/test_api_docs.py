"""/api/docs in headless Chromium under the site's Content-Security-Policy: Swagger UI starts
from a static script (no inline script is allowed), lists the API's operations, and asks no
host but this one for anything; the favicon is there."""

from __future__ import annotations

from typing import Any

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
