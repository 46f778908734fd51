"""People who sign in (web) or call the API (bearer tokens)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy import orm as so

from dispatch.models.base import Base, created_at_column, in_list
from dispatch.models.vocab import USER_ROLES


class User(Base):
    """A user with one role. Passwords and tokens are stored only as hashes."""

    __tablename__ = "users"
    __table_args__ = (
        sa.CheckConstraint(in_list("role", USER_ROLES), name="role"),
        sa.CheckConstraint("failed_logins >= 0", name="failed_logins"),
        sa.CheckConstraint(
            "approval_limit_pence IS NULL OR approval_limit_pence >= 0", name="approval_limit"
        ),
        sa.UniqueConstraint("identity_issuer", "identity_subject", name="uq_users_identity"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    username: so.Mapped[str] = so.mapped_column(sa.String(80), unique=True)
    display_name: so.Mapped[str] = so.mapped_column(sa.String(120))
    role: so.Mapped[str] = so.mapped_column(sa.String(16))
    password_hash: so.Mapped[str | None] = so.mapped_column(sa.String(256))
    staff_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("staff.id"))
    # The home network: the board opens on it.
    network_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("networks.id"))
    # A coordinator sees and acts on the networks in ``user_networks`` only, unless this is set
    # (a hub coordinator). Other roles are not limited by network.
    all_networks: so.Mapped[bool] = so.mapped_column(
        sa.Boolean, default=False, server_default=sa.false())
    # A personal financial threshold for approving care packages; None means the role's default.
    approval_limit_pence: so.Mapped[int | None]
    failed_logins: so.Mapped[int] = so.mapped_column(sa.Integer, default=0)
    locked_until: so.Mapped[datetime | None]
    active: so.Mapped[bool] = so.mapped_column(sa.Boolean, default=True)
    # Part of every web session's id: signing out, disabling the account or
    # ``dispatch user sign-out`` adds one, and every session signed in before stops working,
    # copies of its cookie included.
    session_generation: so.Mapped[int] = so.mapped_column(
        sa.Integer, default=0, server_default=sa.text("0"))
    # Who the user is at the OpenID Connect provider (NHS CIS2): its issuer and subject. Set
    # for users the provider signed in (dispatch.services.identity); None for local accounts.
    identity_issuer: so.Mapped[str | None] = so.mapped_column(sa.String(255))
    identity_subject: so.Mapped[str | None] = so.mapped_column(sa.String(255))
    created_at: so.Mapped[datetime] = created_at_column()


class ApiToken(Base):
    """A bearer token; we keep its SHA-256 only, so a leaked database reveals no token."""

    __tablename__ = "api_tokens"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("users.id"), index=True)
    token_hash: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    label: so.Mapped[str | None] = so.mapped_column(sa.String(80))
    created_at: so.Mapped[datetime] = created_at_column()
    revoked_at: so.Mapped[datetime | None]


class UserNetwork(Base):
    """One network a coordinator coordinates (``dispatch user add --network ID``)."""

    __tablename__ = "user_networks"

    user_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    network_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("networks.id"), primary_key=True)
