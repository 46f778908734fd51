"""HTTP hardening shared by every response: headers, bounded path ids, redacted logs.

- Headers: ``Cache-Control: no-store`` on everything but static files; a
  Content-Security-Policy that allows only our own origin (the Swagger UI page
  additionally allows inline style attributes; its scripts are files of ours), no MIME
  sniffing, no framing, no referrer
  leakage, and HSTS when the service is reached over TLS.
- Path ids: ``<int:...>`` converters refuse numbers outside PostgreSQL's INTEGER range, so a
  huge id is a 404, not a database error.
- Logs: every record is created with NHS numbers and dates that look like dates of birth masked,
  in its message and its traceback, and access logs lose their query strings (patient search
  terms). SQL parameters never reach a log: the engine hides them (``dispatch.db``).
"""

from __future__ import annotations

import logging
import re
from typing import Any

from flask import Flask, request
from werkzeug.routing import IntegerConverter
from werkzeug.wrappers import Response

from dispatch import input_guard

MAX_ID = 2**31 - 1
CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
# The Swagger UI page (dispatch/templates/swagger_ui.html) has no inline script: it starts from
# static/swagger-init.js under the site's script policy. Swagger UI's React components still
# set style attributes, so that page alone allows inline styles.
CSP_DOCS = CSP.replace("style-src 'self'", "style-src 'self' 'unsafe-inline'")
DOCS_PATHS = ("/api/docs",)
# Static files may be cached; everything else (patient pages, API answers, the sign-in page)
# is ``Cache-Control: no-store``, so a shared or stolen computer keeps no copy of patient data
# in its browser cache and the back button after signing out shows nothing.
CACHEABLE_PATHS = ("/static/", "/assets/")


class BoundedIntConverter(IntegerConverter):
    """``<int:id>`` limited to 1..2**31-1 (database INTEGER ids)."""

    def __init__(self, map: Any, *args: Any, **kwargs: Any) -> None:  # noqa: A002
        kwargs.setdefault("min", 1)
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


def init_app(app: Flask) -> None:
    """Call before any blueprint is registered (the converter applies to routes added later)."""
    app.url_map.converters["int"] = BoundedIntConverter
    app.after_request(_headers)
    input_guard.init_app(app)  # NUL, lone surrogates, deep JSON: 4xx before any view
    app.config.setdefault("SESSION_COOKIE_HTTPONLY", True)
    app.config.setdefault("SESSION_COOKIE_SAMESITE", "Lax")
    if str(app.config.get("PUBLIC_BASE_URL", "")).startswith("https://"):
        app.config["SESSION_COOKIE_SECURE"] = True
    install_redaction()


def _headers(response: Response) -> Response:
    docs = request.path.startswith(DOCS_PATHS)
    response.headers.setdefault("Content-Security-Policy", CSP_DOCS if docs else CSP)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    if not request.path.startswith(CACHEABLE_PATHS):
        response.headers.setdefault("Cache-Control", "no-store")
    if request.is_secure or request.headers.get("X-Forwarded-Proto") == "https":
        response.headers.setdefault(
            "Strict-Transport-Security", "max-age=31536000; includeSubDomains"
        )
    return response


NHS_NUMBER = re.compile(r"(?<!\d)\d{3}[ -]?\d{3}[ -]?\d{4}(?!\d)")
DATE = re.compile(r"(?<!\d)(19|20)\d{2}-\d{2}-\d{2}(?![\dT:])")
# A request line's query string, as the dev server (werkzeug) logs it: "GET /path?a=b HTTP/1.1".
# (The dev server may wrap it in colour codes, hence no anchor on the quote.)
QUERY_STRING = re.compile(r"((?:GET|HEAD|POST|PUT|PATCH|DELETE|OPTIONS) [^\s?\"]*)\?[^\s\"\x1b]*")
ACCESS_LOGGERS = ("werkzeug", "gunicorn.access")


def redact(text: str) -> str:
    """Mask NHS-number-like digit runs and bare dates (possible dates of birth)."""
    return DATE.sub("<date>", NHS_NUMBER.sub("<nhs-number>", text))


def redact_query_strings(text: str) -> str:
    """Drop query strings from logged request lines: a search by surname or postcode is patient
    data (``GET /api/patients?family_name=...``)."""
    return QUERY_STRING.sub(r"\1?<query>", text)


_installed = False


def install_redaction() -> None:
    """Redact every log record at creation (a record factory), so no logger, child logger or
    handler added later can see the clear text: the message, the traceback (formatted once
    here and kept as ``exc_text``, which formatters use instead of formatting it again) and,
    for access logs, the query strings."""
    global _installed
    if _installed:
        return
    previous = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # a malformed format string: leave it for logging to report
            return record
        cleaned = redact(message)
        if record.name in ACCESS_LOGGERS:
            cleaned = redact_query_strings(cleaned)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info and record.exc_info[0] is not None:
            record.exc_text = redact(_FORMATTER.formatException(record.exc_info))
        return record

    logging.setLogRecordFactory(factory)
    _installed = True


_FORMATTER = logging.Formatter()
