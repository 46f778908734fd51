"""The HTTP API (flask-smorest): one blueprint per resource, errors in one JSON shape."""

from __future__ import annotations

from flask import Flask
from flask_smorest import Api
from sqlalchemy.orm.exc import StaleDataError

from dispatch.errors import DispatchError
from dispatch.http_errors import error_body, handle_dispatch_error, handle_stale_data

# error_body and the handlers live in dispatch.http_errors (so that auth and the pages need not
# import this package); re-exported here for the API's views.
__all__ = ["api", "error_body", "handle_dispatch_error", "handle_stale_data", "init_api"]

api = Api()


def init_api(app: Flask) -> None:
    """Bind the API to ``app``, register every blueprint and the domain-error handler."""
    api.init_app(app)
    from dispatch.api import (
        absences,
        budgets,
        capacity,
        care_plans,
        carers,
        conferences,
        consents,
        discharges,
        fhir,
        health,
        kpis,
        messages,
        network_contacts,
        onward,
        packages,
        patients,
        plans,
        practices,
        referrals,
        sms,
        staff,
        visits,
    )

    for module in (health, referrals, patients, visits, staff, plans, messages, sms, fhir,
                   packages, kpis, absences, capacity, budgets, network_contacts):
        api.register_blueprint(module.blp)
    api.register_blueprint(plans.networks_blp)
    # Integrated care around the person (issue 16).
    for blueprint in (practices.blp, practices.groups_blp, practices.coordinators_blp,
                      care_plans.blp, onward.blp, onward.tasks_blp, carers.blp,
                      discharges.blp, conferences.blp, consents.blp):
        api.register_blueprint(blueprint)
    app.register_error_handler(DispatchError, handle_dispatch_error)
    app.register_error_handler(StaleDataError, handle_stale_data)
