"""How the processes log: readable lines by default, one JSON object per line when
``DISPATCH_LOG_FORMAT=json`` (for a log shipper), each with the request's id when there is one.

Why here and not in each command: the web app under gunicorn (``wsgi.py``), ``dispatch serve``
and ``dispatch scheduler`` must log the same way. Patient data never reaches a log line: the
record factory of :mod:`dispatch.security` redacts NHS numbers, dates and query strings when a
record is created, before any formatter here sees it, and SQL parameters are hidden by the
engine (``hide_parameters``).
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any, Final

FORMATS: Final = ("text", "json")
TEXT_FORMAT: Final = "%(asctime)s %(levelname)s %(name)s: %(message)s"
#: Loggers that are chatty at INFO: the job scheduler's per-run lines (every second) and the
#: twilio client's request dumps.
NOISY: Final = ("apscheduler", "twilio.http_client")
_MARK: Final = "_dispatch_handler"


class RequestIdFilter(logging.Filter):
    """Adds ``request_id`` to every record: the Flask request's id (``X-Request-Id`` or a new
    one, see :func:`dispatch.auth.request_id`), or ``None`` outside a request (jobs)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = _current_request_id()
        return True


def _current_request_id() -> str | None:
    try:
        from flask import g, has_request_context
    except ImportError:  # pragma: no cover - Flask is a dependency
        return None
    if not has_request_context():
        return None
    value = g.get("request_id")
    return str(value) if value else None


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC, ISO 8601), level, logger, message, request_id and,
    for an exception, its (already redacted) traceback."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None),
        }
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exception"] = record.exc_text
        return json.dumps(entry, ensure_ascii=False)


def configure(fmt: str | None = None, *, level: int = logging.INFO) -> None:
    """Install (or replace) our one handler on the root logger, in ``fmt`` (text or json).

    Idempotent: a second call replaces the handler it installed before, never adds another.
    :raise ValueError: an unknown format (the commands turn it into a clear message).
    """
    from dispatch.security import install_redaction

    fmt = (fmt or "text").strip().lower()
    if fmt not in FORMATS:
        raise ValueError(f"DISPATCH_LOG_FORMAT must be one of {', '.join(FORMATS)}, not {fmt!r}")
    install_redaction()
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, _MARK, False):
            root.removeHandler(handler)
    handler = logging.StreamHandler()
    setattr(handler, _MARK, True)
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(JsonFormatter() if fmt == "json" else logging.Formatter(TEXT_FORMAT))
    root.addHandler(handler)
    root.setLevel(level)
    for noisy in NOISY:
        logging.getLogger(noisy).setLevel(logging.WARNING)
