"""Errors as people and programs need them: an NHS.UK page in a browser, JSON for machines.

One decision, :func:`wants_json`, picks the form. Machine interfaces (``/api/``, ``/fhir/``,
``/sms/``, ``/healthz``) always get JSON, exactly as flask-smorest writes it, and the FHIR
views keep answering their own OperationOutcomes. Any other path is a page: it gets an HTML
error page with the same status code, unless the caller asked for JSON (the board's and the
messages page's polling scripts send ``Accept: application/json`` so they can say the update
failed) or sent a bearer token (an API client, which never reads HTML).

The pages extend ``layout.html``: no inline scripts or styles, so the site-wide CSP holds. A
500 page never shows the exception; the traceback goes to the log with the request's
reference, which the page gives the user to quote.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Flask, g, render_template, request
from flask.typing import ResponseReturnValue
from markupsafe import escape
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from dispatch.http_errors import handle_stale_data

log = logging.getLogger(__name__)

# Machine clients live under these; everything else is a page a person opens in a browser.
API_PATH_PREFIXES = ("/api/", "/fhir/", "/sms/", "/healthz")
JSON_TYPES = ("application/json", "application/problem+json", "application/fhir+json")


@dataclass(frozen=True)
class PageText:
    """What an error page says: a heading and one plain-English explanation."""

    heading: str
    explanation: str


GENERIC = PageText("Sorry, there is a problem", "Go back to the page you came from and try again.")
SERVER_ERROR = PageText(
    "Sorry, there is a problem with the service",
    "Try again later. If you were saving something, check whether it was saved before you "
    "enter it again.",
)
PAGE_TEXT: dict[int, PageText] = {
    400: PageText("Sorry, there is a problem",
                  "The service could not understand that request. Go back, reload the page "
                  "and try again."),
    403: PageText("You do not have access to this page",
                  "This page is not open to you. If you need it for your work, ask an "
                  "administrator to check your role."),
    404: PageText("Page not found",
                  "If you typed the web address, check it is correct. If you pasted the web "
                  "address, check you copied the entire address. If you followed a link, the "
                  "record may no longer exist or may not be one you can see."),
    405: PageText("Sorry, that cannot be done here",
                  "This page cannot be used that way. Go back and use the page's own buttons "
                  "and links."),
    409: PageText("Sorry, someone else changed this at the same time",
                  "Reload the page to see the latest version, then try again."),
    413: PageText("What you sent is too large",
                  "The file or form was larger than the service accepts. Send something "
                  "smaller."),
    422: PageText("Sorry, there is a problem with what you entered",
                  "Go back, check what you entered and try again."),
    429: PageText("Too many attempts",
                  "Wait a few minutes, then try again."),
    500: SERVER_ERROR,
    502: SERVER_ERROR,
    503: PageText("Sorry, the service is unavailable", "Try again later."),
    504: SERVER_ERROR,
}


def page_text(status: int) -> PageText:
    """The heading and explanation for ``status`` (server errors share one wording)."""
    if status in PAGE_TEXT:
        return PAGE_TEXT[status]
    return SERVER_ERROR if status >= 500 else GENERIC


def is_api_path(path: str) -> bool:
    """True for the machine interfaces, which always answer errors as JSON."""
    return path.startswith(API_PATH_PREFIXES)


def wants_json() -> bool:
    """Should this request's error be JSON? API paths and bearer-token callers always; a page
    only when the caller prefers JSON to HTML (a ``fetch`` asking for ``application/json``).
    No Accept header, or a browser's, means HTML."""
    if is_api_path(request.path) or "Authorization" in request.headers:
        return True
    best = request.accept_mimetypes.best_match(("text/html", *JSON_TYPES))
    return best in JSON_TYPES


#: The JSON answer to an HTTPException (flask-smorest's ``Api.handle_http_exception``).
JsonHttpError = Callable[[HTTPException], ResponseReturnValue]


def init_app(app: Flask, *, json_http_error: JsonHttpError) -> None:
    """Register the page-or-JSON handlers; call after ``init_api`` (they replace
    flask-smorest's HTTPException handler and hand JSON requests back to ``json_http_error``,
    passed in so that this module need not import the API package)."""

    def http_error(exc: HTTPException) -> ResponseReturnValue:
        return _http_error(exc, json_http_error)

    app.register_error_handler(HTTPException, http_error)
    app.register_error_handler(StaleDataError, _stale_data)


def _http_error(exc: HTTPException, json_http_error: JsonHttpError) -> ResponseReturnValue:
    """Any abort(), unknown URL, wrong method, oversized body or unhandled exception (which
    Flask turns into an InternalServerError after logging its traceback)."""
    if exc.code is None or exc.code < 400:
        return exc  # a redirect raised as an exception is a response already
    if wants_json():
        return json_http_error(exc)
    headers = [(k, v) for k, v in exc.get_headers() if k.lower() != "content-type"]
    return error_page(exc.code, headers=headers)


def _stale_data(exc: StaleDataError) -> ResponseReturnValue:
    """A concurrent change to a versioned row: 409 (JSON for machines, a page for people)."""
    if wants_json():
        return handle_stale_data(exc)
    return error_page(409)


def forbidden_page(reason: str) -> ResponseReturnValue:
    """403 for a signed-in person on a page their role may not open: who they are signed in
    as, their role, and the way home. ``reason`` goes to the log, not the page."""
    log.info("page refused (403) %s %s: %s", request.method, request.path, reason)
    return _render(403, "errors/forbidden.html", text=page_text(403))


def error_page(status: int, *, headers: list[tuple[str, str]] | None = None
               ) -> ResponseReturnValue:
    """The NHS.UK error page for ``status``: our own wording, never an exception's text."""
    return _render(status, "errors/error.html", text=page_text(status), headers=headers)


def _render(status: int, template: str, *, headers: list[tuple[str, str]] | None = None,
            **context: Any) -> ResponseReturnValue:
    reference = str(g.get("request_id", "")) or None
    if status == 413:
        _forget_body()
    if status >= 500:
        log.error("error page %d for %s %s (reference %s)", status, request.method,
                  request.path, reference)
    try:
        body = render_template(template, status=status, reference=reference, **context)
    except Exception:  # the layout itself failed (say the database is down): plain words
        log.exception("could not render the %d error page; sending the plain one", status)
        body = _plain_page(page_text(status), reference)
    return Response(body, status=status, headers=headers or [], mimetype="text/html")


def _forget_body() -> None:
    """The body was refused for its size, and reading it again raises again: give the page's
    own forms (the header's sign-out button) an empty form instead, the way werkzeug caches
    a parsed body."""
    current = request._get_current_object()  # type: ignore[attr-defined]
    current.__dict__.update(form=ImmutableMultiDict(), files=ImmutableMultiDict())


def _plain_page(text: PageText, reference: str | None) -> str:
    # The reference may come from the caller's X-Request-Id header: escape it.
    quote = f"<p>Error reference: {escape(reference)}</p>" if reference else ""
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{text.heading}'
            f"</title></head><body><h1>{text.heading}</h1><p>{text.explanation}</p>{quote}"
            '<p><a href="/">Go to the start page</a></p></body></html>')
