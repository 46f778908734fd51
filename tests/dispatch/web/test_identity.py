"""Users from the identity provider (issue 18 part 2): role from the claims, account from the
issuer and subject, refreshed at every sign-in, disabled locally stays disabled."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient
from sqlalchemy import orm as so

from dispatch import ConfigurationError, create_app
from dispatch import models as m
from dispatch.services.identity import NO_ROLE, RoleMapping, sign_in_from_claims
from tests.dispatch import factories as f

ISSUER = "https://am.nhsidentity.spineservices.nhs.uk/openam/oauth2/realms/root/realms/oidc"
CIS2 = RoleMapping(claim="nhsid_nrbac_roles", field="role_code",
                   values={"S8000:G8000:R8001": "manager", "S8000:G8000:R8000": "coordinator"})


@pytest.mark.safety("H-063")
def test_role_mapping_reads_cis2_role_objects_first_listed_wins() -> None:
    claims = {"nhsid_nrbac_roles": [
        {"person_roleid": "1", "role_code": "S8000:G8000:R8000"},
        {"person_roleid": "2", "role_code": "S8000:G8000:R8001"},
    ]}
    assert CIS2.role_of(claims) == "manager"
    assert CIS2.role_of({"nhsid_nrbac_roles": [{"role_code": "S0:G0:R1"}]}) is None
    assert CIS2.role_of({}) is None
    # Unset map: the provider's values are our role names; space-separated strings work.
    assert RoleMapping().role_of({"roles": "staff call_handler"}) == "call_handler"


def test_role_mapping_refuses_roles_the_service_has_not() -> None:
    with pytest.raises(ValueError, match="names roles the service has not: \\['superuser'\\]"):
        RoleMapping(values={"R1": "superuser"})


@pytest.mark.parametrize(("role_map", "message"), [
    ("{not json", "DISPATCH_OIDC_ROLE_MAP is not valid JSON"),
    ('["coordinator"]', "DISPATCH_OIDC_ROLE_MAP must be a JSON object of strings"),
    ('{"R1": "root"}', "DISPATCH_OIDC_ROLE_MAP names roles the service has not"),
])
@pytest.mark.safety("H-063")
def test_a_bad_role_map_stops_start_up(role_map: str, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        create_app({"DATABASE_URL": "sqlite://", "OIDC_ISSUER": "http://127.0.0.1:9",
                    "OIDC_CLIENT_ID": "x", "OIDC_ROLE_MAP": role_map})


@pytest.mark.db
def test_sign_in_creates_then_refreshes_the_user(session: so.Session) -> None:
    claims = {"sub": "555123", "name": "Ann Smith", "preferred_username": "ann.smith",
              "nhsid_nrbac_roles": [{"role_code": "S8000:G8000:R8000"}]}
    first = sign_in_from_claims(session, issuer=ISSUER, claims=claims, mapping=CIS2, now=f.NOW)
    assert first.user is not None
    assert (first.user.username, first.user.role, first.user.password_hash) == (
        "ann.smith", "coordinator", None)
    promoted = {**claims, "name": "Ann Jones",
                "nhsid_nrbac_roles": [{"role_code": "S8000:G8000:R8001"}]}
    again = sign_in_from_claims(session, issuer=ISSUER, claims=promoted, mapping=CIS2, now=f.NOW)
    assert again.user is not None and again.user.id == first.user.id
    assert (again.user.role, again.user.display_name) == ("manager", "Ann Jones")
    actions = session.scalars(sa.select(m.AuditEvent.action).where(
        m.AuditEvent.entity_id == str(first.user.id)).order_by(m.AuditEvent.id)).all()
    assert actions == ["user_created_from_identity_provider", "sign_in",
                       "role_changed_by_identity_provider", "sign_in"]


@pytest.mark.db
@pytest.mark.safety("H-063")
def test_same_subject_at_another_issuer_is_another_user_and_names_do_not_collide(
    session: so.Session,
) -> None:
    claims = {"sub": "1", "preferred_username": "ann", "roles": ["coordinator"]}
    a = sign_in_from_claims(session, issuer=ISSUER, claims=claims, mapping=RoleMapping(),
                            now=f.NOW)
    b = sign_in_from_claims(session, issuer="https://other.example", claims=claims,
                            mapping=RoleMapping(), now=f.NOW)
    assert a.user is not None and b.user is not None and a.user.id != b.user.id
    assert (a.user.username, b.user.username) == ("ann", "ann-2")


@pytest.mark.db
@pytest.mark.safety("H-063")
def test_disabled_user_and_user_without_role_are_refused(session: so.Session) -> None:
    claims = {"sub": "9", "roles": ["coordinator"]}
    user = sign_in_from_claims(session, issuer=ISSUER, claims=claims, mapping=RoleMapping(),
                               now=f.NOW).user
    assert user is not None
    no_role = sign_in_from_claims(session, issuer=ISSUER, claims={"sub": "9", "roles": []},
                                  mapping=RoleMapping(), now=f.NOW)
    assert (no_role.user, no_role.message) == (None, NO_ROLE)
    user.active = False
    refused = sign_in_from_claims(session, issuer=ISSUER, claims=claims, mapping=RoleMapping(),
                                  now=f.NOW)
    assert refused.user is None and "disabled" in (refused.message or "")
    assert sign_in_from_claims(session, issuer=ISSUER, claims={"roles": ["coordinator"]},
                               mapping=RoleMapping(), now=f.NOW).user is None


def test_oidc_routes_are_404_when_not_configured(client: FlaskClient) -> None:
    assert client.get("/sign-in/oidc").status_code == 404
    assert client.get("/sign-in/oidc/callback?code=x&state=y").status_code == 404
    assert 'id="sign-in-oidc"' not in client.get("/sign-in").get_data(as_text=True)


FIELD = RoleMapping(claim="roles", values={"R8001": "field_staff", "R8013": "coordinator"},
                    staff_claim="employee_number")


def _staff_link_actions(session: so.Session, user_id: int) -> list[str]:
    return list(session.scalars(sa.select(m.AuditEvent.action).where(
        m.AuditEvent.entity_type == "user", m.AuditEvent.entity_id == str(user_id),
        m.AuditEvent.action.like("staff_%")).order_by(m.AuditEvent.id)))


@pytest.mark.safety("H-091")
def test_staff_claim_links_moves_and_removes_the_staff_record(session: so.Session) -> None:
    """Field staff signed in by the provider: the employee-number claim names their staff
    code. First sign-in links them; a new number moves the link; a token without the claim
    leaves it; a number no active member of staff has removes it. Each change is audited."""
    net = f.network(session)
    dana = f.staff(session, code="DN-0042", network_id=net.id)
    eve = f.staff(session, code="DN-0043", name="Nurse Two", phone="+447700900002",
                  network_id=net.id)
    claims = {"sub": "fran", "name": "Fran Field", "roles": ["R8001"],
              "employee_number": "DN-0042"}
    user = sign_in_from_claims(session, issuer=ISSUER, claims=claims, mapping=FIELD,
                               now=f.NOW).user
    assert user is not None and (user.role, user.staff_id) == ("field_staff", dana.id)
    moved = sign_in_from_claims(session, issuer=ISSUER, now=f.NOW, mapping=FIELD,
                                claims={**claims, "employee_number": "DN-0043"}).user
    assert moved is user and user.staff_id == eve.id
    without = {k: v for k, v in claims.items() if k != "employee_number"}
    assert sign_in_from_claims(session, issuer=ISSUER, claims=without, mapping=FIELD,
                               now=f.NOW).user is user
    assert user.staff_id == eve.id
    eve.active = False
    sign_in_from_claims(session, issuer=ISSUER, now=f.NOW, mapping=FIELD,
                        claims={**claims, "employee_number": "DN-0043"})
    assert user.staff_id is None
    assert _staff_link_actions(session, user.id) == [
        "staff_linked_by_identity_provider", "staff_linked_by_identity_provider",
        "staff_unlinked_by_identity_provider"]
    # Without the setting the claim is ignored.
    assert sign_in_from_claims(session, issuer=ISSUER, claims=claims, now=f.NOW,
                               mapping=CIS2).user is None  # (no role under CIS2's map)
    plain = RoleMapping(claim="roles", values={"R8001": "field_staff"})
    sign_in_from_claims(session, issuer=ISSUER, claims=claims, mapping=plain, now=f.NOW)
    assert user.staff_id is None


@pytest.mark.safety("H-091")
def test_staff_claim_never_links_one_record_to_two_accounts(session: so.Session) -> None:
    """A second provider account presenting the same employee number is not linked to a
    record another account holds (audited as refused); it signs in unlinked."""
    net = f.network(session)
    dana = f.staff(session, code="DN-0042", network_id=net.id)
    claims = {"sub": "fran", "roles": ["R8001"], "employee_number": "DN-0042"}
    first = sign_in_from_claims(session, issuer=ISSUER, claims=claims, mapping=FIELD,
                                now=f.NOW).user
    second = sign_in_from_claims(session, issuer=ISSUER, claims={**claims, "sub": "imposter"},
                                 mapping=FIELD, now=f.NOW).user
    assert first is not None and second is not None
    assert (first.staff_id, second.staff_id) == (dana.id, None)
    assert _staff_link_actions(session, second.id) == ["staff_link_refused"]
