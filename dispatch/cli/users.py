"""``dispatch user add / networks / link-staff / list / disable / unlock / revoke-token``: accounts.

Every change is audited with the operator's purpose "account administration" and the actor
SYSTEM (the CLI has no signed-in user).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import click

from dispatch.cli.common import app, fail, now
from dispatch.errors import DispatchError

if TYPE_CHECKING:
    from sqlalchemy import orm as so

PURPOSE = "account administration"


@click.group()
def user() -> None:
    """User accounts and API tokens."""


def _networks_options(command: Callable[..., Any]) -> Callable[..., Any]:
    command = click.option(
        "--all-networks", is_flag=True, default=False,
        help="Coordinator: a hub coordinator, who sees and acts on every network.")(command)
    return click.option(
        "--network", "network_ids", type=int, multiple=True, metavar="ID",
        help="Coordinator: a network they see and act on (repeat for several; the first is "
             "where their board opens).")(command)


def _network_choice(role: str, network_ids: tuple[int, ...], all_networks: bool) -> None:
    """Exit 2 unless a coordinator is given networks or --all-networks (not both)."""
    from dispatch.permissions import COORDINATOR
    from dispatch.services.network_scope import NEEDS_NETWORKS

    if network_ids and all_networks:
        fail("give --network ID (one or more) or --all-networks, not both")
    if role == COORDINATOR and not network_ids and not all_networks:
        fail(NEEDS_NETWORKS)
    if role != COORDINATOR and (network_ids or all_networks):
        fail("--network and --all-networks are for coordinators (other roles are not "
             "limited by network)")


@user.command("add")
@click.argument("name")
@click.option(
    "--role", required=True, help="call_handler, coordinator, field_staff, manager or admin."
)
@click.option("--display-name", default=None, help="Name shown on screens (defaults to NAME).")
@click.option("--password", default=None, help="Web sign-in password (omit for API-only users).")
@click.option("--staff", "staff_id", type=int, default=None,
              help="Field staff: the staff id this account is (required for field_staff; an "
                   "unlinked field-staff account would see nothing).")
@_networks_options
def user_add(name: str, role: str, display_name: str | None, password: str | None,
             staff_id: int | None, network_ids: tuple[int, ...], all_networks: bool) -> None:
    """Create a user and print their API token once, alone on the last line.

    A coordinator needs --network ID (repeatable) or --all-networks.
    """
    from dispatch.db import get_database
    from dispatch.permissions import FIELD_STAFF
    from dispatch.services.users import add_user

    if role == FIELD_STAFF and staff_id is None:
        fail("a field_staff user needs --staff ID (the member of staff they are)")
    _network_choice(role, network_ids, all_networks)
    try:
        with get_database(app()).session_scope() as session:
            created = add_user(session, username=name, role=role, display_name=display_name,
                               password=password, staff_id=staff_id, now=now(),
                               network_ids=network_ids, all_networks=all_networks)
            username, user_role = created.user.username, created.user.role
    except DispatchError as exc:
        detail = "; ".join(f"{k}: {', '.join(v)}" for k, v in exc.errors.items())
        fail(f"{exc.message}{': ' + detail if detail else ''}")
    click.echo(f"created {username} ({user_role}); the API token is shown only once:")
    click.echo(created.token)


@user.command("networks")
@click.argument("name")
@_networks_options
def user_networks(name: str, network_ids: tuple[int, ...], all_networks: bool) -> None:
    """Change the networks coordinator NAME sees and acts on (audited)."""
    import sqlalchemy as sa

    from dispatch.errors import NotFound
    from dispatch.models import User
    from dispatch.services.network_scope import set_networks

    def change(session: so.Session, at: datetime) -> None:
        user = session.scalar(sa.select(User).where(User.username == name))
        if user is None:
            raise NotFound(f"no user called {name!r}")
        _network_choice(user.role, network_ids, all_networks)
        set_networks(session, user=user, network_ids=network_ids, all_networks=all_networks)

    _run("user_networks_changed", name, change, details={
        "networks": list(network_ids), "all_networks": all_networks})
    click.echo(f"{name}: " + ("every network" if all_networks else
                              "networks " + ", ".join(map(str, network_ids))))


@user.command("link-staff")
@click.argument("name")
@click.argument("staff_code", required=False)
@click.option("--unlink", is_flag=True, help="Remove NAME's link to a staff record.")
def user_link_staff(name: str, staff_code: str | None, unlink: bool) -> None:
    """Link account NAME (e.g. signed in by the NHS identity provider) to the member of staff
    with STAFF_CODE, so their field page shows their visits (audited)."""
    from dispatch.services.identity import link_staff

    if unlink == (staff_code is not None):
        fail("give a STAFF_CODE to link, or --unlink (not both)")
    linked: list[int | None] = []

    def change(session: so.Session, at: datetime) -> None:
        linked.append(link_staff(session, username=name, staff_code=staff_code))

    _run("user_staff_linked" if staff_code else "user_staff_unlinked", name, change,
         details={"staff_code": staff_code})
    click.echo(f"{name}: linked to staff {staff_code} (id {linked[0]})" if staff_code
               else f"{name}: no longer linked to a staff record")


def _audit(session: so.Session, action: str, username: str, at: datetime,
           details: dict[str, Any] | None = None) -> None:
    import sqlalchemy as sa

    from dispatch.actors import SYSTEM
    from dispatch.models import User
    from dispatch.services import audit

    user_id = session.scalar(sa.select(User.id).where(User.username == username))
    audit.record(session, actor=SYSTEM, action=action, now=at,
                 entity=("user", user_id or 0), purpose=PURPOSE, details=details or {})


@user.command("list")
def user_list() -> None:
    """List users: role, active or disabled, lock-out, live API tokens (never the tokens)."""
    from dispatch.db import get_database
    from dispatch.services.users import list_users

    with get_database(app()).session_scope() as session:
        users = list_users(session)
    click.echo(f"{'USERNAME':<24} {'ROLE':<13} {'STATE':<9} {'TOKENS':>6}  "
               f"{'PASSWORD':<8} {'STAFF':>5}  {'NETWORKS':<10} DISPLAY NAME")
    for u in users:
        state = "active" if u.active else "disabled"
        if u.locked_until is not None and u.locked_until > datetime.now(UTC):
            state = "locked"
        click.echo(f"{u.username:<24} {u.role:<13} {state:<9} {u.live_tokens:>6}  "
                   f"{'yes' if u.has_password else 'no':<8} {u.staff_id or '-':>5}  "
                   f"{u.networks or '-':<10} {u.display_name}")


def _run(action: str, name: str, work: Callable[[so.Session, datetime], int | None],
         details: dict[str, Any] | None = None) -> int:
    """Do ``work`` in one transaction with its audit event; a service error exits 2."""
    from dispatch.db import get_database

    at = datetime.now(UTC)
    result: int | None = None
    flask_app = app()
    try:
        with get_database(flask_app).session_scope() as session:
            result = work(session, at)
            _audit(session, action, name, at,
                   {"count": result} if result is not None else details)
    except DispatchError as exc:
        detail = "; ".join(", ".join(v) for v in exc.errors.values())
        fail(f"{exc.message}{': ' + detail if detail else ''}")
    return result or 0


@user.command("disable")
@click.argument("name")
def user_disable(name: str) -> None:
    """Disable NAME: no sign-in, every web session ended, every API token revoked."""
    from dispatch.services.users import disable_user

    revoked = _run("user_disabled", name,
                   lambda s, at: disable_user(s, username=name, now=at))
    click.echo(f"disabled {name}: signed out everywhere, {revoked} API token(s) revoked")


@user.command("unlock")
@click.argument("name")
def user_unlock(name: str) -> None:
    """Lift NAME's lock-out after too many wrong passwords."""
    from dispatch.services.users import unlock_user

    def unlock(session: so.Session, at: datetime) -> None:
        unlock_user(session, username=name)

    _run("user_unlocked", name, unlock)
    click.echo(f"unlocked {name}")


@user.command("revoke-token")
@click.argument("name")
@click.option("--token", "token", default=None,
              help="Revoke only this token (as printed by `user add`); default: all of them.")
def user_revoke_token(name: str, token: str | None) -> None:
    """Revoke NAME's API tokens (all, or the one given with --token)."""
    from dispatch.services.users import revoke_tokens

    revoked = _run("tokens_revoked", name,
                   lambda s, at: revoke_tokens(s, username=name, now=at, token=token))
    click.echo(f"revoked {revoked} API token(s) of {name}")
