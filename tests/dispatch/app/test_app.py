"""The app starts with no settings, answers /healthz and serves its OpenAPI description."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from dispatch import ConfigurationError, create_app


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_serve_starts_with_no_settings(tmp_path: Path) -> None:
    """`dispatch serve` with no DISPATCH_* settings creates its SQLite file and is healthy."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DISPATCH_")}
    env["DISPATCH_INSTANCE_PATH"] = str(tmp_path)  # only to keep the test out of ./instance
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "dispatch.cli", "serve", "--port", str(port)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    try:
        body = _wait_for(f"http://127.0.0.1:{port}/healthz", proc)
    finally:
        proc.terminate()
        proc.communicate(timeout=10)  # drains and closes the pipe
    assert body == {"status": "ok", "database": "sqlite"}
    assert (tmp_path / "dispatch.sqlite3").exists()


def _wait_for(url: str, proc: subprocess.Popen[bytes], timeout: float = 300.0) -> object:
    """The body of ``url`` once it answers (a bound only against a hung server, not a speed
    check: a first start migrates a new database, slow on a busy machine)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            out = proc.stdout.read().decode() if proc.stdout else ""
            pytest.fail(f"server exited early: {out}")
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                return json.loads(resp.read())
        except OSError:
            time.sleep(0.2)
    pytest.fail(f"{url} did not answer in {timeout}s")


def test_healthz_ok(client: FlaskClient) -> None:
    """The health endpoint checks the database with a query."""
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json is not None and response.json["status"] == "ok"


def test_openapi_json_served(client: FlaskClient) -> None:
    """The OpenAPI description is at /api/openapi.json and lists the health endpoint."""
    response = client.get("/api/openapi.json")
    assert response.status_code == 200
    assert response.json is not None and "/healthz" in response.json["paths"]


def test_api_docs_use_local_assets(client: FlaskClient) -> None:
    """/api/docs loads Swagger UI from our own /static, so it works offline."""
    response = client.get("/api/docs")
    assert response.status_code == 200
    assert b"/static/vendor/swagger-ui-dist/" in response.data
    assert b"cdn" not in response.data.lower()


def test_api_docs_have_no_inline_script(client: FlaskClient) -> None:
    """/api/docs runs under the site's script policy: no inline script, no 'unsafe-inline'
    for scripts; Swagger UI starts from our static swagger-init.js."""
    response = client.get("/api/docs")
    html = response.get_data(as_text=True)
    csp = response.headers["Content-Security-Policy"]
    script_src = next(d for d in csp.split(";") if d.strip().startswith("script-src"))
    assert "unsafe-inline" not in script_src and "unsafe-eval" not in script_src
    assert all("src=" in tag for tag in html.split("<script")[1:])
    assert "/static/swagger-init.js" in html


def test_stylesheet_asks_no_other_host_for_fonts(client: FlaskClient) -> None:
    """The NHS.UK stylesheet is served without the @font-face rules that fetch Frutiger from
    assets.nhs.uk, so no page asks a host outside the service for anything."""
    css = client.get("/static/vendor/nhsuk-frontend/dist/nhsuk/nhsuk-frontend.min.css")
    assert css.status_code == 200 and css.mimetype == "text/css"
    text = css.get_data(as_text=True)
    assert "http://" not in text and "https://" not in text and ".nhsuk-header" in text


def test_favicon(client: FlaskClient) -> None:
    """/favicon.ico is the NHS icon (browsers ask for it on every site)."""
    with client.get("/favicon.ico") as response:
        assert response.status_code == 200 and len(response.data) > 100


def test_production_refuses_default_secret(tmp_path: Path) -> None:
    """Production mode stops at start-up with a hint when the secret key or database is unset."""
    with pytest.raises(ConfigurationError, match="DISPATCH_SECRET_KEY.*DISPATCH_DATABASE_URL"):
        create_app({"ENV": "production"})


def test_environment_settings_read(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """DISPATCH_* environment variables override the defaults."""
    monkeypatch.setenv("DISPATCH_DATABASE_URL", f"sqlite:///{tmp_path / 'x.sqlite3'}")
    monkeypatch.setenv("DISPATCH_PUBLIC_BASE_URL", "https://dispatch.example.nhs.uk")
    app = create_app()
    assert app.config["DATABASE_URL"].endswith("x.sqlite3")
    assert app.config["PUBLIC_BASE_URL"] == "https://dispatch.example.nhs.uk"
