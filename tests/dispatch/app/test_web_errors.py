"""Errors on pages are NHS.UK pages with the same status; the API, FHIR and SMS interfaces and
the pages' polling scripts keep their JSON (``dispatch.error_pages``)."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import orm as so
from werkzeug.test import TestResponse

from tests.dispatch.web.test_web_support import add_web_user, sign_in, web_client

BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
SECRET = "boom: patient 9434765919 at 1 Wood Lane"  # must never reach a page


def _main(response: TestResponse) -> str:
    """The page's main content (the header also names the signed-in user)."""
    html = response.get_data(as_text=True)
    return html[html.index('<main'):html.index("</main>")]


def _field_staff(app: Flask, session: so.Session) -> tuple[FlaskClient, str]:
    client = web_client(app)
    user = add_web_user(session, "field_staff")
    assert sign_in(client, user.username).status_code == 303
    return client, user.username


def test_forbidden_page_names_the_user_and_role(app: Flask, session: so.Session) -> None:
    """Field staff opening the board get a 403 page saying who they are and their role, with
    the way home - not a JSON body in the browser."""
    client, username = _field_staff(app, session)
    response = client.get("/board", headers={"Accept": BROWSER_ACCEPT})
    main = _main(response)
    assert response.status_code == 403 and response.mimetype == "text/html"
    assert "You do not have access to this page" in main
    assert username in main and "with the field staff role" in main
    assert 'href="/home"' in main


def test_forbidden_page_keeps_security_headers(app: Flask, session: so.Session) -> None:
    """The error page is rendered under the same CSP (nonce only, no inline styles)."""
    client, _ = _field_staff(app, session)
    response = client.get("/admin/audit")
    csp = response.headers["Content-Security-Policy"]
    assert response.status_code == 403
    assert "script-src 'self' 'nonce-" in csp and "unsafe-inline" not in csp
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "style=" not in _main(response)


def test_forbidden_api_stays_json_for_a_signed_in_user(app: Flask, session: so.Session) -> None:
    """The same browser session on an API route still gets the API's JSON 403."""
    client, _ = _field_staff(app, session)
    response = client.get("/api/messages", headers={"Accept": BROWSER_ACCEPT})
    assert response.status_code == 403 and response.mimetype == "application/json"
    assert response.get_json() == {"code": 403, "status": "Forbidden",
                                   "message": "the field_staff role may not do this"}


def test_forbidden_page_with_bearer_token_stays_json(
    client: FlaskClient, token_for: Callable[..., dict[str, str]]
) -> None:
    """An API client with a token on a page path reads JSON, never HTML."""
    response = client.get("/board", headers=token_for("field_staff"))
    assert response.status_code == 403 and response.get_json()["code"] == 403


def test_board_poll_asking_for_json_gets_json_403(app: Flask, session: so.Session) -> None:
    """board.js asks for JSON; a wrong role gets the JSON 403 the script can report."""
    client, _ = _field_staff(app, session)
    response = client.get("/board/data", headers={"Accept": "application/json"})
    assert response.status_code == 403 and response.mimetype == "application/json"
    assert response.get_json()["message"] == "the field_staff role may not do this"


def test_anonymous_on_a_page_still_goes_to_sign_in(app: Flask) -> None:
    """Not signed in: redirected to sign in, not shown the 403 page."""
    response = web_client(app).get("/board", headers={"Accept": BROWSER_ACCEPT})
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/sign-in")


def test_unknown_page_is_an_html_404(app: Flask, session: so.Session) -> None:
    """An unknown address outside the API is the NHS 'Page not found' page."""
    client, _ = _field_staff(app, session)
    response = client.get("/no-such-page")
    assert response.status_code == 404 and response.mimetype == "text/html"
    assert '<h1 class="nhsuk-heading-l">Page not found</h1>' in _main(response)


def test_unknown_page_for_anonymous_is_an_html_404(app: Flask) -> None:
    """No sign-in needed to be told a page does not exist (there is nothing to protect)."""
    response = web_client(app).get("/no-such-page")
    assert response.status_code == 404 and "Page not found" in _main(response)


def test_unknown_visit_reference_is_an_html_404(app: Flask, session: so.Session) -> None:
    """/visits/<unknown> answers the page, not JSON."""
    client, _ = _field_staff(app, session)
    response = client.get("/visits/nope")
    assert response.status_code == 404 and "Page not found" in _main(response)


def test_unknown_api_path_stays_json_404(app: Flask, session: so.Session) -> None:
    """The API keeps flask-smorest's JSON, even for a browser."""
    client, _ = _field_staff(app, session)
    response = client.get("/api/no-such-thing", headers={"Accept": BROWSER_ACCEPT})
    assert response.status_code == 404
    assert response.get_json() == {"code": 404, "status": "Not Found"}


def test_unknown_fhir_and_sms_paths_stay_json(client: FlaskClient) -> None:
    """The FHIR and SMS interfaces are machines' too."""
    for path in ("/fhir/Nothing", "/sms/nothing"):
        response = client.get(path, headers={"Accept": BROWSER_ACCEPT})
        assert response.status_code == 404 and response.mimetype == "application/json", path


def test_wrong_method_on_a_page_is_an_html_405_with_allow(
    app: Flask, session: so.Session
) -> None:
    """A POST to a read-only page: 405 page, still saying which methods are allowed."""
    client, _ = _field_staff(app, session)
    response = client.post("/home")
    assert response.status_code == 405 and response.mimetype == "text/html"
    assert "GET" in response.headers["Allow"]
    assert "Sorry, that cannot be done here" in _main(response)


def test_too_large_form_is_an_html_413(app: Flask, session: so.Session) -> None:
    """A form over the size limit is a 413 page, not JSON."""
    client = web_client(app)
    user = add_web_user(session, "call_handler")
    assert sign_in(client, user.username).status_code == 303
    response = client.post("/referrals/new", data={"notes": "x" * (2 * 1024 * 1024)})
    assert response.status_code == 413 and "What you sent is too large" in _main(response)


def test_server_error_on_a_page_hides_the_exception(app: Flask, session: so.Session) -> None:
    """A crash in a page view is the NHS 500 page with a reference to quote, and nothing of
    the exception (which may hold patient details)."""
    client, _ = _field_staff(app, session)

    def crash() -> str:
        raise RuntimeError(SECRET)

    app.config["PROPAGATE_EXCEPTIONS"] = False  # as in production; tests re-raise by default
    app.view_functions["web.home"] = crash
    response = client.get("/home", headers={"X-Request-Id": "req-123"})
    html = response.get_data(as_text=True)
    assert response.status_code == 500 and response.mimetype == "text/html"
    assert "Sorry, there is a problem with the service" in _main(response)
    assert "req-123" in _main(response)
    assert SECRET not in html and "RuntimeError" not in html and "Traceback" not in html


def test_server_error_on_the_api_stays_json(
    app: Flask, client: FlaskClient, token_for: Callable[..., dict[str, str]]
) -> None:
    """The same crash behind the API is flask-smorest's JSON 500, also without the text."""
    headers = token_for("coordinator")

    def crash() -> str:
        raise RuntimeError(SECRET)

    app.config["PROPAGATE_EXCEPTIONS"] = False
    app.view_functions["visits.Visits"] = crash
    response = client.get("/api/visits", headers=headers)
    assert response.status_code == 500
    assert response.get_json() == {"code": 500, "status": "Internal Server Error"}


def test_service_error_on_a_poll_asking_for_json_is_json(app: Flask, session: so.Session) -> None:
    """An unknown network on the board's poll: JSON the script can read; HTML for a browser."""
    client = web_client(app)
    user = add_web_user(session, role="coordinator")
    assert sign_in(client, user.username).status_code == 303

    polled = client.get("/board/data?network=999999", headers={"Accept": "application/json"})
    browsed = client.get("/board?network=999999", headers={"Accept": BROWSER_ACCEPT})

    assert polled.status_code == 404 and polled.mimetype == "application/json"
    assert "999999" in polled.get_json()["message"]
    assert browsed.status_code == 404 and browsed.mimetype == "text/html"
