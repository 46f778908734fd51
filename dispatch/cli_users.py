"""``dispatch user list / disable / unlock / revoke-token``: account administration.

Kept apart from ``dispatch/cli.py`` (which registers these on its ``user`` group) so the
commands that touch accounts read together. Every change is audited with the operator's
purpose "account administration" and the actor SYSTEM (the CLI has no signed-in user).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import click
from sqlalchemy import orm as so

from dispatch.errors import DispatchError

PURPOSE = "account administration"


def _fail(message: str, code: int = 2) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


def _audit(session: so.Session, action: str, username: str, now: datetime,
           details: dict[str, Any] | None = None) -> None:
    import sqlalchemy as sa

    from dispatch.actors import SYSTEM
    from dispatch.models import User
    from dispatch.services import audit

    user_id = session.scalar(sa.select(User.id).where(User.username == username))
    audit.record(session, actor=SYSTEM, action=action, now=now,
                 entity=("user", user_id or 0), purpose=PURPOSE, details=details or {})


@click.command("list")
def user_list() -> None:
    """List users: role, active or disabled, lock-out, live API tokens (never the tokens)."""
    from dispatch.cli import _app
    from dispatch.db import get_database
    from dispatch.services.users import list_users

    with get_database(_app()).session_scope() as session:
        users = list_users(session)
    click.echo(f"{'USERNAME':<24} {'ROLE':<13} {'STATE':<9} {'TOKENS':>6}  "
               f"{'PASSWORD':<8} {'STAFF':>5}  DISPLAY NAME")
    for u in users:
        state = "active" if u.active else "disabled"
        if u.locked_until is not None and u.locked_until > datetime.now(UTC):
            state = "locked"
        click.echo(f"{u.username:<24} {u.role:<13} {state:<9} {u.live_tokens:>6}  "
                   f"{'yes' if u.has_password else 'no':<8} {u.staff_id or '-':>5}  "
                   f"{u.display_name}")


def _run(action: str, name: str, work: Callable[[so.Session, datetime], int | None]) -> int:
    """Do ``work`` in one transaction with its audit event; a service error exits 2."""
    from dispatch.cli import _app
    from dispatch.db import get_database

    now = datetime.now(UTC)
    result: int | None = None
    app = _app()
    try:
        with get_database(app).session_scope() as session:
            result = work(session, now)
            _audit(session, action, name, now, {"count": result} if result is not None else None)
    except DispatchError as exc:
        _fail(exc.message)
    return result or 0


@click.command("disable")
@click.argument("name")
def user_disable(name: str) -> None:
    """Disable NAME: no sign-in, every web session ended, every API token revoked."""
    from dispatch.services.users import disable_user

    revoked = _run("user_disabled", name,
                   lambda s, now: disable_user(s, username=name, now=now))
    click.echo(f"disabled {name}: signed out everywhere, {revoked} API token(s) revoked")


@click.command("unlock")
@click.argument("name")
def user_unlock(name: str) -> None:
    """Lift NAME's lock-out after too many wrong passwords."""
    from dispatch.services.users import unlock_user

    def unlock(session: so.Session, now: datetime) -> None:
        unlock_user(session, username=name)

    _run("user_unlocked", name, unlock)
    click.echo(f"unlocked {name}")


@click.command("revoke-token")
@click.argument("name")
@click.option("--token", "token", default=None,
              help="Revoke only this token (as printed by `user add`); default: all of them.")
def user_revoke_token(name: str, token: str | None) -> None:
    """Revoke NAME's API tokens (all, or the one given with --token)."""
    from dispatch.services.users import revoke_tokens

    revoked = _run("tokens_revoked", name,
                   lambda s, now: revoke_tokens(s, username=name, now=now, token=token))
    click.echo(f"revoked {revoked} API token(s) of {name}")


COMMANDS = (user_list, user_disable, user_unlock, user_revoke_token)
