"""The text messages page: the SMS outbox and inbox, newest first, filtered, paged by id,
refreshed by a JSON poll, with masked numbers, failures explained, the backend named, and
office-only access."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from sqlalchemy import orm as so

from dispatch import models as m
from dispatch.services.messages_view import PAGE_SIZE, MessageFilter, mask_phone
from tests.dispatch import factories as f
from tests.dispatch.web.test_web_day import office_client
from tests.dispatch.web.test_web_support import signed_in_client, web_client

WORKER_PHONE = "+447700900123"


@dataclass
class Texts:
    nurse: m.Staff
    visit: m.Visit
    offer: m.Message  # outbound, delivered
    reply: m.Message  # inbound from the nurse
    failed: m.Message  # outbound, failed with an error


def _message(session: so.Session, **kw: Any) -> m.Message:
    defaults: dict[str, Any] = {
        "direction": "outbound", "to_number": WORKER_PHONE, "status": "sent",
        "body": "Visit 4821 offered", "attempts": 1, "created_at": f.NOW, "updated_at": f.NOW,
    }
    row = m.Message(**{**defaults, **kw})
    session.add(row)
    session.flush()
    return row


def make_texts(session: so.Session) -> Texts:
    """A nurse, a visit, and three texts: an offer out, the nurse's reply, a failed text."""
    network = f.network(session)
    nurse = f.staff(session, network_id=network.id, phone=WORKER_PHONE, role="district_nurse")
    patient = f.patient(session, network_id=network.id)
    referral = f.referral(session, patient.id, network_id=network.id)
    visit = f.visit(session, referral.id, patient.id, network_id=network.id)
    offer = _message(session, staff_id=nurse.id, visit_id=visit.id, status="delivered",
                     body="New visit 4821 W12, 10:40-11:25. Reply ACCEPT 4821 or DECLINE 4821",
                     sent_at=f.NOW)
    reply = _message(session, direction="inbound", status="received", to_number="+447700900999",
                     from_number=WORKER_PHONE, body="ACCEPT 4821", staff_id=nurse.id,
                     visit_id=visit.id, created_at=f.NOW + timedelta(minutes=3))
    failed = _message(session, staff_id=nurse.id, visit_id=visit.id, status="failed",
                      body="Visit 4821 cancelled", error_code="21610", attempts=1,
                      error_message="recipient has opted out (replied STOP)",
                      created_at=f.NOW + timedelta(minutes=5))
    session.commit()
    return Texts(nurse, visit, offer, reply, failed)


def _rows(html: str) -> list[int]:
    """Message ids in the order the list shows them."""
    return [int(i) for i in re.findall(r'data-message="(\d+)"', html)]


def test_messages_page_lists_newest_first_with_worker_visit_and_status(
    app: Flask, session: so.Session
) -> None:
    """Each text shows time, direction, the worker's name and role, the visit reference, the
    body and the status; newest first; no full number and no patient details anywhere."""
    texts = make_texts(session)
    client, _ = office_client(app, session, "coordinator")
    response = client.get("/messages")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert _rows(html) == [texts.failed.id, texts.reply.id, texts.offer.id]
    row = html[html.index(f'data-message="{texts.offer.id}"'):]
    row = row[:row.index("</tr>")]
    assert "Nurse One" in row and "district nurse" in row
    assert ">4821<" in row and "Reply ACCEPT 4821" in row and "Delivered" in row
    assert f'href="/board/visits/{texts.visit.id}"' in row
    assert "09:00" in row and ">Out<" in row
    assert ">In<" in html and "ACCEPT 4821" in html
    assert WORKER_PHONE not in html and "7700900123" not in html
    assert "●●● 123" in html
    assert "Joe" not in html and "Bloggs" not in html and "1 Wood Lane" not in html


def test_messages_page_shows_london_time(app: Flask, session: so.Session) -> None:
    """A summer text (BST) shows its London wall-clock time, an hour after UTC."""
    _message(session, created_at=datetime(2026, 7, 1, 9, 0, tzinfo=UTC))
    session.commit()
    client, _ = office_client(app, session, "manager")
    html = client.get("/messages").get_data(as_text=True)
    assert ">Wed 10:00<" in html
    assert 'datetime="2026-07-01T09:00:00+00:00"' in html


def test_messages_page_failed_text_shows_its_error(app: Flask, session: so.Session) -> None:
    """A failed text says why (provider code and reason), next to its Failed status."""
    texts = make_texts(session)
    client, _ = office_client(app, session, "coordinator")
    html = client.get("/messages").get_data(as_text=True)
    row = html[html.index(f'data-message="{texts.failed.id}"'):]
    row = row[:row.index("</tr>")]
    assert "Failed" in row and "nhsuk-tag--red" in row
    assert "21610 recipient has opted out (replied STOP)" in row
    delivered = html[html.index(f'data-message="{texts.offer.id}"'):]
    assert "data-error" not in delivered[:delivered.index("</tr>")]


def test_messages_page_pending_retry_shows_last_error(app: Flask, session: so.Session) -> None:
    """A text waiting for a retry shows the transient error that held it back."""
    _message(session, status="pending", error_code="429", error_message="too many requests",
             attempts=2)
    session.commit()
    client, _ = office_client(app, session, "coordinator")
    html = client.get("/messages").get_data(as_text=True)
    assert "Will retry after: 429 too many requests" in html and "2 attempts" in html


@pytest.mark.parametrize(("query", "expected"), [
    ("direction=out", ["failed", "offer"]),
    ("direction=in", ["reply"]),
    ("direction=inbound", ["reply"]),
    ("status=failed", ["failed"]),
    ("direction=out&status=delivered", ["offer"]),
    ("direction=&status=", ["failed", "reply", "offer"]),
])
def test_messages_page_filters(
    app: Flask, session: so.Session, query: str, expected: list[str]
) -> None:
    """Direction (out/in) and status narrow the list; blank means any."""
    texts = make_texts(session)
    client, _ = office_client(app, session, "admin")
    html = client.get(f"/messages?{query}").get_data(as_text=True)
    assert _rows(html) == [getattr(texts, name).id for name in expected]


def test_messages_page_filter_with_no_match_says_so(app: Flask, session: so.Session) -> None:
    """An empty result is a sentence, not an empty table."""
    make_texts(session)
    client, _ = office_client(app, session, "coordinator")
    html = client.get("/messages?status=sending").get_data(as_text=True)
    assert 'id="messages"' in html and "No texts match this filter yet." in html
    assert 'data-message="' not in html


def test_messages_page_pages_backwards_by_id(app: Flask, session: so.Session) -> None:
    """A full page links to older texts (``before`` = its last id, filter kept); the last page
    links back to the newest and has no Older link."""
    ids = [_message(session, body=f"Visit {n}", created_at=f.NOW + timedelta(seconds=n)).id
           for n in range(PAGE_SIZE + 5)]
    _message(session, direction="inbound", status="received", from_number=WORKER_PHONE,
             body="HELP")
    session.commit()
    client, _ = office_client(app, session, "coordinator")
    first = client.get("/messages?direction=out").get_data(as_text=True)
    assert _rows(first) == ids[::-1][:PAGE_SIZE]
    older = re.search(r'href="([^"]+)"[^>]*id="older"', first)
    assert older is not None
    link = older.group(1).replace("&amp;", "&")
    assert f"before={ids[5]}" in link and "direction=out" in link
    second = client.get(link).get_data(as_text=True)
    assert _rows(second) == ids[::-1][PAGE_SIZE:]
    assert 'id="older"' not in second and 'id="newest"' in second


def test_messages_page_before_past_the_end(app: Flask, session: so.Session) -> None:
    """``before`` the oldest text: an empty page that says there is nothing older."""
    texts = make_texts(session)
    client, _ = office_client(app, session, "coordinator")
    html = client.get(f"/messages?before={texts.offer.id}").get_data(as_text=True)
    assert _rows(html) == [] and "No older texts." in html


def test_messages_data_poll_returns_json_and_list_html(app: Flask, session: so.Session) -> None:
    """The poll gives the same page as data (masked numbers, worker, error) and the list as
    HTML for the script; it honours the filter."""
    texts = make_texts(session)
    client, _ = office_client(app, session, "coordinator")
    response = client.get("/messages/data")
    data = response.get_json()
    assert response.status_code == 200
    assert [x["id"] for x in data["messages"]] == [texts.failed.id, texts.reply.id,
                                                   texts.offer.id]
    assert data["newest_id"] == texts.failed.id and data["older_than"] is None
    failed = data["messages"][0]
    assert failed["status"] == "failed" and failed["error"].startswith("21610")
    assert failed["staff"] == {"name": "Nurse One", "role": "district_nurse"}
    assert failed["visit_reference"] == "4821" and failed["phone"] == "●●● 123"
    assert data["as_of"] == "2026-12-01T10:20:00+00:00"
    assert f'data-message="{texts.reply.id}"' in data["html"]["list"]
    assert WORKER_PHONE not in response.get_data(as_text=True)
    inbound = client.get("/messages/data?direction=in").get_json()
    assert [x["id"] for x in inbound["messages"]] == [texts.reply.id]


def test_messages_data_sees_a_new_text(app: Flask, session: so.Session) -> None:
    """A text written after the page loaded is in the next poll, at the top."""
    texts = make_texts(session)
    client, _ = office_client(app, session, "coordinator")
    assert client.get("/messages/data").get_json()["newest_id"] == texts.failed.id
    new = _message(session, body="Visit 9999 offered", created_at=f.NOW + timedelta(minutes=9))
    session.commit()
    data = client.get("/messages/data").get_json()
    assert data["newest_id"] == new.id and "Visit 9999 offered" in data["html"]["list"]


@pytest.mark.parametrize(("query", "field"), [
    ("before=abc", "before"),
    ("before=0", "before"),
    ("before=-3", "before"),
    ("before=99999999999", "before"),
    ("direction=sideways", "direction"),
    ("status=lost", "status"),
])
def test_messages_bad_query_is_422(
    app: Flask, session: so.Session, query: str, field: str
) -> None:
    """A value the page does not know is a 422 naming the field: an error summary on the page,
    the API's error shape from the poll; never a 500."""
    client, _ = office_client(app, session, "coordinator")
    page = client.get(f"/messages?{query}")
    assert page.status_code == 422
    html = page.get_data(as_text=True)
    assert "There is a problem" in html and f'href="#{field}"' in html
    poll = client.get(f"/messages/data?{query}")
    assert poll.status_code == 422
    body = poll.get_json()
    assert body["code"] == 422 and list(body["errors"]) == [field]
    assert field in body["message"]


@pytest.mark.parametrize("role", ["field_staff", "call_handler"])
def test_messages_refused_to_roles_outside_the_office_rule(
    app: Flask, session: so.Session, role: str
) -> None:
    """Field staff (and call handlers, by the permission table's reasoning) get 403."""
    client = signed_in_client(app, session, role)
    assert client.get("/messages").status_code == 403
    assert client.get("/messages/data").status_code == 403


@pytest.mark.parametrize("path", ["/messages", "/messages/data?direction=out"])
def test_messages_anonymous_goes_to_sign_in(app: Flask, path: str) -> None:
    """Not signed in: to the sign-in page, coming back here afterwards."""
    response = web_client(app).get(path)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/sign-in")
    assert "next=" in response.headers["Location"]


def test_messages_page_says_local_outbox_without_twilio(app: Flask, session: so.Session) -> None:
    """No Twilio credentials: the page is marked as the local outbox (texts not sent)."""
    client, _ = office_client(app, session, "coordinator")
    html = client.get("/messages").get_data(as_text=True)
    assert 'data-sms-backend="local"' in html and "Local outbox" in html
    assert "Sent through Twilio" not in html


def test_messages_page_says_twilio_with_credentials(app: Flask, session: so.Session) -> None:
    """Twilio configured (sid, token, sender): the page says texts go through Twilio."""
    app.config.update(TWILIO_ACCOUNT_SID="AC" + "0" * 32, TWILIO_AUTH_TOKEN="secret",
                      TWILIO_FROM="+447700900000")
    client, _ = office_client(app, session, "coordinator")
    html = client.get("/messages").get_data(as_text=True)
    assert 'data-sms-backend="twilio"' in html and "Sent through Twilio" in html
    assert "Local outbox" not in html


def test_messages_page_view_is_audited_once_poll_is_not(app: Flask, session: so.Session) -> None:
    """Opening the page writes one audit event (no patient); the five-second polls write none."""
    make_texts(session)
    client, user = office_client(app, session, "coordinator")
    client.get("/messages?direction=out")
    client.get("/messages/data?direction=out")
    client.get("/messages/data")
    events = session.scalars(sa.select(m.AuditEvent).where(
        m.AuditEvent.user_id == user.id, m.AuditEvent.action == "view_messages")).all()
    assert len(events) == 1
    assert events[0].patient_id is None and events[0].details["direction"] == "out"


def test_messages_page_polls_with_an_external_script(app: Flask, session: so.Session) -> None:
    """The refresh script is a file from our origin (CSP: no inline scripts, handlers or
    styles); the poll URL carries the filter; a Refresh link works without JavaScript."""
    make_texts(session)
    client, _ = office_client(app, session, "coordinator")
    response = client.get("/messages?status=failed")
    html = response.get_data(as_text=True)
    assert '<script src="/static/messages.js" defer></script>' in html
    assert 'data-messages-poll="/messages/data?status=failed"' in html
    assert 'data-messages-interval="5"' in html and 'id="refresh"' in html
    assert re.search(r"\son[a-z]+=", html) is None
    assert "style=" not in html.split("<main", 1)[1]
    assert "script-src 'self' 'nonce-" in response.headers["Content-Security-Policy"]
    script = client.get("/static/messages.js")
    script.close()  # a file response: release the open file
    assert script.status_code == 200


def test_messages_linked_from_navigation_and_home(app: Flask, session: so.Session) -> None:
    """Roles that may open the page see it in the header and on the home page; others do not."""
    coordinator, _ = office_client(app, session, "coordinator")
    home = coordinator.get("/home").get_data(as_text=True)
    assert home.count('href="/messages"') == 2  # header navigation and the home card
    handler = signed_in_client(app, session, "call_handler")
    assert 'href="/messages"' not in handler.get("/home").get_data(as_text=True)


@pytest.mark.parametrize(("number", "shown"), [
    ("+447700900123", "●●● 123"),
    ("07700 900 456", "●●● 456"),
    ("1234", "●●● 234"),
    ("123", "●●●"),
    ("", ""),
    (None, ""),
])
def test_mask_phone_keeps_only_last_three_digits(number: str | None, shown: str) -> None:
    """Only the last three digits survive; too short a number shows none."""
    assert mask_phone(number) == shown


def test_message_filter_rejects_unknown_values() -> None:
    """The service's filter refuses values the database cannot hold (a bug, not user input)."""
    with pytest.raises(ValueError, match="direction"):
        MessageFilter(direction="out")
    with pytest.raises(ValueError, match="before"):
        MessageFilter(before=0)
