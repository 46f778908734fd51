"""The users' admin page makes accounts and switches them off and on (issue 14): a name, a
role, a coordinator's networks (or every network), field staff linked to their staff record;
every problem named at once with a 422; every change audited with the administrator; never
a password or a token in the audit trail or on the page."""

from __future__ import annotations

import json
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from sqlalchemy import orm as so

from dispatch import models as m
from tests.dispatch import factories as f
from tests.dispatch.web.test_web_day import office_client
from tests.dispatch.web.test_web_support import sign_in, web_client

GOOD = {"username": "sam.lee", "display_name": "Sam Lee", "role": "call_handler",
        "password": "correct horse battery"}


def _audit(session: so.Session, action: str) -> list[m.AuditEvent]:
    return list(session.scalars(sa.select(m.AuditEvent).where(m.AuditEvent.action == action)))


@pytest.mark.safety("H-102")
def test_admin_adds_a_call_handler_who_can_sign_in(app: Flask, session: so.Session) -> None:
    """The new user is listed, signs in with the first password, and the creation is audited
    with the administrator's name and no password; no API token is made."""
    client, admin = office_client(app, session, "admin")

    answer = client.post("/admin/users/new", data=GOOD)

    assert answer.status_code == 303, answer.get_data(as_text=True)
    listed = client.get("/admin/users").get_data(as_text=True)
    assert "Added Sam Lee (sam.lee, call handler)" in listed and 'id="user-sam.lee"' in listed
    user = session.scalar(sa.select(m.User).where(m.User.username == "sam.lee"))
    assert user is not None and user.role == "call_handler" and user.active
    assert session.scalar(sa.select(sa.func.count()).select_from(m.ApiToken).where(
        m.ApiToken.user_id == user.id)) == 0
    [event] = _audit(session, "user_created")
    assert event.username == admin.username and event.entity_id == str(user.id)
    assert "correct horse battery" not in json.dumps(event.details)
    assert sign_in(web_client(app), "sam.lee", "correct horse battery").status_code == 303


def test_a_coordinator_gets_the_networks_ticked(app: Flask, session: so.Session) -> None:
    """Two networks ticked: she runs those two (the first is her board's)."""
    north, south = f.network(session), f.network(session, code="KC-S", name="Kensington South")
    session.commit()
    client, _ = office_client(app, session, "admin")

    answer = client.post("/admin/users/new", data={
        **GOOD, "role": "coordinator", "networks": [str(south.id), str(north.id)]})

    assert answer.status_code == 303
    user = session.scalar(sa.select(m.User).where(m.User.username == "sam.lee"))
    assert user is not None and not user.all_networks and user.network_id == south.id
    assert set(session.scalars(sa.select(m.UserNetwork.network_id).where(
        m.UserNetwork.user_id == user.id))) == {north.id, south.id}
    assert _audit(session, "user_created")[0].details["networks"] == [south.id, north.id]


@pytest.mark.safety("H-102")
@pytest.mark.parametrize(("data", "field", "words"), [
    ({"username": "Sam Lee"}, "username", "lower-case letters"),
    ({"display_name": ""}, "display_name", "Enter their name"),
    ({"role": ""}, "role", "Choose a role"),
    ({"role": "coordinator"}, "networks", "Choose the networks they coordinate"),
    ({"role": "field_staff"}, "staff_id", "Choose the member of staff"),
    ({"password": "short"}, "password", "At least 12 characters"),
    ({"password": "sam.lee"}, "password", "At least 12"),
    ({"username": "sam.lee.longer", "password": "sam.lee.longer"}, "password",
     "Must not be the username"),
])
def test_bad_input_is_422_naming_the_field_and_nothing_is_made(
    app: Flask, session: so.Session, data: dict[str, Any], field: str, words: str,
) -> None:
    """Each problem links from the summary to its field; no user, no audit event."""
    client, _ = office_client(app, session, "admin")

    answer = client.post("/admin/users/new", data={**GOOD, **data})

    page = answer.get_data(as_text=True)
    assert answer.status_code == 422
    assert f'href="#{field}"' in page and words.lower() in page.lower()
    username = data.get("username", GOOD["username"])
    assert session.scalar(sa.select(m.User.id).where(m.User.username == username)) is None
    assert _audit(session, "user_created") == []
    assert 'value="short"' not in page and "correct horse battery" not in page


def test_a_taken_username_is_refused(app: Flask, session: so.Session) -> None:
    """The username of an existing account: 422 on the username, the first one untouched."""
    client, admin = office_client(app, session, "admin")

    answer = client.post("/admin/users/new", data={**GOOD, "username": admin.username})

    assert answer.status_code == 422
    assert "is taken" in answer.get_data(as_text=True)


@pytest.mark.safety("H-102")
def test_field_staff_are_linked_to_a_worker_without_an_account(
    app: Flask, session: so.Session,
) -> None:
    """The list offers workers without an account; the new account is that worker's, and
    the worker is no longer offered."""
    network = f.network(session)
    nurse = f.staff(session, code="dn1", name="Dee Nurse", network_id=network.id)
    session.commit()
    client, _ = office_client(app, session, "admin")
    assert "Dee Nurse (district nurse)" in client.get("/admin/users/new").get_data(as_text=True)

    answer = client.post("/admin/users/new", data={**GOOD, "role": "field_staff",
                                                   "staff_id": str(nurse.id)})

    assert answer.status_code == 303
    user = session.scalar(sa.select(m.User).where(m.User.username == "sam.lee"))
    assert user is not None and user.staff_id == nurse.id
    assert "Dee Nurse" not in client.get("/admin/users/new").get_data(as_text=True)


@pytest.mark.safety("H-102")
def test_disable_then_enable_an_account(app: Flask, session: so.Session) -> None:
    """Disabled: no sign-in and audited; enabled: signs in again, audited; an administrator
    cannot disable themselves."""
    client, admin = office_client(app, session, "admin")
    client.post("/admin/users/new", data=GOOD)
    user = session.scalar(sa.select(m.User).where(m.User.username == "sam.lee"))
    assert user is not None

    off = client.post(f"/admin/users/{user.id}/disable")
    assert off.status_code == 303
    assert "Disabled Sam Lee" in client.get("/admin/users").get_data(as_text=True)
    assert sign_in(web_client(app), "sam.lee", "correct horse battery").status_code != 303
    on = client.post(f"/admin/users/{user.id}/enable")
    assert on.status_code == 303
    assert sign_in(web_client(app), "sam.lee", "correct horse battery").status_code == 303
    assert [e.details["username"] for e in _audit(session, "user_disabled")] == ["sam.lee"]
    assert [e.username for e in _audit(session, "user_enabled")] == [admin.username]

    client.post(f"/admin/users/{admin.id}/disable")
    page = client.get("/admin/users").get_data(as_text=True)
    assert "You cannot disable your own account" in page
    session.expire_all()
    assert session.get(m.User, admin.id).active  # type: ignore[union-attr]


@pytest.mark.parametrize("role", ["coordinator", "manager", "call_handler"])
def test_only_administrators_add_users(app: Flask, session: so.Session, role: str) -> None:
    """Every other role is refused the form and the post."""
    client, _ = office_client(app, session, role)
    assert client.get("/admin/users/new").status_code == 403
    assert client.post("/admin/users/new", data=GOOD).status_code == 403
    assert session.scalar(sa.select(m.User.id).where(m.User.username == "sam.lee")) is None
