"""GP practices, registration, multidisciplinary groups and care coordinators (issue 16, 1)."""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import orm as so

from dispatch import models as m
from tests.dispatch import factories as f
from tests.dispatch.web.test_web_support import add_web_user, signed_in_client

Auth = Callable[..., dict[str, str]]


def _user(session: so.Session, username: str) -> m.User:
    user = session.scalar(sa.select(m.User).where(m.User.username == username))
    assert user is not None
    return user


def test_practice_created_with_ods_code_and_listed(
    client: FlaskClient, token_for: Auth, session: so.Session
) -> None:
    """A manager adds a practice (code in capitals); everyone in the office lists it."""
    network = f.network(session)
    session.commit()
    made = client.post("/api/practices", json={"ods_code": "e85001", "name": "Brook Green",
                                               "network_id": network.id},
                       headers=token_for("manager"))
    assert made.status_code == 201, made.json
    assert made.json["ods_code"] == "E85001"
    listed = client.get(f"/api/practices?network_id={network.id}",
                        headers=token_for("call_handler"))
    assert [p["name"] for p in listed.json] == ["Brook Green"]


def test_practice_bad_ods_code_422_and_duplicate_409(
    client: FlaskClient, token_for: Auth, session: so.Session
) -> None:
    """An ODS code that is not a letter and five digits names the field; a taken code is 409."""
    network = f.network(session)
    session.commit()
    headers = token_for("manager")
    bad = client.post("/api/practices", json={"ods_code": "123", "name": "X",
                                              "network_id": network.id}, headers=headers)
    assert bad.status_code == 422 and "ods_code" in bad.json["errors"]
    body = {"ods_code": "E85001", "name": "A", "network_id": network.id}
    assert client.post("/api/practices", json=body, headers=headers).status_code == 201
    assert client.post("/api/practices", json=body, headers=headers).status_code == 409


def test_patient_registered_with_practice_is_audited(
    client: FlaskClient, token_for: Auth, session: so.Session
) -> None:
    """Registration links the patient to the practice, updates the practice text, is audited."""
    network = f.network(session)
    practice = m.GpPractice(ods_code="E85001", name="Brook Green", network_id=network.id)
    patient = f.patient(session, network_id=network.id)
    session.add(practice)
    session.commit()
    answer = client.post(f"/api/practices/{practice.id}/registrations",
                         json={"patient_id": patient.id}, headers=token_for("coordinator"))
    assert answer.status_code == 201, answer.json
    session.expire_all()
    assert session.get(m.PracticeRegistration, patient.id).practice_id == practice.id
    assert session.get(m.Patient, patient.id).gp_practice == "Brook Green (E85001)"
    actions = session.scalars(sa.select(m.AuditEvent.action).where(
        m.AuditEvent.patient_id == patient.id))
    assert "register_patient_practice" in list(actions)


def test_group_with_members_by_role_and_mdg_manager(
    client: FlaskClient, token_for: Auth, session: so.Session
) -> None:
    """A group's members are listed by role; an MDG manager with an account manages it."""
    network = f.network(session)
    session.commit()
    headers = token_for("manager")
    manager_headers = token_for("coordinator", username="mdg-mo")
    del manager_headers
    group = client.post("/api/groups", json={"network_id": network.id, "name": "North MDG",
                                             "cadence": "monthly"}, headers=headers)
    assert group.status_code == 201, group.json
    gid = group.json["id"]
    mo = _user(session, "mdg-mo")
    for member in ({"name": "Dr Patel", "role": "gp", "organisation": "Brook Green"},
                   {"name": "Sam Social", "role": "social_worker"},
                   {"name": "Mo Manager", "role": "mdg_manager", "user_id": mo.id}):
        added = client.post(f"/api/groups/{gid}/members", json=member, headers=headers)
        assert added.status_code == 201, added.json
    read = client.get(f"/api/groups/{gid}", headers=token_for("call_handler"))
    assert [x["role"] for x in read.json["members"]] == ["gp", "social_worker", "mdg_manager"]
    assert read.json["manager_user_id"] == mo.id
    bad = client.post(f"/api/groups/{gid}/members", json={"name": "X", "role": "wizard"},
                      headers=headers)
    assert bad.status_code == 422


def test_coordinator_named_and_caseloads_counted(
    client: FlaskClient, token_for: Auth, session: so.Session
) -> None:
    """A coordinator is named for a top-tier patient; caseloads count by tier and the
    patients still without a coordinator are counted; the caseload read is audited."""
    coordinator_headers = token_for("coordinator", username="cora")
    cora = _user(session, "cora")
    joe = f.patient(session, risk_tier="very_high")
    f.patient(session, nhs_number="9000000009", risk_tier="high", given_name="Ann")
    session.commit()
    named = client.put(f"/api/patients/{joe.id}/coordinator",
                       json={"coordinator_user_id": cora.id}, headers=coordinator_headers)
    assert named.status_code == 200, named.json
    sizes = client.get("/api/coordinators/caseloads", headers=token_for("manager")).json
    mine = next(c for c in sizes["coordinators"] if c["username"] == "cora")
    assert mine["patients"] == 1 and mine["by_tier"] == {"very_high": 1}
    assert sizes["uncoordinated"] >= 1
    listed = client.get(f"/api/coordinators/{cora.id}/caseload", headers=coordinator_headers)
    assert [p["patient_id"] for p in listed.json] == [joe.id]
    assert session.scalar(sa.select(m.AuditEvent.id).where(
        m.AuditEvent.patient_id == joe.id, m.AuditEvent.action == "view_caseload")) is not None


def test_coordinator_must_have_coordinator_role(
    client: FlaskClient, token_for: Auth, session: so.Session
) -> None:
    """Only an active coordinator can be a patient's named care coordinator."""
    token_for("call_handler", username="hal")
    joe = f.patient(session)
    session.commit()
    answer = client.put(f"/api/patients/{joe.id}/coordinator",
                        json={"coordinator_user_id": _user(session, "hal").id},
                        headers=token_for("coordinator"))
    assert answer.status_code == 422 and "coordinator_user_id" in answer.json["errors"]


def test_practices_and_caseloads_pages(app: Flask, session: so.Session) -> None:
    """The practices page lists practices and group members; the caseloads page the sizes."""
    network = f.network(session)
    session.add(m.GpPractice(ods_code="E85001", name="Brook Green", network_id=network.id))
    group = m.MdGroup(network_id=network.id, name="North MDG", cadence="monthly")
    session.add(group)
    session.flush()
    session.add(m.MdGroupMember(group_id=group.id, name="Dr Patel", role="gp"))
    coordinator = add_web_user(session, "coordinator")
    joe = f.patient(session)
    session.add(m.CareCoordination(patient_id=joe.id, coordinator_user_id=coordinator.id,
                                   assigned_at=f.NOW, assigned_by="x"))
    session.commit()
    client = signed_in_client(app, session, "manager")
    page = client.get("/practices").get_data(as_text=True)
    assert "Brook Green" in page and "Dr Patel" in page and "North MDG" in page
    sizes = client.get("/caseloads").get_data(as_text=True)
    assert coordinator.display_name in sizes
