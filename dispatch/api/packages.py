"""``/api/packages`` and ``/api/tariff``: build, submit, decide, start and end care packages.

Approval limits per role come from the ``APPROVAL_LIMITS_PENCE`` setting (for example
``DISPATCH_APPROVAL_LIMITS_PENCE='{"coordinator": 500000, "manager": 2500000}'``), defaulting
to :data:`dispatch.services.packages.DEFAULT_APPROVAL_LIMITS_PENCE`; a person's own limit is
``User.approval_limit_pence``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import current_app
from flask.views import MethodView
from flask_smorest import Blueprint

from dispatch.api.schemas import (
    DecisionSchema,
    EndSchema,
    PackageCreateSchema,
    PackageQuerySchema,
    PackageSchema,
    PriceSchema,
    RejectSchema,
    TariffItemSchema,
    TariffQuerySchema,
)
from dispatch.auth import current_actor, request_id
from dispatch.db import get_session
from dispatch.jobs.wakeup import wake
from dispatch.models import CarePackage
from dispatch.request_clock import now
from dispatch.services import packages as service
from dispatch.services import tariffs

blp = Blueprint("packages", __name__, url_prefix="/api",
                description="Care packages priced from the tariff and approved within a threshold")


def _limits() -> Mapping[str, int]:
    return service.approval_limits(current_app.config.get("APPROVAL_LIMITS_PENCE"))


PURPOSE = "commission a care package"


def serialise(package: CarePackage) -> service.PackageView:
    """The package as :class:`PackageSchema` dumps it (read after the commit)."""
    return service.describe(get_session(), package, _limits())


@blp.route("/packages")
class Packages(MethodView):
    @blp.arguments(PackageCreateSchema)
    @blp.response(201, PackageSchema)
    @blp.alt_response(404, description="No such patient")
    def post(self, data: dict[str, Any]) -> Any:
        """Build a draft package; weekly and total costs are computed from the tariff in effect
        on the start date (never typed in)."""
        session = get_session()
        lines = [service.LineRequest(**line) for line in data["items"]]
        package = service.create_package(
            session, patient_id=data["patient_id"], start_date=data["start_date"],
            end_date=data["end_date"], lines=lines, actor=current_actor(), now=now(),
            request_id=request_id())
        session.commit()
        return serialise(package)

    @blp.arguments(PackageQuerySchema, location="query")
    @blp.response(200, PackageSchema(many=True))
    def get(self, query: dict[str, Any]) -> Any:
        """Packages, newest first, by status, patient and/or network (each read is audited)."""
        session = get_session()
        found = service.read_packages(
            session, actor=current_actor(), now=now(), purpose=PURPOSE,
            request_id=request_id(), status=query.get("status"),
            patient_id=query.get("patient_id"), network_id=query.get("network"),
            limit=query["limit"])
        session.commit()
        return [serialise(p) for p in found]


@blp.route("/packages/<int:package_id>")
class PackageById(MethodView):
    @blp.response(200, PackageSchema)
    @blp.alt_response(404, description="No such package")
    def get(self, package_id: int) -> Any:
        """One package with its lines and costs (audited: it is patient data)."""
        session = get_session()
        package = service.read_package(session, package_id, actor=current_actor(), now=now(),
                                       purpose=PURPOSE, request_id=request_id())
        session.commit()
        return serialise(package)


@blp.route("/packages/<int:package_id>/submit")
class SubmitPackage(MethodView):
    @blp.response(200, PackageSchema)
    @blp.alt_response(404, description="No such package")
    @blp.alt_response(409, description="Not a draft")
    def post(self, package_id: int) -> Any:
        """Submit a draft for approval: it waits for the lowest role whose limit covers it."""
        session = get_session()
        package = service.submit_package(session, package_id=package_id, actor=current_actor(),
                                         now=now(), limits=_limits(), request_id=request_id())
        session.commit()
        return serialise(package)


@blp.route("/packages/<int:package_id>/approve")
class ApprovePackage(MethodView):
    @blp.arguments(DecisionSchema)
    @blp.response(200, PackageSchema)
    @blp.alt_response(403, description="Above your approval limit (names the role it needs)")
    @blp.alt_response(404, description="No such package")
    @blp.alt_response(409, description="Not submitted")
    def post(self, data: dict[str, Any], package_id: int) -> Any:
        """Approve a submitted package within your approval limit (at the limit is within it).
        A refused attempt is audited too."""
        session = get_session()
        decision = service.approve_or_refuse(
            session, package_id=package_id, actor=current_actor(), now=now(), purpose=PURPOSE,
            limits=_limits(), note=data.get("note"), request_id=request_id())
        session.commit()  # the decision, or the refusal, stays in the audit trail
        return _decided(decision)


@blp.route("/packages/<int:package_id>/reject")
class RejectPackage(MethodView):
    @blp.arguments(RejectSchema)
    @blp.response(200, PackageSchema)
    @blp.alt_response(403, description="Above your approval limit (names the role it needs)")
    @blp.alt_response(404, description="No such package")
    @blp.alt_response(409, description="Not submitted")
    def post(self, data: dict[str, Any], package_id: int) -> Any:
        """Reject a submitted package, with a reason (at least 10 characters)."""
        session = get_session()
        decision = service.reject_or_refuse(
            session, package_id=package_id, actor=current_actor(), now=now(),
            reason=data["reason"], purpose=PURPOSE, limits=_limits(), request_id=request_id())
        session.commit()  # the decision, or the refusal, stays in the audit trail
        return _decided(decision)


def _decided(decision: service.Decision) -> service.PackageView:
    """The decided package; :raise Forbidden: the refusal (already committed to the audit
    trail)."""
    if decision.refused is not None:
        raise decision.refused
    assert decision.package is not None
    return serialise(decision.package)


@blp.route("/packages/<int:package_id>/activate")
class ActivatePackage(MethodView):
    @blp.response(200, PackageSchema)
    @blp.alt_response(404, description="No such package")
    @blp.alt_response(409, description="Not approved")
    def post(self, package_id: int) -> Any:
        """Start an approved package: its visits are created and handed to the planner."""
        session = get_session()
        visits = service.activate_package(session, package_id=package_id,
                                          actor=current_actor(), now=now(),
                                          request_id=request_id())
        session.commit()
        if visits:
            wake()  # place the new visits now, not at the next tick
        return serialise(service.get_package(session, package_id))


@blp.route("/packages/<int:package_id>/end")
class EndPackage(MethodView):
    @blp.arguments(EndSchema)
    @blp.response(200, PackageSchema)
    @blp.alt_response(404, description="No such package")
    @blp.alt_response(409, description="Not active or approved")
    def post(self, data: dict[str, Any], package_id: int) -> Any:
        """End a package; its visits not yet under way are cancelled."""
        session = get_session()
        package = service.end_package(session, package_id=package_id, actor=current_actor(),
                                      now=now(), reason=data.get("reason"),
                                      request_id=request_id())
        session.commit()
        return serialise(package)


@blp.route("/tariff")
class Tariff(MethodView):
    @blp.arguments(TariffQuerySchema, location="query")
    @blp.response(200, TariffItemSchema(many=True))
    def get(self, query: dict[str, Any]) -> Any:
        """The tariff in effect on a date (default today, London): unit costs in pence, and
        which items create visits (with the skills those need)."""
        on = query.get("on") or now().astimezone(tariffs.LONDON).date()
        return [tariffs.PricedItem(r) for r in tariffs.tariff_on(get_session(), on)]

    @blp.arguments(PriceSchema)
    @blp.response(201, TariffItemSchema)
    @blp.alt_response(409, description="A price already starts on or after that date")
    def post(self, data: dict[str, Any]) -> Any:
        """Set a price from a date (a new code needs a name and unit); the open price closes
        that day. Packages already priced keep their copied unit costs."""
        session = get_session()
        row = tariffs.set_price(session, actor=current_actor(), now=now(),
                                request_id=request_id(), **data)
        session.commit()
        return tariffs.PricedItem(row)
