"""Users and API tokens: created here, stored only as hashes."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy import orm as so
from werkzeug.security import generate_password_hash

from dispatch.errors import Conflict, InvalidInput
from dispatch.models import ApiToken, Staff, User
from dispatch.models.vocab import USER_ROLES

TOKEN_BYTES = 32


@dataclass(frozen=True)
class NewUser:
    """A user just created and the one copy of their token (never stored in clear)."""

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
) -> NewUser:
    """Create a user with a fresh API token.

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
    token = issue_token(session, user=user, now=now)
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
