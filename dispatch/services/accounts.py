"""Accounts made and switched off by an administrator on the users' page (issue 14).

``dispatch user add`` stays for API users (it prints the one copy of a token); the page makes
people who sign in on the web: a username, their name, a role, for a coordinator the networks
they run (or every network), for field staff the member of staff they are, and a first
password the administrator hands over. No API token is issued from the page (a page should
never show a secret it cannot show again). Every creation, disabling and re-enabling is
audited in the same transaction, with the administrator, never the password.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Final

import sqlalchemy as sa
from sqlalchemy import orm as so

from dispatch.actors import Actor
from dispatch.errors import Conflict, InvalidInput, NotFound
from dispatch.models import Network, Staff, User
from dispatch.models.vocab import USER_ROLES
from dispatch.services import audit
from dispatch.services.users import add_user, disable_user

PURPOSE: Final = "account administration"
#: NCSC: length beats complexity rules; 12 characters, the same as three random words.
MIN_PASSWORD: Final = 12
USERNAME: Final = re.compile(r"^[a-z0-9][a-z0-9._-]{2,39}$")
FIELD_ROLES: Final = ("district_nurse", "hybrid_worker", "therapist", "social_worker")


@dataclass(frozen=True)
class AccountRequest:
    """What the page asked for (already parsed; checked by :func:`create_account`)."""

    username: str
    display_name: str
    role: str
    password: str
    network_ids: Sequence[int] = ()
    all_networks: bool = False
    staff_id: int | None = None


def create_account(session: so.Session, *, request: AccountRequest, actor: Actor,
                   now: datetime) -> User:
    """Create a web user as :data:`request` says, audited as ``user_created``.

    :raise InvalidInput: per field (``username``, ``display_name``, ``role``, ``network``,
        ``staff_id``, ``password``), every problem at once.
    :raise Conflict: the username is taken (field ``username`` in the message).
    """
    errors = _problems(session, request)
    if errors:
        raise InvalidInput("invalid user", errors=errors)
    if session.scalar(sa.select(User.id).where(User.username == request.username)) is not None:
        raise Conflict(f"the username {request.username} is taken: choose another")
    coordinator = request.role == "coordinator"
    created = add_user(
        session, username=request.username, role=request.role, now=now,
        display_name=request.display_name, password=request.password,
        staff_id=request.staff_id if request.role == "field_staff" else None,
        network_ids=request.network_ids if coordinator else (),
        all_networks=request.all_networks if coordinator else False,
        issue_api_token=False)
    audit.record(session, actor=actor, action="user_created", now=now,
                 entity=("user", created.user.id), purpose=PURPOSE,
                 details={"username": request.username, "role": request.role,
                          "networks": list(request.network_ids) if coordinator else [],
                          "all_networks": bool(request.all_networks and coordinator),
                          "staff_id": created.user.staff_id})
    return created.user


def _problems(session: so.Session, request: AccountRequest) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if not USERNAME.match(request.username):
        errors["username"] = ["use 3 to 40 lower-case letters, digits, dots, dashes or "
                              "underscores, starting with a letter or digit"]
    if not request.display_name.strip() or len(request.display_name) > 120:
        errors["display_name"] = ["enter their name (up to 120 characters)"]
    if request.role not in USER_ROLES:
        errors["role"] = ["choose a role"]
    if request.role == "coordinator":
        if request.all_networks and request.network_ids:
            errors["network"] = ["choose some networks or every network, not both"]
        elif not request.all_networks and not request.network_ids:
            errors["network"] = ["choose the networks they coordinate, or every network"]
        else:
            known = set(session.scalars(sa.select(Network.id).where(
                Network.id.in_(request.network_ids))))
            if any(i not in known for i in request.network_ids):
                errors["network"] = ["choose networks from the list"]
    if request.role == "field_staff":
        problem = _staff_problem(session, request.staff_id)
        if problem:
            errors["staff_id"] = [problem]
    if len(request.password) < MIN_PASSWORD:
        errors["password"] = [f"use at least {MIN_PASSWORD} characters (three random words "
                              "are easy to say and hard to guess)"]
    elif request.password.strip().lower() == request.username.lower():
        errors["password"] = ["must not be the username"]
    return errors


def _staff_problem(session: so.Session, staff_id: int | None) -> str | None:
    """Why ``staff_id`` cannot be a field-staff account, or None."""
    if staff_id is None:
        return "choose the member of staff they are"
    staff = session.get(Staff, staff_id)
    if staff is None or staff.role not in FIELD_ROLES:
        return "choose a member of field staff from the list"
    taken = session.scalar(sa.select(User.username).where(User.staff_id == staff_id,
                                                          User.active.is_(True)))
    if taken is not None:
        return f"{staff.name} already signs in as {taken}"
    return None


def unlinked_field_staff(session: so.Session) -> list[Staff]:
    """Active field staff with no active account, by name (the page's choices)."""
    linked = sa.select(User.staff_id).where(User.staff_id.is_not(None),
                                            User.active.is_(True))
    return list(session.scalars(sa.select(Staff).where(
        Staff.active.is_(True), Staff.role.in_(FIELD_ROLES), Staff.id.not_in(linked))
        .order_by(Staff.name, Staff.id)))


def set_active(session: so.Session, *, user_id: int, active: bool, actor: Actor,
               now: datetime) -> User:
    """Disable (signed out everywhere, API tokens revoked) or enable an account; audited as
    ``user_disabled`` / ``user_enabled``. Enabling gives back web sign-in only: revoked
    tokens stay revoked.

    :raise NotFound: no such user.
    :raise Conflict: an administrator disabling their own account (nobody else might be left
        to enable it), or nothing to change.
    """
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"user {user_id} not found")
    if not active and actor.user_id == user.id:
        raise Conflict("you cannot disable your own account: ask another administrator")
    if bool(user.active) == active:
        raise Conflict(f"{user.display_name} is already {'enabled' if active else 'disabled'}")
    details: dict[str, object] = {"username": user.username}
    if active:
        user.active = True
        user.failed_logins, user.locked_until = 0, None
        session.flush()
    else:
        details["tokens_revoked"] = disable_user(session, username=user.username, now=now)
    audit.record(session, actor=actor, action="user_enabled" if active else "user_disabled",
                 now=now, entity=("user", user.id), purpose=PURPOSE, details=details)
    return user
