"""The HTTP API (flask-smorest): one blueprint per resource, errors in one JSON shape."""

from __future__ import annotations

from typing import Any

from flask import Flask, jsonify
from flask.typing import ResponseReturnValue
from flask_smorest import Api
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.http import HTTP_STATUS_CODES

from dispatch.errors import DispatchError

api = Api()


def init_api(app: Flask) -> None:
    """Bind the API to ``app``, register every blueprint and the domain-error handler."""
    api.init_app(app)
    from dispatch.api import (
        fhir,
        health,
        kpis,
        messages,
        packages,
        patients,
        plans,
        referrals,
        sms,
        staff,
        visits,
    )

    for module in (health, referrals, patients, visits, staff, plans, messages, sms, fhir,
                   packages, kpis):
        api.register_blueprint(module.blp)
    app.register_error_handler(DispatchError, handle_dispatch_error)
    app.register_error_handler(StaleDataError, handle_stale_data)


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
