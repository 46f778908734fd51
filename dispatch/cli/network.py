"""``dispatch network list / contacts``: the networks and who their escalations reach.

A change is audited with the actor SYSTEM (the CLI has no signed-in user); the numbers are
not written to the audit trail, only which phone was set or cleared.
"""

from __future__ import annotations

import click

from dispatch.cli.common import app, fail, now
from dispatch.errors import DispatchError


@click.group()
def network() -> None:
    """Provider networks: list them, set their escalation phones."""


@network.command("list")
def network_list() -> None:
    """List networks with their on-call and manager's phones ("-" when none)."""
    import sqlalchemy as sa

    from dispatch.db import get_database
    from dispatch.models import Network

    with get_database(app()).session_scope() as session:
        rows = session.execute(sa.select(Network.id, Network.code, Network.on_call_phone,
                                         Network.manager_phone, Network.name)
                               .order_by(Network.id)).all()
    click.echo(f"{'ID':>3}  {'CODE':<12} {'ON-CALL':<14} {'MANAGER':<14} NAME")
    for nid, code, on_call, manager, name in rows:
        click.echo(f"{nid:>3}  {code:<12} {on_call or '-':<14} {manager or '-':<14} {name}")


@network.command("contacts")
@click.argument("network_id", type=int)
@click.option("--on-call", "on_call", default=None, metavar="NUMBER",
              help="The on-call coordinator's mobile (texted every escalation); '' clears it.")
@click.option("--manager", default=None, metavar="NUMBER",
              help="The manager's mobile (texted when an urgent decision waits too long); "
                   "'' clears it.")
def network_contacts(network_id: int, on_call: str | None, manager: str | None) -> None:
    """Set the phones network NETWORK_ID's escalations are texted to (audited)."""
    from dispatch.actors import SYSTEM
    from dispatch.db import get_database
    from dispatch.services import network_contacts as contacts

    data = {key: value for key, value in (("on_call_phone", on_call),
                                          ("manager_phone", manager)) if value is not None}
    if not data:
        fail("give --on-call NUMBER, --manager NUMBER or both")
    try:
        with get_database(app()).session_scope() as session:
            result = contacts.set_contacts(session, network_id=network_id, data=data,
                                           actor=SYSTEM, now=now())
    except DispatchError as exc:
        detail = "; ".join(f"{k}: {', '.join(v)}" for k, v in exc.errors.items())
        fail(f"{exc.message}{': ' + detail if detail else ''}")
    click.echo(f"{result.code}: on-call {result.on_call_phone or '-'}, "
               f"manager {result.manager_phone or '-'}")
