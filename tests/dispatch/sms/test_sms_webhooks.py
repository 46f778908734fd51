"""Twilio's webhooks (signature checked with twilio's RequestValidator) and the messages API:
replies act on the visit and are all stored; delivery reports update and escalate."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import orm as so
from twilio.request_validator import RequestValidator
from werkzeug.test import TestResponse

from dispatch.db import get_database
from dispatch.models import AuditEvent, Message
from dispatch.services import visit_actions as va
from tests.fakes.dispatch_world import BASE_URL, NOW, ON_CALL, World, make_world

TOKEN = "twilio-test-token"
OUR_NUMBER = "+447700900999"


@pytest.fixture
def world(app: Flask, session: so.Session) -> World:
    """Webhooks enabled, and visit 4821 offered to the nurse."""
    app.config.update(TWILIO_AUTH_TOKEN=TOKEN, PUBLIC_BASE_URL=BASE_URL)
    w = make_world(session)
    va.assign(session, visit=w.visit, staff=w.nurse, shift=None,
              planned_start=NOW + timedelta(minutes=20), now=NOW, base_url=BASE_URL)
    session.commit()
    return w


def signed_post(client: FlaskClient, path: str, form: dict[str, str], *, token: str = TOKEN,
                query: str = "") -> TestResponse:
    """POST ``form`` as Twilio would: signed over the public URL with the auth token."""
    target = path + (f"?{query}" if query else "")
    signature = RequestValidator(token).compute_signature(BASE_URL + target, form)
    return client.post(target, data=form, headers={"X-Twilio-Signature": signature})


def reply(client: FlaskClient, sender: str, body: str, sid: str | None = None) -> TestResponse:
    form = {"From": sender, "To": OUR_NUMBER, "Body": body, "AccountSid": "AC123",
            "MessageSid": sid or f"SMin{abs(hash((sender, body))) % 10**12}", "NumMedia": "0"}
    return signed_post(client, "/sms/inbound", form)


def _inbound(session: so.Session) -> list[Message]:
    session.expire_all()
    return list(session.scalars(sa.select(Message).where(
        Message.direction == "inbound").order_by(Message.id)))


def test_signed_accept_pins_the_visit(
    client: FlaskClient, session: so.Session, world: World
) -> None:
    """A correctly signed ACCEPT pins the visit, is stored, and the TwiML answer is stored."""
    response = reply(client, world.nurse.phone, "  Accept   4821 ")

    session.expire_all()
    assert response.status_code == 200 and response.mimetype == "application/xml"
    assert "<Message>Thanks, visit 4821 is yours (10:40-11:25 today)." in response.text
    assert world.visit.status == "accepted" and world.visit.pinned
    [stored] = _inbound(session)
    assert stored.status == "received" and stored.staff_id == world.nurse.id
    assert stored.visit_id == world.visit.id
    answer = session.scalar(sa.select(Message).where(
        Message.direction == "outbound", Message.status == "sent",
        Message.to_number == world.nurse.phone))
    assert answer is not None and answer.body.startswith("Thanks, visit 4821")


def test_bad_signature_is_refused(client: FlaskClient, session: so.Session,
                                  world: World) -> None:
    """A request not signed with our auth token is 403 and changes nothing."""
    form = {"From": world.nurse.phone, "To": OUR_NUMBER, "Body": "ACCEPT 4821"}

    response = signed_post(client, "/sms/inbound", form, token="someone-elses-token")

    session.expire_all()
    assert response.status_code == 403
    assert world.visit.status == "offered" and _inbound(session) == []


def test_unsigned_request_is_refused(client: FlaskClient, world: World) -> None:
    """No X-Twilio-Signature at all is 403."""
    response = client.post("/sms/inbound", data={"From": world.nurse.phone, "Body": "HELP"})

    assert response.status_code == 403


def test_webhooks_refused_without_an_auth_token(
    app: Flask, client: FlaskClient, world: World
) -> None:
    """With no Twilio auth token configured no signature can be checked: refuse everything."""
    app.config["TWILIO_AUTH_TOKEN"] = None

    response = reply(client, world.nurse.phone, "ACCEPT 4821")

    assert response.status_code == 403


def test_unknown_number_changes_nothing(
    client: FlaskClient, session: so.Session, world: World
) -> None:
    """A number that is not a worker's is told so; the reply is stored, the visit untouched."""
    response = reply(client, "+447700900555", "ACCEPT 4821")

    session.expire_all()
    assert "This number is not registered" in response.text
    assert world.visit.status == "offered"
    [stored] = _inbound(session)
    assert stored.staff_id is None and stored.visit_id is None


def test_foreign_reference_changes_nothing(
    client: FlaskClient, session: so.Session, world: World
) -> None:
    """Another worker's ACCEPT for this visit is refused with a clear answer."""
    response = reply(client, world.other.phone, "ACCEPT 4821")

    session.expire_all()
    assert "Visit 4821 is not offered to you. Nothing was changed." in response.text
    assert world.visit.status == "offered" and world.visit.assigned_staff_id == world.nurse.id
    assert len(_inbound(session)) == 1


def test_unknown_reference_is_answered(client: FlaskClient, world: World) -> None:
    """A reference that matches no visit is answered, not guessed."""
    response = reply(client, world.nurse.phone, "accept 9999")

    assert "No visit 9999 found" in response.text


def test_decline_frees_and_excludes(
    client: FlaskClient, session: so.Session, world: World
) -> None:
    """DECLINE with a reason returns the visit to unassigned and bars the worker."""
    response = reply(client, world.nurse.phone, "decline 4821 stuck in traffic")

    session.expire_all()
    assert "declined" in response.text
    assert world.visit.status == "unassigned"
    assert world.visit.excluded_staff_ids == [world.nurse.id]
    reason = session.scalar(sa.select(AuditEvent.details).where(
        AuditEvent.action == "decline_visit"))
    assert reason is not None and reason["reason"] == "stuck in traffic"


def test_accept_arrived_done_completes_the_visit(
    client: FlaskClient, session: so.Session, world: World
) -> None:
    """The whole worker loop by text: accept, arrive, done; every reply stored."""
    answers = [reply(client, world.nurse.phone, body).text
               for body in ("ACCEPT 4821", "arrived 4821", "Done 4821")]

    session.expire_all()
    assert "is yours" in answers[0] and "arrival recorded" in answers[1]
    assert "completed" in answers[2]
    assert world.visit.status == "completed" and world.visit.outcome == "visit_completed"
    assert world.referral.status == "completed"
    assert len(_inbound(session)) == 3


@pytest.mark.parametrize(("body", "expected"), [
    ("HELP", "reply ACCEPT <ref>"),
    ("what is this", "Sorry, we did not understand that."),
    ("ACCEPT", "Please include the visit reference, e.g. ACCEPT 4821."),
    ("DONE 4821", "No arrival is recorded for visit 4821; reply ARRIVED 4821 first."),
])
def test_replies_that_change_nothing(
    client: FlaskClient, session: so.Session, world: World, body: str, expected: str
) -> None:
    """Help, nonsense, a missing reference and an out-of-order DONE: answered, no change."""
    response = reply(client, world.nurse.phone, body)

    session.expire_all()
    assert expected in response.text.replace("&lt;", "<").replace("&gt;", ">")
    assert world.visit.status == "offered"


def test_stop_is_stored_and_escalated(
    client: FlaskClient, session: so.Session, world: World
) -> None:
    """STOP (Twilio's opt-out) answers nothing, and the on-call coordinator is alerted."""
    response = reply(client, world.nurse.phone, "STOP")

    session.expire_all()
    assert "<Message>" not in response.text
    alert = session.scalar(sa.select(Message).where(Message.to_number == ON_CALL))
    assert alert is not None and "worker S1 opted out of SMS" in alert.body
    assert session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "sms_opt_out"))


def test_redelivered_webhook_acts_once(
    client: FlaskClient, session: so.Session, world: World
) -> None:
    """Twilio may post the same reply twice (same MessageSid): it is stored and acted on once."""
    first = reply(client, world.nurse.phone, "DECLINE 4821", sid="SMdup1")
    second = reply(client, world.nurse.phone, "DECLINE 4821", sid="SMdup1")

    assert "declined" in first.text and "<Message>" not in second.text
    assert len(_inbound(session)) == 1


def _sent(session: so.Session, world: World, sid: str) -> Message:
    message = session.scalar(sa.select(Message).where(Message.staff_id == world.nurse.id))
    assert message is not None
    message.status, message.provider_sid, message.sent_at = "sent", sid, NOW
    session.commit()
    return message


def status_report(client: FlaskClient, sid: str, status: str, query: str = "",
                  error: str | None = None) -> TestResponse:
    form = {"MessageSid": sid, "MessageStatus": status, "AccountSid": "AC123"}
    if error:
        form["ErrorCode"] = error
    return signed_post(client, "/sms/status", form, query=query)


def test_status_callback_records_delivery(
    client: FlaskClient, session: so.Session, world: World
) -> None:
    """A delivery report moves sent -> delivered, and a late "sent" does not move it back."""
    message = _sent(session, world, "SMout1")

    first = status_report(client, "SMout1", "delivered")
    late = status_report(client, "SMout1", "sent")

    session.expire_all()
    assert (first.status_code, late.status_code) == (204, 204)
    assert message.status == "delivered"


def test_status_callback_undelivered_escalates(
    client: FlaskClient, session: so.Session, world: World
) -> None:
    """An undelivered report (30003 unreachable) is recorded and escalated to on-call."""
    message = _sent(session, world, "SMout2")

    status_report(client, "SMout2", "undelivered", error="30003")

    session.expire_all()
    assert message.status == "undelivered" and message.error_code == "30003"
    alert = session.scalar(sa.select(Message).where(Message.to_number == ON_CALL))
    assert alert is not None and "unreachable handset" in alert.body


def test_status_callback_recovers_a_lost_sid_by_send_key(
    client: FlaskClient, session: so.Session, world: World
) -> None:
    """A crash lost the sid; the report's callback URL carries the send key and settles it."""
    session.expire_all()
    message = session.scalar(sa.select(Message).where(Message.staff_id == world.nurse.id))
    assert message is not None
    message.status = "sending"
    session.commit()

    status_report(client, "SMlost", "delivered", query=f"key={message.send_key}")

    session.expire_all()
    assert message.provider_sid == "SMlost" and message.status == "delivered"


def test_status_callback_with_bad_signature_is_refused(
    client: FlaskClient, world: World
) -> None:
    """Delivery reports are signed too."""
    response = client.post("/sms/status", data={"MessageSid": "SMx", "MessageStatus": "failed"},
                           headers={"X-Twilio-Signature": "bogus"})

    assert response.status_code == 403


def test_messages_api_lists_a_visits_texts(
    client: FlaskClient, world: World, token_for: Callable[..., dict[str, str]]
) -> None:
    """The office sees what was sent about a visit, with the documented fields."""
    response = client.get(f"/api/messages?visit_id={world.visit.id}",
                          headers=token_for("coordinator"))

    assert response.status_code == 200 and response.json is not None
    [row] = response.json
    assert {"id", "direction", "to", "from", "body", "status", "visit_id", "staff_id",
            "created_at", "sent_at", "error"} <= set(row)
    assert row["to"] == world.nurse.phone and row["status"] == "pending"


def test_messages_api_refuses_field_staff(
    client: FlaskClient, world: World, token_for: Callable[..., dict[str, str]]
) -> None:
    """Field staff do not read the whole outbox."""
    response = client.get("/api/messages", headers=token_for("field_staff"))

    assert response.status_code == 403


def test_messages_api_rejects_unknown_status(
    client: FlaskClient, world: World, token_for: Callable[..., dict[str, str]]
) -> None:
    """A filter outside the vocabulary is a 422 naming the field."""
    response = client.get("/api/messages?status=lost", headers=token_for("manager"))

    assert response.status_code == 422 and "status" in str(response.json)


def test_messages_api_needs_sign_in(client: FlaskClient, world: World) -> None:
    """Anonymous callers get 401."""
    response = client.get("/api/messages")

    assert response.status_code == 401


def test_decline_by_text_replans_after_the_commit(
    app: Flask, client: FlaskClient, world: World
) -> None:
    """DECLINE triggers the app's planner hook at once, after the request committed."""
    calls: list[int | None] = []
    get_database(app).replan_hooks.append(calls.append)
    reply(client, world.nurse.phone, "DECLINE 4821 off sick")

    assert calls == [world.network.id]
