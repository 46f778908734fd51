"""Users and API tokens: created here, stored only as hashes."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy import orm as so
from werkzeug.security import generate_password_hash

from dispatch.actors import Actor
from dispatch.errors import Conflict, InvalidInput, NotFound
from dispatch.models import ApiToken, Staff, User
from dispatch.models.vocab import USER_ROLES
from dispatch.permissions import COORDINATOR
from dispatch.services import audit
from dispatch.services.network_scope import listed_networks, set_networks

TOKEN_BYTES = 32


@dataclass(frozen=True)
class NewUser:
    """A user just created and the one copy of their token (never stored in clear; empty
    when none was issued)."""

    user: User
    token: str


def hash_token(token: str) -> str:
    """SHA-256 of a bearer token: tokens are long and random, so no salt or stretching is needed."""
    return hashlib.sha256(token.encode()).hexdigest()


def add_user(
    session: so.Session,
    *,
    username: str,
    role: str,
    now: datetime,
    display_name: str | None = None,
    password: str | None = None,
    staff_id: int | None = None,
    network_ids: Sequence[int] = (),
    all_networks: bool | None = None,
    issue_api_token: bool = True,
) -> NewUser:
    """Create a user with a fresh API token.

    A coordinator runs ``network_ids`` or, with ``all_networks``, every network; with neither
    given a coordinator gets every network (as the migration gave existing coordinators; the
    CLI and the admin page ask for a choice).

    Raises
    ------
    InvalidInput
        Unknown role or empty name.
    Conflict
        The username is taken.
    """
    errors: dict[str, list[str]] = {}
    if role not in USER_ROLES:
        errors["role"] = [f"must be one of: {', '.join(USER_ROLES)}"]
    if not username.strip():
        errors["username"] = ["must not be empty"]
    if staff_id is not None and session.get(Staff, staff_id) is None:
        errors["staff_id"] = [f"no member of staff with id {staff_id}"]
    if errors:
        raise InvalidInput("invalid user", errors=errors)
    if session.scalar(sa.select(User.id).where(User.username == username)) is not None:
        raise Conflict(f"a user called {username!r} already exists")
    user = User(
        username=username,
        display_name=display_name or username,
        role=role,
        password_hash=generate_password_hash(password) if password else None,
        staff_id=staff_id,
        created_at=now,
    )
    session.add(user)
    session.flush()
    if all_networks is None:
        all_networks = not network_ids
    set_networks(session, user=user, network_ids=network_ids, all_networks=all_networks)
    token = issue_token(session, user=user, now=now) if issue_api_token else ""
    return NewUser(user=user, token=token)


def issue_token(session: so.Session, *, user: User, now: datetime, label: str | None = None) -> str:
    """Create a bearer token for ``user`` and return it; only its hash is kept."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    session.add(
        ApiToken(user_id=user.id, token_hash=hash_token(token), label=label, created_at=now)
    )
    session.flush()
    return token


def user_for_token(session: so.Session, token: str) -> User | None:
    """The active user owning an unrevoked ``token``, or None."""
    stmt = (
        sa.select(User)
        .join(ApiToken, ApiToken.user_id == User.id)
        .where(ApiToken.token_hash == hash_token(token), ApiToken.revoked_at.is_(None))
        .where(User.active.is_(True))
    )
    return session.scalar(stmt)


# --- account administration (``dispatch user list / disable / unlock / revoke-token``) ------


@dataclass(frozen=True)
class UserSummary:
    """One line of ``dispatch user list``: no hashes, no tokens."""

    username: str
    display_name: str
    role: str
    active: bool
    staff_id: int | None
    locked_until: datetime | None
    failed_logins: int
    live_tokens: int
    has_password: bool
    id: int = 0
    networks: str = ""  # "all", or the network ids a coordinator runs ("" for other roles)


def list_users(session: so.Session) -> list[UserSummary]:
    """Every user, by username, with their number of unrevoked tokens."""
    live = (sa.select(ApiToken.user_id, sa.func.count().label("n"))
            .where(ApiToken.revoked_at.is_(None)).group_by(ApiToken.user_id).subquery())
    rows = session.execute(
        sa.select(User, sa.func.coalesce(live.c.n, 0))
        .outerjoin(live, live.c.user_id == User.id).order_by(User.username))
    return [UserSummary(username=u.username, display_name=u.display_name, role=u.role,
                        active=bool(u.active), staff_id=u.staff_id, locked_until=u.locked_until,
                        failed_logins=u.failed_logins or 0, live_tokens=int(n),
                        has_password=bool(u.password_hash), id=u.id,
                        networks=_networks_text(session, u))
            for u, n in rows]


def _networks_text(session: so.Session, user: User) -> str:
    if user.role != "coordinator":
        return ""
    if user.all_networks:
        return "all"
    return ",".join(map(str, listed_networks(session, user.id))) or "none"


def end_all_sessions(session: so.Session, user_id: int) -> None:
    """End every web session of the user (the session id carries this generation)."""
    session.execute(
        sa.update(User).where(User.id == user_id)
        .values(session_generation=User.session_generation + 1)
        .execution_options(synchronize_session=False))


def _user(session: so.Session, username: str) -> User:
    user = session.scalar(sa.select(User).where(User.username == username))
    if user is None:
        raise NotFound(f"no user called {username!r}")
    return user


def disable_user(session: so.Session, *, username: str, now: datetime) -> int:
    """Disable an account: no sign-in, every web session ended, every API token revoked.
    Returns how many tokens were revoked. :raise NotFound: no such user.
    """
    user = _user(session, username)
    user.active = False
    session.flush()
    end_all_sessions(session, user.id)
    return revoke_tokens(session, username=username, now=now)


def unlock_user(session: so.Session, *, username: str) -> User:
    """Lift a lock-out and forget the failed sign-ins. :raise NotFound: no such user."""
    user = _user(session, username)
    user.locked_until = None
    user.failed_logins = 0
    return user


def revoke_tokens(session: so.Session, *, username: str, now: datetime,
                  token: str | None = None) -> int:
    """Revoke the user's API tokens (all, or the one given in clear); returns how many.

    :raise NotFound: no such user, or ``token`` is not one of theirs and live.
    """
    user = _user(session, username)
    stmt = sa.update(ApiToken).where(ApiToken.user_id == user.id,
                                     ApiToken.revoked_at.is_(None))
    if token is not None:
        stmt = stmt.where(ApiToken.token_hash == hash_token(token))
    count = len(session.execute(stmt.values(revoked_at=now).returning(ApiToken.id)
                                .execution_options(synchronize_session=False)).all())
    if token is not None and not count:
        raise NotFound(f"that token is not a live token of {username!r}")
    return count


def read_users(
    session: so.Session, *, actor: Actor, now: datetime, purpose: str,
    request_id: str | None = None,
) -> list[UserSummary]:
    """:func:`list_users` for the administrators' page; the look-up is audited."""
    users = list_users(session)
    audit.record(session, actor=actor, action="view_users", now=now, purpose=purpose,
                 request_id=request_id)
    return users


def change_networks(
    session: so.Session, *, user: User, network_ids: Sequence[int], all_networks: bool,
    actor: Actor, now: datetime, purpose: str, request_id: str | None = None,
) -> None:
    """Give coordinator ``user`` these networks (or every network); audited
    (``user_networks_changed``).

    :raise InvalidInput: not a coordinator, both some networks and every network, an unknown
        network, or none at all.
    """
    if user.role != COORDINATOR:
        raise InvalidInput("invalid networks", errors={"network": [
            "networks are for coordinators (other roles are not limited by network)"]})
    if all_networks and network_ids:
        raise InvalidInput("invalid networks", errors={"network": [
            "choose some networks or every network, not both"]})
    set_networks(session, user=user, network_ids=network_ids, all_networks=all_networks)
    audit.record(session, actor=actor, action="user_networks_changed", now=now,
                 entity=("user", user.id), purpose=purpose, request_id=request_id,
                 details={"networks": list(network_ids), "all_networks": all_networks})
