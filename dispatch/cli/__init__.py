"""The ``dispatch`` console script: one entry point, ``--help`` on every subcommand.

Each subcommand lives in its own module of this package (``db``, ``users``, ``audit``,
``demo``, ``serve``, ``triage``, ``solve``, ``roster``, ``doctor``, ``worker``,
``network``) and the
simulated day in ``dispatch/simulation/cli.py``; :data:`COMMANDS` names them and the root
group imports a module only when its command is run or listed. To add a command: write its
module and add one line to :data:`COMMANDS`.

Commands build the app with :func:`dispatch.create_app` (through :func:`common.app`) so they
read the same ``DISPATCH_*`` settings as the web service. Bad input prints a message and exits
non-zero (2 for usage and invalid input, 1 for failures).

Import time matters here: `dispatch --help` must answer at once, so this package and the
modules it imports at the top stay light (click, the standard library). Each command imports
the app, the database, the solver, twilio or matplotlib inside its own body.
"""

from __future__ import annotations

import importlib

import click

COMMANDS: dict[str, str] = {
    "audit": "dispatch.cli.audit:audit",
    "db": "dispatch.cli.db:db",
    "demo-data": "dispatch.cli.demo:demo_data",
    "capacity": "dispatch.capacity.cli:capacity",
    "doctor": "dispatch.cli.doctor:doctor",
    "network": "dispatch.cli.network:network",
    "plan-week": "dispatch.cli.week:plan_week",
    "roster": "dispatch.cli.roster:roster",
    "scheduler": "dispatch.cli.serve:scheduler",
    "serve": "dispatch.cli.serve:serve",
    "simulate": "dispatch.simulation.cli:simulate",
    "solve": "dispatch.cli.solve:solve",
    "triage": "dispatch.cli.triage:triage_command",
    "user": "dispatch.cli.users:user",
    "worker": "dispatch.cli.worker:worker",
}
"""Command name -> ``module:attribute`` of its click command (imported when first needed)."""


class LazyGroup(click.Group):
    """A group whose commands are imported from :data:`COMMANDS` on first use, so running one
    command loads only its own module."""

    def __init__(self, *args: object, lazy: dict[str, str], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self._lazy = lazy

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self._lazy})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self._lazy:
            return super().get_command(ctx, cmd_name)
        module_name, attribute = self._lazy[cmd_name].split(":")
        command = getattr(importlib.import_module(module_name), attribute)
        if not isinstance(command, click.Command):  # pragma: no cover - a wiring mistake
            raise TypeError(f"{self._lazy[cmd_name]} is not a click command")
        return command


@click.group(
    cls=LazyGroup, lazy=COMMANDS, context_settings={"help_option_names": ["-h", "--help"]}
)
@click.version_option(
    package_name="rapid-response-dispatch", prog_name="dispatch",
    message="%(prog)s %(version)s",
)
def main() -> None:
    """Rapid-response dispatch: referrals, triage, scheduling and SMS dispatch."""
