"""Errors as JSON, in flask-smorest's one shape ``{code, status, message, errors}``.

The API package registers these handlers; the sign-in, permission and page code use
:func:`error_body` for their own JSON answers. Kept apart from ``dispatch.api`` so that code
outside the API (``dispatch.auth``, ``dispatch.webauth``, ``dispatch.error_pages``) answers in
the same shape without importing the API package and its views.
"""

from __future__ import annotations

from typing import Any

from flask import jsonify
from flask.typing import ResponseReturnValue
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.http import HTTP_STATUS_CODES

from dispatch.errors import DispatchError


def error_body(status: int, message: str, errors: dict[str, Any] | None = None) -> dict[str, Any]:
    """flask-smorest's error shape, ``{code, status, message, errors}``, for our own errors."""
    body: dict[str, Any] = {
        "code": status,
        "status": HTTP_STATUS_CODES.get(status, "Error"),
        "message": message,
    }
    if errors:
        body["errors"] = errors
    return body


def handle_dispatch_error(exc: DispatchError) -> ResponseReturnValue:
    """Map a service error to its HTTP code (404, 409, 422...) in the common shape."""
    return jsonify(error_body(exc.status, exc.message, exc.errors or None)), exc.status


def handle_stale_data(_exc: StaleDataError) -> ResponseReturnValue:
    """A versioned row (a visit) changed under a concurrent request: 409, never a 500.

    Services turn the loser's explicit flush into a Conflict, but an autoflush inside a service
    (any query after a change) raises StaleDataError directly.
    """
    return jsonify(error_body(409, "this record was changed by someone else at the same time; "
                                   "reload it and try again")), 409
