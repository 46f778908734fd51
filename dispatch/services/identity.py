"""Users signed in by an OpenID Connect identity provider (NHS CIS2 in production): the role
comes from the provider's claims, the account from its subject.

Why a local row at all: sessions, the audit trail, API tokens and the permission table all
hang off ``users.id``. The provider stays the source of truth: the display name and role are
refreshed from the claims at every sign-in, and a user the service has disabled locally stays
refused whatever the provider says. A provider account that maps to no role gets no access
(never a default role).

Field staff signing in this way are linked to their staff record (``users.staff_id``: what
their field page shows) in one of two ways:

- by a claim (``DISPATCH_OIDC_STAFF_CLAIM``, e.g. an employee number the provider issues),
  whose value is a staff code (``staff.code``): at every sign-in that presents the claim the
  link follows it (linked, moved, or removed when the code matches no active member of
  staff), audited; a token without the claim leaves the link as it is;
- by an administrator (``dispatch user link-staff NAME CODE``, :func:`link_staff`), audited.

A staff record is never linked to two accounts: a claim naming a record another account holds
is refused (audited, the account stays unlinked from it), as is the administrator's link.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm as so

from dispatch.actors import Actor
from dispatch.errors import Conflict, NotFound
from dispatch.models import Staff, User
from dispatch.models.vocab import USER_ROLES
from dispatch.services import audit

SIGN_IN_PURPOSE = "web sign-in"
NO_ROLE = (
    "Your account has no role in the dispatch service. Ask your registration authority or "
    "the service's administrator to give you one."
)
DISABLED = "Your account in the dispatch service is disabled. Ask the service's administrator."


@dataclass(frozen=True, slots=True)
class RoleMapping:
    """How the provider's claims give a role.

    ``claim``: the claim holding the roles (a string, or a list of strings or of objects);
    ``field``: for objects (CIS2's ``nhsid_nrbac_roles``), the field to read (``role_code``);
    ``values``: provider value -> our role, in order: the first listed that the user holds wins;
    ``staff_claim``: the claim whose value is the user's staff code (None: not linked by claim).
    """

    claim: str = "roles"
    field: str | None = None
    values: Mapping[str, str] | None = None
    staff_claim: str | None = None

    def __post_init__(self) -> None:
        unknown = sorted({r for r in (self.values or {}).values() if r not in USER_ROLES})
        if unknown:
            raise ValueError(f"OIDC_ROLE_MAP names roles the service has not: {unknown}; "
                             f"choose from {', '.join(USER_ROLES)}")

    def role_of(self, claims: Mapping[str, Any]) -> str | None:
        """The service role these claims give, or None."""
        held = set(_claim_values(claims.get(self.claim), self.field))
        mapping = self.values if self.values is not None else {r: r for r in USER_ROLES}
        for value, role in mapping.items():
            if value in held:
                return role
        return None


def _claim_values(raw: Any, field: str | None) -> Sequence[str]:
    if raw is None:
        return ()
    items = raw if isinstance(raw, list) else [raw]
    values: list[str] = []
    for item in items:
        if isinstance(item, Mapping):
            if field is not None and item.get(field) is not None:
                values.append(str(item[field]))
        elif isinstance(item, str):
            values.extend(part for part in item.split() if part)
    return values


@dataclass(frozen=True, slots=True)
class IdentityResult:
    user: User | None
    message: str | None = None


def sign_in_from_claims(
    session: so.Session, *, issuer: str, claims: Mapping[str, Any], mapping: RoleMapping,
    now: datetime,
) -> IdentityResult:
    """The local user for the provider's (issuer, subject), created or refreshed from the
    claims, with the sign-in audited; or why not. Stages the changes; the caller commits."""
    subject = str(claims.get("sub") or "")
    if not subject:
        return IdentityResult(None, "The identity provider did not say who you are (no subject).")
    role = mapping.role_of(claims)
    user = session.scalar(
        sa.select(User).where(User.identity_issuer == issuer, User.identity_subject == subject)
        .with_for_update())
    name = str(claims.get("name") or claims.get("preferred_username") or subject)[:120]
    if user is not None and not user.active:
        _audit(session, user, "sign_in_refused_disabled", now)
        return IdentityResult(None, DISABLED)
    if role is None:
        if user is not None:
            _audit(session, user, "sign_in_refused_no_role", now)
        return IdentityResult(None, NO_ROLE)
    if user is None:
        user = User(username=_free_username(session, claims, subject), display_name=name,
                    role=role, password_hash=None, identity_issuer=issuer,
                    identity_subject=subject, failed_logins=0, active=True)
        session.add(user)
        session.flush()
        _audit(session, user, "user_created_from_identity_provider", now, {"role": role})
    else:
        if user.role != role:
            _audit(session, user, "role_changed_by_identity_provider", now,
                   {"from": user.role, "to": role})
        user.role, user.display_name = role, name
    if mapping.staff_claim:
        _link_from_claim(session, user, claims.get(mapping.staff_claim), now)
    _audit(session, user, "sign_in", now, {"method": "oidc"})
    session.flush()
    return IdentityResult(user)


def _link_from_claim(session: so.Session, user: User, raw: Any, now: datetime) -> None:
    """Follow the staff claim's value (a staff code): link, move or remove the link."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return  # not presented: an administrator's link stands
    code = str(raw).strip()[:32]
    staff = session.scalar(sa.select(Staff).where(Staff.code == code, Staff.active.is_(True)))
    if staff is None:
        if user.staff_id is not None:
            _audit(session, user, "staff_unlinked_by_identity_provider", now,
                   {"from_staff_id": user.staff_id, "reason": "no active staff has the code"})
            user.staff_id = None
        return
    if user.staff_id == staff.id:
        return
    holder = _holder(session, staff.id, user.id)
    if holder is not None:
        _audit(session, user, "staff_link_refused", now,
               {"staff_id": staff.id, "held_by_user_id": holder})
        if user.staff_id is not None:  # the claim says it is no longer their record
            _audit(session, user, "staff_unlinked_by_identity_provider", now,
                   {"from_staff_id": user.staff_id, "reason": "claim names another record"})
            user.staff_id = None
        return
    _audit(session, user, "staff_linked_by_identity_provider", now,
           {"from_staff_id": user.staff_id, "staff_id": staff.id})
    user.staff_id = staff.id


def _holder(session: so.Session, staff_id: int, other_than: int) -> int | None:
    """Another account already linked to ``staff_id``, if any."""
    return session.scalar(sa.select(User.id).where(User.staff_id == staff_id,
                                                   User.id != other_than).limit(1))


def link_staff(session: so.Session, *, username: str, staff_code: str | None) -> int | None:
    """An administrator links ``username`` to the member of staff with ``staff_code`` (None:
    removes the link); returns the staff id linked. The caller audits and commits.

    :raise NotFound: no such user, or no active member of staff with that code.
    :raise Conflict: another account is linked to that member of staff.
    """
    user = session.scalar(sa.select(User).where(User.username == username).with_for_update())
    if user is None:
        raise NotFound(f"no user called {username!r}")
    if staff_code is None:
        user.staff_id = None
        session.flush()
        return None
    staff = session.scalar(sa.select(Staff).where(Staff.code == staff_code,
                                                  Staff.active.is_(True)))
    if staff is None:
        raise NotFound(f"no active member of staff has the code {staff_code!r}")
    holder = _holder(session, staff.id, user.id)
    if holder is not None:
        raise Conflict(f"staff {staff_code} is already linked to another account "
                       f"(user id {holder}): unlink that one first")
    user.staff_id = staff.id
    session.flush()
    return staff.id


def _free_username(session: so.Session, claims: Mapping[str, Any], subject: str) -> str:
    base = re.sub(r"[^a-z0-9._-]+", "-", str(
        claims.get("preferred_username") or claims.get("email") or subject).lower()).strip("-")
    base = (base or "user")[:70]
    candidate, n = base, 1
    while session.scalar(sa.select(User.id).where(User.username == candidate)) is not None:
        n += 1
        candidate = f"{base}-{n}"
    return candidate


def _audit(session: so.Session, user: User, action: str, now: datetime,
           details: dict[str, Any] | None = None) -> None:
    actor = Actor(user_id=user.id, username=user.username, role=user.role, staff_id=user.staff_id)
    audit.record(session, actor=actor, action=action, now=now, entity=("user", user.id),
                 purpose=SIGN_IN_PURPOSE, details=details or {})
