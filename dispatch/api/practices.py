"""``/api/practices``, ``/api/groups`` and the care coordinators (issue 16, item 1).

Practices and groups carry no patient data; registering a patient, naming their coordinator
and reading a coordinator's caseload do, and are audited.
"""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint

from dispatch.api import care_schemas as s
from dispatch.auth import current_actor, request_id
from dispatch.db import get_session
from dispatch.request_clock import now
from dispatch.services import patients as patient_service
from dispatch.services import practices as service

blp = Blueprint("practices", __name__, url_prefix="/api/practices",
                description="GP practices and patients' registration")
groups_blp = Blueprint("groups", __name__, url_prefix="/api/groups",
                       description="Multidisciplinary groups (MDGs) of each network")
coordinators_blp = Blueprint("coordinators", __name__, url_prefix="/api",
                             description="Named care coordinators and their caseloads")


@blp.route("")
class Practices(MethodView):
    @blp.arguments(s.NetworkQuerySchema, location="query")
    @blp.response(200, s.PracticeSchema(many=True))
    def get(self, query: dict[str, Any]) -> Any:
        """Every GP practice (of one network with ``network_id``)."""
        return service.list_practices(get_session(), network_id=query.get("network_id"))

    @blp.arguments(s.PracticeCreateSchema)
    @blp.response(201, s.PracticeSchema)
    @blp.alt_response(409, description="A practice with this ODS code exists")
    def post(self, data: dict[str, Any]) -> Any:
        """Add a GP practice to a network."""
        session = get_session()
        practice = service.create_practice(session, actor=current_actor(), now=now(), **data)
        session.commit()
        return practice


@blp.route("/<int:practice_id>/registrations")
class Registrations(MethodView):
    @blp.arguments(s.RegistrationCreateSchema)
    @blp.response(201, s.RegistrationSchema)
    @blp.alt_response(404, description="No such practice or patient")
    def post(self, data: dict[str, Any], practice_id: int) -> Any:
        """Register a patient with this practice (moving them from another); audited."""
        session = get_session()
        patient = patient_service.get_patient(session, data["patient_id"])
        row = service.register_patient(session, patient=patient, practice_id=practice_id,
                                       actor=current_actor(), now=now())
        session.commit()
        return row


@groups_blp.route("")
class Groups(MethodView):
    @groups_blp.arguments(s.NetworkQuerySchema, location="query")
    @groups_blp.response(200, s.GroupSchema(many=True))
    def get(self, query: dict[str, Any]) -> Any:
        """Every multidisciplinary group, with its members (of one network with ``network_id``)."""
        return service.list_groups(get_session(), network_id=query.get("network_id"))

    @groups_blp.arguments(s.GroupCreateSchema)
    @groups_blp.response(201, s.GroupSchema)
    @groups_blp.alt_response(409, description="The network has a group of this name")
    def post(self, data: dict[str, Any]) -> Any:
        """Add a multidisciplinary group to a network, with its MDG manager (a user)."""
        session = get_session()
        group = service.create_group(session, actor=current_actor(), now=now(), **data)
        session.commit()
        return group


@groups_blp.route("/<int:group_id>")
class GroupById(MethodView):
    @groups_blp.response(200, s.GroupSchema)
    @groups_blp.alt_response(404, description="No such group")
    def get(self, group_id: int) -> Any:
        """One group and its members."""
        return service.get_group(get_session(), group_id)


@groups_blp.route("/<int:group_id>/members")
class GroupMembers(MethodView):
    @groups_blp.arguments(s.MemberCreateSchema)
    @groups_blp.response(201, s.MemberSchema)
    @groups_blp.alt_response(404, description="No such group")
    def post(self, data: dict[str, Any], group_id: int) -> Any:
        """Add a member by role (GP, nurse, social worker, consultant, mental health, MDG
        manager...); an MDG manager with a user account manages a group that has none."""
        session = get_session()
        member = service.add_member(session, group_id=group_id, actor=current_actor(),
                                    now=now(), **data)
        session.commit()
        return member


@coordinators_blp.route("/patients/<int:patient_id>/coordinator")
class PatientCoordinator(MethodView):
    @coordinators_blp.arguments(s.CoordinatorAssignSchema)
    @coordinators_blp.response(200, s.CoordinationSchema)
    @coordinators_blp.alt_response(404, description="No such patient")
    def put(self, data: dict[str, Any], patient_id: int) -> Any:
        """Name the patient's care coordinator (a user with the coordinator role); audited."""
        session = get_session()
        patient = patient_service.get_patient(session, patient_id)
        row = service.assign_coordinator(session, patient=patient, actor=current_actor(),
                                         now=now(), **data)
        session.commit()
        return row


@coordinators_blp.route("/coordinators/caseloads")
class Caseloads(MethodView):
    @coordinators_blp.arguments(s.NetworkQuerySchema, location="query")
    @coordinators_blp.response(200, s.CaseloadsSchema)
    def get(self, query: dict[str, Any]) -> Any:
        """Each coordinator's caseload by risk tier, and how many top-three-tier patients have
        no coordinator (numbers only, no patient identifiers)."""
        return service.network_caseloads(get_session(), network_id=query.get("network_id"))


@coordinators_blp.route("/coordinators/uncoordinated")
class Uncoordinated(MethodView):
    @coordinators_blp.arguments(s.NetworkQuerySchema, location="query")
    @coordinators_blp.response(200, s.CaseloadPatientSchema(many=True))
    def get(self, query: dict[str, Any]) -> Any:
        """Patients flagged for having no named care coordinator although their tier is one
        their network's coordinators own (the network's tier rules; by default the top three
        tiers), highest risk first (at most 200); each patient listed is audited."""
        session = get_session()
        rows = service.read_uncoordinated(session, actor=current_actor(), now=now(),
                                          network_id=query.get("network_id"),
                                          request_id=request_id())
        session.commit()
        return rows


@coordinators_blp.route("/coordinators/<int:user_id>/caseload")
class Caseload(MethodView):
    @coordinators_blp.response(200, s.CaseloadPatientSchema(many=True))
    def get(self, user_id: int) -> Any:
        """The coordinator's patients, highest risk first; each patient listed is audited."""
        session = get_session()
        rows = service.read_caseload(session, coordinator_user_id=user_id, actor=current_actor(),
                                     now=now(), request_id=request_id())
        session.commit()
        return rows
