"""``/api/carers``: carers linked to patients, their assessments, and texts to them about a
visit (issue 16, item 3). Every read and write names a patient and is audited."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint

from dispatch.api import care_schemas as s
from dispatch.auth import current_actor, request_id
from dispatch.db import get_session
from dispatch.errors import NotFound
from dispatch.models import Visit
from dispatch.request_clock import now
from dispatch.services import carers as service
from dispatch.services import patients as patient_service

blp = Blueprint("carers", __name__, url_prefix="/api",
                description="Carers, carers' assessments and texts to carers about visits")
PURPOSE = "who cares for the patient"


def _link(data: dict[str, Any]) -> service.NewLink:
    return service.NewLink(relationship=data["relationship"],
                           lives_with_patient=data["lives_with_patient"],
                           next_of_kin=data["next_of_kin"],
                           consent_to_contact=data["consent_to_contact"])


@blp.route("/carers")
class Carers(MethodView):
    @blp.arguments(s.CarerQuerySchema, location="query")
    @blp.response(200, s.CarerSchema(many=True))
    def get(self, query: dict[str, Any]) -> Any:
        """The patient's carers, next of kin first; audited."""
        session = get_session()
        links = service.read_links(session, query["patient_id"], actor=current_actor(),
                                   now=now(), purpose=PURPOSE, request_id=request_id())
        session.commit()
        return [link.carer for link in links]

    @blp.arguments(s.CarerCreateSchema)
    @blp.response(201, s.CarerSchema)
    @blp.alt_response(404, description="No such patient")
    def post(self, data: dict[str, Any]) -> Any:
        """A new carer linked to a patient (relationship, lives with them, next of kin,
        consent to be contacted); audited."""
        session = get_session()
        patient = patient_service.get_patient(session, data["patient_id"])
        link = service.add_carer(session, patient=patient, name=data["name"], link=_link(data),
                                 phone=data.get("phone"), email=data.get("email"),
                                 actor=current_actor(), now=now(), request_id=request_id())
        session.commit()
        return link.carer


@blp.route("/carers/<int:carer_id>")
class CarerById(MethodView):
    @blp.response(200, s.CarerSchema)
    @blp.alt_response(404, description="No such carer")
    def get(self, carer_id: int) -> Any:
        """A carer and the patients they look after; audited per patient."""
        session = get_session()
        carer = service.read_carer(session, carer_id, actor=current_actor(), now=now(),
                                   purpose=PURPOSE, request_id=request_id())
        session.commit()
        return carer


@blp.route("/carers/<int:carer_id>/links")
class CarerLinks(MethodView):
    @blp.arguments(s.LinkCreateSchema)
    @blp.response(201, s.LinkSchema)
    @blp.alt_response(409, description="Already linked")
    def post(self, data: dict[str, Any], carer_id: int) -> Any:
        """Link the carer to another patient they look after; audited."""
        session = get_session()
        carer = service.get_carer(session, carer_id)
        patient = patient_service.get_patient(session, data["patient_id"])
        link = service.link_patient(session, carer=carer, patient=patient, link=_link(data),
                                    actor=current_actor(), now=now(), request_id=request_id())
        session.commit()
        return link


@blp.route("/carer-links/<int:link_id>/consent")
class CarerContactConsent(MethodView):
    @blp.arguments(s.ConsentChangeSchema)
    @blp.response(200, s.LinkSchema)
    def put(self, data: dict[str, Any], link_id: int) -> Any:
        """Record or withdraw the patient's consent to this carer being contacted; audited."""
        session = get_session()
        link = service.set_contact_consent(session, link=service.get_link(session, link_id),
                                           consent=data["consent_to_contact"],
                                           actor=current_actor(), now=now(),
                                           request_id=request_id())
        session.commit()
        return link


@blp.route("/carer-links/<int:link_id>/visit-texts")
class CarerVisitText(MethodView):
    @blp.arguments(s.VisitTextSchema)
    @blp.response(201, s.SentTextSchema)
    @blp.alt_response(403, description="The patient has not consented to contact")
    def post(self, data: dict[str, Any], link_id: int) -> Any:
        """Text the carer a visit's arrival window and reference (nothing clinical), only
        with the patient's consent; queued in the outbox; audited."""
        session = get_session()
        link = service.get_link(session, link_id)
        visit = session.get(Visit, data["visit_id"])
        if visit is None:
            raise NotFound(f"visit {data['visit_id']} not found")
        message = service.text_about_visit(session, link=link, visit=visit,
                                           actor=current_actor(), now=now(),
                                           request_id=request_id())
        session.commit()
        return message


@blp.route("/carers/<int:carer_id>/assessments")
class CarerAssessments(MethodView):
    @blp.response(200, s.AssessmentSchema(many=True))
    def get(self, carer_id: int) -> Any:
        """The carer's assessments, soonest due first; audited per cared-for patient."""
        session = get_session()
        carer = service.read_carer(session, carer_id, actor=current_actor(), now=now(),
                                   purpose="a carer's assessment", request_id=request_id())
        session.commit()
        return service.assessments_of(session, carer.id)

    @blp.arguments(s.AssessmentCreateSchema)
    @blp.response(201, s.AssessmentSchema)
    def post(self, data: dict[str, Any], carer_id: int) -> Any:
        """Arrange a carer's assessment due by a date; audited."""
        session = get_session()
        row = service.plan_assessment(session, carer=service.get_carer(session, carer_id),
                                      due=data["due"], actor=current_actor(), now=now(),
                                      request_id=request_id())
        session.commit()
        return row


@blp.route("/carer-assessments/<int:assessment_id>/done")
class CarerAssessmentDone(MethodView):
    @blp.arguments(s.AssessmentDoneSchema)
    @blp.response(200, s.AssessmentSchema)
    @blp.alt_response(409, description="Already recorded")
    def post(self, data: dict[str, Any], assessment_id: int) -> Any:
        """Record the assessment done, with its outcome and assessor; audited."""
        session = get_session()
        row = service.record_assessment(
            session, assessment=service.get_assessment(session, assessment_id),
            outcome=data["outcome"], assessor=data["assessor"], actor=current_actor(),
            now=now(), request_id=request_id())
        session.commit()
        return row
